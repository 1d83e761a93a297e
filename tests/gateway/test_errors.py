"""What reaches a GraphQL caller when something fails: our errors as they are, anything
unexpected masked (no internals leak)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from gateway.errors import NotFound, Unauthenticated, should_mask
from gateway.grpc_clients import BackendUnavailable
from gateway.schema import build_schema


def test_our_errors_pass_and_the_unexpected_is_masked() -> None:
    assert not should_mask(GraphQLError("Syntax Error"))
    for ours in [Unauthenticated(), NotFound("client not found"), BackendUnavailable("clients")]:
        assert not should_mask(GraphQLError(ours.message, original_error=ours))
    assert should_mask(GraphQLError("boom", original_error=RuntimeError("db password=x")))


class ExplodingContext:
    """A context whose session lookup fails in an unforeseen way."""

    def session(self, **_: Any) -> Any:
        raise RuntimeError("connection to 10.0.0.7 failed, password=hunter2")


async def test_an_unexpected_failure_reaches_the_caller_masked() -> None:
    result = await build_schema().execute("{ me { role } }", context_value=ExplodingContext())
    assert result.errors is not None
    [error] = result.errors
    assert error.message == "Unexpected error."
    assert "hunter2" not in str(error.formatted) and "10.0.0.7" not in str(error.formatted)


async def test_production_schema_refuses_introspection() -> None:
    query = "{ __schema { queryType { name } } }"
    assert (await build_schema(production=False).execute(query)).errors is None
    refused = await build_schema(production=True).execute(query)
    assert refused.errors and "introspection" in refused.errors[0].message.lower()
