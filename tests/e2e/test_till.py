"""The till end to end, through the gateway with every process running: checkout, gift
cards, subscriptions, loyalty cards, deposits on receipts, terminals, reports and
settlements (R06, R14, R17, R20, R23, R24, R28, R31, B03, B08)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from launcher.stack import Stack
from tests.e2e.test_agenda import BRUSSELS, Salon, _at
from tests.support.graphql import Gql, sign_up, unique_email

pytestmark = pytest.mark.e2e

T = TypeVar("T")

ERRORS = "errors { field code message }"
ESTABLISHMENT = "establishment { id }"
RECEIPT = f"""id number total createdAt {ESTABLISHMENT} client {{ id }}
  appointment {{ id status }} lines {{ description quantity unitPrice total }}
  payments {{ method amount }}
  depositsApplied {{ id amount status {ESTABLISHMENT} appointment {{ id }} }}"""
CHECKOUT = f"""mutation($input: CheckoutInput!) {{ checkout(input: $input) {{
  receipt {{ {RECEIPT} }} {ERRORS} }} }}"""
RECEIPTS = f"""query($date: Date!, $est: ID) {{ receipts(date: $date, establishmentId: $est) {{
  {RECEIPT} }} }}"""
GIFT_CARD_FIELDS = "id code kind balance initialAmount issuedAt { id }"
ISSUE_GIFT_CARD = f"""mutation($input: IssueGiftCardInput!) {{ issueGiftCard(input: $input) {{
  giftCard {{ {GIFT_CARD_FIELDS} }} {ERRORS} }} }}"""
GIFT_CARD = f"""query($code: String!) {{ giftCard(code: $code) {{ {GIFT_CARD_FIELDS} }} }}"""
SELL_SUBSCRIPTION = f"""mutation($input: SellSubscriptionInput!) {{
  sellSubscription(input: $input) {{
    subscription {{ id name visits visitsLeft validUntil {ESTABLISHMENT} }} {ERRORS} }} }}"""
CREATE_LOYALTY_CARD = f"""mutation($input: CreateLoyaltyCardInput!) {{
  createLoyaltyCard(input: $input) {{ loyaltyCard {{ id points {ESTABLISHMENT} }} {ERRORS} }} }}"""
CLIENT = f"""query($id: ID!) {{ client(id: $id) {{ id
  loyaltyCard {{ id points {ESTABLISHMENT} }}
  subscriptions {{ id name visitsLeft {ESTABLISHMENT} }}
  giftCards {{ id code balance issuedAt {{ id }} }}
  deposits {{ id amount status {ESTABLISHMENT} }} }} }}"""
CLIENT_LIST = """{ clients(first: 50) { edges { node { id loyaltyCard { points }
  subscriptions { id } giftCards { id } deposits { id } } } } }"""
CREATE_CLIENT = f"""mutation($input: CreateClientInput!) {{ createClient(input: $input) {{
  client {{ id }} {ERRORS} }} }}"""
CREATE_PRODUCT = f"""mutation($input: CreateProductInput!) {{ createProduct(input: $input) {{
  product {{ id }} {ERRORS} }} }}"""
ADJUST = f"""mutation($input: AdjustStockInput!) {{ adjustStock(input: $input) {{
  product {{ stock }} {ERRORS} }} }}"""
PRODUCTS = """query($est: ID) { products(establishmentId: $est) { id stock } }"""
AGENDA = """query($date: Date!, $est: ID) { agenda(date: $date, establishmentId: $est) {
  id status } }"""
BOOK = f"""mutation($input: BookAppointmentInput!) {{ bookAppointment(input: $input) {{
  appointment {{ id status }} {ERRORS} }} }}"""
PUBLIC_BOOK = f"""mutation($input: PublicBookInput!) {{ publicBook(input: $input) {{
  appointment {{ id {ESTABLISHMENT} client {{ id }} deposit {{ id amount status }} }}
  {ERRORS} }} }}"""
REPORT_FIELDS = f"from to revenue appointments productsSold receipts {ESTABLISHMENT}"
REPORT = f"""query($from: Date!, $to: Date!, $est: ID) {{
  report(from: $from, to: $to, establishmentId: $est) {{ {REPORT_FIELDS} }} }}"""
ORGANIZATION_REPORT = f"""query($from: Date!, $to: Date!) {{
  organizationReport(from: $from, to: $to) {{ from to totalRevenue totalAppointments
    totalProductsSold establishments {{ {REPORT_FIELDS} }} }} }}"""
SETTLEMENTS = """query($from: Date!, $to: Date!) { settlementReport(from: $from, to: $to) {
  fromEstablishment { id } toEstablishment { id } amount redemptions } }"""
ASSIGN_TERMINAL = f"""mutation($input: AssignTerminalInput!) {{
  assignPaymentTerminal(input: $input) {{ terminal {{ id serial name {ESTABLISHMENT} }}
  {ERRORS} }} }}"""
TERMINALS = f"{{ paymentTerminals {{ id serial name {ESTABLISHMENT} }} }}"
PROVIDER = "{ paymentProvider { provider accountId } }"
ADD_MEMBER = f"""mutation($input: AddMemberInput!) {{ addMember(input: $input) {{
  user {{ id }} {ERRORS} }} }}"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { session { token }
  errors { code } } }"""


def _ok(result: dict[str, Any], name: str) -> dict[str, Any]:
    payload = dict(result[name])
    assert payload["errors"] == [], payload["errors"]
    return payload


def _codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


def _eventually(check: Callable[[], T], timeout: float = 20.0) -> T:
    """Cross-service effects travel by events: poll until the check passes, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _local_day(created_at: str) -> date:
    """The establishment's local date of a receipt (the Salon's are in Brussels)."""
    return datetime.fromisoformat(created_at).astimezone(BRUSSELS).date()


