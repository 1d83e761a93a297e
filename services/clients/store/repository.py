"""Queries of the client file. Every statement filters on the organization of the scope."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.clients.domain.model import (
    ERASED_FIRST_NAME,
    MAX_POINTS,
    REASON_EMAIL,
    REASONS,
    Client,
    ClientFields,
    DuplicateGroup,
    LoyaltyCard,
    email_key,
    erased_last_name,
    filled_contacts,
    search_text,
    sort_key,
)
from services.clients.store.forms_tables import form_responses
from services.clients.store.tables import (
    client_establishments,
    clients,
    loyalty_cards,
    loyalty_credits,
)
from services.common.db import insert_ignore, new_id, utcnow
from services.common.errors import DomainError, ErrorCode, invalid, not_found


def _to_client(row: Any, establishment_ids: list[str]) -> Client:
    return Client(
        id=row.id,
        organization_id=row.organization_id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        created_in_establishment_id=row.created_in_establishment_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        establishment_ids=establishment_ids,
        erased_at=row.erased_at,
        marketing_email_opt_out=bool(row.marketing_email_opt_out),
        marketing_sms_opt_out=bool(row.marketing_sms_opt_out),
        merged_into_id=row.merged_into_id,
        merged_at=row.merged_at,
    )


async def _establishments_of(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        select(client_establishments.c.client_id, client_establishments.c.establishment_id)
        .where(
            client_establishments.c.organization_id == organization_id,
            client_establishments.c.client_id.in_(ids),
        )
        .order_by(client_establishments.c.first_at, client_establishments.c.establishment_id)
    )
    for client_id, establishment_id in rows:
        out[client_id].append(establishment_id)
    return out


async def touch_history(
    session: AsyncConnection, organization_id: str, client_id: str, establishment_id: str
) -> None:
    """Record that the client has history in the establishment (R10)."""
    now = utcnow()
    inserted = await insert_ignore(
        session,
        client_establishments,
        {
            "organization_id": organization_id,
            "client_id": client_id,
            "establishment_id": establishment_id,
            "first_at": now,
            "last_at": now,
        },
    )
    if not inserted:
        await session.execute(
            update(client_establishments)
            .where(
                client_establishments.c.organization_id == organization_id,
                client_establishments.c.client_id == client_id,
                client_establishments.c.establishment_id == establishment_id,
            )
            .values(last_at=now)
        )


async def exists(session: AsyncConnection, organization_id: str, client_id: str) -> bool:
    """Whether the client is one of the organization's."""
    row = (
        await session.execute(
            select(clients.c.id).where(
                clients.c.organization_id == organization_id, clients.c.id == client_id
            )
        )
    ).first()
    return row is not None


async def create(
    session: AsyncConnection, organization_id: str, establishment_id: str, fields: ClientFields
) -> Client:
    assert fields.first_name and fields.last_name
    now = utcnow()
    client_id = new_id()
    await session.execute(
        clients.insert().values(
            id=client_id,
            organization_id=organization_id,
            first_name=fields.first_name,
            last_name=fields.last_name,
            email=fields.email,
            phone=fields.phone,
            email_key=email_key(fields.email),
            sort_key=sort_key(fields.first_name, fields.last_name),
            search_text=search_text(
                fields.first_name, fields.last_name, fields.email, fields.phone
            ),
            created_in_establishment_id=establishment_id,
            created_at=now,
            updated_at=now,
            version=1,
            marketing_email_opt_out=bool(fields.marketing_email_opt_out),
            marketing_sms_opt_out=bool(fields.marketing_sms_opt_out),
        )
    )
    await touch_history(session, organization_id, client_id, establishment_id)
    return (await get_many(session, organization_id, [client_id]))[0]


