"""The catalog service over real gRPC on loopback, on SQLite and (with TEST_DATABASE_URL)
PostgreSQL, with a real NATS server: services shared by every establishment with their
settings per establishment (R11, R12, R07, B10), the safe delete (B05), products (R13, R05),
menus (R25), isolation between organizations (R01) and bad input."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import grpc
import nats
import pytest
from sqlalchemy import func, select, update

from launcher.nats_server import NatsServer
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc, events_pb2
from salon.tenancy.v1 import events_pb2 as tenancy_events
from services.catalog.service import SPEC as CATALOG
from services.catalog.store.tables import outbox, processed_events, product_prices, services
from services.common.db import Database, new_id, utcnow
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.events import Event
from services.common.runtime import ServiceProcess
from services.common.scope import Right, Role, Scope, ScopeSigner
from services.common.settings import ServiceSettings
from services.common.tenancy_replica import ESTABLISHMENT_CREATED

SECRET = "k" * 40
SIGNER = ScopeSigner([SECRET.encode()])
T = TypeVar("T")
Metadata = tuple[tuple[str, bytes], ...]


@dataclass
class Catalog:
    stub: catalog_pb2_grpc.CatalogServiceStub
    db: Database
    nats_url: str


@pytest.fixture
async def catalog(database_url: str, nats_server: NatsServer) -> AsyncIterator[Catalog]:
    settings = ServiceSettings(
        database_url=database_url,
        nats_url=nats_server.url,
        scope_secret=SECRET,
        grpc_port=0,
        shutdown_grace_seconds=1,
    )
    process = ServiceProcess(CATALOG, settings)
    port = await process.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    db = Database(database_url)
    yield Catalog(catalog_pb2_grpc.CatalogServiceStub(channel), db, nats_server.url)
    await db.dispose()
    await channel.close()
    await process.stop()


def _id() -> str:
    return secrets.token_hex(16)


def _md(org: str, est: str, role: Role = Role.OWNER, rights: Iterable[Right] = ()) -> Metadata:
    return SIGNER.metadata(Scope(org, est, _id(), role, frozenset(rights)))


async def _fails(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0) -> T:
    """Effects that travel by events: wait for them, within reason."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except (AssertionError, grpc.aio.AioRpcError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def _publish_establishment_created(nats_url: str, org: str, est: str) -> str:
    """What the gateway publishes when an establishment is created."""
    event = Event(
        id=new_id(),
        type=ESTABLISHMENT_CREATED.name,
        source="/salon/tenancy",
        time=utcnow(),
        organization_id=org,
        establishment_id=est,
        actor_id=None,
        subject=ESTABLISHMENT_CREATED.subject(org, est),
        data=tenancy_events.EstablishmentCreated(
            organization_id=org, establishment_id=est, name="Branch", timezone="Europe/Brussels"
        ).SerializeToString(),
    )
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(event.subject, event.data, headers=event.headers())
    finally:
        await nc.close()
    return event.id


async def _open(catalog: Catalog, org: str, *ests: str) -> None:
    """The establishments become known to the catalogue through the gateway's events."""
    for est in ests:
        await _publish_establishment_created(catalog.nats_url, org, est)
    for est in ests:
        await _eventually(
            lambda est=est: catalog.stub.ListServices(  # type: ignore[misc]
                catalog_pb2.ListServicesRequest(establishment_id=est),
                metadata=_md(org, _id()),
                timeout=5,
            )
        )


async def _cut(
    catalog: Catalog, md: Metadata, name: str = "Cut", price: str = "40", **extra: Any
) -> catalog_pb2.ServiceChange:
    return await catalog.stub.CreateService(
        catalog_pb2.CreateServiceRequest(
            name=name,
            category=extra.pop("category", "Hair"),
            price=price,
            duration_minutes=extra.pop("duration_minutes", 30),
            bookable_online=extra.pop("bookable_online", True),
            **extra,
        ),
        metadata=md,
        timeout=5,
    )


async def _in(catalog: Catalog, md: Metadata, est: str, service_id: str) -> catalog_pb2.Service:
    """The service with the values of `est`, as the establishment's list shows it."""
    listed = await catalog.stub.ListServices(
        catalog_pb2.ListServicesRequest(establishment_id=est), metadata=md, timeout=5
    )
    found = [s for s in listed.services if s.id == service_id]
    assert found, f"{service_id} not listed in {est}"
    return found[0]


async def _listed(catalog: Catalog, md: Metadata, est: str = "") -> list[str]:
    listed = await catalog.stub.ListServices(
        catalog_pb2.ListServicesRequest(establishment_id=est), metadata=md, timeout=5
    )
    return [s.id for s in listed.services]


