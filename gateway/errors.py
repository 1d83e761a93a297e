"""Top-level GraphQL errors the gateway lets through unmasked; everything else raised in a
resolver is masked as "Unexpected error."."""

from __future__ import annotations

from graphql import GraphQLError


class PublicError(GraphQLError):
    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "sign in first") -> None:
        super().__init__(message)


class Forbidden(PublicError):
    code = "FORBIDDEN"


class NotFound(PublicError):
    code = "NOT_FOUND"


class Invalid(PublicError):
    code = "INVALID"


def should_mask(error: GraphQLError) -> bool:
    """Mask what we did not mean to say: any error caused by an exception that is not a
    GraphQLError of ours. Syntax and validation errors carry no original error."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)
