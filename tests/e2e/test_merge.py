"""B07 end to end, through the gateway with every process running: the same person created
in two establishments with differently written e-mail and phone is listed as a duplicate;
the record merged away has an appointment, a deposit, a loyalty card with points, a
subscription and a gift card; after mergeClients (and the consumers catching up) each is on
the kept record, the merged id answers the kept record, nothing is lost; the refusals change
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_agenda import _at
from tests.e2e.test_till import (
    BOOK,
    CREATE_CLIENT,
    CREATE_LOYALTY_CARD,
    ISSUE_GIFT_CARD,
    PUBLIC_BOOK,
    SELL_SUBSCRIPTION,
    Till,
    _cash,
    _eventually,
    _ok,
)
from tests.support.graphql import Gql, sign_up

pytestmark = pytest.mark.e2e

ERRORS = "errors { field code message }"
DUPLICATES = """query($first: Int, $after: String) { duplicateClients(first: $first, after: $after)
  { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { reason value clients { id email phone } } } } }"""
MERGE = f"""mutation($input: MergeClientsInput!) {{ mergeClients(input: $input) {{
  client {{ id firstName lastName email phone establishments {{ id }} }} {ERRORS} }} }}"""
RECORD = """query($id: ID!) { client(id: $id) { id email phone
  establishments { id }
  appointments { id client { id } }
  loyaltyCard { id points establishment { id } }
  subscriptions { id visitsLeft }
  giftCards { id balance }
  deposits { id amount status } } }"""
CLIENT_IDS = "{ clients(first: 100) { totalCount edges { node { id } } } }"


def _groups(api: Gql) -> list[tuple[str, str, list[str]]]:
    found = api(DUPLICATES, first=10)["duplicateClients"]
    groups = [
        (e["node"]["reason"], e["node"]["value"], [c["id"] for c in e["node"]["clients"]])
        for e in found["edges"]
    ]
    assert found["totalCount"] == len(groups)
    return groups


def _record(api: Gql, client_id: str) -> dict[str, Any]:
    found = api(RECORD, id=client_id)["client"]
    assert found is not None
    return dict(found)


def test_B07_duplicates_are_listed_and_merged_with_everything_they_hold(gql: Gql) -> None:
    till = Till(gql)
    api = till.api
    # The same person, twice: booked online in B (e-mail in lower case, phone international),
    # then created at the desk in A (e-mail in other case, phone national).
    booked = _ok(
        gql.as_(None)(
            PUBLIC_BOOK,
            input={
                "establishmentId": till.b,
                "serviceId": till.service,
                "start": _at(till.day, 15),
                "firstName": "Mia",
                "lastName": "Merge",
                "email": "mia.merge@example.com",
                "phone": "+32 470 11 22 33",
                "deposit": "10.00",
            },
        ),
        "publicBook",
    )
    appointment = booked["appointment"]
    merged = appointment["client"]["id"]
    deposit = appointment["deposit"]
    till.switch(till.a)
    kept = _ok(
        api(
            CREATE_CLIENT,
            input={
                "firstName": "Mia",
                "lastName": "Merge",
                "email": "Mia.Merge@Example.COM",
                "phone": "0470 11 22 33",
            },
        ),
        "createClient",
    )["client"]["id"]
    assert kept != merged

    # In B the merged record has a loyalty card that earned points, a subscription and a
    # gift card; the kept record has a card in B too (R23: one per client there).
    till.switch(till.b)
    merged_card = _ok(api(CREATE_LOYALTY_CARD, input={"clientId": merged}), "createLoyaltyCard")[
        "loyaltyCard"
    ]
    kept_card = _ok(api(CREATE_LOYALTY_CARD, input={"clientId": kept}), "createLoyaltyCard")[
        "loyaltyCard"
    ]
    sold = _ok(
        api(
            SELL_SUBSCRIPTION,
            input={"clientId": merged, "name": "5 cuts", "visits": 5, "price": "150.00"},
        ),
        "sellSubscription",
    )["subscription"]
    gift = _ok(
        api(ISSUE_GIFT_CARD, input={"amount": "25.00", "clientId": merged}), "issueGiftCard"
    )["giftCard"]
    paid = till.checkout([_cash("40.00")], clientId=merged, applyDeposits=False)
    assert paid["errors"] == [], paid["errors"]

    def earned() -> None:
        assert _record(api, merged)["loyaltyCard"]["points"] == 40

    _eventually(earned)
    before = _record(api, merged)
    assert [a["id"] for a in before["appointments"]] == [appointment["id"]]
    assert [d["id"] for d in before["deposits"]] == [deposit["id"]]

    # Both are listed, by e-mail and by phone.
    assert _groups(api) == [
        ("EMAIL", "mia.merge@example.com", [merged, kept]),
        ("PHONE", "+32470112233", [merged, kept]),
    ]

    # Refusals, and nothing changes: a staff member; the client with itself; another
    # organization's client (as an unknown id).
    staff = till.member()
    refused = staff(MERGE, input={"keepId": kept, "mergeId": merged})["mergeClients"]
    assert (refused["client"], [e["code"] for e in refused["errors"]]) == (None, ["FORBIDDEN"])
    itself = api(MERGE, input={"keepId": kept, "mergeId": kept})["mergeClients"]
    assert [(e["code"], e["field"]) for e in itself["errors"]] == [("INVALID", "mergeId")]
    other = sign_up(gql)
    foreign = _ok(
        other.api(CREATE_CLIENT, input={"firstName": "Mia", "lastName": "Merge"}), "createClient"
    )["client"]["id"]
    for keep_id, merge_id, field in ((kept, foreign, "mergeId"), (foreign, merged, "keepId")):
        answer = api(MERGE, input={"keepId": keep_id, "mergeId": merge_id})["mergeClients"]
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("NOT_FOUND", field)]
    assert _record(api, merged) == before
    assert _record(other.api, foreign)["id"] == foreign
    assert len(_groups(api)) == 2

    # A manager merges.
    till.switch(till.a)
    manager = till.member(role="MANAGER")
    result = _ok(manager(MERGE, input={"keepId": kept, "mergeId": merged}), "mergeClients")
    assert result["client"]["id"] == kept
    assert result["client"]["email"] == "Mia.Merge@example.com"
    assert {e["id"] for e in result["client"]["establishments"]} == {till.a, till.b}
    again = manager(MERGE, input={"keepId": kept, "mergeId": merged})["mergeClients"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("CONFLICT", "mergeId")]

    # Everything is on the kept record once the services caught up; the merged id answers
    # the kept record.
    till.switch(till.b)

    def moved() -> dict[str, Any]:
        record = _record(api, kept)
        assert [a["id"] for a in record["appointments"]] == [appointment["id"]]
        assert [d["id"] for d in record["deposits"]] == [deposit["id"]]
        assert [s["id"] for s in record["subscriptions"]] == [sold["id"]]
        assert [g["id"] for g in record["giftCards"]] == [gift["id"]]
        return record

    record = _eventually(moved)
    assert record["appointments"][0]["client"]["id"] == kept
    assert [(d["amount"], d["status"]) for d in record["deposits"]] == [
        (deposit["amount"], deposit["status"])
    ]
    assert [s["visitsLeft"] for s in record["subscriptions"]] == [5]
    assert [g["balance"] for g in record["giftCards"]] == ["25.00"]
    # R23: the merged card's points went into the kept record's card of B.
    assert record["loyaltyCard"]["id"] == kept_card["id"] != merged_card["id"]
    assert record["loyaltyCard"]["points"] == 40
    assert record["phone"] == "+32470112233"
    assert _record(api, merged) == record
    listed = [e["node"]["id"] for e in api(CLIENT_IDS)["clients"]["edges"]]
    assert merged not in listed and kept in listed
    assert _groups(api) == []

    # A booking made later with the merged id lands on the kept record.
    late = _ok(
        api(
            BOOK,
            input={
                "clientId": merged,
                "serviceId": till.service,
                "start": _at(till.day, 11),
                "staffId": till.stylist,
            },
        ),
        "bookAppointment",
    )["appointment"]
    ids = [a["id"] for a in _record(api, kept)["appointments"]]
    assert sorted(ids) == sorted([appointment["id"], late["id"]])