async def update_fields(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    fields: ClientFields,
) -> tuple[Client, list[str]]:
    """Apply the given fields; returns the client and the names of the fields that changed.
    The row is locked on PostgreSQL: an update racing a merge (B07) sees its result."""
    query = select(clients).where(
        clients.c.organization_id == organization_id, clients.c.id == client_id
    )
    if session.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise not_found("client", "id")
    if row.erased_at is not None:
        # B11: an erased client's personal data does not come back through an update.
        raise DomainError(ErrorCode.CONFLICT, "this client's personal data was erased", "id")
    if row.merged_into_id is not None:
        # B07: the kept record answers for a merged one; it is the one to change.
        raise DomainError(
            ErrorCode.CONFLICT, f"this client was merged into client {row.merged_into_id}", "id"
        )
    current: dict[str, Any] = {
        "first_name": row.first_name,
        "last_name": row.last_name,
        "email": row.email,
        "phone": row.phone,
        "marketing_email_opt_out": bool(row.marketing_email_opt_out),
        "marketing_sms_opt_out": bool(row.marketing_sms_opt_out),
    }
    wanted = dict(current)
    for key in current:
        value = getattr(fields, key)
        if isinstance(value, bool):
            wanted[key] = value
        elif value is not None:
            wanted[key] = value or None
    changed = [k for k in current if wanted[k] != current[k]]
    if changed:
        await session.execute(
            update(clients)
            .where(clients.c.organization_id == organization_id, clients.c.id == client_id)
            .values(
                **wanted,
                email_key=email_key(wanted["email"]),
                sort_key=sort_key(wanted["first_name"], wanted["last_name"]),
                search_text=search_text(
                    wanted["first_name"], wanted["last_name"], wanted["email"], wanted["phone"]
                ),
                updated_at=utcnow(),
                version=clients.c.version + 1,
            )
        )
        await touch_history(session, organization_id, client_id, establishment_id)
    return (await get_many(session, organization_id, [client_id]))[0], changed


