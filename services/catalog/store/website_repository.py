"""Queries of R29's webshop settings and mini-website profiles. Every statement filters
on the organization and the establishment: another establishment's rows are never read
or written here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.catalog.domain.model import Product
from services.catalog.domain.website import (
    Address,
    ProfileChange,
    Unset,
    Webshop,
    WebshopChange,
    WebsiteProfile,
)
from services.catalog.store.repository import get_products
from services.catalog.store.tables import (
    products,
    webshop_products,
    webshop_settings,
    website_photos,
    website_profiles,
)
from services.common.db import advisory_lock, insert_ignore
from services.common.errors import not_found


async def lock(session: AsyncConnection, organization_id: str, establishment_id: str) -> None:
    """Serialize changes of one establishment's webshop and website (read, compare, write):
    two at once apply one after the other, each publishing what it changed. SQLite already
    runs one writer at a time."""
    await advisory_lock(session, "salon.catalog.website", f"{organization_id}:{establishment_id}")


# -- webshop ----------------------------------------------------------------------------


async def get_webshop(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> Webshop:
    shop = Webshop(organization_id, establishment_id)
    row = (
        await session.execute(
            select(webshop_settings.c.enabled, webshop_settings.c.updated_at).where(
                webshop_settings.c.organization_id == organization_id,
                webshop_settings.c.establishment_id == establishment_id,
            )
        )
    ).one_or_none()
    if row is None:
        return shop
    shop.enabled = bool(row.enabled)
    shop.updated_at = row.updated_at
    ids = await session.execute(
        select(webshop_products.c.product_id)
        .where(
            webshop_products.c.organization_id == organization_id,
            webshop_products.c.establishment_id == establishment_id,
        )
        .order_by(webshop_products.c.position)
    )
    shop.product_ids = list(ids.scalars())
    return shop


async def _products_of_organization(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> set[str]:
    if not ids:
        return set()
    rows = await session.execute(
        select(products.c.id).where(
            products.c.organization_id == organization_id, products.c.id.in_(list(ids))
        )
    )
    return set(rows.scalars())


async def set_webshop(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    change: WebshopChange,
    user_id: str,
    at: datetime,
) -> None:
    """Write the change (the caller compared it with what is there, under `lock`).
    NOT_FOUND (productIds) when a product is not one of the organization's, before any
    write."""
    if change.product_ids is not None:
        known = await _products_of_organization(session, organization_id, change.product_ids)
        missing = [i for i in change.product_ids if i not in known]
        if missing:
            raise not_found(f"product {missing[0]}", "productIds")
    mine = (
        webshop_settings.c.organization_id == organization_id,
        webshop_settings.c.establishment_id == establishment_id,
    )
    inserted = await insert_ignore(
        session,
        webshop_settings,
        {
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "enabled": bool(change.enabled),
            "updated_at": at,
            "updated_by": user_id,
        },
    )
    if not inserted:
        values: dict[str, object] = {"updated_at": at, "updated_by": user_id}
        if change.enabled is not None:
            values["enabled"] = change.enabled
        await session.execute(update(webshop_settings).where(*mine).values(**values))
    if change.product_ids is not None:
        await session.execute(
            delete(webshop_products).where(
                webshop_products.c.organization_id == organization_id,
                webshop_products.c.establishment_id == establishment_id,
            )
        )
        if change.product_ids:
            await session.execute(
                webshop_products.insert(),
                [
                    {
                        "organization_id": organization_id,
                        "establishment_id": establishment_id,
                        "product_id": product_id,
                        "position": position,
                    }
                    for position, product_id in enumerate(change.product_ids)
                ],
            )


async def products_sold_online(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> list[Product] | None:
    """The products an enabled webshop sells, with that establishment's price, in the
    order set; None when the webshop is off there."""
    shop = await get_webshop(session, organization_id, establishment_id)
    if not shop.enabled:
        return None
    return await get_products(session, organization_id, establishment_id, shop.product_ids)


# -- website profile --------------------------------------------------------------------


async def get_profile(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> WebsiteProfile:
    profile = WebsiteProfile(organization_id, establishment_id)
    row = (
        await session.execute(
            select(website_profiles).where(
                website_profiles.c.organization_id == organization_id,
                website_profiles.c.establishment_id == establishment_id,
            )
        )
    ).one_or_none()
    if row is None:
        return profile
    profile.description = row.description
    if row.city is not None:
        profile.address = Address(row.street, row.postal_code, row.city, row.country)
    profile.phone = row.phone
    profile.email = row.email
    profile.updated_at = row.updated_at
    urls = await session.execute(
        select(website_photos.c.url)
        .where(
            website_photos.c.organization_id == organization_id,
            website_photos.c.establishment_id == establishment_id,
        )
        .order_by(website_photos.c.position)
    )
    profile.photo_urls = list(urls.scalars())
    return profile


async def set_profile(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    current: WebsiteProfile,
    change: ProfileChange,
    user_id: str,
    at: datetime,
) -> None:
    """Write `change` over `current` (read under `lock`)."""
    address = current.address if isinstance(change.address, Unset) else change.address
    values = {
        "description": current.description if change.description is None else change.description,
        "street": address.street if address else None,
        "postal_code": address.postal_code if address else None,
        "city": address.city if address else None,
        "country": address.country if address else None,
        "phone": current.phone if change.phone is None else change.phone,
        "email": current.email if change.email is None else change.email,
        "updated_at": at,
        "updated_by": user_id,
    }
    mine = (
        website_profiles.c.organization_id == organization_id,
        website_profiles.c.establishment_id == establishment_id,
    )
    if not await insert_ignore(
        session,
        website_profiles,
        {"organization_id": organization_id, "establishment_id": establishment_id, **values},
    ):
        await session.execute(update(website_profiles).where(*mine).values(**values))
    if change.photo_urls is not None:
        await session.execute(
            delete(website_photos).where(
                website_photos.c.organization_id == organization_id,
                website_photos.c.establishment_id == establishment_id,
            )
        )
        if change.photo_urls:
            await session.execute(
                website_photos.insert(),
                [
                    {
                        "organization_id": organization_id,
                        "establishment_id": establishment_id,
                        "position": position,
                        "url": url,
                    }
                    for position, url in enumerate(change.photo_urls)
                ],
            )
