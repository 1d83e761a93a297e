"""GET /metrics answers on every part of the running system (`salon up`'s stack), at the
addresses the launcher writes in run.json."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from launcher.stack import SERVICES, Stack
from tests.support.graphql import Gql

pytestmark = pytest.mark.e2e


def test_metrics_answer_on_every_part(stack: Stack, gql: Gql) -> None:
    assert gql("query Probe { __typename }") == {"__typename": "Query"}
    state = json.loads((stack.data_dir / "run.json").read_text())
    urls = state["metrics_urls"]
    assert set(urls) == {"gateway", *SERVICES}
    for name in SERVICES:
        assert urls[name] == f"http://127.0.0.1:{state['metrics_ports'][name]}/metrics"
    for part, url in urls.items():
        deadline = time.monotonic() + 15
        while True:  # the lag gauges are set at the first refresh that finds the durables
            reply = httpx.get(url, timeout=5)
            assert reply.status_code == 200, part
            if part == "gateway" or "salon_consumer_pending_messages{" in reply.text:
                break
            assert time.monotonic() < deadline, f"{part}: no consumer lag"
            time.sleep(0.5)
        assert "salon_db_pool_size" in reply.text, part
        assert "salon_outbox_backlog" in reply.text, part
        if part == "gateway":
            assert 'salon_graphql_operations_total{operation="Probe",outcome="ok"}' in reply.text
        else:
            # Every service consumes events: its durables' lag is measured.
            assert "salon_grpc_server_requests" in reply.text, part
            assert "salon_consumer_pending_messages{" in reply.text, part
