"""The till's rules without any I/O: which checkout requests are allowed, how lines are
priced, which deposits a receipt applies (R17), gift cards (R14), subscriptions (R24) and
the sum of the payments; gift card codes and subscription requests."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import DomainError, ErrorCode
from services.common.scope import Scope
from services.payments.domain import cards
from services.payments.domain.cards import GiftCard, GiftCardKind, Subscription
from services.payments.domain.checkout import (
    AppointmentInfo,
    CatalogItem,
    CheckoutRequest,
    LineKind,
    PaymentMethod,
    TillState,
    check_checkout,
    plan_checkout,
    price_lines,
    receipt_client,
    select_deposits,
)
from services.payments.domain.model import Deposit, DepositStatus

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TODAY = date(2026, 3, 1)
SCOPE = Scope("org", "est-a", "user-1")


def _request(**changes: Any) -> CheckoutRequest:
    values: dict[str, Any] = {
        "client_id": "",
        "appointment_id": "",
        "lines": [("svc", "", 1)],
        "payments": [("CASH", "40", "", "")],
        "apply_deposits": False,
        "idempotency_key": "key-1",
    }
    values.update(changes)
    return check_checkout(**values)


def _invalid(field: str, **changes: Any) -> None:
    with pytest.raises(DomainError) as caught:
        _request(**changes)
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID, field)


def _card(
    kind: GiftCardKind = GiftCardKind.GENERAL, est: str = "est-a", balance: str = "50"
) -> GiftCard:
    return GiftCard("card-1", "ABCD-EFGH", kind, Decimal(balance), Decimal("100"), est, "", NOW)


def _subscription(est: str = "est-a", left: int = 2, until: date | None = None) -> Subscription:
    return Subscription("sub-1", "Ten cuts", est, "client", 10, left, Decimal("300"), until, NOW)


def _deposit(id: str, amount: str, status: DepositStatus = DepositStatus.PAID) -> Deposit:
    return Deposit(id, f"appt-{id}", "client", "est-b", Decimal(amount), status, NOW)


def _state(**changes: Any) -> TillState:
    values: dict[str, Any] = {"gift_cards": {}, "subscriptions": {}, "deposits": [], "today": TODAY}
    values.update(changes)
    return TillState(**values)


LINES = price_lines(
    _request().lines, [CatalogItem(LineKind.SERVICE, "svc", "Cut", Decimal("40.00"))]
)


def _plan_error(request: CheckoutRequest, state: TillState) -> DomainError:
    with pytest.raises(DomainError) as caught:
        plan_checkout(SCOPE, request, LINES, request.client_id, state)
    return caught.value


# -- requests -----------------------------------------------------------------------------


def test_a_valid_request_is_read_with_amounts_and_codes_normalized() -> None:
    request = _request(
        lines=[("svc", "", 2), ("", "prod", 999)],
        payments=[("GIFT_CARD", "10", " abcd-efgh ", ""), ("SUBSCRIPTION", "30.5", "", "s1")],
    )
    assert [(ln.kind, ln.item_id, ln.quantity) for ln in request.lines] == [
        (LineKind.SERVICE, "svc", 2),
        (LineKind.PRODUCT, "prod", 999),
    ]
    assert [(p.method, p.amount, p.gift_card_code) for p in request.payments] == [
        (PaymentMethod.GIFT_CARD, Decimal("10.00"), "ABCD-EFGH"),
        (PaymentMethod.SUBSCRIPTION, Decimal("30.50"), ""),
    ]


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("lines", {"lines": []}),
        ("lines", {"lines": [("svc", "", 1)] * 101}),
        ("lines[0].serviceId", {"lines": [("", "", 1)]}),
        ("lines[0].serviceId", {"lines": [("svc", "prod", 1)]}),
        ("lines[0].quantity", {"lines": [("svc", "", 0)]}),
        ("lines[1].quantity", {"lines": [("svc", "", 1), ("", "prod", -1)]}),
        ("lines[0].quantity", {"lines": [("svc", "", 1000)]}),
        ("lines[0].productId", {"lines": [("", "p" * 33, 1)]}),
        ("payments[0].method", {"payments": [("UNSPECIFIED", "40", "", "")]}),
        ("payments[0].method", {"payments": [("DEPOSIT", "40", "", "")]}),
        ("payments[0].amount", {"payments": [("CASH", "40.001", "", "")]}),
        ("payments[0].amount", {"payments": [("CASH", "-40", "", "")]}),
        ("payments[0].amount", {"payments": [("CASH", "0", "", "")]}),
        ("payments[0].amount", {"payments": [("CASH", "abc", "", "")]}),
        ("payments[0].giftCardCode", {"payments": [("GIFT_CARD", "40", " ", "")]}),
        ("payments[0].giftCardCode", {"payments": [("CASH", "40", "CODE", "")]}),
        ("payments[0].subscriptionId", {"payments": [("SUBSCRIPTION", "40", "", "")]}),
        ("payments[0].subscriptionId", {"payments": [("CARD", "40", "", "s1")]}),
        ("payments", {"payments": [("CASH", "1", "", "")] * 21}),
        ("idempotencyKey", {"idempotency_key": ""}),
        ("idempotencyKey", {"idempotency_key": "   "}),
        ("idempotencyKey", {"idempotency_key": "k" * 101}),
        ("clientId", {"client_id": "c" * 33}),
        ("appointmentId", {"appointment_id": " "}),
    ],
)
def test_bad_requests_are_invalid_naming_the_field(field: str, changes: dict[str, Any]) -> None:
    _invalid(field, **changes)


def test_the_request_hash_ignores_spelling_but_not_content() -> None:
    base = _request().request_hash()
    assert _request(payments=[("CASH", "40.00", "", "")]).request_hash() == base
    assert _request(idempotency_key="another").request_hash() == base
    assert _request(payments=[("CARD", "40", "", "")]).request_hash() != base
    assert _request(lines=[("svc", "", 2)]).request_hash() != base
    assert _request(apply_deposits=True).request_hash() != base
    assert _request(client_id="c").request_hash() != base
    assert re.fullmatch(r"[0-9a-f]{64}", base)


# -- pricing, appointment -----------------------------------------------------------------


def test_lines_are_priced_and_an_item_not_found_names_its_line() -> None:
    request = _request(lines=[("svc", "", 2), ("", "prod", 3)])
    items = [
        CatalogItem(LineKind.SERVICE, "svc", "Cut", Decimal("40.00")),
        CatalogItem(LineKind.PRODUCT, "prod", "Shampoo", Decimal("12.50")),
    ]
    priced = price_lines(request.lines, items)
    assert [(ln.description, ln.unit_price, ln.total) for ln in priced] == [
        ("Cut", Decimal("40.00"), Decimal("80.00")),
        ("Shampoo", Decimal("12.50"), Decimal("37.50")),
    ]
    # A service id is not a product id: the kinds are looked up apart.
    with pytest.raises(DomainError) as caught:
        price_lines(
            request.lines, [items[0], CatalogItem(LineKind.SERVICE, "prod", "X", Decimal(1))]
        )
    assert (caught.value.code, caught.value.field) == (ErrorCode.NOT_FOUND, "lines[1].productId")


def test_the_appointment_gives_the_client_and_must_be_booked() -> None:
    booked = AppointmentInfo("appt", "est-b", "client-1", "BOOKED")
    assert receipt_client(_request(appointment_id="appt"), booked) == "client-1"
    assert (
        receipt_client(_request(appointment_id="appt", client_id="client-1"), booked) == "client-1"
    )
    assert receipt_client(_request(client_id="walk-in"), None) == "walk-in"
    cases = [
        (_request(appointment_id="appt"), None, ErrorCode.NOT_FOUND, "appointmentId"),
        (
            _request(appointment_id="appt"),
            AppointmentInfo("appt", "est-a", "client-1", "CANCELLED"),
            ErrorCode.CONFLICT,
            "appointmentId",
        ),
        (_request(appointment_id="appt", client_id="other"), booked, ErrorCode.INVALID, "clientId"),
    ]
    for request, appointment, code, field in cases:
        with pytest.raises(DomainError) as caught:
            receipt_client(request, appointment)
        assert (caught.value.code, caught.value.field) == (code, field)


# -- deposits (R17) -----------------------------------------------------------------------


def test_R17_deposits_are_applied_whole_in_order_while_they_fit_in_the_total() -> None:
    own, old, big, newer = (
        _deposit("own", "10"),
        _deposit("old", "20"),
        _deposit("big", "50"),
        _deposit("new", "5"),
    )
    applied = select_deposits([own, old, big, newer], Decimal("40.00"))
    assert [d.id for d in applied] == ["own", "old", "new"]
    assert select_deposits([big], Decimal("40.00")) == ()
    assert select_deposits([_deposit("x", "10", DepositStatus.APPLIED)], Decimal("40")) == ()
    assert [d.id for d in select_deposits([own, own], Decimal("40"))] == ["own"]


def test_R17_applied_deposits_count_in_the_sum_of_the_payments() -> None:
    request = _request(payments=[("CASH", "25", "", "")], apply_deposits=True)
    plan = plan_checkout(SCOPE, request, LINES, "client", _state(deposits=[_deposit("d", "15")]))
    assert [(p.payment.method, p.payment.amount) for p in plan.payments] == [
        (PaymentMethod.CASH, Decimal("25.00")),
        (PaymentMethod.DEPOSIT, Decimal("15.00")),
    ]
    assert plan.payments[1].payment.deposit_id == "d" and plan.total == Decimal("40.00")
    # Without apply_deposits the same request is short by the deposit.
    error = _plan_error(
        _request(payments=[("CASH", "25", "", "")]), _state(deposits=[_deposit("d", "15")])
    )
    assert (error.code, error.field) == (ErrorCode.PAYMENT_MISMATCH, "payments")


@pytest.mark.parametrize("paid", ["39.99", "40.01", "10"])
def test_payments_that_do_not_add_up_to_the_total_are_a_mismatch(paid: str) -> None:
    error = _plan_error(_request(payments=[("CASH", paid, "", "")]), _state())
    assert (error.code, error.field) == (ErrorCode.PAYMENT_MISMATCH, "payments")


# -- gift cards (R14) and subscriptions (R24) ------------------------------------------------


def test_R14_a_gift_card_pays_everywhere_a_numbered_one_only_where_issued() -> None:
    request = _request(payments=[("GIFT_CARD", "40", "abcd-efgh", "")])
    general = _card(est="est-b")
    plan = plan_checkout(SCOPE, request, LINES, "", _state(gift_cards={general.code: general}))
    assert plan.payments[0].gift_card == general
    numbered = _card(GiftCardKind.NUMBERED, est="est-b")
    error = _plan_error(request, _state(gift_cards={numbered.code: numbered}))
    assert (error.code, error.field) == (ErrorCode.WRONG_ESTABLISHMENT, "payments[0].giftCardCode")
    at_home = _card(GiftCardKind.NUMBERED, est="est-a")
    assert plan_checkout(SCOPE, request, LINES, "", _state(gift_cards={at_home.code: at_home}))


def test_R14_unknown_codes_and_short_balances_are_refused_before_any_write() -> None:
    request = _request(
        payments=[("GIFT_CARD", "30", "ABCD-EFGH", ""), ("GIFT_CARD", "10", "ABCD-EFGH", "")]
    )
    error = _plan_error(request, _state())
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "payments[0].giftCardCode")
    # Two payments with one card of 35: the second takes it over its balance.
    card = _card(balance="35")
    error = _plan_error(request, _state(gift_cards={card.code: card}))
    assert (error.code, error.field) == (ErrorCode.INSUFFICIENT_BALANCE, "payments[1].amount")


def test_R24_a_subscription_pays_only_where_sold_while_valid_and_not_used_up() -> None:
    request = _request(payments=[("SUBSCRIPTION", "40", "", "sub-1")])
    ok = _subscription()
    assert plan_checkout(SCOPE, request, LINES, "", _state(subscriptions={"sub-1": ok}))
    last_day = _subscription(until=TODAY)
    assert plan_checkout(SCOPE, request, LINES, "", _state(subscriptions={"sub-1": last_day}))
    cases = [
        (None, ErrorCode.NOT_FOUND),
        (_subscription(est="est-b"), ErrorCode.WRONG_ESTABLISHMENT),
        (_subscription(until=TODAY - timedelta(days=1)), ErrorCode.EXPIRED),
        (_subscription(left=0), ErrorCode.USED_UP),
    ]
    for subscription, code in cases:
        subs = {"sub-1": subscription} if subscription else {}
        error = _plan_error(request, _state(subscriptions=subs))
        assert (error.code, error.field) == (code, "payments[0].subscriptionId")
    two_visits = _request(
        payments=[("SUBSCRIPTION", "20", "", "sub-1"), ("SUBSCRIPTION", "20", "", "sub-1")]
    )
    error = _plan_error(two_visits, _state(subscriptions={"sub-1": _subscription(left=1)}))
    assert (error.code, error.field) == (ErrorCode.USED_UP, "payments[1].subscriptionId")


# -- gift card and subscription requests ------------------------------------------------------


def test_R14_generated_codes_are_grouped_from_an_unambiguous_alphabet() -> None:
    codes = {cards.generate_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
        assert not set(code) & set("01OIL")


def test_gift_card_requests() -> None:
    request = cards.check_gift_card("25.5", "UNSPECIFIED", "", " my-code-1 ", "")
    assert (request.amount, request.kind, request.code) == (
        Decimal("25.50"),
        GiftCardKind.GENERAL,
        "MY-CODE-1",
    )
    assert cards.check_gift_card("10", "NUMBERED", "c1", "", "k").kind is GiftCardKind.NUMBERED
    for args, field in [
        (("0", "GENERAL", "", "", ""), "amount"),
        (("10000.01", "GENERAL", "", "", ""), "amount"),
        (("1.001", "GENERAL", "", "", ""), "amount"),
        (("10", "GENERAL", "", "abc", ""), "code"),
        (("10", "GENERAL", "", "with space", ""), "code"),
        (("10", "GENERAL", "", "x" * 33, ""), "code"),
        (("10", "GENERAL", "c" * 33, "", ""), "clientId"),
        (("10", "GENERAL", "", "", "k" * 101), "idempotencyKey"),
    ]:
        with pytest.raises(DomainError) as caught:
            cards.check_gift_card(*args)
        assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID, field)


def test_subscription_requests() -> None:
    ok = cards.check_subscription("c1", " Ten cuts ", 10, "300", "2026-03-01", TODAY)
    assert (ok.name, ok.visits, ok.price, ok.valid_until) == (
        "Ten cuts",
        10,
        Decimal("300.00"),
        TODAY,
    )
    assert cards.check_subscription("c1", "Free", 1, "0", "", TODAY).valid_until is None
    for args, field in [
        (("", "X", 1, "1", ""), "clientId"),
        (("c1", "", 1, "1", ""), "name"),
        (("c1", "x" * 101, 1, "1", ""), "name"),
        (("c1", "X", 0, "1", ""), "visits"),
        (("c1", "X", 1001, "1", ""), "visits"),
        (("c1", "X", 1, "-1", ""), "price"),
        (("c1", "X", 1, "1.005", ""), "price"),
        (("c1", "X", 1, "1", "2026-02-28"), "validUntil"),
        (("c1", "X", 1, "1", "2026-02-30"), "validUntil"),
        (("c1", "X", 1, "1", "01/03/2026"), "validUntil"),
    ]:
        with pytest.raises(DomainError) as caught:
            cards.check_subscription(*args, TODAY)
        assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID, field)


def test_local_days_follow_the_establishment_timezone() -> None:
    brussels = cards.zone(None)
    assert brussels == ZoneInfo("Europe/Brussels") == cards.zone("Not/AZone")
    start, end = cards.day_bounds(date(2026, 3, 29), brussels)  # the clock goes forward
    assert (start.isoformat(), end - start) == ("2026-03-28T23:00:00+00:00", timedelta(hours=23))
    late = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)
    assert cards.local_today(brussels, late) == date(2026, 7, 1)
    assert cards.local_today(ZoneInfo("America/New_York"), late) == date(2026, 6, 30)
