"""R29 in the catalog service, over real gRPC on loopback, on SQLite and (with
TEST_DATABASE_URL) PostgreSQL, with a real NATS server: each establishment's webshop
settings and mini-website profile, invisible and unchanged from the others, set by owners
and managers only, checked input that writes nothing when refused, events through the
outbox, and the public side (no user)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from launcher.nats_server import NatsServer
from salon.catalog.v1 import catalog_pb2, catalog_pb2_grpc, events_pb2
from services.catalog.service import SPEC as CATALOG
from services.catalog.store.tables import metadata as catalog_metadata
from services.catalog.store.tables import outbox
from services.common import migrations
from services.common.db import Database
from services.common.errors import DomainError, ErrorCode, from_rpc_error
from services.common.scope import Role, Scope
from tests.support.services import SIGNER, Metadata, running


@dataclass
class Catalog:
    stub: catalog_pb2_grpc.CatalogServiceStub
    db: Database


@pytest.fixture
async def catalog(database_url: str, nats_server: NatsServer) -> AsyncIterator[Catalog]:
    async with running(nats_server.url, {"catalog": database_url}, {"catalog": CATALOG}) as s:
        db = Database(database_url)
        try:
            yield Catalog(catalog_pb2_grpc.CatalogServiceStub(s.channel("catalog")), db)
        finally:
            await db.dispose()


def _id() -> str:
    return secrets.token_hex(16)


def _md(
    org: str, est: str, role: Role = Role.OWNER, verified: Iterable[str] = (), user: str = "u-1"
) -> Metadata:
    return SIGNER.metadata(Scope(org, est, user, role, verified_establishments=frozenset(verified)))


def _public(org: str, est: str) -> Metadata:
    """What the gateway sends for the public page: no user, the page's establishment."""
    return SIGNER.metadata(Scope(org, est, verified_establishments=frozenset({est})))


async def _fails(call: Awaitable[Any]) -> DomainError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = from_rpc_error(caught.value)
    assert error is not None, caught.value
    return error


async def _product(catalog: Catalog, org: str, est: str, name: str, price: str) -> str:
    product = await catalog.stub.CreateProduct(
        catalog_pb2.CreateProductRequest(name=name, price=price), metadata=_md(org, est), timeout=5
    )
    return product.id


async def _set_shop(
    catalog: Catalog,
    org: str,
    est: str,
    *,
    enabled: bool | None = None,
    product_ids: list[str] | None = None,
    role: Role = Role.OWNER,
) -> catalog_pb2.WebshopChange:
    request = catalog_pb2.SetWebshopRequest()
    if enabled is not None:
        request.enabled = enabled
    if product_ids is not None:
        request.set_product_ids = True
        request.product_ids.extend(product_ids)
    return await catalog.stub.SetWebshop(request, metadata=_md(org, est, role), timeout=5)


async def _shop(catalog: Catalog, org: str, est: str) -> catalog_pb2.Webshop:
    return await catalog.stub.GetWebshop(
        catalog_pb2.GetWebshopRequest(), metadata=_md(org, est), timeout=5
    )


async def _profile(catalog: Catalog, org: str, est: str) -> catalog_pb2.WebsiteProfile:
    return await catalog.stub.GetWebsiteProfile(
        catalog_pb2.GetWebsiteProfileRequest(), metadata=_md(org, est), timeout=5
    )


async def _events(catalog: Catalog, org: str) -> list[tuple[str, str | None, bytes]]:
    async with catalog.db.read(organization_id=org) as session:
        rows = await session.execute(
            select(outbox.c.type, outbox.c.establishment_id, outbox.c.payload)
            .where(outbox.c.organization_id == org)
            .order_by(outbox.c.seq)
        )
        return [(r.type, r.establishment_id, r.payload) for r in rows.all()]


FULL_PROFILE = catalog_pb2.SetWebsiteProfileRequest(
    description="Cuts and colour in the old town.\nOpen late on Thursdays.",
    address=catalog_pb2.Address(
        street="Meir 12", postal_code="2000", city="Antwerpen", country="be"
    ),
    phone="0470 12 34 56",
    email="Antwerpen@Example.com",
    set_photo_urls=True,
    photo_urls=["https://cdn.example.com/a/front.jpg", "https://cdn.example.com/a/chair.jpg"],
)


