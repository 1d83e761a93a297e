"""B11 end to end, through the gateway with every process running: a client booked online
with a deposit, mailed, checked out, with a gift card and a loyalty card; the owner's
export holds each service's part; the erasure reaches every service through its event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_agenda import _at
from tests.e2e.test_till import (
    CREATE_LOYALTY_CARD,
    ISSUE_GIFT_CARD,
    PUBLIC_BOOK,
    Till,
    _cash,
    _eventually,
    _ok,
)
from tests.support.graphql import Gql, unique_email

pytestmark = pytest.mark.e2e

EXPORT = "query($id: ID!) { exportClient(id: $id) }"
ERASE = """mutation($input: EraseClientInput!) { eraseClient(input: $input) {
  client { id firstName lastName email phone } errors { field code message } } }"""


def _export(api: Gql, client_id: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(api(EXPORT, id=client_id)["exportClient"])
    assert document["clientId"] == client_id and document["exportedAt"]
    services: dict[str, Any] = document["services"]
    assert set(services) == {"clients", "booking", "catalog", "inventory", "payments"}
    return services


def test_B11_export_holds_every_service_and_the_erasure_reaches_each(gql: Gql) -> None:
    till = Till(gql)
    till.switch(till.a)
    email = unique_email("privacy")
    booked = gql.as_(None)(
        PUBLIC_BOOK,
        input={
            "establishmentId": till.a,
            "serviceId": till.service,
            "start": _at(till.day, 15),
            "firstName": "Greta",
            "lastName": "Gdpr",
            "email": email,
            "deposit": "10.00",
        },
    )["publicBook"]
    assert booked["errors"] == []
    appointment = booked["appointment"]
    client = appointment["client"]["id"]
    receipt = till.checkout([_cash("30.00")], clientId=client)
    assert receipt["errors"] == [], receipt["errors"]
    receipt_id = receipt["receipt"]["id"]
    card = _ok(
        till.api(ISSUE_GIFT_CARD, input={"amount": "25.00", "clientId": client}), "issueGiftCard"
    )["giftCard"]
    loyalty = _ok(till.api(CREATE_LOYALTY_CARD, input={"clientId": client}), "createLoyaltyCard")[
        "loyaltyCard"
    ]

    def mailed() -> dict[str, Any]:
        services = _export(till.api, client)
        mails = services["booking"].get("mails", [])
        assert any(m["status"] == "sent" and m["recipient"] == email for m in mails), mails
        return services

    before = _eventually(mailed)
    assert before["clients"]["client"]["email"] == email
    assert before["clients"]["client"]["firstName"] == "Greta"
    assert [c["id"] for c in before["clients"]["loyaltyCards"]] == [loyalty["id"]]
    assert [a["id"] for a in before["booking"]["appointments"]] == [appointment["id"]]
    assert [a["establishmentId"] for a in before["booking"]["appointments"]] == [till.a]
    assert len(before["booking"]["manageLinks"]) == 1
    payments = before["payments"]
    assert [(r["id"], r["total"]) for r in payments["receipts"]] == [(receipt_id, "40.00")]
    assert [d["id"] for d in payments["deposits"]] == [appointment["deposit"]["id"]]
    assert [g["id"] for g in payments["giftCards"]] == [card["id"]]
    assert card["code"] not in json.dumps(payments)  # a gift card's code is what pays
    assert before["catalog"] == {} and before["inventory"] == {}

    # Owners only.
    staff = till.member()
    denied = staff.raw(EXPORT, {"id": client})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = staff(ERASE, input={"id": client})["eraseClient"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]

    erased = _ok(till.api(ERASE, input={"id": client}), "eraseClient")["client"]
    assert erased == {
        "id": client,
        "firstName": "Erased",
        "lastName": f"client {client[:8]}",
        "email": None,
        "phone": None,
    }
    assert _ok(till.api(ERASE, input={"id": client}), "eraseClient")["client"] == erased

    def everywhere() -> dict[str, Any]:
        services = _export(till.api, client)
        assert services["clients"]["client"]["erasedAt"]
        assert "manageLinks" not in services["booking"]
        for mail in services["booking"]["mails"]:
            assert (mail["recipient"], mail["subject"], mail["body"]) == (None, None, None)
            assert mail["status"] in ("sent", "cancelled")
        assert services["payments"]["erasure"]["erasedAt"]
        return services

    after = _eventually(everywhere)
    text = json.dumps(after)
    assert "Greta" not in text and "Gdpr" not in text and email not in text
    # The books keep their amounts, the history its links.
    assert [(r["id"], r["total"]) for r in after["payments"]["receipts"]] == [(receipt_id, "40.00")]
    assert [c["id"] for c in after["clients"]["loyaltyCards"]] == [loyalty["id"]]
    assert [a["id"] for a in after["booking"]["appointments"]] == [appointment["id"]]
    assert after["catalog"] == {} and after["inventory"] == {}
