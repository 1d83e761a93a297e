"""Traces across the outbox and NATS (services/common/tracing.py): the span that writes an
event, the relay's PRODUCER span, the consumer's CONSUMER span and the handler's database
work form one trace, carried by the outbox row's ``traceparent`` and the NATS header of
the same name; against a real NATS server and real databases, spans kept in memory."""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from collections.abc import AsyncIterator, Iterator

import nats
import orjson
import pytest
from nats.js import JetStreamContext
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from launcher.nats_server import NatsServer
from salon.clients.v1 import clients_pb2, clients_pb2_grpc, events_pb2
from services.clients.service import SPEC
from services.clients.store.tables import outbox, processed_events
from services.common import logs, migrations, rpc, tracing
from services.common.consumer import EventConsumer
from services.common.db import Database
from services.common.errors import DomainError
from services.common.events import Event, EventType
from services.common.outbox import OutboxRelay, ensure_stream, record_event
from services.common.scope import Role, Scope
from tests.support.services import metadata, running

CREATED = EventType("clients", "client", "created")
STREAM = "SALON"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrations.upgrade(database, SPEC.migrations)
    yield database
    await database.dispose()


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_server.url)
    context = nc.jetstream()
    await ensure_stream(context, STREAM, 1)
    yield context
    await nc.close()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, every finished span kept in memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)
        provider.shutdown()


def _scope() -> Scope:
    return Scope(secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(16), Role.OWNER)


async def _write_event(db: Database, scope: Scope) -> str:
    async with db.write(organization_id=scope.organization_id) as session:
        return await record_event(
            session,
            outbox,
            CREATED,
            events_pb2.ClientCreated(client=clients_pb2.Client(id="c1", first_name="Ann")),
            scope,
            establishment_id=scope.establishment_id,
        )


async def _stored_traceparent(db: Database, event_id: str) -> str | None:
    async with db.read(across_organizations=True) as conn:  # the row by its event id
        value = (
            await conn.execute(select(outbox.c.traceparent).where(outbox.c.id == event_id))
        ).scalar_one()
    return None if value is None else str(value)


class Handler:
    """Records each event with the trace and span ids current while it ran, and writes in
    its transaction (so the consumer's database span shows)."""

    def __init__(self) -> None:
        self.seen: list[tuple[Event, tuple[str, str]]] = []

    async def __call__(self, session: AsyncConnection, event: Event) -> None:
        self.seen.append((event, tracing.ids()))


async def _consume(js: JetStreamContext, db: Database, scope: Scope, count: int) -> Handler:
    handler = Handler()
    consumer = EventConsumer(
        js,
        db,
        processed_events,
        stream=STREAM,
        durable=f"test-{secrets.token_hex(4)}",
        handlers={CREATED.name: (CREATED.filter(scope.organization_id), handler)},
    )
    consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while len(handler.seen) < count:
            assert asyncio.get_running_loop().time() < deadline, "no event in time"
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
    return handler


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _one(found: list[ReadableSpan], name: str) -> ReadableSpan:
    matching = [s for s in found if s.name == name]
    assert len(matching) == 1, [s.name for s in found]
    return matching[0]