# -- the schema ---------------------------------------------------------------------------


async def test_R29_the_migrations_build_exactly_the_tables_of_the_code(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrations.upgrade(db, CATALOG.migrations)
        async with db.read() as conn:  # the schema only: no tenant row is read
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), catalog_metadata)
            )
    finally:
        await db.dispose()
    assert diff == []


# -- webshop ------------------------------------------------------------------------------


async def test_R29_webshop_settings_of_A_are_invisible_and_unchanged_from_B(
    catalog: Catalog,
) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(catalog, org, a, "Shampoo", "18.50")
    wax = await _product(catalog, org, a, "Wax", "12.00")
    assert (await _shop(catalog, org, a)).enabled is False  # off until set

    change = await _set_shop(catalog, org, a, enabled=True, product_ids=[wax, shampoo, wax])

    assert list(change.establishment_ids) == [a]
    assert change.webshop.enabled is True
    assert list(change.webshop.product_ids) == [wax, shampoo]  # order kept, once each
    assert change.webshop.HasField("updated_at")
    in_b = await _shop(catalog, org, b)
    assert (in_b.establishment_id, in_b.enabled, list(in_b.product_ids)) == (b, False, [])
    assert not in_b.HasField("updated_at")
    # B's own settings leave A's as they were (R07).
    await _set_shop(catalog, org, b, enabled=True, product_ids=[shampoo])
    assert list((await _shop(catalog, org, a)).product_ids) == [wax, shampoo]
    # Only what is given changes: turning A off keeps its products.
    off = await _set_shop(catalog, org, a, enabled=False)
    assert (off.webshop.enabled, list(off.webshop.product_ids)) == (False, [wax, shampoo])
    # Another organization sees nothing of it.
    other = await _shop(catalog, _id(), a)
    assert (other.enabled, list(other.product_ids)) == (False, [])

    events = [(t, e) for t, e, _ in await _events(catalog, org) if "webshop" in t]
    assert events == [
        ("salon.catalog.webshop.updated.v1", a),
        ("salon.catalog.webshop.updated.v1", b),
        ("salon.catalog.webshop.updated.v1", a),
    ]
    last = events_pb2.WebshopUpdated.FromString(
        [d for t, _, d in await _events(catalog, org) if "webshop" in t][-1]
    )
    assert list(last.changed_fields) == ["enabled"] and last.webshop.establishment_id == a


async def test_R29_webshop_products_must_be_the_organization_s_and_nothing_changes(
    catalog: Catalog,
) -> None:
    org, other, a = _id(), _id(), _id()
    mine = await _product(catalog, org, a, "Shampoo", "18.50")
    theirs = await _product(catalog, other, a, "Their shampoo", "9.00")
    await _set_shop(catalog, org, a, enabled=True, product_ids=[mine])
    before = await _events(catalog, org)

    foreign = await _fails(_set_shop(catalog, org, a, enabled=False, product_ids=[mine, theirs]))
    unknown = await _fails(_set_shop(catalog, org, a, product_ids=[_id()]))
    empty = await _fails(_set_shop(catalog, org, a, product_ids=[mine, " "]))

    assert (foreign.code, foreign.field) == (ErrorCode.NOT_FOUND, "productIds")
    assert (unknown.code, unknown.field) == (ErrorCode.NOT_FOUND, "productIds")
    assert (empty.code, empty.field) == (ErrorCode.INVALID, "productIds")
    shop = await _shop(catalog, org, a)
    assert (shop.enabled, list(shop.product_ids)) == (True, [mine])
    assert await _events(catalog, org) == before
    # Setting what is there already publishes nothing.
    await _set_shop(catalog, org, a, enabled=True, product_ids=[mine])
    assert await _events(catalog, org) == before


async def test_R29_only_owners_and_managers_set_the_webshop_and_website(catalog: Catalog) -> None:
    org, a = _id(), _id()
    shampoo = await _product(catalog, org, a, "Shampoo", "18.50")

    refused = await _fails(_set_shop(catalog, org, a, enabled=True, role=Role.STAFF))
    profile = await _fails(
        catalog.stub.SetWebsiteProfile(FULL_PROFILE, metadata=_md(org, a, Role.STAFF), timeout=5)
    )
    by_manager = await _set_shop(
        catalog, org, a, enabled=True, product_ids=[shampoo], role=Role.MANAGER
    )

    assert refused.code is ErrorCode.FORBIDDEN and profile.code is ErrorCode.FORBIDDEN
    assert by_manager.webshop.enabled is True
    assert (await _profile(catalog, org, a)).description == ""