class Events:
    """Everything the service publishes for one organization (core NATS subscription)."""

    def __init__(self) -> None:
        self.received: list[Event] = []
        self.nc: Any = None

    async def start(self, nats_url: str, org: str) -> None:
        self.nc = await nats.connect(nats_url)

        async def collect(msg: Any) -> None:
            self.received.append(Event.from_message(msg.subject, msg.headers, msg.data))

        await self.nc.subscribe(f"salon.{org}.*.catalog.>", cb=collect)

    async def wait_for(self, count: int) -> list[Event]:
        for _ in range(200):
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # and nothing more arrives
        await self.nc.close()
        return self.received


async def _outbox_count(catalog: Catalog, event_type: str | None = None) -> int:
    query = select(func.count()).select_from(outbox)
    if event_type:
        query = query.where(outbox.c.type == event_type)
    # Every organization's events in the test's database.
    async with catalog.db.read(across_organizations=True) as session:
        return int((await session.execute(query)).scalar_one())


# -- R11: a service exists in every establishment, existing and future ---------------------


async def test_R11_a_new_service_exists_in_every_known_establishment(catalog: Catalog) -> None:
    org, a, b, c = _id(), _id(), _id(), _id()
    await _open(catalog, org, b, c)
    md_a = _md(org, a)
    change = await _cut(catalog, md_a)
    assert set(change.establishment_ids) == {a, b, c}
    assert change.service.establishment_id == a
    assert (change.service.price, change.service.duration_minutes) == ("40.00", 30)
    assert list(change.service.customized_fields) == []
    for est in (a, b, c):
        shown = await _in(catalog, md_a, est, change.service.id)
        assert (shown.establishment_id, shown.price, shown.name) == (est, "40.00", "Cut")
    # Seen from B's own session as well.
    assert await _listed(catalog, _md(org, b)) == [change.service.id]


async def test_R11_an_establishment_created_later_gets_every_service(catalog: Catalog) -> None:
    org, a, d = _id(), _id(), _id()
    md = _md(org, a)
    cut = (await _cut(catalog, md)).service
    gone = (await _cut(catalog, md, name="Perm")).service
    await catalog.stub.DeleteService(
        catalog_pb2.DeleteServiceRequest(id=gone.id), metadata=md, timeout=5
    )

    await _publish_establishment_created(catalog.nats_url, org, d)
    later = await _eventually(lambda: _in(catalog, md, d, cut.id))
    assert (later.price, later.establishment_id) == ("40.00", d)
    assert gone.id not in await _listed(catalog, md, d)
    # The deleted one was given to D too: a restore brings it back there.
    restored = await catalog.stub.RestoreService(
        catalog_pb2.RestoreServiceRequest(id=gone.id), metadata=md, timeout=5
    )
    assert d in restored.establishment_ids
    assert gone.id in await _listed(catalog, md, d)


async def test_R11_the_establishment_event_applies_once_and_keeps_settings(
    catalog: Catalog,
) -> None:
    org, a, d = _id(), _id(), _id()
    await _open(catalog, org, d)
    cut = (await _cut(catalog, _md(org, a))).service
    await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, price="45"), metadata=_md(org, d), timeout=5
    )
    # The same establishment announced again (a re-publish with a new id).
    again = await _publish_establishment_created(catalog.nats_url, org, d)

    async def processed() -> None:
        async with catalog.db.read() as session:
            row = (
                await session.execute(
                    select(processed_events.c.event_id).where(processed_events.c.event_id == again)
                )
            ).first()
        assert row is not None

    await _eventually(processed)
    shown = await _in(catalog, _md(org, a), d, cut.id)
    assert (shown.price, list(shown.customized_fields)) == ("45.00", ["price"])


async def test_R11_services_created_while_establishments_open_end_up_everywhere(
    catalog: Catalog,
) -> None:
    """A create reads the known establishments while an establishment-created event reads
    the services: whichever commits first, the other sees it (no service left out)."""
    org, a = _id(), _id()
    md = _md(org, a)
    opened = [_id() for _ in range(4)]
    results = await asyncio.gather(
        *(_cut(catalog, md, name=f"Service {i:02d}") for i in range(16)),
        *(_publish_establishment_created(catalog.nats_url, org, est) for est in opened),
    )
    made = sorted(r.service.id for r in results if isinstance(r, catalog_pb2.ServiceChange))
    event_ids = [r for r in results if isinstance(r, str)]

    async def all_processed() -> None:
        async with catalog.db.read() as session:
            done = (
                await session.execute(
                    select(func.count())
                    .select_from(processed_events)
                    .where(processed_events.c.event_id.in_(event_ids))
                )
            ).scalar_one()
        assert done == len(event_ids)

    await _eventually(all_processed)
    for est in [a, *opened]:
        assert sorted(await _listed(catalog, md, est)) == made, est


# -- R12 / R07: settings per establishment, and the answer says which one -------------------


