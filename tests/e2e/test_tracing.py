"""Traces end to end: the whole system started with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
a small OTLP/HTTP receiver run by the test, one checkout with a product line through the
gateway, and one trace that holds the gateway's operation, payments' checkout, inventory's
reservation and the consumers of the receipt event, each span a child of the right one."""

from __future__ import annotations

import gzip
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from launcher.stack import Stack, free_port
from tests.e2e.test_agenda import CREATE_CLIENT, CREATE_SERVICE
from tests.e2e.test_till import ADJUST, CHECKOUT, CREATE_PRODUCT, _ok
from tests.support.graphql import Gql, sign_up

pytestmark = pytest.mark.e2e

RECEIPT_CREATED = "salon.payments.receipt.created.v1"


@dataclass(frozen=True)
class Received:
    service: str  # the resource's service.name
    span: Span

    @property
    def id(self) -> bytes:
        return bytes(self.span.span_id)

    @property
    def parent(self) -> bytes:
        return bytes(self.span.parent_span_id)


class Receiver:
    """An OTLP/HTTP trace receiver: POST /v1/traces with an ExportTraceServiceRequest."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver.add(ExportTraceServiceRequest.FromString(body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                names = [
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ]
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(Received(names[0] if names else "", span))

    def trace(self, trace_id: bytes) -> list[Received]:
        with self.lock:
            return [s for s in self.spans if bytes(s.span.trace_id) == trace_id]


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Receiver]]:
    receiver = Receiver()
    receiver.thread.start()
    stack = Stack(
        data_dir=Path(tmp_path_factory.mktemp("traced")),
        port=free_port(),
        restart=False,
        extra_env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
    )
    try:
        stack.start(timeout=90)
        yield stack, receiver
    finally:
        stack.stop()
        receiver.server.shutdown()
        receiver.server.server_close()


def _attr(received: Received, key: str) -> str:
    for a in received.span.attributes:
        if a.key == key:
            return str(a.value.string_value)
    return ""


def test_one_checkout_is_one_trace_from_the_gateway_through_payments_and_inventory_to_the_event_consumers(  # noqa: E501
    traced: tuple[Stack, Receiver],
) -> None:
    stack, receiver = traced
    org = sign_up(Gql(stack.graphql_url))
    api = org.api
    shampoo = _ok(api(CREATE_PRODUCT, input={"name": "Shampoo", "price": "18.50"}), "createProduct")
    product = shampoo["product"]["id"]
    _ok(api(ADJUST, input={"productId": product, "delta": 5, "reason": "DELIVERY"}), "adjustStock")
    service = _ok(
        api(CREATE_SERVICE, input={"name": "Cut", "price": "40", "durationMinutes": 30}),
        "createService",
    )["service"]["id"]
    client = _ok(
        api(CREATE_CLIENT, input={"firstName": "Ann", "lastName": "Peeters"}), "createClient"
    )["client"]["id"]

    # The till's frontend traces too: its traceparent makes the operation a child of its span.
    trace_id, caller = secrets.token_bytes(16), secrets.token_bytes(8)
    body = api.raw(
        CHECKOUT,
        {
            "input": {
                "clientId": client,
                "lines": [{"serviceId": service}, {"productId": product, "quantity": 1}],
                "payments": [{"method": "CASH", "amount": "58.50"}],
                "idempotencyKey": f"traced-{secrets.token_hex(4)}",
            }
        },
        headers={"traceparent": f"00-{trace_id.hex()}-{caller.hex()}-01"},
    )
    assert body["data"]["checkout"]["errors"] == [], body
    assert body["data"]["checkout"]["receipt"]["number"] is not None

    def consumer_spans(spans: list[Received]) -> list[Received]:
        name = f"process {RECEIPT_CREATED}"
        return [s for s in spans if s.span.kind == Span.SPAN_KIND_CONSUMER and s.span.name == name]

    def complete(spans: list[Received]) -> bool:
        """Every part's batch is in: each exports its spans in the order they ended, so the
        last of a part to end stands for the others before it."""
        kinds = {(s.service, s.span.kind) for s in spans}
        return {
            ("salon-gateway", Span.SPAN_KIND_SERVER),  # the operation, ended last there
            ("salon-payments", Span.SPAN_KIND_SERVER),
            ("salon-payments", Span.SPAN_KIND_PRODUCER),
            ("salon-inventory", Span.SPAN_KIND_SERVER),
        } <= kinds and {"salon-inventory", "salon-clients", "salon-gateway"} <= {
            s.service for s in consumer_spans(spans)
        }

    deadline = time.monotonic() + 30
    while True:
        spans = receiver.trace(trace_id)
        if complete(spans):
            time.sleep(0.5)  # a batch under way: a span that ended a moment later
            spans = receiver.trace(trace_id)
            break
        assert time.monotonic() < deadline, sorted((s.service, s.span.name) for s in spans)
        time.sleep(0.2)

    by_id = {s.id: s for s in spans}

    def parent_of(span: Received) -> Received:
        assert span.parent in by_id, f"{span.service} {span.span.name}: parent not in the trace"
        return by_id[span.parent]

    def ancestors(span: Received) -> list[Received]:
        chain = []
        while span.parent != caller:
            span = parent_of(span)
            chain.append(span)
        return chain

    # The gateway's operation span: the root of what the system did, child of the caller.
    [operation] = [s for s in spans if s.span.kind == Span.SPAN_KIND_SERVER and s.parent == caller]
    assert (operation.service, operation.span.name) == ("salon-gateway", "mutation")
    assert _attr(operation, "salon.organization_id") == org.organization_id

    # gateway CLIENT -> payments SERVER Checkout, its parent the gateway's call.
    [checkout] = [
        s
        for s in spans
        if s.service == "salon-payments"
        and s.span.kind == Span.SPAN_KIND_SERVER
        and s.span.name == "salon.payments.v1.PaymentsService/Checkout"
    ]
    call = parent_of(checkout)
    assert (call.service, call.span.kind, call.span.name) == (
        "salon-gateway",
        Span.SPAN_KIND_CLIENT,
        "salon.payments.v1.PaymentsService/Checkout",
    )
    assert parent_of(call) is operation
    assert _attr(checkout, "salon.establishment_id") == org.establishment_id

    # payments CLIENT -> inventory SERVER (the stock reservation), inside the checkout.
    reservations = [
        s
        for s in spans
        if s.service == "salon-inventory"
        and s.span.kind == Span.SPAN_KIND_SERVER
        and checkout in ancestors(s)
    ]
    assert reservations, "no inventory call in the checkout's trace"
    for reservation in reservations:
        assert reservation.span.name.startswith("salon.inventory.v1.InventoryService/")
        assert parent_of(reservation).service == "salon-payments"
        assert parent_of(reservation).span.kind == Span.SPAN_KIND_CLIENT

    # The receipt's database transaction in payments, below the checkout.
    writes = [s for s in spans if s.service == "salon-payments" and s.span.name == "db write"]
    assert any(checkout in ancestors(w) for w in writes)

    # The receipt event: published by payments' relay under a PRODUCER span whose parent is
    # the span that wrote the outbox row (inside the checkout); each consumer's span is a
    # child of that PRODUCER span: inventory commits the reservation, clients credits
    # loyalty points, the gateway writes the audit log.
    for consumer in consumer_spans(spans):
        publish = parent_of(consumer)
        assert (publish.service, publish.span.kind, publish.span.name) == (
            "salon-payments",
            Span.SPAN_KIND_PRODUCER,
            f"publish {RECEIPT_CREATED}",
        )
        assert checkout in ancestors(publish)
        assert _attr(consumer, "messaging.message.id") == _attr(publish, "messaging.message.id")
    committed = [s for s in consumer_spans(spans) if s.service == "salon-inventory"]
    assert any(
        w.service == "salon-inventory" and w.span.name == "db write" and parent_of(w) in committed
        for w in spans
    ), "inventory's commit of the reservation is not in the trace"