async def test_R29_concurrent_webshop_changes_all_apply_each_published_once(
    catalog: Catalog,
) -> None:
    org, a = _id(), _id()
    ids = [await _product(catalog, org, a, f"P{i}", "5.00") for i in range(6)]

    results = await asyncio.gather(
        *[
            _set_shop(catalog, org, a, enabled=i % 2 == 0, product_ids=ids[: i + 1])
            for i in range(6)
        ]
    )

    final = await _shop(catalog, org, a)
    # One of them came last, whole: its products and its switch, never a mix.
    assert any(
        list(final.product_ids) == list(r.webshop.product_ids)
        and final.enabled == r.webshop.enabled
        for r in results
    )
    async with catalog.db.read(organization_id=org) as session:
        count = await session.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.organization_id == org, outbox.c.type.like("%webshop%"))
        )
    # Each call changed what the one before had left (the product list differs every time).
    assert int(count.scalar_one()) == 6


# -- the mini website ---------------------------------------------------------------------


async def test_R29_the_website_profile_of_A_is_invisible_and_unchanged_from_B(
    catalog: Catalog,
) -> None:
    org, a, b = _id(), _id(), _id()

    change = await catalog.stub.SetWebsiteProfile(FULL_PROFILE, metadata=_md(org, a), timeout=5)

    profile = change.profile
    assert list(change.establishment_ids) == [a]
    assert profile.establishment_id == a
    assert profile.description.startswith("Cuts and colour")
    assert (
        profile.address.street,
        profile.address.postal_code,
        profile.address.city,
        profile.address.country,
    ) == ("Meir 12", "2000", "Antwerpen", "BE")
    assert (profile.phone, profile.email) == ("+32470123456", "Antwerpen@example.com")
    assert list(profile.photo_urls) == list(FULL_PROFILE.photo_urls)
    assert await _profile(catalog, org, a) == profile
    empty = await _profile(catalog, org, b)
    assert (empty.establishment_id, empty.description, list(empty.photo_urls)) == (b, "", [])
    assert not empty.HasField("address")
    assert (await _profile(catalog, _id(), a)).description == ""  # another organization

    # Partial: only the photos, reordered; then the address removed.
    reordered = await catalog.stub.SetWebsiteProfile(
        catalog_pb2.SetWebsiteProfileRequest(
            set_photo_urls=True, photo_urls=list(reversed(FULL_PROFILE.photo_urls))
        ),
        metadata=_md(org, a, Role.MANAGER),
        timeout=5,
    )
    assert list(reordered.profile.photo_urls) == list(reversed(FULL_PROFILE.photo_urls))
    assert reordered.profile.description == profile.description
    no_address = await catalog.stub.SetWebsiteProfile(
        catalog_pb2.SetWebsiteProfileRequest(address=catalog_pb2.Address()),
        metadata=_md(org, a),
        timeout=5,
    )
    assert not no_address.profile.HasField("address")
    assert no_address.profile.phone == "+32470123456"

    published = [
        (e, list(events_pb2.WebsiteProfileUpdated.FromString(d).changed_fields))
        for t, e, d in await _events(catalog, org)
        if t == "salon.catalog.website_profile.updated.v1"
    ]
    assert published == [
        (a, ["description", "address", "phone", "email", "photo_urls"]),
        (a, ["photo_urls"]),
        (a, ["address"]),
    ]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (catalog_pb2.SetWebsiteProfileRequest(description="x" * 2001), "description"),
        (catalog_pb2.SetWebsiteProfileRequest(phone="not a phone"), "phone"),
        (catalog_pb2.SetWebsiteProfileRequest(email="nobody@"), "email"),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                address=catalog_pb2.Address(street="Meir 1", city="Antwerpen", country="BE")
            ),
            "address.postalCode",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                address=catalog_pb2.Address(
                    street="Meir 1", postal_code="2000", city="Antwerpen", country="Belgium"
                )
            ),
            "address.country",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                address=catalog_pb2.Address(postal_code="2000", city="Antwerpen", country="BE")
            ),
            "address.street",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                set_photo_urls=True, photo_urls=["http://cdn.example.com/a.jpg"]
            ),
            "photoUrls",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                set_photo_urls=True, photo_urls=["https://user:pw@cdn.example.com/a.jpg"]
            ),
            "photoUrls",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                set_photo_urls=True, photo_urls=["https://cdn.example.com/" + "a" * 2048]
            ),
            "photoUrls",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                set_photo_urls=True, photo_urls=["javascript:alert(1)"]
            ),
            "photoUrls",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                set_photo_urls=True,
                photo_urls=[f"https://cdn.example.com/{i}.jpg" for i in range(21)],
            ),
            "photoUrls",
        ),
        (
            catalog_pb2.SetWebsiteProfileRequest(
                set_photo_urls=True,
                photo_urls=["https://cdn.example.com/1.jpg", "https://cdn.example.com/1.jpg"],
            ),
            "photoUrls",
        ),
    ],
)
async def test_R29_bad_profile_input_is_invalid_and_writes_nothing(
    catalog: Catalog, request_: catalog_pb2.SetWebsiteProfileRequest, field: str
) -> None:
    org, a = _id(), _id()
    before = await catalog.stub.SetWebsiteProfile(FULL_PROFILE, metadata=_md(org, a), timeout=5)
    events = await _events(catalog, org)

    error = await _fails(catalog.stub.SetWebsiteProfile(request_, metadata=_md(org, a), timeout=5))

    assert (error.code, error.field) == (ErrorCode.INVALID, field)
    assert await _profile(catalog, org, a) == before.profile
    assert await _events(catalog, org) == events


