"""The checkout over real gRPC (R28, R17, R01): payments on the database under test, the
real catalogue pricing the lines and the real inventory reserving the stock (each on its
own SQLite file), a real NATS. Receipt numbers per establishment without gaps, idempotency
keys, payments that must add up, bad input that writes nothing, deposits applied wherever
the client checks out, the till history per establishment, the events, and the recovery
worker of the running service releasing a checkout that never finished."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from launcher.nats_server import NatsServer
from salon.booking.v1 import booking_pb2, booking_pb2_grpc
from salon.clients.v1 import clients_pb2, clients_pb2_grpc
from salon.inventory.v1 import inventory_pb2
from salon.payments.v1 import events_pb2, payments_pb2
from services.booking.service import SPEC as BOOKING
from services.clients.service import SPEC as CLIENTS
from services.common.db import utcnow
from services.common.errors import ErrorCode
from services.common.scope import Right, Role, Scope
from services.payments.domain.checkout import check_checkout
from services.payments.store.tables import checkout_attempts, receipts
from tests.services.payments.till_helpers import (
    CARD,
    CASH,
    DEPOSIT,
    GIFT_CARD,
    Events,
    Shop,
    checkout,
    checkout_request,
    error,
    eventually,
    issue,
    md,
    new_key,
    open_shop,
    salon,
    stock,
    till_history,
)
from tests.support.services import SIGNER

BRUSSELS = ZoneInfo("Europe/Brussels")


@pytest.fixture
async def shop(database_url: str, nats_server: NatsServer, tmp_path: Path) -> AsyncIterator[Shop]:
    async with open_shop(database_url, nats_server.url, tmp_path) as running:
        yield running


def _today() -> str:
    return datetime.now(BRUSSELS).date().isoformat()


async def _record_deposit(
    shop: Shop, meta: Any, client: str, amount: str, appointment: str = ""
) -> payments_pb2.Deposit:
    return await shop.payments.RecordDeposit(
        payments_pb2.RecordDepositRequest(
            appointment_id=appointment or new_key(), client_id=client, amount=amount
        ),
        metadata=meta,
        timeout=5,
    )


# -- the receipt ------------------------------------------------------------------------------


async def test_R28_a_checkout_is_priced_in_its_establishment_and_takes_the_stock(
    shop: Shop,
) -> None:
    s = await salon(shop)
    client = new_key()

    in_b = await checkout(
        shop,
        s.in_b(user="u-cashier"),
        [(s.cut, "", 1), ("", s.shampoo, 2)],
        [(CARD, "50", "", ""), (CASH, "20", "", "")],
        client=client,
    )

    # The cut is 45.00 in B (its own price, R12), the shampoo 12.50.
    assert (in_b.number, in_b.establishment_id, in_b.total) == ("000001", s.b, "70.00")
    assert (in_b.client_id, in_b.user_id, in_b.appointment_id) == (client, "u-cashier", "")
    assert [
        (ln.kind, ln.item_id, ln.description, ln.quantity, ln.unit_price, ln.total)
        for ln in in_b.lines
    ] == [
        (payments_pb2.LINE_KIND_SERVICE, s.cut, "Cut", 1, "45.00", "45.00"),
        (payments_pb2.LINE_KIND_PRODUCT, s.shampoo, "Shampoo", 2, "12.50", "25.00"),
    ]
    assert [(p.method, p.amount) for p in in_b.payments] == [(CARD, "50.00"), (CASH, "20.00")]
    assert in_b.reservation_id and in_b.created_at.seconds > 0
    assert await stock(shop, s.in_b(), s.shampoo) == 8
    assert await stock(shop, s.in_a(), s.shampoo) == 10
    # The batch read is organization-wide, in the order asked.
    in_a = await checkout(shop, s.in_a(), [(s.cut, "", 1)], [(CASH, "40", "", "")])
    assert (in_a.number, in_a.total, in_a.reservation_id) == ("000001", "40.00", "")
    reply = await shop.payments.GetReceipts(
        payments_pb2.GetReceiptsRequest(ids=[in_a.id, new_key(), in_b.id, in_a.id]),
        metadata=s.in_a(),
        timeout=5,
    )
    assert list(reply.receipts) == [in_a, in_b]


async def test_R28_receipt_numbers_are_gap_free_per_establishment_under_30_concurrent_checkouts(
    shop: Shop,
) -> None:
    s = await salon(shop)

    results = await asyncio.gather(
        *(checkout(shop, s.in_a(), [(s.cheap, "", 1)], [(CASH, "10", "", "")]) for _ in range(30)),
        *(checkout(shop, s.in_b(), [(s.cheap, "", 1)], [(CARD, "10", "", "")]) for _ in range(5)),
    )

    in_a = sorted(r.number for r in results if r.establishment_id == s.a)
    in_b = sorted(r.number for r in results if r.establishment_id == s.b)
    assert in_a == [str(n).zfill(6) for n in range(1, 31)]
    assert in_b == [str(n).zfill(6) for n in range(1, 6)]
    history = await till_history(shop, s.in_a(), _today())
    assert [r.number for r in history] == in_a


# -- idempotency ------------------------------------------------------------------------------


async def test_the_same_key_twice_answers_the_same_receipt_and_charges_once(shop: Shop) -> None:
    s = await salon(shop)
    card = await issue(shop, s.in_a(), "100")
    request = (
        [(s.cut, "", 1), ("", s.shampoo, 1)],
        [(GIFT_CARD, "52.50", card.code, "")],
        "key-twice",
    )

    first = await checkout(shop, s.in_a(), *request)
    second = await checkout(shop, s.in_a(), *request)

    assert second == first
    assert (
        await shop.payments.GetGiftCards(
            payments_pb2.GetGiftCardsRequest(ids=[card.id]), metadata=s.in_a(), timeout=5
        )
    ).gift_cards[0].balance == "47.50"
    assert await stock(shop, s.in_a(), s.shampoo) == 9
    assert await shop.count(receipts, s.org) == 1
    # The same key in another establishment is another checkout (keys are per establishment).
    in_b = await checkout(shop, s.in_b(), [(s.cut, "", 1)], [(CASH, "45", "", "")], "key-twice")
    assert in_b.id != first.id and in_b.number == "000001"


async def test_ten_identical_checkouts_at_once_give_one_receipt_and_take_the_stock_once(
    shop: Shop,
) -> None:
    s = await salon(shop)
    key = new_key()

    results = await asyncio.gather(
        *(
            checkout(shop, s.in_a(), [("", s.shampoo, 3)], [(CASH, "37.50", "", "")], key)
            for _ in range(10)
        )
    )

    assert len({r.id for r in results}) == 1 and results[0].number == "000001"
    assert await stock(shop, s.in_a(), s.shampoo) == 7
    assert await shop.count(receipts, s.org) == 1


async def test_the_same_key_with_another_request_is_a_conflict_and_writes_nothing(
    shop: Shop,
) -> None:
    s = await salon(shop)
    first = await checkout(shop, s.in_a(), [("", s.shampoo, 1)], [(CASH, "12.50", "", "")], "k")

    conflict = await error(
        checkout(shop, s.in_a(), [("", s.shampoo, 2)], [(CASH, "25", "", "")], "k")
    )

    assert (conflict.code, conflict.field) == (ErrorCode.CONFLICT, "idempotencyKey")
    assert await stock(shop, s.in_a(), s.shampoo) == 9
    assert [r.id for r in await till_history(shop, s.in_a(), _today())] == [first.id]


# -- refusals that write nothing ----------------------------------------------------------------


async def test_payments_that_do_not_add_up_are_a_mismatch_and_write_nothing(shop: Shop) -> None:
    s = await salon(shop)
    for paid in ["52.49", "52.51", "0.01"]:
        mismatch = await error(
            checkout(shop, s.in_a(), [(s.cut, "", 1), ("", s.shampoo, 1)], [(CASH, paid, "", "")])
        )
        assert (mismatch.code, mismatch.field) == (ErrorCode.PAYMENT_MISMATCH, "payments")
    assert await stock(shop, s.in_a(), s.shampoo) == 10
    assert await shop.count(receipts, s.org) == 0
    assert await shop.count(checkout_attempts, s.org) == 0


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("negative quantity", ErrorCode.INVALID, "lines[1].quantity"),
        ("three decimals", ErrorCode.INVALID, "payments[0].amount"),
        ("unknown gift card code", ErrorCode.NOT_FOUND, "payments[0].giftCardCode"),
        ("unknown service", ErrorCode.NOT_FOUND, "lines[0].serviceId"),
        ("a product id as a service", ErrorCode.NOT_FOUND, "lines[0].serviceId"),
        ("a deposit as payment", ErrorCode.INVALID, "payments[0].method"),
        ("no method", ErrorCode.INVALID, "payments[0].method"),
        ("no lines", ErrorCode.INVALID, "lines"),
        ("no key", ErrorCode.INVALID, "idempotencyKey"),
        ("both ids on a line", ErrorCode.INVALID, "lines[0].serviceId"),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    shop: Shop, case: str, code: ErrorCode, field: str
) -> None:
    s = await salon(shop)
    lines: list[tuple[str, str, int]] = [(s.cut, "", 1), ("", s.shampoo, 1)]
    pays: list[tuple[int, str, str, str]] = [(CASH, "52.50", "", "")]
    key = new_key()
    if case == "negative quantity":
        lines[1] = ("", s.shampoo, -1)
    elif case == "three decimals":
        pays = [(CASH, "52.500", "", "")]
    elif case == "unknown gift card code":
        pays = [(GIFT_CARD, "52.50", "NOPE-NOPE", "")]
    elif case == "unknown service":
        lines[0] = (new_key(), "", 1)
    elif case == "a product id as a service":
        lines[0] = (s.shampoo, "", 1)
    elif case == "a deposit as payment":
        pays = [(DEPOSIT, "52.50", "", "")]
    elif case == "no method":
        pays = [(payments_pb2.PAYMENT_METHOD_UNSPECIFIED, "52.50", "", "")]
    elif case == "no lines":
        lines = []
    elif case == "no key":
        key = ""
    elif case == "both ids on a line":
        lines[0] = (s.cut, s.shampoo, 1)
    request = checkout_request(lines, pays, key)
    if case == "no key":
        request.idempotency_key = ""

    refused = await error(shop.payments.Checkout(request, metadata=s.in_a(), timeout=10))

    assert (refused.code, refused.field) == (code, field)
    assert await stock(shop, s.in_a(), s.shampoo) == 10
    assert await shop.count(receipts, s.org) == 0
    assert await shop.count(checkout_attempts, s.org) == 0


async def test_out_of_stock_is_passed_on_the_stock_stays_and_the_key_works_later(
    shop: Shop,
) -> None:
    s = await salon(shop)
    request = ([("", s.shampoo, 11)], [(CASH, "137.50", "", "")], "big-sale")

    short = await error(checkout(shop, s.in_a(), *request))

    assert short.code is ErrorCode.OUT_OF_STOCK
    assert await stock(shop, s.in_a(), s.shampoo) == 10
    assert await shop.count(receipts, s.org) == 0
    # A delivery later, the same checkout goes through under the same key.
    await shop.inventory.AdjustStock(
        inventory_pb2.AdjustStockRequest(
            product_id=s.shampoo,
            delta=5,
            reason=inventory_pb2.STOCK_REASON_DELIVERY,
            idempotency_key=new_key(),
        ),
        metadata=s.in_a(role=Role.MANAGER),
        timeout=5,
    )
    receipt = await checkout(shop, s.in_a(), *request)
    assert receipt.number == "000001" and await stock(shop, s.in_a(), s.shampoo) == 4


# -- deposits (R17) ----------------------------------------------------------------------------


async def test_R17_a_deposit_of_A_is_applied_on_a_receipt_of_B(shop: Shop) -> None:
    s = await salon(shop)
    client = new_key()
    deposit = await _record_deposit(shop, s.in_a(), client, "15.00")
    too_big = await _record_deposit(shop, s.in_a(), client, "100.00")
    others = await _record_deposit(shop, s.in_a(), new_key(), "5.00")

    receipt = await checkout(
        shop, s.in_b(), [(s.cut, "", 1)], [(CASH, "30", "", "")], client=client, deposits=True
    )

    assert [(p.method, p.amount, p.deposit_id) for p in receipt.payments] == [
        (CASH, "30.00", ""),
        (DEPOSIT, "15.00", deposit.id),
    ]
    [applied] = receipt.deposits_applied
    assert (applied.id, applied.establishment_id, applied.receipt_id) == (
        deposit.id,
        s.a,
        receipt.id,
    )
    assert applied.status == payments_pb2.DEPOSIT_STATUS_APPLIED
    # Shown applied in A's client record; the one that did not fit and the other client's
    # deposit stay paid.
    listed = await shop.payments.ListClientDeposits(
        payments_pb2.ListClientDepositsRequest(client_id=client), metadata=s.in_a(), timeout=5
    )
    assert {(d.id, d.status, d.receipt_id) for d in listed.deposits} == {
        (deposit.id, payments_pb2.DEPOSIT_STATUS_APPLIED, receipt.id),
        (too_big.id, payments_pb2.DEPOSIT_STATUS_PAID, ""),
    }
    found = await shop.payments.GetDepositsByAppointments(
        payments_pb2.GetDepositsByAppointmentsRequest(appointment_ids=[others.appointment_id]),
        metadata=s.in_b(),
        timeout=5,
    )
    assert found.deposits[0].status == payments_pb2.DEPOSIT_STATUS_PAID
    # Applied once: the next checkout of the client pays in full.
    mismatch = await error(
        checkout(
            shop, s.in_b(), [(s.cut, "", 1)], [(CASH, "30", "", "")], client=client, deposits=True
        )
    )
    assert mismatch.code is ErrorCode.PAYMENT_MISMATCH


# -- the till history (R28, R06) and other organizations (R01) ----------------------------------


async def test_R28_the_till_history_is_per_establishment(shop: Shop) -> None:
    s = await salon(shop)
    in_a = await checkout(shop, s.in_a(), [(s.cut, "", 1)], [(CASH, "40", "", "")])
    in_b = await checkout(shop, s.in_b(), [(s.cut, "", 1)], [(CASH, "45", "", "")])
    today = _today()

    assert await till_history(shop, s.in_a(), today) == [in_a]
    assert await till_history(shop, s.in_b(), today) == [in_b]
    tomorrow = (datetime.now(BRUSSELS).date() + timedelta(days=1)).isoformat()
    assert await till_history(shop, s.in_a(), tomorrow) == []
    # Another establishment's history needs SWITCH_REPORTS (R06).
    vouched = md(s.org, s.b, establishments=[s.a])
    refused = await error(till_history(shop, vouched, today, s.a))
    assert (refused.code, refused.field) == (ErrorCode.FORBIDDEN, "establishmentId")
    allowed = md(s.org, s.b, Right.SWITCH_REPORTS, establishments=[s.a])
    assert await till_history(shop, allowed, today, s.a) == [in_a]
    unknown = await error(till_history(shop, s.in_b(Right.SWITCH_REPORTS), today, new_key()))
    assert unknown.code is ErrorCode.NOT_FOUND
    bad = await error(till_history(shop, s.in_a(), "23-11-2026"))
    assert (bad.code, bad.field) == (ErrorCode.INVALID, "date")


async def test_R01_another_organization_sees_nothing_of_the_till(shop: Shop) -> None:
    s = await salon(shop)
    client = new_key()
    card = await issue(shop, s.in_a(), "50", client=client)
    receipt = await checkout(shop, s.in_a(), [(s.cut, "", 1)], [(GIFT_CARD, "40", card.code, "")])
    # The same establishment ids, signed for another organization.
    other = md(new_key(), s.a, role=Role.OWNER)

    reply = await shop.payments.GetReceipts(
        payments_pb2.GetReceiptsRequest(ids=[receipt.id]), metadata=other, timeout=5
    )
    assert list(reply.receipts) == []
    assert await till_history(shop, other, _today()) == []
    lookup = await error(
        shop.payments.GetGiftCardByCode(
            payments_pb2.GetGiftCardByCodeRequest(code=card.code), metadata=other, timeout=5
        )
    )
    assert (lookup.code, lookup.message) == (ErrorCode.NOT_FOUND, "gift card not found")
    cards = await shop.payments.GetGiftCards(
        payments_pb2.GetGiftCardsRequest(ids=[card.id]), metadata=other, timeout=5
    )
    assert list(cards.gift_cards) == []
    of_client = await shop.payments.ListClientGiftCards(
        payments_pb2.ListClientGiftCardsRequest(client_id=client), metadata=other, timeout=5
    )
    assert list(of_client.gift_cards) == []
    # Their checkout cannot spend our card: as unknown as any code.
    spend = await error(checkout(shop, other, [(s.cut, "", 1)], [(GIFT_CARD, "10", card.code, "")]))
    assert spend.code is ErrorCode.NOT_FOUND


# -- events ------------------------------------------------------------------------------------


async def test_a_checkout_publishes_its_receipt_and_what_it_used(shop: Shop) -> None:
    s = await salon(shop)
    client = new_key()
    card = await issue(shop, s.in_b(), "20")
    deposit = await _record_deposit(shop, s.in_a(), client, "10")
    sub = await shop.payments.SellSubscription(
        payments_pb2.SellSubscriptionRequest(client_id=client, name="Cuts", visits=2, price="60"),
        metadata=s.in_a(),
        timeout=5,
    )
    async with Events(shop.nats_url, s.org) as events:
        receipt = await checkout(
            shop,
            s.in_a(),
            [(s.cut, "", 1), ("", s.shampoo, 2)],
            [
                (GIFT_CARD, "20", card.code, ""),
                (payments_pb2.PAYMENT_METHOD_SUBSCRIPTION, "30", "", sub.id),
                (CASH, "5", "", ""),
            ],
            client=client,
            deposits=True,
        )
        created = await events.wait_for(1, "salon.payments.receipt.created.v1")
        applied = await events.wait_for(1, "salon.payments.deposit.applied.v1")
        redeemed = await events.wait_for(1, "salon.payments.gift_card.redeemed.v1")
        used = await events.wait_for(1, "salon.payments.subscription.used.v1")

    assert [e.subject for e in created] == [f"salon.{s.org}.{s.a}.payments.receipt.created"]
    assert created[0].parse(events_pb2.ReceiptCreated).receipt == receipt
    assert receipt.reservation_id and created[0].actor_id == "u-till"
    assert applied[0].parse(events_pb2.DepositApplied).deposit.id == deposit.id
    message = redeemed[0].parse(events_pb2.GiftCardRedeemed)
    assert (message.amount, message.receipt_id, message.establishment_id) == (
        "20.00",
        receipt.id,
        s.a,
    )
    assert (message.gift_card.balance, message.gift_card.establishment_id) == ("0.00", s.b)
    used_message = used[0].parse(events_pb2.SubscriptionUsed)
    assert (used_message.subscription.visits_left, used_message.receipt_id) == (1, receipt.id)

    # Inventory commits the reservation from the receipt event: releasing it is refused now.
    async def committed() -> None:
        with pytest.raises(grpc.aio.AioRpcError):
            await shop.inventory.ReleaseStock(
                inventory_pb2.ReleaseStockRequest(reservation_id=receipt.reservation_id),
                metadata=s.in_a(),
                timeout=5,
            )

    await eventually(committed)
    assert await stock(shop, s.in_a(), s.shampoo) == 8


# -- the recovery worker of the running service --------------------------------------------------


@pytest.fixture
async def slow_shop(
    database_url: str, nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Shop]:
    monkeypatch.setenv("SALON_CHECKOUT_RECOVERY_SECONDS", "0.5")
    async with open_shop(database_url, nats_server.url, tmp_path) as running:
        yield running


async def test_the_recovery_worker_releases_a_checkout_that_never_finished(
    slow_shop: Shop,
) -> None:
    """A checkout that reserved its stock and died before its receipt: its attempt is
    PENDING; the service's worker releases the stock in inventory once the attempt is
    stale and marks it FAILED, so the same key works again."""
    shop = slow_shop
    s = await salon(shop)
    reservation, key = new_key(), "crashed"
    request = checkout_request([("", s.shampoo, 4)], [(CASH, "50", "", "")], key)
    digest = check_checkout(
        client_id="",
        appointment_id="",
        lines=[("", s.shampoo, 4)],
        payments=[("CASH", "50", "", "")],
        apply_deposits=False,
        idempotency_key=key,
    ).request_hash()
    await shop.inventory.ReserveStock(
        inventory_pb2.ReserveStockRequest(
            reservation_id=reservation,
            lines=[inventory_pb2.ReserveLine(product_id=s.shampoo, quantity=4)],
        ),
        metadata=s.in_a(),
        timeout=5,
    )
    async with shop.payments_db.write(organization_id=s.org) as conn:
        await conn.execute(
            checkout_attempts.insert().values(
                id=new_key(),
                organization_id=s.org,
                establishment_id=s.a,
                idempotency_key=key,
                request_hash=digest,
                state="PENDING",
                reservation_id=reservation,
                receipt_id=None,
                user_id="u-till",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    assert await stock(shop, s.in_a(), s.shampoo) == 6

    async def released() -> None:
        assert await stock(shop, s.in_a(), s.shampoo) == 10

    await eventually(released, timeout=20)
    async with shop.payments_db.read(organization_id=s.org) as conn:
        state = (
            await conn.execute(
                select(checkout_attempts.c.state).where(
                    checkout_attempts.c.organization_id == s.org
                )
            )
        ).scalar_one()
    assert state == "FAILED"
    receipt = await shop.payments.Checkout(request, metadata=s.in_a(), timeout=10)
    assert receipt.number == "000001" and await stock(shop, s.in_a(), s.shampoo) == 6
    assert receipt.created_at.ToDatetime(tzinfo=UTC) <= datetime.now(UTC)


# -- the appointment paid (booking and the client file as peers too) ----------------------------


@pytest.fixture
async def booking_shop(
    database_url: str, nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[Shop]:
    before = {"clients": CLIENTS, "booking": BOOKING}
    async with open_shop(database_url, nats_server.url, tmp_path, before=before) as running:
        yield running


def _monday_ten() -> datetime:
    """10:00 in Brussels on the Monday after next: always ahead, never a DST change day."""
    today = datetime.now(BRUSSELS).date()
    monday = today + timedelta(days=7 - today.weekday() + 7)
    return datetime.combine(monday, time(10), tzinfo=BRUSSELS).astimezone(UTC)


async def _appointment(shop: Shop, s: Any) -> booking_pb2.Appointment:
    booking = booking_pb2_grpc.BookingServiceStub(shop.services.channel("booking"))
    clients = clients_pb2_grpc.ClientsServiceStub(shop.services.channel("clients"))
    staff = new_key()
    every_day = [
        booking_pb2.OpeningHours(weekday=d, opens="09:00", closes="18:00") for d in range(1, 8)
    ]
    manager = SIGNER.metadata(
        Scope(s.org, s.a, "u-manager", Role.MANAGER, verified_members=frozenset([staff]))
    )
    await booking.SetOpeningHours(
        booking_pb2.SetOpeningHoursRequest(hours=every_day), metadata=manager, timeout=5
    )
    await booking.SetStaffHours(
        booking_pb2.SetStaffHoursRequest(staff_id=staff, hours=every_day),
        metadata=manager,
        timeout=5,
    )
    client = await clients.CreateClient(
        clients_pb2.CreateClientRequest(first_name="Ann", last_name="Peeters"),
        metadata=s.in_a(),
        timeout=5,
    )
    start = Timestamp()
    start.FromDatetime(_monday_ten())
    return await booking.BookAppointment(
        booking_pb2.BookAppointmentRequest(
            client_id=client.id, service_id=s.cut, start=start, staff_id=staff
        ),
        metadata=manager,
        timeout=5,
    )


async def test_R17_checking_out_an_appointment_applies_its_deposit_and_completes_it(
    booking_shop: Shop,
) -> None:
    shop = booking_shop
    s = await salon(shop)
    appointment = await _appointment(shop, s)
    deposit = await _record_deposit(shop, s.in_a(), appointment.client_id, "10", appointment.id)
    booking = booking_pb2_grpc.BookingServiceStub(shop.services.channel("booking"))

    # Not the appointment's client, an unknown appointment: refused, nothing written.
    other_client = await error(
        checkout(
            shop,
            s.in_a(),
            [(s.cut, "", 1)],
            [(CASH, "40", "", "")],
            client=new_key(),
            appointment=appointment.id,
        )
    )
    assert (other_client.code, other_client.field) == (ErrorCode.INVALID, "clientId")
    unknown = await error(
        checkout(shop, s.in_a(), [(s.cut, "", 1)], [(CASH, "40", "", "")], appointment=new_key())
    )
    assert (unknown.code, unknown.field) == (ErrorCode.NOT_FOUND, "appointmentId")

    receipt = await checkout(
        shop,
        s.in_a(),
        [(s.cut, "", 1)],
        [(CASH, "30", "", "")],
        appointment=appointment.id,
        deposits=True,
    )

    assert (receipt.client_id, receipt.appointment_id) == (appointment.client_id, appointment.id)
    assert [d.id for d in receipt.deposits_applied] == [deposit.id]
    assert receipt.payments[-1].method == DEPOSIT

    async def completed() -> None:
        reply = await booking.GetAppointments(
            booking_pb2.GetAppointmentsRequest(ids=[appointment.id]), metadata=s.in_a(), timeout=5
        )
        assert reply.appointments[0].status == booking_pb2.APPOINTMENT_STATUS_COMPLETED

    await eventually(completed)
    # Checked out already: a second receipt for it is refused.
    again = await error(
        checkout(
            shop, s.in_a(), [(s.cut, "", 1)], [(CASH, "40", "", "")], appointment=appointment.id
        )
    )
    assert (again.code, again.field) == (ErrorCode.CONFLICT, "appointmentId")
    assert await shop.count(receipts, s.org) == 1


async def test_a_repeat_of_a_checkout_still_in_flight_waits_then_asks_to_retry(shop: Shop) -> None:
    """The twin holding the key never finishes within the wait (a few seconds): the repeat
    is UNAVAILABLE (try again), charges nothing and leaves the twin's attempt alone."""
    s = await salon(shop)
    key, reservation = "in-flight", new_key()
    digest = check_checkout(
        client_id="",
        appointment_id="",
        lines=[(s.cut, "", 1)],
        payments=[("CASH", "40", "", "")],
        apply_deposits=False,
        idempotency_key=key,
    ).request_hash()
    async with shop.payments_db.write(organization_id=s.org) as conn:
        await conn.execute(
            checkout_attempts.insert().values(
                id=new_key(),
                organization_id=s.org,
                establishment_id=s.a,
                idempotency_key=key,
                request_hash=digest,
                state="PENDING",
                reservation_id=reservation,
                receipt_id=None,
                user_id="u-till",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await checkout(shop, s.in_a(), [(s.cut, "", 1)], [(CASH, "40", "", "")], key)

    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert await shop.count(receipts, s.org) == 0
    async with shop.payments_db.read(organization_id=s.org) as conn:
        row = (
            await conn.execute(
                select(checkout_attempts.c.state, checkout_attempts.c.reservation_id).where(
                    checkout_attempts.c.organization_id == s.org
                )
            )
        ).one()
    assert tuple(row) == ("PENDING", reservation)
