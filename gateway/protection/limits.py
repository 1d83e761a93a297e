"""The limits one GraphQL operation must stay within, and the schema extensions that
enforce them. Each check runs on the document Strawberry parsed (and caches): nothing is
parsed twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphql import ASTValidationRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

from gateway.protection.cost import CostLimit
from gateway.protection.document import HideSuggestions, document_limits_rule
from gateway.settings import GatewaySettings

_DEFAULTS = GatewaySettings.model_fields

# Every argument named `first` (a page of a connection or a list) is at most this.
MAX_FIRST = 100
# What a list without `first` counts for in the cost: an establishment's day, menu or
# staff is rarely longer.
LIST_SIZE = 10


@dataclass(frozen=True)
class Limits:
    max_depth: int = _DEFAULTS["graphql_max_depth"].default
    max_aliases: int = _DEFAULTS["graphql_max_aliases"].default
    max_tokens: int = _DEFAULTS["graphql_max_tokens"].default
    max_cost: int = _DEFAULTS["graphql_max_cost"].default
    max_first: int = MAX_FIRST
    list_size: int = LIST_SIZE

    @classmethod
    def of(cls, settings: GatewaySettings) -> Limits:
        return cls(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_tokens=settings.graphql_max_tokens,
            max_cost=settings.graphql_max_cost,
        )


def schema_extensions(
    limits: Limits, *, production: bool = False
) -> list[Callable[[], SchemaExtension]]:
    """Factories for the schema's extension list (one instance per operation).

    The validation rule is created here, once: a rule class made per operation (as
    Strawberry's QueryDepthLimiter and MaxAliasesLimiter do when given as factories) would
    make every ValidationCache lookup miss. Those two also walk a fragment again at every
    spread, which a 1 kB document of fragments spreading each other twice turns into
    seconds of CPU; document.py walks each fragment once."""
    rules: list[type[ASTValidationRule]] = [
        document_limits_rule(limits.max_depth, limits.max_aliases)
    ]
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(rules),
        lambda: CostLimit(limits.max_cost, limits.max_first, limits.list_size),
    ]
    if production:
        extensions.append(HideSuggestions)
    return extensions