# -- the public side ----------------------------------------------------------------------


async def test_R29_the_public_side_shows_the_profile_and_only_an_enabled_webshop(
    catalog: Catalog,
) -> None:
    org, a, b = _id(), _id(), _id()
    shampoo = await _product(catalog, org, a, "Shampoo", "18.50")
    wax = await _product(catalog, org, a, "Wax", "12.00")
    hidden = await _product(catalog, org, a, "Not online", "3.00")
    del hidden
    await catalog.stub.SetProductPrice(
        catalog_pb2.SetProductPriceRequest(product_id=shampoo, price="21.00"),
        metadata=_md(org, a),
        timeout=5,
    )
    await catalog.stub.SetWebsiteProfile(FULL_PROFILE, metadata=_md(org, a), timeout=5)
    await _set_shop(catalog, org, a, enabled=True, product_ids=[shampoo, wax])
    await _set_shop(catalog, org, b, enabled=False, product_ids=[wax])

    shop_a = await catalog.stub.PublicWebshop(
        catalog_pb2.PublicWebsiteRequest(establishment_id=a), metadata=_public(org, a), timeout=5
    )
    shop_b = await catalog.stub.PublicWebshop(
        catalog_pb2.PublicWebsiteRequest(establishment_id=b), metadata=_public(org, b), timeout=5
    )
    profile_a = await catalog.stub.PublicWebsiteProfile(
        catalog_pb2.PublicWebsiteRequest(establishment_id=a), metadata=_public(org, a), timeout=5
    )
    profile_b = await catalog.stub.PublicWebsiteProfile(
        catalog_pb2.PublicWebsiteRequest(establishment_id=b), metadata=_public(org, b), timeout=5
    )

    assert shop_a.enabled is True
    assert [(p.id, p.name, p.price, p.establishment_id) for p in shop_a.products] == [
        (shampoo, "Shampoo", "21.00", a),  # A's own price
        (wax, "Wax", "12.00", a),
    ]
    assert (shop_b.enabled, list(shop_b.products)) == (False, [])
    assert profile_a.address.city == "Antwerpen"
    assert (profile_b.description, profile_b.HasField("address")) == ("", False)
    # Another organization's page, whatever the establishment id: nothing of A.
    stranger = await _fails(
        catalog.stub.PublicWebshop(
            catalog_pb2.PublicWebsiteRequest(establishment_id=a),
            metadata=SIGNER.metadata(Scope(_id(), _id())),
            timeout=5,
        )
    )
    assert stranger.code is ErrorCode.NOT_FOUND
    # The staff RPCs refuse a scope without a user.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await catalog.stub.GetWebshop(
            catalog_pb2.GetWebshopRequest(), metadata=_public(org, a), timeout=5
        )
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