async def test_a_trace_follows_an_event_from_its_writer_through_the_outbox_and_nats_to_the_consumer(
    db: Database, js: JetStreamContext, spans: InMemorySpanExporter
) -> None:
    scope = _scope()
    # Given a change made inside a traced call, its event written in the same transaction,
    with tracing.span("CreateClient", kind=SpanKind.SERVER):
        event_id = await _write_event(db, scope)
    writer = _one(list(spans.get_finished_spans()), "db write")
    trace_id = writer.context.trace_id

    # then the outbox row keeps the traceparent of the span that wrote it;
    stored = await _stored_traceparent(db, event_id)
    assert stored is not None
    assert stored.startswith(f"00-{_hex(trace_id, 32)}-{_hex(writer.context.span_id, 16)}-")

    # when the relay publishes it and a durable consumer applies it,
    await OutboxRelay(db, outbox, js).relay_once()
    handler = await _consume(js, db, scope, 1)

    # then the NATS header names the relay's PRODUCER span, a child of the writer,
    found = list(spans.get_finished_spans())
    publish = _one(found, f"publish {CREATED.name}")
    assert publish.kind is SpanKind.PRODUCER
    assert publish.context.trace_id == trace_id
    assert publish.parent is not None and publish.parent.span_id == writer.context.span_id
    event, (seen_trace, seen_span) = handler.seen[0]
    assert event.id == event_id
    assert event.traceparent is not None
    assert event.traceparent.startswith(
        f"00-{_hex(trace_id, 32)}-{_hex(publish.context.span_id, 16)}-"
    )
    assert event.headers()["ce-id"] == event_id  # the CloudEvents headers are all still there

    # and the handler runs in the consumer's CONSUMER span, a child of the PRODUCER span,
    # inside its own database transaction's span: one trace from the change to its effect.
    process = _one(found, f"process {CREATED.name}")
    assert process.kind is SpanKind.CONSUMER
    assert process.context.trace_id == trace_id
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert process.attributes is not None
    assert process.attributes["messaging.message.id"] == event_id
    assert process.attributes["salon.outcome"] == "handled"
    handled_in = [
        s for s in found if s.name == "db write" and s.context.span_id != writer.context.span_id
    ]
    assert [s.parent.span_id for s in handled_in if s.parent] == [process.context.span_id]
    assert (seen_trace, seen_span) == (_hex(trace_id, 32), _hex(handled_in[0].context.span_id, 16))
    # Nothing but these spans: the relay's and the consumer's polls start no trace.
    assert {s.context.trace_id for s in found} == {trace_id}


async def test_an_event_written_outside_a_trace_has_no_traceparent_and_its_consumer_starts_one(
    db: Database, js: JetStreamContext, spans: InMemorySpanExporter
) -> None:
    scope = _scope()
    event_id = await _write_event(db, scope)  # no span under way: no database span either
    assert await _stored_traceparent(db, event_id) is None
    assert spans.get_finished_spans() == ()

    await OutboxRelay(db, outbox, js).relay_once()
    handler = await _consume(js, db, scope, 1)

    event, (seen_trace, _span) = handler.seen[0]
    assert event.traceparent is None and "traceparent" not in event.headers()
    found = list(spans.get_finished_spans())
    assert [s.name for s in found if s.kind is SpanKind.PRODUCER] == []  # no publish span
    process = _one(found, f"process {CREATED.name}")
    assert process.parent is None  # a root: the consumer's work is still traced
    assert seen_trace == _hex(process.context.trace_id, 32)


async def test_with_tracing_off_nothing_is_stored_or_sent(
    db: Database, js: JetStreamContext
) -> None:
    assert not tracing.enabled()
    scope = _scope()
    with tracing.span("ignored") as span:
        assert span is None
        event_id = await _write_event(db, scope)
    assert await _stored_traceparent(db, event_id) is None
    await OutboxRelay(db, outbox, js).relay_once()
    handler = await _consume(js, db, scope, 1)
    event, ids = handler.seen[0]
    assert event.traceparent is None and ids == ("", "")