async def get_many(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> list[Client]:
    """The clients of this organization among `ids`, in the order asked; others left out.
    Merged records are answered as they are (see get_resolved for the kept record)."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    rows = (
        await session.execute(
            select(clients).where(
                clients.c.organization_id == organization_id, clients.c.id.in_(unique)
            )
        )
    ).all()
    history = await _establishments_of(session, organization_id, [r.id for r in rows])
    by_id = {r.id: _to_client(r, history[r.id]) for r in rows}
    return [by_id[i] for i in unique if i in by_id]


async def get_resolved(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> tuple[list[Client], dict[str, str]]:
    """B07: like get_many, but an asked id of a merged record answers the record it was
    merged into (each record once, in the order first asked); also returns merged id ->
    kept id for those. Merges are flattened (a record merged into one that is merged later
    points to the last kept record), so one hop resolves."""
    found = await get_many(session, organization_id, ids)
    merged = {c.id: c.merged_into_id for c in found if c.merged_into_id}
    if not merged:
        return found, {}
    missing = [k for k in dict.fromkeys(merged.values()) if k not in {c.id for c in found}]
    kept = {c.id: c for c in found if not c.merged_into_id}
    kept.update({c.id: c for c in await get_many(session, organization_id, missing)})
    out: list[Client] = []
    seen: set[str] = set()
    for client in found:
        target = kept.get(merged.get(client.id, client.id))
        if target is not None and target.id not in seen:
            seen.add(target.id)
            out.append(target)
    return out, {m: k for m, k in merged.items() if k in kept}


async def resolve(session: AsyncConnection, organization_id: str, client_id: str) -> str | None:
    """B07: the id that answers for `client_id` (itself, or the record it was merged into);
    None when it is not one of the organization's. For writes: on PostgreSQL the row is
    share-locked until the caller's transaction ends, so a merge under way finishes first
    (and its result is read) or waits for this write (and moves what it wrote)."""
    query = select(clients.c.id, clients.c.merged_into_id).where(
        clients.c.organization_id == organization_id, clients.c.id == client_id
    )
    if session.dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return str(row.merged_into_id or row.id)


@dataclass
class Page:
    clients: list[Client]
    cursors: list[str]
    has_next_page: bool
    total_count: int


def encode_cursor(sort: str, client_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([sort, client_id])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sort, client_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(sort, str) or not isinstance(client_id, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise invalid("after", "is not a cursor of this list") from exc
    return sort, client_id


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_page(
    session: AsyncConnection,
    organization_id: str,
    *,
    first: int,
    after: str | None,
    terms: Sequence[str],
    establishment_id: str | None,
) -> Page:
    # B07: a merged record is listed no more (its kept record answers for it).
    conditions: list[Any] = [
        clients.c.organization_id == organization_id,
        clients.c.merged_into_id.is_(None),
    ]
    for term in terms:
        conditions.append(clients.c.search_text.like(_like(term), escape="\\"))
    if establishment_id:
        conditions.append(
            clients.c.id.in_(
                select(client_establishments.c.client_id).where(
                    client_establishments.c.organization_id == organization_id,
                    client_establishments.c.establishment_id == establishment_id,
                )
            )
        )
    total = (
        await session.execute(select(func.count()).select_from(clients).where(and_(*conditions)))
    ).scalar_one()
    query = select(clients).where(*conditions)
    if after:
        sort, last_id = decode_cursor(after)
        query = query.where(
            or_(clients.c.sort_key > sort, and_(clients.c.sort_key == sort, clients.c.id > last_id))
        )
    rows = (
        await session.execute(query.order_by(clients.c.sort_key, clients.c.id).limit(first + 1))
    ).all()
    page_rows = rows[:first]
    history = await _establishments_of(session, organization_id, [r.id for r in page_rows])
    return Page(
        clients=[_to_client(r, history[r.id]) for r in page_rows],
        cursors=[encode_cursor(r.sort_key, r.id) for r in page_rows],
        has_next_page=len(rows) > first,
        total_count=int(total),
    )


async def find_by_email(
    session: AsyncConnection, organization_id: str, email: str
) -> Client | None:
    """The oldest client of the organization with this e-mail, case-insensitively; a merged
    record's e-mail finds the record it was merged into (B07)."""
    row = (
        await session.execute(
            select(clients.c.id, clients.c.merged_into_id)
            .where(
                clients.c.organization_id == organization_id,
                clients.c.email_key == email_key(email),
                clients.c.erased_at.is_(None),
            )
            .order_by(clients.c.created_at, clients.c.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    found = await get_many(session, organization_id, [row.merged_into_id or row.id])
    return found[0] if found else None


# -- loyalty cards (R23) ------------------------------------------------------------------


def _to_card(row: Any) -> LoyaltyCard:
    return LoyaltyCard(
        id=row.id,
        client_id=row.client_id,
        establishment_id=row.establishment_id,
        points=int(row.points),
        created_at=row.created_at,
    )


async def create_loyalty_card(
    session: AsyncConnection, organization_id: str, establishment_id: str, client_id: str
) -> LoyaltyCard:
    """A card of the client in the establishment, in the caller's write transaction:
    NOT_FOUND (clientId) for a client that is not the organization's, CONFLICT when the
    client has a card there already (the unique key decides, also under concurrency)."""
    resolved = await resolve(session, organization_id, client_id)
    if resolved is None:
        raise not_found("client", "clientId")
    # B07: a merged id lands on the record it was merged into.
    client_id = resolved
    now = utcnow()
    card = LoyaltyCard(
        id=new_id(),
        client_id=client_id,
        establishment_id=establishment_id,
        points=0,
        created_at=now,
    )
    created = await insert_ignore(
        session,
        loyalty_cards,
        {
            "id": card.id,
            "organization_id": organization_id,
            "establishment_id": establishment_id,
            "client_id": client_id,
            "points": 0,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not created:
        raise DomainError(
            ErrorCode.CONFLICT,
            "this client has a loyalty card in this establishment already",
            "clientId",
        )
    return card


async def get_loyalty_cards(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_ids: Sequence[str],
) -> list[LoyaltyCard]:
    """The cards of these clients in this establishment only (R23), in the order asked."""
    if not client_ids:
        return []
    rows = await session.execute(
        select(loyalty_cards).where(
            loyalty_cards.c.organization_id == organization_id,
            loyalty_cards.c.establishment_id == establishment_id,
            loyalty_cards.c.client_id.in_(client_ids),
        )
    )
    by_client = {row.client_id: _to_card(row) for row in rows}
    return [by_client[c] for c in client_ids if c in by_client]


async def credit_loyalty_card(
    session: AsyncConnection,
    organization_id: str,
    establishment_id: str,
    client_id: str,
    receipt_id: str,
    points: int,
) -> LoyaltyCard | None:
    """Credit the client's card of this establishment with a receipt's points, in the
    caller's write transaction: the card after the credit, or None when the client has no
    card here (R23: a card elsewhere earns nothing) or the receipt credited already (once,
    whatever the redeliveries: the credit's key is the receipt)."""
    card_id = (
        await session.execute(
            select(loyalty_cards.c.id).where(
                loyalty_cards.c.organization_id == organization_id,
                loyalty_cards.c.establishment_id == establishment_id,
                loyalty_cards.c.client_id == client_id,
            )
        )
    ).scalar_one_or_none()
    if card_id is None:
        return None
    now = utcnow()
    fresh = await insert_ignore(
        session,
        loyalty_credits,
        {
            "organization_id": organization_id,
            "receipt_id": receipt_id,
            "card_id": card_id,
            "points": points,
            "created_at": now,
        },
    )
    if not fresh:
        return None
    # One atomic update (concurrent credits add up); a card never passes MAX_POINTS.
    row = (
        await session.execute(
            update(loyalty_cards)
            .where(
                loyalty_cards.c.organization_id == organization_id, loyalty_cards.c.id == card_id
            )
            .values(
                points=case(
                    (loyalty_cards.c.points > MAX_POINTS - points, MAX_POINTS),
                    else_=loyalty_cards.c.points + points,
                ),
                updated_at=now,
            )
            .returning(*loyalty_cards.c)
        )
    ).one()
    return _to_card(row)


# -- privacy (B11) ------------------------------------------------------------------------


async def erase(
    session: AsyncConnection, organization_id: str, client_id: str
) -> tuple[Client, bool]:
    """Anonymise the client in the caller's write transaction: names replaced, e-mail and
    phone NULL, `erased_at` set; the id, history and loyalty cards stay. Returns the client
    and whether this call erased it (False: erased already). NOT_FOUND for a client that
    is not the organization's (R01). The conditional UPDATE decides between two
    concurrent calls."""
    if not await exists(session, organization_id, client_id):
        raise not_found("client", "id")
    now = utcnow()
    last_name = erased_last_name(client_id)
    result = await session.execute(
        update(clients)
        .where(
            clients.c.organization_id == organization_id,
            clients.c.id == client_id,
            clients.c.erased_at.is_(None),
        )
        .values(
            first_name=ERASED_FIRST_NAME,
            last_name=last_name,
            email=None,
            phone=None,
            email_key=None,
            sort_key=sort_key(ERASED_FIRST_NAME, last_name),
            search_text=search_text(ERASED_FIRST_NAME, last_name, None, None),
            erased_at=now,
            updated_at=now,
            version=clients.c.version + 1,
        )
    )
    erased = result.rowcount == 1  # type: ignore[attr-defined]
    return (await get_many(session, organization_id, [client_id]))[0], erased


async def export(
    session: AsyncConnection, organization_id: str, client_id: str
) -> dict[str, Any] | None:
    """Everything the client file holds about the client, None when it is not one of the
    organization's (R01)."""
    row = (
        await session.execute(
            select(clients).where(
                clients.c.organization_id == organization_id, clients.c.id == client_id
            )
        )
    ).one_or_none()
    if row is None:
        return None
    history = await session.execute(
        select(client_establishments)
        .where(
            client_establishments.c.organization_id == organization_id,
            client_establishments.c.client_id == client_id,
        )
        .order_by(client_establishments.c.first_at, client_establishments.c.establishment_id)
    )
    cards = (
        await session.execute(
            select(loyalty_cards)
            .where(
                loyalty_cards.c.organization_id == organization_id,
                loyalty_cards.c.client_id == client_id,
            )
            .order_by(loyalty_cards.c.created_at, loyalty_cards.c.id)
        )
    ).all()
    credits: dict[str, list[dict[str, Any]]] = {card.id: [] for card in cards}
    if cards:
        for credit in await session.execute(
            select(loyalty_credits)
            .where(
                loyalty_credits.c.organization_id == organization_id,
                loyalty_credits.c.card_id.in_(list(credits)),
            )
            .order_by(loyalty_credits.c.created_at, loyalty_credits.c.receipt_id)
        ):
            credits[credit.card_id].append(
                {
                    "receiptId": credit.receipt_id,
                    "points": credit.points,
                    "createdAt": credit.created_at,
                }
            )
    return {
        "client": {
            "id": row.id,
            "firstName": row.first_name,
            "lastName": row.last_name,
            "email": row.email,
            "phone": row.phone,
            "createdInEstablishmentId": row.created_in_establishment_id,
            "createdAt": row.created_at,
            "updatedAt": row.updated_at,
            "erasedAt": row.erased_at,
            "marketingEmailOptOut": bool(row.marketing_email_opt_out),
            "marketingSmsOptOut": bool(row.marketing_sms_opt_out),
            "mergedIntoId": row.merged_into_id,
            "mergedAt": row.merged_at,
        },
        "establishments": [
            {"establishmentId": h.establishment_id, "firstAt": h.first_at, "lastAt": h.last_at}
            for h in history
        ],
        "loyaltyCards": [
            {
                "id": card.id,
                "establishmentId": card.establishment_id,
                "points": card.points,
                "createdAt": card.created_at,
                "updatedAt": card.updated_at,
                "credits": credits[card.id],
            }
            for card in cards
        ],
    }


# -- duplicates and merge (B07) -----------------------------------------------------------


def _live(organization_id: str) -> list[Any]:
    return [
        clients.c.organization_id == organization_id,
        clients.c.erased_at.is_(None),
        clients.c.merged_into_id.is_(None),
    ]


def _key_column(reason: str) -> Any:
    return clients.c.email_key if reason == REASON_EMAIL else clients.c.phone


def _groups_query(organization_id: str, reason: str) -> Any:
    """The values shared by live clients created in at least two establishments, grouped on
    the (organization_id, email_key) or (organization_id, phone) index."""
    key = _key_column(reason)
    return (
        select(key.label("value"))
        .where(*_live(organization_id), key.is_not(None))
        .group_by(key)
        .having(func.count(func.distinct(clients.c.created_in_establishment_id)) > 1)
    )


@dataclass
class DuplicatePage:
    groups: list[DuplicateGroup]
    cursors: list[str]
    has_next_page: bool
    total_count: int


async def list_duplicates(
    session: AsyncConnection, organization_id: str, *, first: int, after: str | None
) -> DuplicatePage:
    """B07: the groups of live clients with the same normalised e-mail, then those with the
    same phone, each created in at least two establishments; keyset-paginated on (reason,
    value). A pair sharing both is listed once per reason."""
    total = 0
    for reason in REASONS:
        total += (
            await session.execute(
                select(func.count()).select_from(_groups_query(organization_id, reason).subquery())
            )
        ).scalar_one()
    after_reason, after_value = decode_cursor(after) if after else ("", "")
    if after and after_reason not in REASONS:
        raise invalid("after", "is not a cursor of this list")
    keys: list[tuple[str, str]] = []
    for reason in REASONS:
        if after and REASONS.index(reason) < REASONS.index(after_reason):
            continue
        query = _groups_query(organization_id, reason)
        key = _key_column(reason)
        if after and reason == after_reason:
            query = query.where(key > after_value)
        want = first + 1 - len(keys)
        rows = (await session.execute(query.order_by(key).limit(want))).all()
        keys.extend((reason, str(r.value)) for r in rows)
        if len(keys) > first:
            break
    page_keys = keys[:first]
    groups: list[DuplicateGroup] = []
    for reason in REASONS:
        values = [v for r, v in page_keys if r == reason]
        if not values:
            continue
        key = _key_column(reason)
        rows = (
            await session.execute(
                select(clients)
                .where(*_live(organization_id), key.in_(values))
                .order_by(clients.c.created_at, clients.c.id)
            )
        ).all()
        history = await _establishments_of(session, organization_id, [r.id for r in rows])
        members: dict[str, list[Client]] = {v: [] for v in values}
        for row in rows:
            members[str(getattr(row, key.name))].append(_to_client(row, history[row.id]))
        groups.extend(DuplicateGroup(reason, v, members[v]) for v in values)
    return DuplicatePage(
        groups=groups,
        cursors=[encode_cursor(g.reason, g.value) for g in groups],
        has_next_page=len(keys) > first,
        total_count=int(total),
    )


@dataclass
class Merge:
    kept: Client
    merged: Client
    folded_card_ids: list[str]


async def _lock_clients(
    session: AsyncConnection, organization_id: str, ids: Sequence[str]
) -> dict[str, Any]:
    """The rows of both clients, locked in id order on PostgreSQL (two merges of the same
    pair in opposite directions wait for each other instead of deadlocking; the second sees
    the first's result). SQLite serialises writers already (BEGIN IMMEDIATE)."""
    query = (
        select(clients)
        .where(clients.c.organization_id == organization_id, clients.c.id.in_(sorted(ids)))
        .order_by(clients.c.id)
    )
    if session.dialect.name == "postgresql":
        query = query.with_for_update()
    return {row.id: row for row in (await session.execute(query)).all()}


async def merge(
    session: AsyncConnection, organization_id: str, keep_id: str, merge_id: str
) -> Merge:
    """Merge `merge_id` into `keep_id` in the caller's write transaction: NOT_FOUND for an
    id that is not the organization's (R01, field keepId / mergeId); CONFLICT for an erased
    record or one merged already. The kept record gets the merged one's contact data where
    its own is empty, its per-establishment history, and its loyalty cards (R23: where both
    have a card in one establishment, the kept card gets the points and the credits, and the
    merged card is folded into it). The merged record keeps its data and points to the kept
    one; records merged into it earlier now point to the kept one too."""
    rows = await _lock_clients(session, organization_id, [keep_id, merge_id])
    for client_id, field in ((keep_id, "keepId"), (merge_id, "mergeId")):
        row = rows.get(client_id)
        if row is None:
            raise not_found("client", field)
        if row.merged_into_id is not None:
            raise DomainError(
                ErrorCode.CONFLICT,
                f"this client was merged into client {row.merged_into_id} already",
                field,
            )
        if row.erased_at is not None:
            raise DomainError(ErrorCode.CONFLICT, "this client's personal data was erased", field)
    now = utcnow()
    history = await _establishments_of(session, organization_id, [keep_id, merge_id])
    kept_before = _to_client(rows[keep_id], history[keep_id])
    merged_before = _to_client(rows[merge_id], history[merge_id])

    # The merged record: marked (the conditional update is the last word on a race).
    result = await session.execute(
        update(clients)
        .where(
            clients.c.organization_id == organization_id,
            clients.c.id == merge_id,
            clients.c.merged_into_id.is_(None),
        )
        .values(
            merged_into_id=keep_id, merged_at=now, updated_at=now, version=clients.c.version + 1
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError(ErrorCode.CONFLICT, "this client was merged already", "mergeId")
    await session.execute(
        update(clients)
        .where(clients.c.organization_id == organization_id, clients.c.merged_into_id == merge_id)
        .values(merged_into_id=keep_id)
    )

    # The kept record: empty contact fields filled from the merged one.
    filled = filled_contacts(kept_before, merged_before)
    if filled:
        email = filled.get("email", kept_before.email)
        phone = filled.get("phone", kept_before.phone)
        await session.execute(
            update(clients)
            .where(clients.c.organization_id == organization_id, clients.c.id == keep_id)
            .values(
                email=email,
                phone=phone,
                email_key=email_key(email),
                search_text=search_text(
                    kept_before.first_name, kept_before.last_name, email, phone
                ),
                updated_at=now,
                version=clients.c.version + 1,
            )
        )

    # R30: an objection to marketing made under either record stands for the person.
    objections = {
        name: True
        for name in ("marketing_email_opt_out", "marketing_sms_opt_out")
        if getattr(merged_before, name) and not getattr(kept_before, name)
    }
    if objections:
        await session.execute(
            update(clients)
            .where(clients.c.organization_id == organization_id, clients.c.id == keep_id)
            .values(**objections, updated_at=now)
        )

    # Per-establishment history: the union, each establishment's first and last visit.
    mine = {
        r.establishment_id: r
        for r in await session.execute(
            select(client_establishments).where(
                client_establishments.c.organization_id == organization_id,
                client_establishments.c.client_id.in_([keep_id, merge_id]),
            )
        )
        if r.client_id == keep_id
    }
    theirs = (
        await session.execute(
            select(client_establishments).where(
                client_establishments.c.organization_id == organization_id,
                client_establishments.c.client_id == merge_id,
            )
        )
    ).all()
    for row in theirs:
        own = mine.get(row.establishment_id)
        if own is None:
            await session.execute(
                client_establishments.insert().values(
                    organization_id=organization_id,
                    client_id=keep_id,
                    establishment_id=row.establishment_id,
                    first_at=row.first_at,
                    last_at=row.last_at,
                )
            )
        else:
            await session.execute(
                update(client_establishments)
                .where(
                    client_establishments.c.organization_id == organization_id,
                    client_establishments.c.client_id == keep_id,
                    client_establishments.c.establishment_id == row.establishment_id,
                )
                .values(
                    first_at=min(own.first_at, row.first_at), last_at=max(own.last_at, row.last_at)
                )
            )
    await session.execute(
        client_establishments.delete().where(
            client_establishments.c.organization_id == organization_id,
            client_establishments.c.client_id == merge_id,
        )
    )

    # Loyalty cards (R23): one per client per establishment.
    cards = (
        await session.execute(
            select(loyalty_cards).where(
                loyalty_cards.c.organization_id == organization_id,
                loyalty_cards.c.client_id.in_([keep_id, merge_id]),
            )
        )
    ).all()
    kept_cards = {c.establishment_id: c for c in cards if c.client_id == keep_id}
    folded: list[str] = []
    for card in (c for c in cards if c.client_id == merge_id):
        target = kept_cards.get(card.establishment_id)
        if target is None:
            await session.execute(
                update(loyalty_cards)
                .where(
                    loyalty_cards.c.organization_id == organization_id,
                    loyalty_cards.c.id == card.id,
                )
                .values(client_id=keep_id, updated_at=now)
            )
            continue
        await session.execute(
            update(loyalty_credits)
            .where(
                loyalty_credits.c.organization_id == organization_id,
                loyalty_credits.c.card_id == card.id,
            )
            .values(card_id=target.id)
        )
        await session.execute(
            update(loyalty_cards)
            .where(
                loyalty_cards.c.organization_id == organization_id, loyalty_cards.c.id == target.id
            )
            .values(
                points=case(
                    (loyalty_cards.c.points > MAX_POINTS - card.points, MAX_POINTS),
                    else_=loyalty_cards.c.points + card.points,
                ),
                updated_at=now,
            )
        )
        await session.execute(
            loyalty_cards.delete().where(
                loyalty_cards.c.organization_id == organization_id, loyalty_cards.c.id == card.id
            )
        )
        folded.append(card.id)

    # R29: the answers given under the merged record are the kept record's now (each keeps
    # its establishment, form and version). Campaign messages (R30) stay as recorded: each
    # names the address it went to, and a campaign holds one message per record.
    await session.execute(
        update(form_responses)
        .where(
            form_responses.c.organization_id == organization_id,
            form_responses.c.client_id == merge_id,
        )
        .values(client_id=keep_id)
    )

    kept, merged = await get_many(session, organization_id, [keep_id, merge_id])
    return Merge(kept=kept, merged=merged, folded_card_ids=folded)
