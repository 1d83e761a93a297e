"""Depth and aliases of a GraphQL document, as one validation rule.

A fragment is walked once, whatever the number of its spreads (its depth and its aliases
are remembered), so the work grows with the document's length; the counts themselves are
those of the document with every spread expanded, so fragments hide nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

TOO_COMPLEX = "TOO_COMPLEX"


def limit_error(
    message: str, limit: str, maximum: int, actual: int, nodes: Sequence[Node]
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes,
        extensions={"code": TOO_COMPLEX, "limit": limit, "maximum": maximum, "actual": actual},
    )


class _Shape:
    """Depth (nested fields with a selection, introspection fields left out, as Strawberry's
    QueryDepthLimiter counts) and aliases of selection sets, fragments expanded."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.known: dict[str, tuple[int, int]] = {}
        self.walking: set[str] = set()

    def of(self, selection_set: SelectionSetNode) -> tuple[int, int]:
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1
                if selection.selection_set is not None:
                    inner, inner_aliases = self.of(selection.selection_set)
                    aliases += inner_aliases
                    if not selection.name.value.startswith("__"):
                        depth = max(depth, 1 + inner)
            elif isinstance(selection, InlineFragmentNode):
                inner, inner_aliases = self.of(selection.selection_set)
                depth, aliases = max(depth, inner), aliases + inner_aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner, inner_aliases = self.fragment(selection.name.value)
                depth, aliases = max(depth, inner), aliases + inner_aliases
        return depth, aliases

    def fragment(self, name: str) -> tuple[int, int]:
        if name in self.known:
            return self.known[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.walking:
            return 0, 0  # unknown or cyclic: other rules of the validation report it
        self.walking.add(name)
        self.known[name] = self.of(definition.selection_set)
        self.walking.discard(name)
        return self.known[name]


def document_limits_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            shape = _Shape(
                {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
            )
            aliases = 0
            for operation in definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                depth, operation_aliases = shape.of(operation.selection_set)
                aliases += operation_aliases
                if depth > max_depth:
                    name = operation.name.value if operation.name else "the operation"
                    context.report_error(
                        limit_error(
                            f"{name} is {depth} levels deep; at most {max_depth} are allowed",
                            "depth",
                            max_depth,
                            depth,
                            [operation],
                        )
                    )
            if aliases > max_aliases:
                context.report_error(
                    limit_error(
                        f"the document has {aliases} aliases; at most {max_aliases} are allowed",
                        "aliases",
                        max_aliases,
                        aliases,
                        [],
                    )
                )

    return DocumentLimits


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class HideSuggestions(SchemaExtension):
    """Production: no "Did you mean 'x'?" in error messages, which would spell out the
    schema that introspection no longer shows."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        result.errors = [  # type: ignore[union-attr]
            GraphQLError(
                _SUGGESTION.sub("", error.message),
                error.nodes,
                error.source,
                error.positions,
                error.path,
                error.original_error,
                error.extensions,
            )
            if "Did you mean" in error.message
            else error
            for error in errors
        ]