async def test_R12_price_change_stays_in_its_establishment(catalog: Catalog) -> None:
    org, a, b = _id(), _id(), _id()
    await _open(catalog, org, a, b)
    events = Events()
    await events.start(catalog.nats_url, org)
    cut = (await _cut(catalog, _md(org, a))).service

    change = await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, price="45"), metadata=_md(org, b), timeout=5
    )
    assert list(change.establishment_ids) == [b]
    assert (change.service.establishment_id, change.service.price) == (b, "45.00")
    assert list(change.service.customized_fields) == ["price"]
    in_a = await _in(catalog, _md(org, a), a, cut.id)
    in_b = await _in(catalog, _md(org, a), b, cut.id)
    assert (in_a.price, list(in_a.customized_fields)) == ("40.00", [])
    assert (in_b.price, in_b.duration_minutes) == ("45.00", 30)

    created, updated = await events.wait_for(2)
    assert created.subject == f"salon.{org}.org.catalog.service.created"
    assert updated.subject == f"salon.{org}.{b}.catalog.service.updated"
    payload = updated.parse(events_pb2.ServiceUpdated)
    assert list(payload.changed_fields) == ["price"]
    assert payload.service.establishment_id == b


async def test_R07_the_same_change_made_from_A_changes_A_only(catalog: Catalog) -> None:
    org, a, b = _id(), _id(), _id()
    await _open(catalog, org, b)
    cut = (await _cut(catalog, _md(org, a))).service
    change = await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(
            id=cut.id,
            price="45.00",
            duration_minutes=45,
            description="With a head massage",
            bookable_online=False,
        ),
        metadata=_md(org, a, Role.STAFF),
        timeout=5,
    )
    assert list(change.establishment_ids) == [a]
    assert change.service.establishment_id == a
    assert (
        change.service.price,
        change.service.duration_minutes,
        change.service.description,
        change.service.bookable_online,
    ) == ("45.00", 45, "With a head massage", False)
    in_b = await _in(catalog, _md(org, a), b, cut.id)
    assert (in_b.price, in_b.duration_minutes, in_b.description, in_b.bookable_online) == (
        "40.00",
        30,
        "",
        True,
    )
    # Name and category are shared and not changed by an update.
    assert (in_b.name, in_b.category) == ("Cut", "Hair")


async def test_an_update_that_changes_nothing_publishes_nothing(catalog: Catalog) -> None:
    org, a = _id(), _id()
    cut = (await _cut(catalog, _md(org, a))).service
    await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, price="45"), metadata=_md(org, a), timeout=5
    )
    before = await _outbox_count(catalog, "salon.catalog.service.updated.v1")
    change = await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, price="45.00"), metadata=_md(org, a), timeout=5
    )
    assert list(change.establishment_ids) == [a]
    assert await _outbox_count(catalog, "salon.catalog.service.updated.v1") == before == 1


# -- B10: organization defaults, per-establishment overrides, reset ------------------------


async def test_B10_customised_values_show_and_reset_to_the_organization_value(
    catalog: Catalog,
) -> None:
    org, a, b = _id(), _id(), _id()
    await _open(catalog, org, b)
    md = _md(org, a)
    cut = (await _cut(catalog, md, description="Classic")).service
    await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, price="42.50", bookable_online=False),
        metadata=md,
        timeout=5,
    )
    shown = await _in(catalog, md, a, cut.id)
    assert list(shown.customized_fields) == ["price", "bookable_online"]
    assert (shown.price, shown.bookable_online) == ("42.50", False)

    reset = await catalog.stub.ResetServiceSettings(
        catalog_pb2.ResetServiceSettingsRequest(id=cut.id, fields=["price"]),
        metadata=md,
        timeout=5,
    )
    assert list(reset.establishment_ids) == [a]
    assert (reset.service.price, list(reset.service.customized_fields)) == (
        "40.00",
        ["bookable_online"],
    )
    everything = await catalog.stub.ResetServiceSettings(
        catalog_pb2.ResetServiceSettingsRequest(id=cut.id), metadata=md, timeout=5
    )
    assert list(everything.service.customized_fields) == []
    assert everything.service.bookable_online is True

    bad = await _fails(
        catalog.stub.ResetServiceSettings(
            catalog_pb2.ResetServiceSettingsRequest(id=cut.id, fields=["name"]),
            metadata=md,
            timeout=5,
        )
    )
    assert (bad.code, bad.field) == (ErrorCode.INVALID, "fields")
    # A reset in B leaves A's override alone.
    await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, duration_minutes=50), metadata=md, timeout=5
    )
    await catalog.stub.ResetServiceSettings(
        catalog_pb2.ResetServiceSettingsRequest(id=cut.id), metadata=_md(org, b), timeout=5
    )
    assert (await _in(catalog, md, a, cut.id)).duration_minutes == 50


# -- B05: safe delete of a shared service ----------------------------------------------------


