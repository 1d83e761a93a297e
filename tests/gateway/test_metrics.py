"""The gateway's GET /metrics over HTTP (its own database, a real NATS, no service at the
backends' addresses): GraphQL operations by name and outcome, backend calls by service and
status, the outbox and audit consumer gauges, the DB pool; the bearer token when set; the
cap on distinct operation names."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.metrics import GatewayMetrics
from launcher.nats_server import NatsServer
from tests.gateway.test_protection import PASSWORD, _settings, serving
from tests.support.graphql import SIGN_UP, unique_email

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_graphql_operations_backend_calls_and_gauges(
    tmp_path: Path, nats_server: NatsServer
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    settings = _settings(url, nats_server.url, metrics_refresh_seconds=0.1)
    async with serving(settings) as gw:
        signed_up = await gw.gql(
            SIGN_UP,
            input={
                "organizationName": "Measured Salon",
                "establishmentName": "A",
                "email": unique_email(),
                "name": "Owner",
                "password": PASSWORD,
            },
        )
        token = signed_up["data"]["signUp"]["session"]["token"]
        # The clients service is down: an error, one UNAVAILABLE backend call.
        down = await gw.gql("query Clients { clients(first: 1) { totalCount } }", token)
        assert down["errors"]
        await gw.gql("{ __typename }")
        async with gw.http() as http:
            reply = await http.get("/metrics")
            again = await http.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    samples = _samples(reply.text)
    ops = "salon_graphql_operations_total"
    assert samples[(ops, (("operation", "SignUp"), ("outcome", "ok")))] == 1
    assert samples[(ops, (("operation", "Clients"), ("outcome", "error")))] == 1
    assert samples[(ops, (("operation", "anonymous"), ("outcome", "ok")))] == 1
    assert samples[("salon_graphql_operation_seconds_count", (("operation", "SignUp"),))] == 1
    calls = ("salon_gateway_backend_calls_total", (("code", "UNAVAILABLE"), ("service", "clients")))
    assert samples[calls] >= 1
    assert ("salon_outbox_backlog", ()) in samples
    assert ("salon_consumer_pending_messages", (("durable", "gateway-audit"),)) in samples
    assert samples[("salon_db_pool_size", (("pool", "write"),))] == 1
    # /metrics itself is not an operation, and no organization id is ever a label.
    assert _samples(again.text)[(ops, (("operation", "SignUp"), ("outcome", "ok")))] == 1
    organization = signed_up["data"]["signUp"]["session"]["establishment"]["organization"]["id"]
    assert organization not in reply.text


async def test_metrics_token_required_when_set(tmp_path: Path, nats_server: NatsServer) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    app = create_app(_settings(url, nats_server.url, metrics_token="scrape-secret"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "salon_graphql_operations" in right.text


def test_operation_names_are_capped() -> None:
    metrics = GatewayMetrics(max_operation_names=2)
    assert [metrics.operation_label(n) for n in ["A", "B", "C", "A", None, "x y"]] == [
        "A",
        "B",
        "other",
        "A",
        "anonymous",
        "anonymous",
    ]
