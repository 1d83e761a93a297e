"""Queries of the shared catalogue. Every statement filters on the organization of the
scope; an id of another organization is simply not found (R01)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import String, Table, and_, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.catalog.domain.model import (
    AppointmentFact,
    AppointmentStatus,
    Menu,
    NewMenu,
    NewProduct,
    NewService,
    Product,
    Service,
    Settings,
    sort_key,
    supersedes,
)
from services.catalog.store.tables import (
    menu_services,
    menus,
    product_prices,
    products,
    service_appointments,
    service_settings,
    services,
)
from services.common.db import advisory_lock, insert_ignore, new_id, utcnow
from services.common.errors import DomainError, ErrorCode, not_found


async def lock_services(session: AsyncConnection, organization_id: str) -> None:
    """Serialize, per organization, "a service is created" with "an establishment is
    added": each reads what the other writes (R11), and without the lock a concurrent pair
    on PostgreSQL would leave the new service out of the new establishment. SQLite already
    runs one writer at a time."""
    await advisory_lock(session, "salon.catalog.services", organization_id)


def _insert_ignore_stmt(session: AsyncConnection, table: Table) -> Any:
    if session.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# -- services ---------------------------------------------------------------------------


def _to_service(row: Any, establishment_id: str) -> Service:
    own_bookable = row.own_bookable_online
    return Service(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        category=row.category,
        establishment_id=establishment_id,
        defaults=Settings(
            price=row.price,
            duration_minutes=row.duration_minutes,
            description=row.description,
            bookable_online=bool(row.bookable_online),
        ),
        overrides=Settings(
            price=row.own_price,
            duration_minutes=row.own_duration_minutes,
            description=row.own_description,
            bookable_online=None if own_bookable is None else bool(own_bookable),
        ),
        created_at=row.created_at,
        deleted_at=row.deleted_at,
    )


def _service_query(organization_id: str, establishment_id: str, *, outer: bool) -> Any:
    """Services with the overrides of one establishment; `outer`: also those without a
    settings row there (shown with the organization's values)."""
    on = and_(
        service_settings.c.service_id == services.c.id,
        service_settings.c.organization_id == organization_id,
        service_settings.c.establishment_id == establishment_id,
    )
    return (
        select(
            services,
            service_settings.c.price.label("own_price"),
            service_settings.c.duration_minutes.label("own_duration_minutes"),
            service_settings.c.description.label("own_description"),
            service_settings.c.bookable_online.label("own_bookable_online"),
            service_settings.c.establishment_id.label("settings_establishment_id"),
        )
        .select_from(services.join(service_settings, on, isouter=outer))
        .where(services.c.organization_id == organization_id)
    )


async def create_service(
    session: AsyncConnection,
    organization_id: str,
    new: NewService,
    establishment_ids: Sequence[str],
) -> str:
    """The service and a settings row without overrides in every given establishment."""
    service_id = new_id()
    defaults = new.defaults
    await session.execute(
        services.insert().values(
            id=service_id,
            organization_id=organization_id,
            name=new.name,
            category=new.category,
            price=defaults.price,
            duration_minutes=defaults.duration_minutes,
            description=defaults.description,
            bookable_online=defaults.bookable_online,
            created_at=utcnow(),
            deleted_at=None,
        )
    )
    if establishment_ids:
        await session.execute(
            service_settings.insert(),
            [
                {
                    "organization_id": organization_id,
                    "service_id": service_id,
                    "establishment_id": est,
                }
                for est in dict.fromkeys(establishment_ids)
            ],
        )
    return service_id


async def add_establishment(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> None:
    """R11: a new establishment gets every service of the organization, without overrides.
    Deleted ones too, so that a restore brings them back there as well. Idempotent."""
    await lock_services(session, organization_id)
    chosen = select(
        services.c.organization_id,
        services.c.id,
        literal(establishment_id, String(32)),
    ).where(services.c.organization_id == organization_id)
    stmt = (
        _insert_ignore_stmt(session, service_settings)
        .from_select(["organization_id", "service_id", "establishment_id"], chosen)
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)


async def get_services(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    ids: Sequence[str],
    *,
    include_deleted: bool = False,
) -> list[Service]:
    """The services of this organization among `ids`, in the order asked, with the values
    of the establishment; others (and deleted ones unless asked) left out."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    query = _service_query(organization_id, establishment_id, outer=True).where(
        services.c.id.in_(unique)
    )
    if not include_deleted:
        query = query.where(services.c.deleted_at.is_(None))
    rows = (await session.execute(query)).all()
    by_id = {r.id: _to_service(r, establishment_id) for r in rows}
    return [by_id[i] for i in unique if i in by_id]


async def list_services(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    *,
    bookable_online_only: bool = False,
) -> list[Service]:
    """The services that exist in the establishment, by category then name."""
    query = _service_query(organization_id, establishment_id, outer=False).where(
        services.c.deleted_at.is_(None)
    )
    found = [_to_service(r, establishment_id) for r in (await session.execute(query)).all()]
    if bookable_online_only:
        found = [s for s in found if s.values.bookable_online]
    return sorted(found, key=sort_key)


async def _live_service(session: AsyncConnection, organization_id: str, service_id: str) -> Any:
    """The row of a non-deleted service of the organization, locked for the change."""
    row = (
        await session.execute(
            select(services)
            .where(
                services.c.organization_id == organization_id,
                services.c.id == service_id,
                services.c.deleted_at.is_(None),
            )
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise not_found("service", "id")
    return row


async def _settings_row(
    session: AsyncConnection, organization_id: str, service_id: str, establishment_id: str
) -> Any:
    """The establishment's settings row, created without overrides when missing (the
    establishment-created event may still be on its way), and locked."""
    await insert_ignore(
        session,
        service_settings,
        {
            "organization_id": organization_id,
            "service_id": service_id,
            "establishment_id": establishment_id,
        },
    )
    return (
        await session.execute(
            select(service_settings)
            .where(
                service_settings.c.organization_id == organization_id,
                service_settings.c.service_id == service_id,
                service_settings.c.establishment_id == establishment_id,
            )
            .with_for_update()
        )
    ).one()


async def _write_overrides(
    session: AsyncConnection,
    organization_id: str,
    service_id: str,
    establishment_id: str,
    values: dict[str, Any],
) -> None:
    await session.execute(
        update(service_settings)
        .where(
            service_settings.c.organization_id == organization_id,
            service_settings.c.service_id == service_id,
            service_settings.c.establishment_id == establishment_id,
        )
        .values(**values)
    )


async def update_settings(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    service_id: str,
    overrides: Settings,
) -> tuple[Service, list[str]]:
    """Set the given overrides in one establishment and no other (R07, R12); returns the
    service with that establishment's values and the settings whose override changed."""
    await _live_service(session, organization_id, service_id)
    current = await _settings_row(session, organization_id, service_id, establishment_id)
    wanted = {name: getattr(overrides, name) for name in overrides.present()}
    changed = [name for name, value in wanted.items() if getattr(current, name) != value]
    if changed:
        await _write_overrides(
            session,
            organization_id,
            service_id,
            establishment_id,
            {name: wanted[name] for name in changed},
        )
    [service] = await get_services(session, organization_id, establishment_id, [service_id])
    return service, changed


async def reset_settings(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    service_id: str,
    names: Sequence[str],
) -> tuple[Service, list[str]]:
    """B10: the named settings take the organization's value again in one establishment;
    returns the service there and the settings that were overridden before."""
    await _live_service(session, organization_id, service_id)
    current = await _settings_row(session, organization_id, service_id, establishment_id)
    cleared = [name for name in names if getattr(current, name) is not None]
    if cleared:
        await _write_overrides(
            session,
            organization_id,
            service_id,
            establishment_id,
            dict.fromkeys(cleared),
        )
    [service] = await get_services(session, organization_id, establishment_id, [service_id])
    return service, cleared


async def establishments_with(
    session: AsyncConnection, organization_id: str, service_id: str
) -> list[str]:
    """Where the service exists (has a settings row)."""
    rows = await session.execute(
        select(service_settings.c.establishment_id)
        .where(
            service_settings.c.organization_id == organization_id,
            service_settings.c.service_id == service_id,
        )
        .order_by(service_settings.c.establishment_id)
    )
    return list(rows.scalars())


async def future_appointments(
    session: AsyncConnection, organization_id: str, service_id: str
) -> int:
    """Future appointments of the service in every establishment (B05's impact): the
    booked ones that start after now, as the booking events told them."""
    count = await session.execute(
        select(func.count())
        .select_from(service_appointments)
        .where(
            service_appointments.c.organization_id == organization_id,
            service_appointments.c.service_id == service_id,
            service_appointments.c.status == AppointmentStatus.BOOKED.value,
            service_appointments.c.start_at > utcnow(),
        )
    )
    return int(count.scalar_one())


async def record_appointment(
    session: AsyncConnection, organization_id: str, fact: AppointmentFact
) -> bool:
    """Keep what a booking event says of an appointment, unless what is recorded is newer
    (`model.supersedes`); True when the row changed. Idempotent and order-tolerant."""
    values = {
        "service_id": fact.service_id,
        "start_at": fact.start_at,
        "status": fact.status.value,
        "changed_at": fact.at,
    }
    mine = and_(
        service_appointments.c.organization_id == organization_id,
        service_appointments.c.appointment_id == fact.id,
    )
    if await insert_ignore(
        session,
        service_appointments,
        {"organization_id": organization_id, "appointment_id": fact.id, **values},
    ):
        return True
    current = (
        await session.execute(
            select(service_appointments.c.status, service_appointments.c.changed_at)
            .where(mine)
            .with_for_update()
        )
    ).one()
    if not supersedes(fact, AppointmentStatus(current.status), current.changed_at):
        return False
    await session.execute(update(service_appointments).where(mine).values(**values))
    return True


async def lock_live_service(
    session: AsyncConnection, organization_id: str, service_id: str
) -> None:
    """NOT_FOUND (field id) unless the service is one of the organization's, not deleted."""
    await _live_service(session, organization_id, service_id)


async def mark_deleted(
    session: AsyncConnection, organization_id: str, service_id: str, at: datetime
) -> None:
    """Deleted everywhere at once (R11); the settings rows stay for a restore (B05)."""
    await session.execute(
        update(services)
        .where(services.c.organization_id == organization_id, services.c.id == service_id)
        .values(deleted_at=at)
    )


async def deleted_at(
    session: AsyncConnection, organization_id: str, service_id: str
) -> datetime | None:
    """When the service was deleted (None: it is not); NOT_FOUND when it is not one of the
    organization's."""
    row = (
        await session.execute(
            select(services.c.deleted_at)
            .where(services.c.organization_id == organization_id, services.c.id == service_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise not_found("service", "id")
    return row.deleted_at  # type: ignore[no-any-return]


async def mark_restored(session: AsyncConnection, organization_id: str, service_id: str) -> None:
    await session.execute(
        update(services)
        .where(services.c.organization_id == organization_id, services.c.id == service_id)
        .values(deleted_at=None)
    )


async def live_service_ids(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> set[str]:
    """Which of `ids` are non-deleted services of the organization."""
    if not ids:
        return set()
    rows = await session.execute(
        select(services.c.id).where(
            services.c.organization_id == organization_id,
            services.c.id.in_(list(ids)),
            services.c.deleted_at.is_(None),
        )
    )
    return set(rows.scalars())


# -- products ---------------------------------------------------------------------------


def _to_product(row: Any, establishment_id: str) -> Product:
    return Product(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        brand=row.brand,
        barcode=row.barcode,
        default_price=row.price,
        establishment_id=establishment_id,
        own_price=row.own_price,
        created_at=row.created_at,
    )


def _product_query(organization_id: str, establishment_id: str) -> Any:
    on = and_(
        product_prices.c.product_id == products.c.id,
        product_prices.c.organization_id == organization_id,
        product_prices.c.establishment_id == establishment_id,
    )
    return (
        select(products, product_prices.c.price.label("own_price"))
        .select_from(products.join(product_prices, on, isouter=True))
        .where(products.c.organization_id == organization_id)
    )


async def barcode_taken(session: AsyncConnection, organization_id: str, barcode: str) -> bool:
    row = (
        await session.execute(
            select(products.c.id).where(
                products.c.organization_id == organization_id, products.c.barcode == barcode
            )
        )
    ).first()
    return row is not None


def barcode_conflict() -> DomainError:
    return DomainError(
        ErrorCode.CONFLICT, "another product of the organization has this barcode", "barcode"
    )


async def create_product(
    session: AsyncConnection, organization_id: str, establishment_id: str, new: NewProduct
) -> Product:
    """CONFLICT (barcode) when the organization has the barcode already; a concurrent
    create that slips past this check fails on the unique constraint instead."""
    if new.barcode is not None and await barcode_taken(session, organization_id, new.barcode):
        raise barcode_conflict()
    product_id = new_id()
    await session.execute(
        products.insert().values(
            id=product_id,
            organization_id=organization_id,
            name=new.name,
            brand=new.brand,
            barcode=new.barcode,
            price=new.price,
            created_at=utcnow(),
        )
    )
    [product] = await get_products(session, organization_id, establishment_id, [product_id])
    return product


async def set_product_price(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    product_id: str,
    price: Decimal,
) -> tuple[Product, bool]:
    """The price of one establishment and no other (R05, R13); True when it changed."""
    exists = (
        await session.execute(
            select(products.c.id).where(
                products.c.organization_id == organization_id, products.c.id == product_id
            )
        )
    ).first()
    if exists is None:
        raise not_found("product", "productId")
    inserted = await insert_ignore(
        session,
        product_prices,
        {
            "organization_id": organization_id,
            "product_id": product_id,
            "establishment_id": establishment_id,
            "price": price,
        },
    )
    changed = inserted
    if not inserted:
        result = await session.execute(
            update(product_prices)
            .where(
                product_prices.c.organization_id == organization_id,
                product_prices.c.product_id == product_id,
                product_prices.c.establishment_id == establishment_id,
                product_prices.c.price != price,
            )
            .values(price=price)
        )
        changed = bool(result.rowcount)  # type: ignore[attr-defined]
    [product] = await get_products(session, organization_id, establishment_id, [product_id])
    return product, changed


async def get_products(
    session: AsyncConnection, organization_id: str, establishment_id: str, ids: Sequence[str]
) -> list[Product]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    rows = (
        await session.execute(
            _product_query(organization_id, establishment_id).where(products.c.id.in_(unique))
        )
    ).all()
    by_id = {r.id: _to_product(r, establishment_id) for r in rows}
    return [by_id[i] for i in unique if i in by_id]


async def list_products(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> list[Product]:
    rows = (await session.execute(_product_query(organization_id, establishment_id))).all()
    found = [_to_product(r, establishment_id) for r in rows]
    return sorted(found, key=lambda p: (p.name.casefold(), p.id))


# -- menus ------------------------------------------------------------------------------


async def create_menu(
    session: AsyncConnection, organization_id: str, establishment_id: str, new: NewMenu
) -> Menu:
    """A menu of one establishment (R25); every service must be a live one of the
    organization (NOT_FOUND serviceIds otherwise)."""
    live = await live_service_ids(session, organization_id, new.service_ids)
    if any(i not in live for i in new.service_ids):
        raise not_found("service", "serviceIds")
    menu_id = new_id()
    await session.execute(
        menus.insert().values(
            id=menu_id,
            organization_id=organization_id,
            establishment_id=establishment_id,
            name=new.name,
            price=new.price,
            created_at=utcnow(),
        )
    )
    await session.execute(
        menu_services.insert(),
        [
            {
                "organization_id": organization_id,
                "menu_id": menu_id,
                "service_id": service_id,
                "position": position,
            }
            for position, service_id in enumerate(new.service_ids)
        ],
    )
    return Menu(
        id=menu_id,
        organization_id=organization_id,
        establishment_id=establishment_id,
        name=new.name,
        price=new.price,
        service_ids=list(new.service_ids),
    )


async def delete_menu(
    session: AsyncConnection, organization_id: str, establishment_id: str, menu_id: str
) -> None:
    """Only a menu of this establishment; another's is not found (R25)."""
    mine = and_(
        menus.c.organization_id == organization_id,
        menus.c.establishment_id == establishment_id,
        menus.c.id == menu_id,
    )
    if (await session.execute(select(menus.c.id).where(mine))).first() is None:
        raise not_found("menu", "id")
    await session.execute(
        delete(menu_services).where(
            menu_services.c.organization_id == organization_id,
            menu_services.c.menu_id == menu_id,
        )
    )
    await session.execute(delete(menus).where(mine))


async def list_menus(
    session: AsyncConnection, organization_id: str, establishment_id: str
) -> list[Menu]:
    rows = (
        await session.execute(
            select(menus).where(
                menus.c.organization_id == organization_id,
                menus.c.establishment_id == establishment_id,
            )
        )
    ).all()
    if not rows:
        return []
    found = {
        r.id: Menu(
            id=r.id,
            organization_id=r.organization_id,
            establishment_id=r.establishment_id,
            name=r.name,
            price=r.price,
        )
        for r in rows
    }
    members = await session.execute(
        select(menu_services.c.menu_id, menu_services.c.service_id)
        .where(
            menu_services.c.organization_id == organization_id,
            menu_services.c.menu_id.in_(list(found)),
        )
        .order_by(menu_services.c.menu_id, menu_services.c.position)
    )
    for menu_id, service_id in members:
        found[menu_id].service_ids.append(service_id)
    return sorted(found.values(), key=lambda m: (m.name.casefold(), m.id))