async def test_B05_delete_shows_impact_and_restore_brings_settings_back(
    catalog: Catalog,
) -> None:
    org, a, b = _id(), _id(), _id()
    await _open(catalog, org, b)
    md = _md(org, a, Role.MANAGER)
    cut = (await _cut(catalog, md)).service
    await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, price="39"), metadata=md, timeout=5
    )

    deleted = await catalog.stub.DeleteService(
        catalog_pb2.DeleteServiceRequest(id=cut.id), metadata=md, timeout=5
    )
    assert deleted.deleted_service_id == cut.id
    assert set(deleted.establishment_ids) == {a, b}
    assert deleted.future_appointments == 0
    for est in (a, b):
        assert cut.id not in await _listed(catalog, md, est)
    got = await catalog.stub.GetServices(
        catalog_pb2.GetServicesRequest(ids=[cut.id]), metadata=md, timeout=5
    )
    assert list(got.services) == []
    history = await catalog.stub.GetServices(
        catalog_pb2.GetServicesRequest(ids=[cut.id], include_deleted=True), metadata=md, timeout=5
    )
    assert [s.id for s in history.services] == [cut.id]
    assert history.services[0].HasField("deleted_at")

    for call in (
        catalog.stub.DeleteService(
            catalog_pb2.DeleteServiceRequest(id=cut.id, confirm=True), metadata=md, timeout=5
        ),
        catalog.stub.UpdateService(
            catalog_pb2.UpdateServiceRequest(id=cut.id, price="1"), metadata=md, timeout=5
        ),
    ):
        error = await _fails(call)
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "id")

    restored = await catalog.stub.RestoreService(
        catalog_pb2.RestoreServiceRequest(id=cut.id), metadata=md, timeout=5
    )
    assert set(restored.establishment_ids) == {a, b}
    assert (restored.service.price, restored.service.HasField("deleted_at")) == ("39.00", False)
    assert (await _in(catalog, md, b, cut.id)).price == "40.00"
    again = await _fails(
        catalog.stub.RestoreService(
            catalog_pb2.RestoreServiceRequest(id=cut.id), metadata=md, timeout=5
        )
    )
    assert (again.code, again.field) == (ErrorCode.CONFLICT, "id")


async def test_B05_a_service_deleted_30_days_ago_cannot_be_restored(catalog: Catalog) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    cut = (await _cut(catalog, md)).service
    perm = (await _cut(catalog, md, name="Perm")).service
    for service in (cut, perm):
        await catalog.stub.DeleteService(
            catalog_pb2.DeleteServiceRequest(id=service.id), metadata=md, timeout=5
        )
    async with catalog.db.write(organization_id=org) as session:
        for service, days in ((cut, 30), (perm, 29)):
            await session.execute(
                update(services)
                .where(services.c.id == service.id)
                .values(deleted_at=utcnow() - timedelta(days=days))
            )

    error = await _fails(
        catalog.stub.RestoreService(
            catalog_pb2.RestoreServiceRequest(id=cut.id), metadata=md, timeout=5
        )
    )
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "id")
    assert cut.id not in await _listed(catalog, md)
    await catalog.stub.RestoreService(
        catalog_pb2.RestoreServiceRequest(id=perm.id), metadata=md, timeout=5
    )
    assert await _listed(catalog, md) == [perm.id]


async def test_B05_staff_may_neither_delete_nor_restore(catalog: Catalog) -> None:
    org, a = _id(), _id()
    cut = (await _cut(catalog, _md(org, a))).service
    staff = _md(org, a, Role.STAFF, [Right.MANAGE_OTHER_PRODUCTS])
    for call in (
        catalog.stub.DeleteService(
            catalog_pb2.DeleteServiceRequest(id=cut.id, confirm=True), metadata=staff, timeout=5
        ),
        catalog.stub.RestoreService(
            catalog_pb2.RestoreServiceRequest(id=cut.id), metadata=staff, timeout=5
        ),
    ):
        assert (await _fails(call)).code is ErrorCode.FORBIDDEN
    assert await _listed(catalog, _md(org, a)) == [cut.id]


# -- lists --------------------------------------------------------------------------------


async def test_services_are_listed_by_category_then_name_and_filtered_on_online_booking(
    catalog: Catalog,
) -> None:
    org, a, b = _id(), _id(), _id()
    await _open(catalog, org, b)
    md = _md(org, a)
    made = {}
    for name, category in [("Wash", "hair"), ("Beard", "Barber"), ("Colour", "Hair"), ("Tea", "")]:
        made[name] = (await _cut(catalog, md, name=name, category=category)).service.id
    await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=made["Colour"], bookable_online=False),
        metadata=md,
        timeout=5,
    )
    listed = await catalog.stub.ListServices(
        catalog_pb2.ListServicesRequest(), metadata=md, timeout=5
    )
    assert [s.name for s in listed.services] == ["Tea", "Beard", "Colour", "Wash"]
    online = await catalog.stub.ListServices(
        catalog_pb2.ListServicesRequest(bookable_online_only=True), metadata=md, timeout=5
    )
    assert [s.name for s in online.services] == ["Tea", "Beard", "Wash"]
    online_b = await catalog.stub.ListServices(
        catalog_pb2.ListServicesRequest(establishment_id=b, bookable_online_only=True),
        metadata=md,
        timeout=5,
    )
    assert [s.name for s in online_b.services] == ["Tea", "Beard", "Colour", "Wash"]


