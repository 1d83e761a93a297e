"""Gift cards (R14, B08) and prepaid subscriptions (R24) over real gRPC, paid with at real
checkouts (the catalogue and inventory as peers): a card sold in A pays in B and B is owed
for it, a numbered card only where issued, a balance that never goes below zero under fifty
concurrent redemptions, subscriptions bound to their establishment, expired or used up,
codes, idempotency keys, the settlement report's rights and bad input."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from launcher.nats_server import NatsServer
from salon.payments.v1 import events_pb2, payments_pb2
from services.common.errors import ErrorCode
from services.common.scope import Right, Role
from services.payments.store.tables import gift_cards, receipts, settlements, subscriptions
from tests.services.payments.till_helpers import (
    CASH,
    GIFT_CARD,
    SUBSCRIPTION,
    Events,
    Shop,
    card_by_code,
    checkout,
    error,
    issue,
    md,
    new_key,
    open_shop,
    salon,
    sell,
    subscriptions_of,
    till_history,
)
from tests.support.services import Metadata

BRUSSELS = ZoneInfo("Europe/Brussels")
NUMBERED = payments_pb2.GIFT_CARD_KIND_NUMBERED
DIGITAL = payments_pb2.GIFT_CARD_KIND_DIGITAL
GENERAL = payments_pb2.GIFT_CARD_KIND_GENERAL


@pytest.fixture
async def shop(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Shop]:
    async with open_shop(database_url, nats_server.url, tmp_path) as running:
        yield running


def _today() -> str:
    return datetime.now(BRUSSELS).date().isoformat()


async def _settlements(
    shop: Shop, meta: Metadata, start: str = "", end: str = ""
) -> list[tuple[str, str, str, int]]:
    today = datetime.now(UTC).date().isoformat()
    reply = await shop.payments.GetSettlementReport(
        payments_pb2.SettlementReportRequest(**{"from": start or today, "to": end or today}),
        metadata=meta,
        timeout=5,
    )
    return [
        (s.from_establishment_id, s.to_establishment_id, s.amount, s.redemptions)
        for s in reply.settlements
    ]


# -- gift cards (R14, B08) -----------------------------------------------------------------------


async def test_R14_a_gift_card_sold_in_A_pays_in_B(shop: Shop) -> None:
    s = await salon(shop)
    client = new_key()
    card = await issue(shop, s.in_a(), "100", client=client)
    assert (card.balance, card.initial_amount, card.establishment_id, card.kind) == (
        "100.00",
        "100.00",
        s.a,
        GENERAL,
    )

    receipt = await checkout(
        shop,
        s.in_b(),
        [(s.cut, "", 1)],
        [(GIFT_CARD, "40", card.code.lower(), ""), (CASH, "5", "", "")],
    )

    assert [(p.method, p.amount, p.gift_card_id) for p in receipt.payments] == [
        (GIFT_CARD, "40.00", card.id),
        (CASH, "5.00", ""),
    ]
    assert (await card_by_code(shop, s.in_b(), card.code)).balance == "60.00"
    # B08: A sold it and holds the money, so A owes B what B took.
    owner = s.in_a(role=Role.OWNER)
    assert await _settlements(shop, owner) == [(s.a, s.b, "40.00", 1)]
    # Redeemed where it was sold: nobody owes anybody.
    await checkout(shop, s.in_a(), [(s.cut, "", 1)], [(GIFT_CARD, "40", card.code, "")])
    await checkout(shop, s.in_b(), [(s.cheap, "", 1)], [(GIFT_CARD, "10", card.code, "")])
    assert (await card_by_code(shop, s.in_a(), card.code)).balance == "10.00"
    assert await _settlements(shop, owner) == [(s.a, s.b, "50.00", 2)]
    assert await shop.count(settlements, s.org) == 2
    # The report's period is in UTC days: yesterday alone has nothing.
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert await _settlements(shop, owner, yesterday, yesterday) == []


async def test_R14_a_numbered_gift_card_is_refused_outside_its_establishment(shop: Shop) -> None:
    s = await salon(shop)
    card = await issue(shop, s.in_a(), "50", NUMBERED, code="nr-0001")
    assert (card.code, card.kind) == ("NR-0001", NUMBERED)

    refused = await error(
        checkout(shop, s.in_b(), [(s.cheap, "", 1)], [(GIFT_CARD, "10", "NR-0001", "")])
    )

    assert (refused.code, refused.field) == (
        ErrorCode.WRONG_ESTABLISHMENT,
        "payments[0].giftCardCode",
    )
    assert (await card_by_code(shop, s.in_b(), "NR-0001")).balance == "50.00"
    assert await till_history(shop, s.in_b(), _today()) == []
    assert await shop.count(settlements, s.org) == 0
    # Where it was issued it pays.
    await checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(GIFT_CARD, "10", "NR-0001", "")])
    assert (await card_by_code(shop, s.in_a(), "NR-0001")).balance == "40.00"


async def test_R14_fifty_concurrent_redemptions_never_take_more_than_the_balance(
    shop: Shop,
) -> None:
    s = await salon(shop)
    card = await issue(shop, s.in_a(), "100")

    results = await asyncio.gather(
        *(
            checkout(
                shop,
                s.in_a() if i % 2 else s.in_b(),
                [(s.cheap, "", 1)],
                [(GIFT_CARD, "10", card.code, "")],
            )
            for i in range(50)
        ),
        return_exceptions=True,
    )

    done = [r for r in results if isinstance(r, payments_pb2.Receipt)]
    failed = [r for r in results if not isinstance(r, payments_pb2.Receipt)]
    assert len(done) == 10 and len(failed) == 40
    for failure in failed:
        refused = await error(_raise(failure))
        assert refused.code is ErrorCode.INSUFFICIENT_BALANCE
    assert (await card_by_code(shop, s.in_a(), card.code)).balance == "0.00"
    # Every refused checkout gave its receipt number back: each establishment's are 1..n.
    for est in (s.a, s.b):
        numbers = sorted(int(r.number) for r in done if r.establishment_id == est)
        assert numbers == list(range(1, len(numbers) + 1))
    assert await shop.count(receipts, s.org) == 10


async def _raise(exc: BaseException) -> None:
    raise exc


async def test_R14_gift_cards_are_found_organization_wide(shop: Shop) -> None:
    s = await salon(shop)
    client = new_key()
    in_a = await issue(shop, s.in_a(), "25", client=client)
    in_b = await issue(shop, s.in_b(), "30", DIGITAL, client=client)
    await issue(shop, s.in_b(), "35")  # nobody's

    listed = await shop.payments.ListClientGiftCards(
        payments_pb2.ListClientGiftCardsRequest(client_id=client), metadata=s.in_a(), timeout=5
    )
    assert [c.id for c in listed.gift_cards] == [in_b.id, in_a.id]
    batch = await shop.payments.GetGiftCards(
        payments_pb2.GetGiftCardsRequest(ids=[in_b.id, new_key(), in_a.id]),
        metadata=s.in_b(),
        timeout=5,
    )
    assert list(batch.gift_cards) == [in_b, in_a]
    assert await card_by_code(shop, s.in_b(), f"  {in_a.code.lower()} ") == in_a
    for code in ["UNKNOWN-1", "", "x" * 70]:
        missing = await error(card_by_code(shop, s.in_a(), code))
        assert (missing.code, missing.message) == (ErrorCode.NOT_FOUND, "gift card not found")


async def test_gift_card_codes_are_generated_or_chosen_and_unique_in_the_organization(
    shop: Shop,
) -> None:
    s = await salon(shop)
    generated = await issue(shop, s.in_a(), "10")
    assert re.fullmatch(r"([A-HJKMNP-Z2-9]{4}-){3}[A-HJKMNP-Z2-9]{4}", generated.code)
    chosen = await issue(shop, s.in_a(), "10", code=" Summer-2026 ")
    assert chosen.code == "SUMMER-2026"

    taken = await error(issue(shop, s.in_b(), "20", code="summer-2026"))

    assert (taken.code, taken.field) == (ErrorCode.CONFLICT, "code")
    # Another organization has its own codes.
    theirs = await issue(shop, md(new_key(), s.a), "10", code="SUMMER-2026")
    assert theirs.id != chosen.id
    assert await shop.count(gift_cards, s.org) == 2


async def test_an_idempotency_key_issues_one_gift_card(shop: Shop) -> None:
    s = await salon(shop)
    async with Events(shop.nats_url, s.org) as events:
        results = await asyncio.gather(
            *(issue(shop, s.in_a(), "20", key="card-key") for _ in range(5))
        )
        issued = await events.wait_for(1, "salon.payments.gift_card.issued.v1")
        await asyncio.sleep(0.3)

    assert len({c.id for c in results}) == 1 and results[0].balance == "20.00"
    assert len(issued) == 1
    assert issued[0].parse(events_pb2.GiftCardIssued).gift_card == results[0]
    assert issued[0].subject == f"salon.{s.org}.{s.a}.payments.gift_card.issued"
    other = await error(issue(shop, s.in_a(), "25", key="card-key"))
    assert (other.code, other.field) == (ErrorCode.CONFLICT, "idempotencyKey")
    assert await shop.count(gift_cards, s.org) == 1


@pytest.mark.parametrize(
    ("amount", "code", "field"),
    [
        ("0", "", "amount"),
        ("-5", "", "amount"),
        ("10000.01", "", "amount"),
        ("12.345", "", "amount"),
        ("10", "ab", "code"),
        ("10", "no spaces", "code"),
        ("10", "é-code", "code"),
    ],
)
async def test_bad_gift_cards_are_invalid_and_issue_nothing(
    shop: Shop, amount: str, code: str, field: str
) -> None:
    org, est = new_key(), new_key()
    refused = await error(issue(shop, md(org, est), amount, code=code))
    assert (refused.code, refused.field) == (ErrorCode.INVALID, field)
    assert await shop.count(gift_cards, org) == 0


# -- subscriptions (R24) -------------------------------------------------------------------------


async def test_R24_a_subscription_sold_in_A_is_refused_in_B(shop: Shop) -> None:
    s = await salon(shop)
    client = new_key()
    sub = await sell(shop, s.in_a(), client, visits=3, price="100")
    assert (sub.establishment_id, sub.visits, sub.visits_left, sub.price) == (s.a, 3, 3, "100.00")

    refused = await error(
        checkout(shop, s.in_b(), [(s.cheap, "", 1)], [(SUBSCRIPTION, "10", "", sub.id)])
    )

    assert (refused.code, refused.field) == (
        ErrorCode.WRONG_ESTABLISHMENT,
        "payments[0].subscriptionId",
    )
    assert await subscriptions_of(shop, s.in_b(), client) == []
    assert await subscriptions_of(shop, s.in_b(role=Role.OWNER), client) == []
    [listed] = await subscriptions_of(shop, s.in_a(), client)
    assert listed.visits_left == 3
    receipt = await checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(SUBSCRIPTION, "10", "", sub.id)])
    assert receipt.payments[0].subscription_id == sub.id
    [listed] = await subscriptions_of(shop, s.in_a(), client)
    assert listed.visits_left == 2


async def test_R24_a_used_up_subscription_is_refused(shop: Shop) -> None:
    s = await salon(shop)
    sub = await sell(shop, s.in_a(), new_key(), visits=1, price="10")
    await checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(SUBSCRIPTION, "10", "", sub.id)])

    refused = await error(
        checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(SUBSCRIPTION, "10", "", sub.id)])
    )

    assert (refused.code, refused.field) == (ErrorCode.USED_UP, "payments[0].subscriptionId")
    assert len(await till_history(shop, s.in_a(), _today())) == 1


async def test_R24_two_visits_at_once_of_a_last_visit_take_it_once(shop: Shop) -> None:
    s = await salon(shop)
    sub = await sell(shop, s.in_a(), new_key(), visits=1, price="10")
    results = await asyncio.gather(
        *(
            checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(SUBSCRIPTION, "10", "", sub.id)])
            for _ in range(8)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, payments_pb2.Receipt) for r in results) == 1
    [listed] = await subscriptions_of(shop, s.in_a(), sub.client_id)
    assert listed.visits_left == 0


async def test_R24_an_expired_subscription_is_refused(shop: Shop) -> None:
    s = await salon(shop)
    today = datetime.now(BRUSSELS).date()
    sub = await sell(shop, s.in_a(), new_key(), valid_until=today.isoformat())
    # Valid through its last day...
    await checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(SUBSCRIPTION, "10", "", sub.id)])
    # ...and no longer once that day is over (moved back rather than waiting for midnight).
    async with shop.payments_db.write(organization_id=s.org) as conn:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == sub.id)
            .values(valid_until=today - timedelta(days=1))
        )

    refused = await error(
        checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(SUBSCRIPTION, "10", "", sub.id)])
    )

    assert (refused.code, refused.field) == (ErrorCode.EXPIRED, "payments[0].subscriptionId")
    [listed] = await subscriptions_of(shop, s.in_a(), sub.client_id)
    assert listed.visits_left == 4


async def test_a_subscription_sale_is_published(shop: Shop) -> None:
    s = await salon(shop)
    async with Events(shop.nats_url, s.org) as events:
        sub = await sell(
            shop, s.in_a(), new_key(), visits=10, price="250", valid_until="2099-12-31"
        )
        [sold] = await events.wait_for(1, "salon.payments.subscription.sold.v1")
    assert sold.parse(events_pb2.SubscriptionSold).subscription == sub
    assert (sub.valid_until, sub.name) == ("2099-12-31", "Five cuts")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client": ""}, "clientId"),
        ({"name": " "}, "name"),
        ({"visits": 0}, "visits"),
        ({"visits": 1001}, "visits"),
        ({"price": "10.001"}, "price"),
        ({"price": "-1"}, "price"),
        ({"valid_until": "2000-01-01"}, "validUntil"),
        ({"valid_until": "tomorrow"}, "validUntil"),
    ],
)
async def test_bad_subscriptions_are_invalid_and_sell_nothing(
    shop: Shop, changes: dict[str, object], field: str
) -> None:
    org, est = new_key(), new_key()
    values: dict[str, object] = {"client": new_key(), "visits": 5, "price": "150"}
    values.update(changes)
    refused = await error(sell(shop, md(org, est), **values))  # type: ignore[arg-type]
    assert (refused.code, refused.field) == (ErrorCode.INVALID, field)
    assert await shop.count(subscriptions, org) == 0


# -- the settlement report (B08, R06) -----------------------------------------------------------


async def test_B08_the_settlement_report_needs_an_owner_or_SWITCH_REPORTS(shop: Shop) -> None:
    s = await salon(shop)
    card = await issue(shop, s.in_a(), "30")
    await checkout(shop, s.in_b(), [(s.cheap, "", 1)], [(GIFT_CARD, "10", card.code, "")])

    refused = await error(_settlements(shop, s.in_b(role=Role.MANAGER)))

    assert refused.code is ErrorCode.FORBIDDEN
    expected = [(s.a, s.b, "10.00", 1)]
    assert await _settlements(shop, s.in_b(Right.SWITCH_REPORTS)) == expected
    assert await _settlements(shop, s.in_b(role=Role.OWNER)) == expected
    # Another organization's owner sees none of it.
    assert await _settlements(shop, md(new_key(), s.a, role=Role.OWNER)) == []
    for start, end, field in [
        ("2026-02-30", "2026-03-01", "from"),
        ("2026-03-02", "2026-03-01", "to"),
        ("2025-01-01", "2026-03-01", "to"),
    ]:
        bad = await error(_settlements(shop, s.in_a(role=Role.OWNER), start, end))
        assert (bad.code, bad.field) == (ErrorCode.INVALID, field)