async def test_a_grpc_call_carries_the_trace_to_the_service_whose_span_is_its_child(
    nats_server: NatsServer, database_url: str, spans: InMemorySpanExporter
) -> None:
    organization, establishment = secrets.token_hex(16), secrets.token_hex(16)
    scope = metadata(organization, establishment)
    # The server's tracing interceptor is installed when tracing is on at its start.
    async with running(nats_server.url, {"clients": database_url}, {"clients": SPEC}) as up:
        stub = clients_pb2_grpc.ClientsServiceStub(up.channel("clients"))
        with tracing.span("operation", kind=SpanKind.SERVER):
            await rpc.call(
                "clients",
                stub.CreateClient,
                clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters"),
                scope,
                5,
            )
            with pytest.raises(DomainError):
                await rpc.call(
                    "clients",
                    stub.UpdateClient,
                    clients_pb2.UpdateClientRequest(id=secrets.token_hex(16), first_name="X"),
                    scope,
                    5,
                )
    found = [s for s in spans.get_finished_spans() if s.name.startswith("salon.clients.v1.")]
    operation = _one(list(spans.get_finished_spans()), "operation")
    for method, code in (("CreateClient", 0), ("UpdateClient", 5)):  # 5: NOT_FOUND
        name = f"salon.clients.v1.ClientsService/{method}"
        [client] = [s for s in found if s.name == name and s.kind is SpanKind.CLIENT]
        [server] = [s for s in found if s.name == name and s.kind is SpanKind.SERVER]
        # gateway-side CLIENT span under the operation, the service's SERVER span under it
        assert client.parent is not None and client.parent.span_id == operation.context.span_id
        assert server.parent is not None and server.parent.span_id == client.context.span_id
        assert server.context.trace_id == operation.context.trace_id
        assert client.attributes is not None and server.attributes is not None
        assert client.attributes["rpc.grpc.status_code"] == code
        assert server.attributes["rpc.grpc.status_code"] == code
        assert server.attributes["salon.organization_id"] == organization
        assert server.attributes["salon.establishment_id"] == establishment
        # A caller's error (NOT_FOUND) fails the call for the caller, not the server.
        assert client.status.status_code is (StatusCode.ERROR if code else StatusCode.UNSET)
        assert server.status.status_code is StatusCode.UNSET
    [created] = [s for s in found if s.name.endswith("/CreateClient") and s.kind is SpanKind.SERVER]
    writes = [s for s in spans.get_finished_spans() if s.name == "db write"]
    assert any(w.parent is not None and w.parent.span_id == created.context.span_id for w in writes)


def test_a_traceparent_header_is_read_back_and_a_malformed_one_ignored() -> None:
    traceparent = f"00-{'ab' * 16}-{'cd' * 8}-01"
    event = Event.from_message(
        "salon.o.e.clients.client.created",
        {
            "ce-id": "e1",
            "ce-type": CREATED.name,
            "ce-source": "/salon/clients",
            "ce-time": "2030-01-07T10:00:00+00:00",
            "ce-organizationid": "o",
            "traceparent": traceparent,
        },
        b"",
    )
    assert event.traceparent == traceparent
    assert event.headers()["traceparent"] == traceparent
    assert tracing.context_of(traceparent) is not None
    assert tracing.context_of("00-not-a-trace-01") is None
    assert tracing.context_of(None) is None


def test_json_logs_carry_the_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    out = io.StringIO()
    logger = logging.getLogger("salon.test.tracing")
    handler = logs.handler("clients", "json", out)
    logger.addHandler(handler)
    try:
        logger.warning("outside")
        with tracing.span("work") as span:
            assert span is not None
            logger.warning("inside")
    finally:
        logger.removeHandler(handler)
    outside, inside = (orjson.loads(line) for line in out.getvalue().splitlines())
    assert "trace_id" not in outside and "span_id" not in outside
    assert inside["trace_id"] == _hex(span.get_span_context().trace_id, 32)
    assert inside["span_id"] == _hex(span.get_span_context().span_id, 16)


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_traces_are_exported_only_when_an_endpoint_is_configured(
    environ: dict[str, str], on: bool
) -> None:
    assert tracing.endpoint_configured(environ) is on


def test_without_an_endpoint_configure_installs_nothing() -> None:
    assert tracing.configure("clients", {}) is False
    assert not tracing.enabled()


def test_the_protocol_and_service_name_follow_the_otel_variables() -> None:
    assert tracing.protocol_of({}) == "http/protobuf"
    assert tracing.protocol_of({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) == "grpc"
    assert (
        tracing.protocol_of(
            {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}
        )
        == "grpc"
    )
    with pytest.raises(RuntimeError, match="http/json"):
        tracing.protocol_of({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
    assert tracing.service_name("payments", {}) == "salon-payments"
    assert tracing.service_name("payments", {"OTEL_SERVICE_NAME": "till"}) == "till"