# -- R13 / R05: shared products, price per establishment --------------------------------


async def _product(
    catalog: Catalog, md: Metadata, name: str = "Gel", price: str = "12", barcode: str = ""
) -> catalog_pb2.Product:
    return await catalog.stub.CreateProduct(
        catalog_pb2.CreateProductRequest(name=name, brand="Brand", barcode=barcode, price=price),
        metadata=md,
        timeout=5,
    )


async def test_R13_barcodes_are_unique_per_organization(catalog: Catalog) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    gel = await _product(catalog, md, barcode="5410000000001")
    assert (gel.barcode, gel.price, gel.price_customized, gel.establishment_id) == (
        "5410000000001",
        "12.00",
        False,
        a,
    )
    error = await _fails(_product(catalog, md, name="Other", barcode="5410000000001"))
    assert (error.code, error.field) == (ErrorCode.CONFLICT, "barcode")
    # Without a barcode there is nothing to collide; another organization has its own.
    await _product(catalog, md, name="No code 1")
    await _product(catalog, md, name="No code 2")
    await _product(catalog, _md(_id(), _id()), barcode="5410000000001")
    listed = await catalog.stub.ListProducts(
        catalog_pb2.ListProductsRequest(), metadata=md, timeout=5
    )
    assert [p.name for p in listed.products] == ["Gel", "No code 1", "No code 2"]