class Till(Salon):
    """The agenda's salon (A and B, opening hours, a 40.00 cut, a client, a stylist in
    both) with a shampoo at 18.50: 5 in stock in A, 20 in B."""

    def __init__(self, gql: Gql) -> None:
        super().__init__(gql)
        self.gql = gql
        self.api = self.org.api
        self.shampoo = _ok(
            self.api(CREATE_PRODUCT, input={"name": "Shampoo", "price": "18.50"}),
            "createProduct",
        )["product"]["id"]
        for est, quantity in ((self.b, 20), (self.a, 5)):
            self.switch(est)
            _ok(
                self.api(
                    ADJUST,
                    input={"productId": self.shampoo, "delta": quantity, "reason": "DELIVERY"},
                ),
                "adjustStock",
            )
        self.keys = 0

    def key(self) -> str:
        self.keys += 1
        return f"till-{self.keys}-{time.monotonic_ns()}"

    def checkout(
        self,
        payments: list[dict[str, Any]],
        lines: list[dict[str, Any]] | None = None,
        api: Gql | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        values = {
            "clientId": self.client,
            "lines": lines if lines is not None else [{"serviceId": self.service}],
            "payments": payments,
            "idempotencyKey": self.key(),
            **extra,
        }
        return dict((api or self.api)(CHECKOUT, input=values)["checkout"])

    def gift_card(self, amount: str = "50.00", kind: str = "GENERAL") -> dict[str, Any]:
        return _ok(
            self.api(ISSUE_GIFT_CARD, input={"amount": amount, "kind": kind}), "issueGiftCard"
        )["giftCard"]

    def balance(self, code: str) -> str:
        card = self.api(GIFT_CARD, code=code)["giftCard"]
        assert card is not None
        return str(card["balance"])

    def stock(self, est: str) -> int:
        products = self.api(PRODUCTS, est=est)["products"]
        return int(next(p["stock"] for p in products if p["id"] == self.shampoo))

    def record(self, client_id: str | None = None) -> dict[str, Any]:
        found = self.api(CLIENT, id=client_id or self.client)["client"]
        assert found is not None
        return dict(found)

    def member(self, *rights: str, role: str = "STAFF") -> Gql:
        """A member of the session establishment with these rights, signed in there."""
        email = unique_email(role.lower())
        _ok(
            self.api(
                ADD_MEMBER,
                input={
                    "email": email,
                    "name": f"{role} {' '.join(rights)}".strip(),
                    "password": "member-pass-1",
                    "role": role,
                    "rights": list(rights),
                },
            ),
            "addMember",
        )
        login = self.gql.as_(None)(LOGIN, input={"email": email, "password": "member-pass-1"})
        return self.gql.as_(login["login"]["session"]["token"])


def _cash(amount: str) -> dict[str, str]:
    return {"method": "CASH", "amount": amount}


# ------------------------------------------------------------------ gift cards (R14)


def test_R14_a_gift_card_bought_in_A_pays_in_B(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    card = till.gift_card("50.00")
    assert (card["kind"], card["balance"], card["initialAmount"]) == ("GENERAL", "50.00", "50.00")
    assert card["issuedAt"]["id"] == till.a

    till.switch(till.b)
    paid = till.checkout([{"method": "GIFT_CARD", "amount": "40.00", "giftCardCode": card["code"]}])
    assert paid["errors"] == []
    receipt = paid["receipt"]
    assert receipt["establishment"]["id"] == till.b
    assert receipt["total"] == "40.00"
    assert receipt["payments"] == [{"method": "GIFT_CARD", "amount": "40.00"}]
    assert till.balance(card["code"]) == "10.00"

    # A balance never goes below zero: 40.00 more is refused and nothing changes.
    refused = till.checkout(
        [{"method": "GIFT_CARD", "amount": "40.00", "giftCardCode": card["code"]}]
    )
    assert [c for c, _ in _codes(refused)] == ["INSUFFICIENT_BALANCE"]
    assert refused["receipt"] is None
    assert till.balance(card["code"]) == "10.00"
    day = _local_day(receipt["createdAt"]).isoformat()
    assert [r["id"] for r in till.api(RECEIPTS, date=day)["receipts"]] == [receipt["id"]]

    # Another organization does not see the card: the same answer as an unknown code (R01).
    other = sign_up(gql)
    assert other.api(GIFT_CARD, code=card["code"])["giftCard"] is None
    assert till.api(GIFT_CARD, code="NO-SUCH-CARD-ANYWHERE")["giftCard"] is None


def test_R14_a_numbered_gift_card_does_not_pay_in_B(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    card = till.gift_card("50.00", kind="NUMBERED")
    assert card["kind"] == "NUMBERED"
    pay = [{"method": "GIFT_CARD", "amount": "40.00", "giftCardCode": card["code"]}]

    till.switch(till.b)
    refused = till.checkout(pay)
    assert [c for c, _ in _codes(refused)] == ["WRONG_ESTABLISHMENT"]
    assert till.balance(card["code"]) == "50.00"
    assert till.stock(till.b) == 20

    till.switch(till.a)
    paid = till.checkout(pay)
    assert paid["errors"] == [] and paid["receipt"]["establishment"]["id"] == till.a
    assert till.balance(card["code"]) == "10.00"
    day = _local_day(paid["receipt"]["createdAt"]).isoformat()
    assert till.api(RECEIPTS, date=day, est=till.b)["receipts"] == []


def test_R14_a_client_sees_gift_cards_of_every_establishment(gql: Gql) -> None:
    till = Till(gql)
    codes = []
    for est in (till.a, till.b):
        till.switch(est)
        issued = _ok(
            till.api(ISSUE_GIFT_CARD, input={"amount": "25.00", "clientId": till.client}),
            "issueGiftCard",
        )["giftCard"]
        codes.append(issued["code"])
    for est in (till.a, till.b):
        till.switch(est)
        cards = till.record()["giftCards"]
        assert sorted(c["code"] for c in cards) == sorted(codes)


# ------------------------------------------------------------------ subscriptions (R24)


def test_R24_a_subscription_sold_in_A_is_refused_in_B(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    sold = _ok(
        till.api(
            SELL_SUBSCRIPTION,
            input={"clientId": till.client, "name": "5 cuts", "visits": 5, "price": "150.00"},
        ),
        "sellSubscription",
    )["subscription"]
    assert (sold["visits"], sold["visitsLeft"], sold["establishment"]["id"]) == (5, 5, till.a)
    visit = [{"method": "SUBSCRIPTION", "amount": "40.00", "subscriptionId": sold["id"]}]

    assert [s["id"] for s in till.record()["subscriptions"]] == [sold["id"]]
    till.switch(till.b)
    assert till.record()["subscriptions"] == []
    refused = till.checkout(visit)
    assert [c for c, _ in _codes(refused)] == ["WRONG_ESTABLISHMENT"]

    till.switch(till.a)
    assert [s["visitsLeft"] for s in till.record()["subscriptions"]] == [5]
    used = till.checkout(visit)
    assert used["errors"] == []
    assert used["receipt"]["payments"] == [{"method": "SUBSCRIPTION", "amount": "40.00"}]
    assert [s["visitsLeft"] for s in till.record()["subscriptions"]] == [4]


# ------------------------------------------------------------------ loyalty cards (R23)


def test_R23_a_loyalty_card_of_A_is_absent_from_the_client_record_in_B(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    card = _ok(till.api(CREATE_LOYALTY_CARD, input={"clientId": till.client}), "createLoyaltyCard")[
        "loyaltyCard"
    ]
    assert (card["points"], card["establishment"]["id"]) == (0, till.a)
    again = till.api(CREATE_LOYALTY_CARD, input={"clientId": till.client})["createLoyaltyCard"]
    assert [c for c, _ in _codes(again)] == ["CONFLICT"]
    assert till.record()["loyaltyCard"]["id"] == card["id"]

    till.switch(till.b)
    assert till.record()["loyaltyCard"] is None

    # Points come from A's receipts, by event: wait for them.
    till.switch(till.a)
    assert till.checkout([_cash("40.00")])["errors"] == []

    def earned() -> int:
        points = int(till.record()["loyaltyCard"]["points"])
        assert points > 0
        return points

    first = _eventually(earned)
    assert first == 40  # one point per whole euro of the receipt
    # A receipt in B earns nothing on A's card; the next one in A earns as much as the first.
    till.switch(till.b)
    assert till.checkout([_cash("40.00")])["errors"] == []
    assert till.record()["loyaltyCard"] is None
    till.switch(till.a)
    assert till.checkout([_cash("40.00")])["errors"] == []

    def doubled() -> int:
        points = int(till.record()["loyaltyCard"]["points"])
        assert points >= 2 * first
        return points

    assert _eventually(doubled) == 2 * first


# ------------------------------------------------------------------ deposits (R17)


def test_R17_a_deposit_paid_for_an_appointment_in_A_shows_on_a_receipt_made_in_B_not_in_B_client_record(  # noqa: E501
    gql: Gql,
) -> None:
    till = Till(gql)
    booked = gql.as_(None)(
        PUBLIC_BOOK,
        input={
            "establishmentId": till.a,
            "serviceId": till.service,
            "start": _at(till.day, 14),
            "firstName": "Dora",
            "lastName": "Deposit",
            "email": unique_email("dora"),
            "deposit": "10.00",
        },
    )["publicBook"]
    assert booked["errors"] == []
    appointment = booked["appointment"]
    deposit = appointment["deposit"]
    assert (deposit["amount"], deposit["status"]) == ("10.00", "PAID")
    client = appointment["client"]["id"]

    till.switch(till.b)
    assert till.record(client)["deposits"] == []
    paid = till.checkout([_cash("30.00")], clientId=client)
    assert paid["errors"] == []
    receipt = paid["receipt"]
    assert receipt["establishment"]["id"] == till.b
    assert receipt["total"] == "40.00"
    assert [
        (d["id"], d["amount"], d["establishment"]["id"]) for d in receipt["depositsApplied"]
    ] == [(deposit["id"], "10.00", till.a)]
    assert receipt["depositsApplied"][0]["appointment"]["id"] == appointment["id"]
    assert sorted((p["method"], p["amount"]) for p in receipt["payments"]) == [
        ("CASH", "30.00"),
        ("DEPOSIT", "10.00"),
    ]
    assert till.record(client)["deposits"] == []  # B's record: still not there

    till.switch(till.a)
    in_a = till.record(client)["deposits"]
    assert [(d["id"], d["status"], d["establishment"]["id"]) for d in in_a] == [
        (deposit["id"], "APPLIED", till.a)
    ]
    # Applied once: the next checkout of the client pays in full.
    till.switch(till.b)
    again = till.checkout([_cash("40.00")], clientId=client)
    assert again["errors"] == [] and again["receipt"]["depositsApplied"] == []


# ------------------------------------------------------------------ checkout (R28, R20)


def test_R28_the_same_checkout_sent_twice_gives_one_receipt(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    values = {
        "clientId": till.client,
        "lines": [{"serviceId": till.service}, {"productId": till.shampoo, "quantity": 1}],
        "payments": [_cash("58.50")],
        "idempotencyKey": till.key(),
    }
    first = _ok(till.api(CHECKOUT, input=values), "checkout")["receipt"]
    second = _ok(till.api(CHECKOUT, input=values), "checkout")["receipt"]
    assert second == first
    assert till.stock(till.a) == 4

    # The same key with another request is a conflict, not a second receipt.
    changed = {**values, "payments": [_cash("18.50")], "lines": values["lines"][1:]}
    assert [c for c, _ in _codes(till.api(CHECKOUT, input=changed)["checkout"])] == ["CONFLICT"]

    # Concurrently: twelve requests with one new key, one receipt, stock taken once.
    racing = {**values, "idempotencyKey": till.key()}
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda _: till.api(CHECKOUT, input=racing)["checkout"], range(12)))
    receipts = {r["receipt"]["id"] for r in replies if not r["errors"]}
    assert len(receipts) == 1, replies
    # A loser may only hear that the first is still being made, never get another receipt.
    assert {c for r in replies for c, _ in _codes(r)} <= {"CONFLICT"}

    async def burst() -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {till.api.token}"}
        body = {"query": CHECKOUT, "variables": {"input": racing}}
        async with httpx.AsyncClient(timeout=60) as http:
            answers = await asyncio.gather(
                *(http.post(gql.url, json=body, headers=headers) for _ in range(12))
            )
        return [a.json()["data"]["checkout"] for a in answers]

    replayed = asyncio.run(burst())
    assert {r["receipt"]["id"] for r in replayed if not r["errors"]} == receipts
    assert till.stock(till.a) == 3
    day = _local_day(first["createdAt"]).isoformat()
    listed = till.api(RECEIPTS, date=day)["receipts"]
    assert sorted(r["id"] for r in listed) == sorted({first["id"], *receipts})
    numbers = sorted(int(r["number"]) for r in listed)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gaps


def test_R28_R20_a_checkout_lowers_the_session_establishments_stock_only_and_completes_the_appointment(  # noqa: E501
    gql: Gql,
) -> None:
    till = Till(gql)
    till.switch(till.a)
    appointment = _ok(
        till.api(
            BOOK,
            input={
                "clientId": till.client,
                "serviceId": till.service,
                "start": _at(till.day, 10),
                "staffId": till.stylist,
            },
        ),
        "bookAppointment",
    )["appointment"]
    paid = till.checkout(
        [{"method": "CARD", "amount": "77.00"}],
        lines=[{"serviceId": till.service}, {"productId": till.shampoo, "quantity": 2}],
        appointmentId=appointment["id"],
    )
    assert paid["errors"] == []
    receipt = paid["receipt"]
    assert receipt["establishment"]["id"] == till.a
    assert receipt["appointment"]["id"] == appointment["id"]
    assert receipt["client"]["id"] == till.client
    assert [(ln["quantity"], ln["unitPrice"], ln["total"]) for ln in receipt["lines"]] == [
        (1, "40.00", "40.00"),
        (2, "18.50", "37.00"),
    ]
    assert (till.stock(till.a), till.stock(till.b)) == (3, 20)

    def completed() -> None:
        agenda = till.api(AGENDA, date=till.day.isoformat())["agenda"]
        assert [(a["id"], a["status"]) for a in agenda] == [(appointment["id"], "COMPLETED")]

    _eventually(completed)


def test_R28_payments_that_do_not_add_up_change_nothing(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    card = till.gift_card("50.00")
    wrong = till.checkout(
        [{"method": "GIFT_CARD", "amount": "20.00", "giftCardCode": card["code"]}, _cash("20.00")],
        lines=[{"serviceId": till.service}, {"productId": till.shampoo, "quantity": 1}],
    )
    assert [c for c, _ in _codes(wrong)] == ["PAYMENT_MISMATCH"]
    assert wrong["receipt"] is None
    assert till.stock(till.a) == 5
    assert till.balance(card["code"]) == "50.00"
    today = datetime.now(BRUSSELS).date().isoformat()
    assert till.api(RECEIPTS, date=today)["receipts"] == []
    # Products beyond the stock: OUT_OF_STOCK, and again nothing changes.
    short = till.checkout([_cash("111.00")], lines=[{"productId": till.shampoo, "quantity": 6}])
    assert [c for c, _ in _codes(short)] == ["OUT_OF_STOCK"]
    assert till.stock(till.a) == 5


def test_R28_money_is_checked_at_the_edge_and_nothing_is_written(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    for amount in ("12.345", "-5", "lots", "0"):
        body = till.api.raw(ISSUE_GIFT_CARD, {"input": {"amount": amount}})
        assert _codes(body["data"]["issueGiftCard"]) == [("INVALID", "amount")], amount
        assert "payments" not in body["extensions"]["backendCalls"]
    body = till.api.raw(
        CHECKOUT,
        {
            "input": {
                "lines": [{"serviceId": till.service}],
                "payments": [_cash("40.001")],
                "idempotencyKey": till.key(),
            }
        },
    )
    assert _codes(body["data"]["checkout"]) == [("INVALID", "payments")]
    assert "payments" not in body["extensions"]["backendCalls"]
    sell = till.api(
        SELL_SUBSCRIPTION,
        input={"clientId": till.client, "name": "x", "visits": 3, "price": "-1.00"},
    )["sellSubscription"]
    assert _codes(sell) == [("INVALID", "price")]
    assert till.record()["giftCards"] == [] and till.record()["subscriptions"] == []


# ------------------------------------------------------------------ reports (R06, R27, B03)


def _checkouts_in_both(till: Till) -> date:
    till.switch(till.b)
    assert till.checkout([_cash("40.00")])["errors"] == []
    till.switch(till.a)
    paid = till.checkout(
        [_cash("58.50")],
        lines=[{"serviceId": till.service}, {"productId": till.shampoo, "quantity": 1}],
    )
    assert paid["errors"] == []
    return _local_day(paid["receipt"]["createdAt"])


def test_R06_receipts_and_report_of_another_establishment_need_SWITCH_REPORTS(gql: Gql) -> None:
    till = Till(gql)
    day = _checkouts_in_both(till).isoformat()
    without = till.member()
    with_right = till.member("SWITCH_REPORTS")

    for api in (without, with_right):
        own = api(RECEIPTS, date=day)["receipts"]
        assert [r["establishment"]["id"] for r in own] == [till.a]
        report = api(REPORT, **{"from": day, "to": day})["report"]
        assert (report["establishment"]["id"], report["revenue"]) == (till.a, "58.50")

    refused = without.raw(RECEIPTS, {"date": day, "est": till.b})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused["data"] is None
    refused = without.raw(REPORT, {"from": day, "to": day, "est": till.b})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused["data"] is None

    in_b = with_right(RECEIPTS, date=day, est=till.b)["receipts"]
    assert [(r["establishment"]["id"], r["total"]) for r in in_b] == [(till.b, "40.00")]
    report_b = with_right(REPORT, **{"from": day, "to": day, "est": till.b})["report"]
    assert (report_b["establishment"]["id"], report_b["revenue"], report_b["receipts"]) == (
        till.b,
        "40.00",
        1,
    )
    assert report_b["productsSold"] == 0

    # Another organization's establishment: not found, whatever the rights.
    other = sign_up(gql)
    hidden = other.api.raw(RECEIPTS, {"date": day, "est": till.b})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_B03_organization_report_is_the_sum_of_the_establishments_and_for_owners_only(
    gql: Gql,
) -> None:
    till = Till(gql)
    assert till.book(11)["errors"] == []  # in A, on the Salon's day
    day = _checkouts_in_both(till)
    period = {"from": day.isoformat(), "to": max(day, till.day).isoformat()}

    def counted() -> dict[str, Any]:
        report = dict(till.api(ORGANIZATION_REPORT, **period)["organizationReport"])
        assert report["totalAppointments"] == 1  # the appointment reaches payments by event
        return report

    whole = _eventually(counted)
    per = {est: till.api(REPORT, **period, est=est)["report"] for est in (till.a, till.b)}
    by_est = {r["establishment"]["id"]: r for r in whole["establishments"]}
    assert by_est == per
    assert Decimal(whole["totalRevenue"]) == sum(Decimal(r["revenue"]) for r in per.values())
    assert whole["totalRevenue"] == "98.50"
    assert whole["totalProductsSold"] == sum(r["productsSold"] for r in per.values()) == 1
    assert whole["totalAppointments"] == sum(r["appointments"] for r in per.values())

    manager = till.member("SWITCH_REPORTS", role="MANAGER")
    refused = manager.raw(ORGANIZATION_REPORT, period)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused["data"] is None


def test_B08_a_gift_card_sold_in_A_and_spent_in_B_is_owed_by_A_to_B(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    card = till.gift_card("50.00")
    # Spent where it was sold: nothing is owed for that part.
    spent_in_a = till.checkout(
        [{"method": "GIFT_CARD", "amount": "5.00", "giftCardCode": card["code"]}, _cash("13.50")],
        lines=[{"productId": till.shampoo}],
    )
    assert spent_in_a["errors"] == []
    till.switch(till.b)
    paid = till.checkout([{"method": "GIFT_CARD", "amount": "40.00", "giftCardCode": card["code"]}])
    assert paid["errors"] == []
    day = _local_day(paid["receipt"]["createdAt"]).isoformat()
    settlements = till.api(SETTLEMENTS, **{"from": day, "to": day})["settlementReport"]
    assert settlements == [
        {
            "fromEstablishment": {"id": till.a},
            "toEstablishment": {"id": till.b},
            "amount": "40.00",
            "redemptions": 1,
        }
    ]
    refused = till.member().raw(SETTLEMENTS, {"from": day, "to": day})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused["data"] is None
    allowed = till.member("SWITCH_REPORTS")(SETTLEMENTS, **{"from": day, "to": day})
    assert allowed["settlementReport"] == settlements


# ------------------------------------------------------------------ terminals, provider (R31, R32)


def test_R31_the_same_terminal_serial_in_two_establishments_each_list_shows_its_own(
    gql: Gql,
) -> None:
    till = Till(gql)
    assigned = {}
    for est, name in ((till.a, "Counter A"), (till.b, "Counter B")):
        till.switch(est)
        terminal = _ok(
            till.api(ASSIGN_TERMINAL, input={"serial": "SN-0001", "name": name}),
            "assignPaymentTerminal",
        )["terminal"]
        assert terminal["establishment"]["id"] == est
        assigned[est] = terminal
    for est, name in ((till.a, "Counter A"), (till.b, "Counter B")):
        till.switch(est)
        listed = till.api(TERMINALS)["paymentTerminals"]
        assert [(t["serial"], t["name"], t["establishment"]["id"]) for t in listed] == [
            ("SN-0001", name, est)
        ]
    blank = till.api(ASSIGN_TERMINAL, input={"serial": " ", "name": "x"})["assignPaymentTerminal"]
    assert _codes(blank) == [("INVALID", "serial")]


def test_R32_no_provider_connected_reads_null(gql: Gql) -> None:
    till = Till(gql)
    assert till.api(PROVIDER)["paymentProvider"] is None


# ------------------------------------------------------------------ the client list


def test_a_client_list_with_its_till_fields_asks_each_service_once(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    for i in range(5):
        created = _ok(
            till.api(CREATE_CLIENT, input={"firstName": f"C{i}", "lastName": "List"}),
            "createClient",
        )["client"]["id"]
        _ok(till.api(CREATE_LOYALTY_CARD, input={"clientId": created}), "createLoyaltyCard")
    body = till.api.raw(CLIENT_LIST)
    nodes = [e["node"] for e in body["data"]["clients"]["edges"]]
    assert len(nodes) == 6
    assert sum(1 for n in nodes if n["loyaltyCard"] is not None) == 5
    # One ListClients and one GetLoyaltyCards for the whole page, whatever its length, and
    # one payments call each for deposits, subscriptions and gift cards.
    assert body["extensions"]["backendCalls"] == {"clients": 2, "payments": 3}


# ------------------------------------------------------------------ the provider's webhook


def test_R32_the_mollie_webhook_answers_at_once_for_a_known_organization(gql: Gql) -> None:
    till = Till(gql)
    base = gql.url.removesuffix("/graphql")
    url = f"{base}/webhooks/mollie/{till.org.organization_id}"
    known = httpx.post(url, data={"id": "tr_unknown123"}, timeout=10)
    assert (known.status_code, known.content) == (200, b"")
    assert httpx.post(url, data={}, timeout=10).status_code == 400
    unknown = httpx.post(f"{base}/webhooks/mollie/no-such-org", data={"id": "tr_1"}, timeout=10)
    assert unknown.status_code == 404


def test_R32_the_api_key_is_neither_answered_nor_logged(gql: Gql, stack: Stack) -> None:
    till = Till(gql)
    key = "test_" + "k3y" * 10
    body = till.api.raw(
        """mutation($input: ConnectPaymentProviderInput!) {
          connectPaymentProvider(input: $input) { connection { provider accountId }
          errors { field code message } } }""",
        {"input": {"accountId": "acc_till_test", "apiKey": key}},
    )
    assert key not in str(body)
    logs = stack.data_dir / "logs"
    assert logs.is_dir()
    for log in logs.glob("*.log"):
        assert key not in log.read_text(errors="replace"), log.name


def test_R28_a_day_of_receipts_fetches_its_relations_in_one_call_per_service(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    appointment = till.book(12)["appointment"]["id"]
    paid = till.checkout([_cash("40.00")], appointmentId=appointment)
    assert paid["errors"] == []
    for _ in range(4):
        assert till.checkout([_cash("40.00")])["errors"] == []
    day = _local_day(paid["receipt"]["createdAt"]).isoformat()
    body = till.api.raw(RECEIPTS, {"date": day})
    receipts = body["data"]["receipts"]
    assert len(receipts) == 5
    assert {r["client"]["id"] for r in receipts} == {till.client}
    assert [r["appointment"]["id"] for r in receipts if r["appointment"]] == [appointment]
    assert body["extensions"]["backendCalls"] == {"payments": 1, "clients": 1, "booking": 1}


# ------------------------------------------------------------------ the README's session


def test_the_READMEs_till_session_a_product_a_gift_card_of_A_and_a_deposit_of_A_paid_in_B(
    gql: Gql,
) -> None:
    """Steps 13-16 of the README: a gift card sold in A, a client's online deposit in A, a
    checkout in B of a service and a product paid by the deposit (by itself), the gift card
    and a card; then the gift card's balance, the settlement, B's till and report and the
    organization report agree with it."""
    till = Till(gql)
    till.switch(till.a)
    card = till.gift_card("50.00")
    booked = gql.as_(None)(
        PUBLIC_BOOK,
        input={
            "establishmentId": till.a,
            "serviceId": till.service,
            "start": _at(till.day, 11),
            "firstName": "Nora",
            "lastName": "Online",
            "email": unique_email("nora"),
            "deposit": "10.00",
        },
    )["publicBook"]
    assert booked["errors"] == []
    nora = booked["appointment"]["client"]["id"]

    till.switch(till.b)
    stock_before = till.stock(till.b)
    paid = till.checkout(
        [
            {"method": "GIFT_CARD", "amount": "20.00", "giftCardCode": card["code"]},
            {"method": "CARD", "amount": "28.50"},
        ],
        lines=[{"serviceId": till.service}, {"productId": till.shampoo}],
        clientId=nora,
    )
    assert paid["errors"] == []
    receipt = paid["receipt"]
    assert (receipt["establishment"]["id"], receipt["total"]) == (till.b, "58.50")
    assert [d["amount"] for d in receipt["depositsApplied"]] == ["10.00"]
    assert sorted((p["method"], p["amount"]) for p in receipt["payments"]) == [
        ("CARD", "28.50"),
        ("DEPOSIT", "10.00"),
        ("GIFT_CARD", "20.00"),
    ]
    assert till.stock(till.b) == stock_before - 1
    assert till.balance(card["code"]) == "30.00"

    day = _local_day(receipt["createdAt"]).isoformat()
    settlements = till.api(SETTLEMENTS, **{"from": day, "to": day})["settlementReport"]
    assert [
        (s["fromEstablishment"]["id"], s["toEstablishment"]["id"], s["amount"]) for s in settlements
    ] == [(till.a, till.b, "20.00")]
    listed = till.api(RECEIPTS, date=day, est=None)["receipts"]
    assert [r["number"] for r in listed] == ["000001"]
    report = till.api(REPORT, **{"from": day, "to": day, "est": None})["report"]
    assert (report["revenue"], report["productsSold"], report["receipts"]) == ("58.50", 1, 1)
    whole = till.api(ORGANIZATION_REPORT, **{"from": day, "to": day})["organizationReport"]
    assert whole["totalRevenue"] == "58.50"
    by_establishment = {r["establishment"]["id"]: r["revenue"] for r in whole["establishments"]}
    assert by_establishment[till.b] == "58.50" and by_establishment[till.a] == "0.00"
