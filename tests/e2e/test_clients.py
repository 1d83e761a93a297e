"""The shared client file end to end (R01, R10), and what happens when its service is down."""

from __future__ import annotations

import time

import httpx
import pytest

from launcher.stack import Stack
from tests.support.graphql import Gql, sign_up

pytestmark = pytest.mark.e2e

CREATE = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id firstName lastName email phone establishments { id name } }
  errors { field code message } } }"""
UPDATE = """mutation($input: UpdateClientInput!) { updateClient(input: $input) {
  client { id firstName lastName email phone establishments { id } }
  errors { field code message } } }"""
CLIENT = """query($id: ID!) { client(id: $id) { id firstName lastName email phone
  establishments { id name } } }"""
CLIENTS = """query($first: Int, $after: String, $search: String, $est: ID) {
  clients(first: $first, after: $after, search: $search, establishmentId: $est) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id firstName lastName establishments { id } } } } }"""
CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id } errors { code } } }"""
SWITCH = """mutation($input: SwitchEstablishmentInput!) { switchEstablishment(input: $input) {
  errors { code } } }"""


def _client(api: Gql, first: str, last: str, **extra: str) -> dict:
    result = api(CREATE, input={"firstName": first, "lastName": last, **extra})["createClient"]
    assert result["errors"] == [], result["errors"]
    return dict(result["client"])


def test_R10_a_client_created_in_one_establishment_is_seen_from_the_other(gql: Gql) -> None:
    org = sign_up(gql)
    gent = org.api(CREATE_EST, input={"name": "Gent"})["createEstablishment"]["establishment"]
    ann = _client(org.api, "Ann", "Peeters", email="ann@example.com", phone="0470 12 34 56")
    assert ann["phone"] == "+32470123456"
    assert [e["id"] for e in ann["establishments"]] == [org.establishment_id]

    org.api(SWITCH, input={"establishmentId": gent["id"]})
    seen = org.api(CLIENT, id=ann["id"])["client"]
    assert seen["email"] == "ann@example.com"
    found = org.api(CLIENTS, search="peeters")["clients"]
    assert [e["node"]["id"] for e in found["edges"]] == [ann["id"]]

    bob = _client(org.api, "Bob", "Maes")
    in_antwerp = org.api(CLIENTS, est=org.establishment_id)["clients"]
    in_gent = org.api(CLIENTS, est=gent["id"])["clients"]
    everyone = org.api(CLIENTS)["clients"]
    assert [e["node"]["id"] for e in in_antwerp["edges"]] == [ann["id"]]
    assert [e["node"]["id"] for e in in_gent["edges"]] == [bob["id"]]
    assert everyone["totalCount"] == 2

    # Changing Ann while working in Gent gives her history there too.
    updated = org.api(UPDATE, input={"id": ann["id"], "phone": None})["updateClient"]
    assert updated["errors"] == [] and updated["client"]["phone"] is None
    assert {e["id"] for e in updated["client"]["establishments"]} == {
        org.establishment_id,
        gent["id"],
    }
    assert org.api(CLIENTS, est=gent["id"])["clients"]["totalCount"] == 2


def test_R01_another_organization_sees_none_of_the_client_file(gql: Gql) -> None:
    a, b = sign_up(gql, name="A"), sign_up(gql, name="B")
    ann = _client(a.api, "Ann", "Peeters", email="ann.r01@example.com", phone="0470000001")
    assert b.api(CLIENT, id=ann["id"])["client"] is None
    for search in ["Ann", "Peeters", "ann.r01@example.com", "0470000001", ""]:
        listed = b.api(CLIENTS, search=search)["clients"]
        assert listed["totalCount"] == 0 and listed["edges"] == []
    foreign_establishment = b.api.raw(CLIENTS, {"est": a.establishment_id})
    assert foreign_establishment["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    changed = b.api(UPDATE, input={"id": ann["id"], "firstName": "Eve"})["updateClient"]
    assert [(e["code"], e["field"]) for e in changed["errors"]] == [("NOT_FOUND", "id")]
    assert a.api(CLIENT, id=ann["id"])["client"]["firstName"] == "Ann"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"firstName": "", "lastName": "Peeters"}, "firstName"),
        ({"firstName": "Ann", "lastName": "x" * 101}, "lastName"),
        ({"firstName": "Ann", "lastName": "P", "email": "ann@"}, "email"),
        ({"firstName": "Ann", "lastName": "P", "phone": "call me"}, "phone"),
    ],
)
def test_bad_client_input_is_invalid_and_writes_nothing(gql: Gql, values: dict, field: str) -> None:
    org = sign_up(gql)
    result = org.api(CREATE, input=values)["createClient"]
    assert result["client"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", field)]
    assert org.api(CLIENTS)["clients"]["totalCount"] == 0


def test_paging_through_the_client_file(gql: Gql) -> None:
    org = sign_up(gql)
    for i in range(7):
        _client(org.api, f"Client{i}", "Paged")
    seen, after = [], None
    while True:
        page = org.api(CLIENTS, first=3, after=after)["clients"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 7
    too_many = org.api.raw(CLIENTS, {"first": 1000})
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID"


def _wait_ready(stack: Stack, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not stack.service_ready(name):
        assert time.monotonic() < deadline, f"{name} did not come back"
        time.sleep(0.1)


def test_a_query_touching_a_stopped_service_fails_only_there_and_recovers(
    stack: Stack, gql: Gql
) -> None:
    org = sign_up(gql)
    ann = _client(org.api, "Ann", "Peeters")
    query = """query($id: ID!) { me { role } client(id: $id) { id firstName } }"""
    base = gql.url.removesuffix("/graphql")
    stack.stop_child("clients")
    try:
        body = org.api.raw(query, {"id": ann["id"]})
        assert body["data"]["me"] == {"role": "OWNER"}  # the rest still resolves
        assert body["data"]["client"] is None
        [error] = body["errors"]
        assert error["path"] == ["client"]
        assert error["extensions"]["code"] == "UNAVAILABLE"
        created = org.api.raw(CREATE, {"input": {"firstName": "X", "lastName": "Y"}})
        assert created["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503 and ready.json()["unavailable"] == ["clients"]
    finally:
        stack.children["clients"].spawn()
        _wait_ready(stack, "clients")
    deadline = time.monotonic() + 15
    while True:  # the gateway's channel reconnects by itself, no restart
        body = org.api.raw(query, {"id": ann["id"]})
        if not body.get("errors") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert body.get("errors") is None, body
    assert body["data"]["client"]["firstName"] == "Ann"
    assert org.api(CLIENTS)["clients"]["totalCount"] == 1  # nothing written while down