async def test_R13_concurrent_creates_with_one_barcode_make_one_product(
    catalog: Catalog,
) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    results = await asyncio.gather(
        *(_product(catalog, md, name=f"Gel {i}", barcode="123-X") for i in range(10)),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, catalog_pb2.Product)]
    refused = [from_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(made) == 1 and len(refused) == 9, results
    assert all(
        e is not None and (e.code, e.field) == (ErrorCode.CONFLICT, "barcode") for e in refused
    )
    listed = await catalog.stub.ListProducts(
        catalog_pb2.ListProductsRequest(), metadata=md, timeout=5
    )
    assert [p.id for p in listed.products] == [made[0].id]
    assert await _outbox_count(catalog, "salon.catalog.product.created.v1") == 1


async def test_R13_the_price_is_per_establishment(catalog: Catalog) -> None:
    org, a, b = _id(), _id(), _id()
    await _open(catalog, org, b)
    md = _md(org, a, Role.STAFF)
    gel = await _product(catalog, md)
    priced = await catalog.stub.SetProductPrice(
        catalog_pb2.SetProductPriceRequest(product_id=gel.id, price="13"), metadata=md, timeout=5
    )
    assert (priced.establishment_id, priced.price, priced.price_customized) == (a, "13.00", True)
    in_b = await catalog.stub.GetProducts(
        catalog_pb2.GetProductsRequest(ids=[gel.id], establishment_id=b),
        metadata=_md(org, a, rights=[Right.MANAGE_OTHER_PRODUCTS]),
        timeout=5,
    )
    [shown] = in_b.products
    assert (shown.name, shown.brand, shown.price, shown.price_customized) == (
        "Gel",
        "Brand",
        "12.00",
        False,
    )


async def test_R05_a_price_in_another_establishment_needs_the_right(catalog: Catalog) -> None:
    org, a, b = _id(), _id(), _id()
    await _open(catalog, org, b)
    wax = await _product(catalog, _md(org, a), name="Wax", price="9")
    events_before = await _outbox_count(catalog)
    without = _md(org, a, Role.STAFF)

    denied = await _fails(
        catalog.stub.SetProductPrice(
            catalog_pb2.SetProductPriceRequest(product_id=wax.id, price="1", establishment_id=b),
            metadata=without,
            timeout=5,
        )
    )
    assert (denied.code, denied.field) == (ErrorCode.FORBIDDEN, "establishmentId")
    for call in (
        catalog.stub.ListProducts(
            catalog_pb2.ListProductsRequest(establishment_id=b), metadata=without, timeout=5
        ),
        catalog.stub.GetProducts(
            catalog_pb2.GetProductsRequest(ids=[wax.id], establishment_id=b),
            metadata=without,
            timeout=5,
        ),
    ):
        assert (await _fails(call)).code is ErrorCode.FORBIDDEN
    unknown = await _fails(
        catalog.stub.SetProductPrice(
            catalog_pb2.SetProductPriceRequest(
                product_id=wax.id, price="1", establishment_id=_id()
            ),
            metadata=_md(org, a, Role.OWNER),
            timeout=5,
        )
    )
    assert (unknown.code, unknown.field) == (ErrorCode.NOT_FOUND, "establishmentId")
    async with catalog.db.read(across_organizations=True) as session:
        rows = (await session.execute(select(func.count()).select_from(product_prices))).scalar()
    assert rows == 0 and await _outbox_count(catalog) == events_before

    allowed = await catalog.stub.SetProductPrice(
        catalog_pb2.SetProductPriceRequest(product_id=wax.id, price="9.50", establishment_id=b),
        metadata=_md(org, a, Role.STAFF, [Right.MANAGE_OTHER_PRODUCTS]),
        timeout=5,
    )
    assert (allowed.establishment_id, allowed.price, allowed.price_customized) == (
        b,
        "9.50",
        True,
    )
    in_a = await catalog.stub.ListProducts(
        catalog_pb2.ListProductsRequest(), metadata=without, timeout=5
    )
    assert [(p.price, p.price_customized) for p in in_a.products] == [("9.00", False)]
    changed = await _outbox_count(catalog, "salon.catalog.product.price_changed.v1")
    assert changed == 1


# -- R25: menus per establishment --------------------------------------------------------


async def test_R25_menus_are_invisible_from_another_establishment(catalog: Catalog) -> None:
    org, a, b = _id(), _id(), _id()
    md_a, md_b = _md(org, a), _md(org, b)
    cut = (await _cut(catalog, md_a)).service
    colour = (await _cut(catalog, md_a, name="Colour", price="60")).service
    menu = await catalog.stub.CreateMenu(
        catalog_pb2.CreateMenuRequest(
            name="Cut & colour", price="89", service_ids=[cut.id, colour.id, cut.id]
        ),
        metadata=md_a,
        timeout=5,
    )
    assert (menu.establishment_id, menu.price) == (a, "89.00")
    assert list(menu.service_ids) == [cut.id, colour.id]
    in_a = await catalog.stub.ListMenus(catalog_pb2.ListMenusRequest(), metadata=md_a, timeout=5)
    assert [(m.id, list(m.service_ids)) for m in in_a.menus] == [(menu.id, [cut.id, colour.id])]
    in_b = await catalog.stub.ListMenus(catalog_pb2.ListMenusRequest(), metadata=md_b, timeout=5)
    assert list(in_b.menus) == []

    refused = await _fails(
        catalog.stub.DeleteMenu(catalog_pb2.DeleteMenuRequest(id=menu.id), metadata=md_b, timeout=5)
    )
    assert (refused.code, refused.field) == (ErrorCode.NOT_FOUND, "id")
    deleted = await catalog.stub.DeleteMenu(
        catalog_pb2.DeleteMenuRequest(id=menu.id), metadata=md_a, timeout=5
    )
    assert deleted.deleted_menu_id == menu.id
    in_a = await catalog.stub.ListMenus(catalog_pb2.ListMenusRequest(), metadata=md_a, timeout=5)
    assert list(in_a.menus) == []


async def test_R25_a_menu_takes_only_live_services_of_the_organization(catalog: Catalog) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    cut = (await _cut(catalog, md)).service
    theirs = (await _cut(catalog, _md(_id(), _id()), name="Theirs")).service
    gone = (await _cut(catalog, md, name="Gone")).service
    await catalog.stub.DeleteService(
        catalog_pb2.DeleteServiceRequest(id=gone.id), metadata=md, timeout=5
    )
    for ids in ([cut.id, theirs.id], [gone.id], ["unknown"]):
        error = await _fails(
            catalog.stub.CreateMenu(
                catalog_pb2.CreateMenuRequest(name="Menu", price="10", service_ids=ids),
                metadata=md,
                timeout=5,
            )
        )
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "serviceIds"), ids
    empty = await _fails(
        catalog.stub.CreateMenu(
            catalog_pb2.CreateMenuRequest(name="Menu", price="10"), metadata=md, timeout=5
        )
    )
    assert (empty.code, empty.field) == (ErrorCode.INVALID, "serviceIds")
    listed = await catalog.stub.ListMenus(catalog_pb2.ListMenusRequest(), metadata=md, timeout=5)
    assert list(listed.menus) == []


# -- R01: another organization sees and changes nothing ----------------------------------


async def test_R01_another_organization_cannot_see_or_touch_the_catalogue(
    catalog: Catalog,
) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    cut = (await _cut(catalog, md)).service
    gel = await _product(catalog, md)
    menu = await catalog.stub.CreateMenu(
        catalog_pb2.CreateMenuRequest(name="Menu", price="10", service_ids=[cut.id]),
        metadata=md,
        timeout=5,
    )
    other = _md(_id(), _id())

    got = await catalog.stub.GetServices(
        catalog_pb2.GetServicesRequest(ids=[cut.id], include_deleted=True),
        metadata=other,
        timeout=5,
    )
    assert list(got.services) == []
    assert await _listed(catalog, other) == []
    products = await catalog.stub.GetProducts(
        catalog_pb2.GetProductsRequest(ids=[gel.id]), metadata=other, timeout=5
    )
    assert list(products.products) == []
    listed = await catalog.stub.ListProducts(
        catalog_pb2.ListProductsRequest(), metadata=other, timeout=5
    )
    assert list(listed.products) == []
    menus = await catalog.stub.ListMenus(catalog_pb2.ListMenusRequest(), metadata=other, timeout=5)
    assert list(menus.menus) == []

    for call, field in [
        (
            catalog.stub.UpdateService(
                catalog_pb2.UpdateServiceRequest(id=cut.id, price="1"), metadata=other, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.ResetServiceSettings(
                catalog_pb2.ResetServiceSettingsRequest(id=cut.id), metadata=other, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.DeleteService(
                catalog_pb2.DeleteServiceRequest(id=cut.id, confirm=True),
                metadata=other,
                timeout=5,
            ),
            "id",
        ),
        (
            catalog.stub.RestoreService(
                catalog_pb2.RestoreServiceRequest(id=cut.id), metadata=other, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.SetProductPrice(
                catalog_pb2.SetProductPriceRequest(product_id=gel.id, price="1"),
                metadata=other,
                timeout=5,
            ),
            "productId",
        ),
        (
            catalog.stub.DeleteMenu(
                catalog_pb2.DeleteMenuRequest(id=menu.id), metadata=other, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.CreateMenu(
                catalog_pb2.CreateMenuRequest(name="M", price="1", service_ids=[cut.id]),
                metadata=other,
                timeout=5,
            ),
            "serviceIds",
        ),
        (
            catalog.stub.ListServices(
                catalog_pb2.ListServicesRequest(establishment_id=a), metadata=other, timeout=5
            ),
            "establishmentId",
        ),
        (
            catalog.stub.SetProductPrice(
                catalog_pb2.SetProductPriceRequest(
                    product_id=gel.id, price="1", establishment_id=a
                ),
                metadata=SIGNER.metadata(Scope(_id(), _id(), _id(), Role.OWNER)),
                timeout=5,
            ),
            "establishmentId",
        ),
    ]:
        error = await _fails(call)
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, field)

    shown = await _in(catalog, md, a, cut.id)
    assert (shown.price, list(shown.customized_fields)) == ("40.00", [])
    [still] = (
        await catalog.stub.GetProducts(
            catalog_pb2.GetProductsRequest(ids=[gel.id]), metadata=md, timeout=5
        )
    ).products
    assert still.price == "12.00"
    mine = await catalog.stub.ListMenus(catalog_pb2.ListMenusRequest(), metadata=md, timeout=5)
    assert [m.id for m in mine.menus] == [menu.id]


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1.234"}, "price"),
        ({"duration_minutes": 0}, "durationMinutes"),
        ({"duration_minutes": -30}, "durationMinutes"),
        ({"name": ""}, "name"),
    ],
)
async def test_bad_service_input_is_invalid_and_writes_nothing(
    catalog: Catalog, values: dict[str, Any], field: str
) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    base: dict[str, Any] = {"name": "Cut", "price": "40", "duration_minutes": 30}
    error = await _fails(
        catalog.stub.CreateService(
            catalog_pb2.CreateServiceRequest(**{**base, **values}), metadata=md, timeout=5
        )
    )
    assert (error.code, error.field) == (ErrorCode.INVALID, field)
    assert await _listed(catalog, md) == []
    assert await _outbox_count(catalog) == 0

    cut = (await _cut(catalog, md)).service
    update_values = {k: v for k, v in values.items() if k != "name"}
    if update_values:
        error = await _fails(
            catalog.stub.UpdateService(
                catalog_pb2.UpdateServiceRequest(id=cut.id, **update_values),
                metadata=md,
                timeout=5,
            )
        )
        assert (error.code, error.field) == (ErrorCode.INVALID, field)
        shown = await _in(catalog, md, a, cut.id)
        assert (shown.price, shown.duration_minutes, list(shown.customized_fields)) == (
            "40.00",
            30,
            [],
        )


async def test_bad_product_and_menu_input_and_unknown_ids(catalog: Catalog) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    for request, field in [
        (catalog_pb2.CreateProductRequest(name="Gel", price="-1"), "price"),
        (catalog_pb2.CreateProductRequest(name="Gel", price="abc"), "price"),
        (catalog_pb2.CreateProductRequest(name="Gel", price="1.234"), "price"),
        (catalog_pb2.CreateProductRequest(name="", price="1"), "name"),
        (catalog_pb2.CreateProductRequest(name="Gel", price="1", barcode="no spaces"), "barcode"),
    ]:
        error = await _fails(catalog.stub.CreateProduct(request, metadata=md, timeout=5))
        assert (error.code, error.field) == (ErrorCode.INVALID, field), request
    gel = await _product(catalog, md)
    bad_price = await _fails(
        catalog.stub.SetProductPrice(
            catalog_pb2.SetProductPriceRequest(product_id=gel.id, price="-2"),
            metadata=md,
            timeout=5,
        )
    )
    assert (bad_price.code, bad_price.field) == (ErrorCode.INVALID, "price")

    for call, field in [
        (
            catalog.stub.UpdateService(
                catalog_pb2.UpdateServiceRequest(id="unknown", price="1"), metadata=md, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.DeleteService(
                catalog_pb2.DeleteServiceRequest(id="unknown"), metadata=md, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.RestoreService(
                catalog_pb2.RestoreServiceRequest(id="unknown"), metadata=md, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.SetProductPrice(
                catalog_pb2.SetProductPriceRequest(product_id="unknown", price="1"),
                metadata=md,
                timeout=5,
            ),
            "productId",
        ),
        (
            catalog.stub.DeleteMenu(
                catalog_pb2.DeleteMenuRequest(id="unknown"), metadata=md, timeout=5
            ),
            "id",
        ),
        (
            catalog.stub.GetServices(
                catalog_pb2.GetServicesRequest(ids=["x"], establishment_id="unknown"),
                metadata=md,
                timeout=5,
            ),
            "establishmentId",
        ),
    ]:
        error = await _fails(call)
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, field)

    too_many = await _fails(
        catalog.stub.GetServices(
            catalog_pb2.GetServicesRequest(ids=[str(i) for i in range(1001)]),
            metadata=md,
            timeout=5,
        )
    )
    assert (too_many.code, too_many.field) == (ErrorCode.INVALID, "ids")
    got = await catalog.stub.GetProducts(
        catalog_pb2.GetProductsRequest(ids=["unknown", gel.id, gel.id]), metadata=md, timeout=5
    )
    assert [p.id for p in got.products] == [gel.id]
    assert gel.price == "12.00"


# -- events -------------------------------------------------------------------------------


async def test_each_change_is_published_with_its_establishment_or_the_organization(
    catalog: Catalog,
) -> None:
    org, a = _id(), _id()
    md = _md(org, a)
    events = Events()
    await events.start(catalog.nats_url, org)
    cut = (await _cut(catalog, md)).service
    await catalog.stub.UpdateService(
        catalog_pb2.UpdateServiceRequest(id=cut.id, duration_minutes=45), metadata=md, timeout=5
    )
    gel = await _product(catalog, md)
    await catalog.stub.SetProductPrice(
        catalog_pb2.SetProductPriceRequest(product_id=gel.id, price="13"), metadata=md, timeout=5
    )
    menu = await catalog.stub.CreateMenu(
        catalog_pb2.CreateMenuRequest(name="M", price="1", service_ids=[cut.id]),
        metadata=md,
        timeout=5,
    )
    await catalog.stub.DeleteMenu(catalog_pb2.DeleteMenuRequest(id=menu.id), metadata=md, timeout=5)
    await catalog.stub.DeleteService(
        catalog_pb2.DeleteServiceRequest(id=cut.id), metadata=md, timeout=5
    )
    await catalog.stub.RestoreService(
        catalog_pb2.RestoreServiceRequest(id=cut.id), metadata=md, timeout=5
    )
    received = await events.wait_for(8)
    assert [(e.type, e.subject) for e in received] == [
        ("salon.catalog.service.created.v1", f"salon.{org}.org.catalog.service.created"),
        ("salon.catalog.service.updated.v1", f"salon.{org}.{a}.catalog.service.updated"),
        ("salon.catalog.product.created.v1", f"salon.{org}.org.catalog.product.created"),
        (
            "salon.catalog.product.price_changed.v1",
            f"salon.{org}.{a}.catalog.product.price_changed",
        ),
        ("salon.catalog.menu.created.v1", f"salon.{org}.{a}.catalog.menu.created"),
        ("salon.catalog.menu.deleted.v1", f"salon.{org}.{a}.catalog.menu.deleted"),
        ("salon.catalog.service.deleted.v1", f"salon.{org}.org.catalog.service.deleted"),
        ("salon.catalog.service.restored.v1", f"salon.{org}.org.catalog.service.restored"),
    ]
    created = received[0].parse(events_pb2.ServiceCreated)
    assert list(created.establishment_ids) == [a] and created.service.id == cut.id
    deleted = received[6].parse(events_pb2.ServiceDeleted)
    assert (deleted.service_id, list(deleted.establishment_ids)) == (cut.id, [a])
