"""The agenda end to end: opening hours per establishment, booking, no double booking in
one establishment or across establishments, agenda rights, availability (R04, R10, R21,
B05, B09)."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.graphql import Gql, Org, sign_up, unique_email

pytestmark = pytest.mark.e2e

BRUSSELS = ZoneInfo("Europe/Brussels")
ERRORS = "errors { field code message }"
SET_HOURS = f"""mutation($input: SetOpeningHoursInput!) {{ setOpeningHours(input: $input) {{
  establishment {{ id openingHours {{ weekday opens closes }} }} {ERRORS} }} }}"""
CREATE_EST = """mutation($input: CreateEstablishmentInput!) { createEstablishment(input: $input) {
  establishment { id } errors { code } } }"""
SWITCH = """mutation($input: SwitchEstablishmentInput!) { switchEstablishment(input: $input) {
  errors { code } } }"""
ADD_MEMBER = """mutation($input: AddMemberInput!) { addMember(input: $input) {
  user { id } errors { code message } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { session { token } } }"""
CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id } errors { code } } }"""
CREATE_SERVICE = """mutation($input: CreateServiceInput!) { createService(input: $input) {
  service { id } errors { code } } }"""
BOOK = f"""mutation($input: BookAppointmentInput!) {{ bookAppointment(input: $input) {{
  appointment {{ id start end status establishment {{ id }} staff {{ id }} client {{ id }}
  service {{ id durationMinutes }} }} {ERRORS} }} }}"""
CANCEL = f"""mutation($input: CancelAppointmentInput!) {{ cancelAppointment(input: $input) {{
  appointment {{ id status }} {ERRORS} }} }}"""
AGENDA = """query($date: Date!, $est: ID) { agenda(date: $date, establishmentId: $est) {
  id start status client { id firstName } service { id name } staff { id name } } }"""
AVAILABILITY = """query($s: ID!, $date: Date!, $est: ID) {
  availability(serviceId: $s, date: $date, establishmentId: $est) { start end staff { id } } }"""
WEEK = [{"weekday": d, "opens": "09:00", "closes": "18:00"} for d in range(1, 7)]


def _ok(result: dict, name: str) -> dict:
    payload = dict(result[name])
    assert payload["errors"] == [], payload["errors"]
    return payload


def _day() -> date:
    """A Monday at least a week ahead, so the tests never age."""
    today = datetime.now(BRUSSELS).date() + timedelta(days=7)
    return today + timedelta(days=(7 - today.weekday()) % 7)


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS).isoformat()


class Salon:
    """An organization with two establishments (A, B), opening hours in both, a service,
    a client, and a stylist who works in both (B09)."""

    def __init__(self, gql: Gql) -> None:
        self.org: Org = sign_up(gql)
        self.a = self.org.establishment_id
        self.b = _ok(self.org.api(CREATE_EST, input={"name": "B"}), "createEstablishment")[
            "establishment"
        ]["id"]
        self.stylist_email = unique_email("stylist")
        self.stylist = ""
        for est in (self.a, self.b):
            self.switch(est)
            _ok(self.org.api(SET_HOURS, input={"hours": WEEK}), "setOpeningHours")
            added = _ok(
                self.org.api(
                    ADD_MEMBER,
                    input={
                        "email": self.stylist_email,
                        "name": "Stylist",
                        "password": "stylist-pass-1",
                        "role": "STAFF",
                        "rights": [],
                    },
                ),
                "addMember",
            )
            self.stylist = added["user"]["id"]
        self.switch(self.a)
        self.service = _ok(
            self.org.api(
                CREATE_SERVICE, input={"name": "Cut", "price": "40", "durationMinutes": 30}
            ),
            "createService",
        )["service"]["id"]
        self.client = _ok(
            self.org.api(CREATE_CLIENT, input={"firstName": "Ann", "lastName": "Peeters"}),
            "createClient",
        )["client"]["id"]
        self.day = _day()

    def switch(self, est: str) -> None:
        assert (
            self.org.api(SWITCH, input={"establishmentId": est})["switchEstablishment"]["errors"]
            == []
        )

    def book(self, hour: int, minute: int = 0, api: Gql | None = None, **extra: str) -> dict:
        values = {
            "clientId": self.client,
            "serviceId": self.service,
            "start": _at(self.day, hour, minute),
            "staffId": self.stylist,
            **extra,
        }
        return dict((api or self.org.api)(BOOK, input=values)["bookAppointment"])


def test_R21_opening_hours_are_per_establishment(gql: Gql) -> None:
    org = sign_up(gql)
    b = _ok(org.api(CREATE_EST, input={"name": "B"}), "createEstablishment")["establishment"]
    set_ = _ok(
        org.api(
            SET_HOURS,
            input={
                "hours": [
                    {"weekday": 1, "opens": "09:00", "closes": "12:00"},
                    {"weekday": 1, "opens": "13:00", "closes": "18:00"},
                ]
            },
        ),
        "setOpeningHours",
    )
    assert set_["establishment"]["openingHours"] == [
        {"weekday": 1, "opens": "09:00", "closes": "12:00"},
        {"weekday": 1, "opens": "13:00", "closes": "18:00"},
    ]
    hours = org.api("{ organization { establishments { id openingHours { weekday } } } }")
    by_id = {e["id"]: e["openingHours"] for e in hours["organization"]["establishments"]}
    assert len(by_id[org.establishment_id]) == 2 and by_id[b["id"]] == []
    bad = org.api(
        SET_HOURS, input={"hours": [{"weekday": 8, "opens": "09:00", "closes": "18:00"}]}
    )["setOpeningHours"]
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID", "hours")]


def test_booking_shows_in_the_agenda_and_cancel_frees_the_slot(gql: Gql) -> None:
    salon = Salon(gql)
    booked = salon.book(10)
    assert booked["errors"] == []
    appointment = booked["appointment"]
    assert appointment["status"] == "BOOKED"
    assert appointment["service"]["durationMinutes"] == 30
    assert appointment["establishment"]["id"] == salon.a
    agenda = salon.org.api(AGENDA, date=salon.day.isoformat())["agenda"]
    assert [(a["id"], a["client"]["firstName"], a["staff"]["id"]) for a in agenda] == [
        (appointment["id"], "Ann", salon.stylist)
    ]
    taken = _at(salon.day, 10)
    slots = salon.org.api(AVAILABILITY, s=salon.service, date=salon.day.isoformat())
    starts = {s["start"] for s in slots["availability"] if s["staff"]["id"] == salon.stylist}
    assert datetime.fromisoformat(taken) not in {datetime.fromisoformat(s) for s in starts}
    _ok(salon.org.api(CANCEL, input={"id": appointment["id"]}), "cancelAppointment")
    again = salon.book(10)
    assert again["errors"] == []


def test_B09_fifty_concurrent_bookings_of_one_slot_give_one_appointment(gql: Gql) -> None:
    salon = Salon(gql)
    values = {
        "clientId": salon.client,
        "serviceId": salon.service,
        "start": _at(salon.day, 11),
        "staffId": salon.stylist,
    }

    async def race() -> list[dict]:
        headers = {"Authorization": f"Bearer {salon.org.api.token}"}
        async with httpx.AsyncClient(timeout=60) as http:
            replies = await asyncio.gather(
                *(
                    http.post(
                        gql.url,
                        json={"query": BOOK, "variables": {"input": values}},
                        headers=headers,
                    )
                    for _ in range(50)
                )
            )
        return [r.json()["data"]["bookAppointment"] for r in replies]

    results = asyncio.run(race())
    won = [r for r in results if not r["errors"]]
    lost = [r for r in results if r["errors"]]
    assert len(won) == 1
    assert {(e["code"], e["field"]) for r in lost for e in r["errors"]} == {("SLOT_TAKEN", "start")}
    agenda = salon.org.api(AGENDA, date=salon.day.isoformat())["agenda"]
    assert len([a for a in agenda if a["status"] == "BOOKED"]) == 1


def test_B09_one_person_cannot_be_booked_in_two_establishments_at_once(gql: Gql) -> None:
    salon = Salon(gql)
    assert salon.book(14)["errors"] == []
    salon.switch(salon.b)
    clash = salon.book(14, 15)  # 14:15-14:45 overlaps 14:00-14:30 in A
    assert [(e["code"], e["field"]) for e in clash["errors"]] == [("SLOT_TAKEN", "start")]
    slots = salon.org.api(AVAILABILITY, s=salon.service, date=salon.day.isoformat())
    busy = datetime.fromisoformat(_at(salon.day, 14))
    stylist_starts = {
        datetime.fromisoformat(s["start"])
        for s in slots["availability"]
        if s["staff"]["id"] == salon.stylist
    }
    assert busy not in stylist_starts  # busy in A, so not free in B (the owner may be)
    assert salon.book(14, 30)["errors"] == []  # right after: free


def test_R04_another_establishments_agenda_needs_the_right(gql: Gql) -> None:
    salon = Salon(gql)
    assert salon.book(9)["errors"] == []
    viewers = {}
    for who, rights in [("without", []), ("with", ["SWITCH_AGENDA"])]:
        salon.switch(salon.b)
        email = unique_email(who)
        _ok(
            salon.org.api(
                ADD_MEMBER,
                input={
                    "email": email,
                    "name": who,
                    "password": "viewer-pass-1",
                    "role": "STAFF",
                    "rights": rights,
                },
            ),
            "addMember",
        )
        token = salon.org.api.as_(None)(LOGIN, input={"email": email, "password": "viewer-pass-1"})
        viewers[who] = salon.org.api.as_(token["login"]["session"]["token"])
    refused = viewers["without"].raw(AGENDA, {"date": salon.day.isoformat(), "est": salon.a})
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert viewers["without"](AGENDA, date=salon.day.isoformat())["agenda"] == []  # B's own
    seen = viewers["with"](AGENDA, date=salon.day.isoformat(), est=salon.a)["agenda"]
    assert len(seen) == 1


def test_bad_bookings_are_refused_and_write_nothing(gql: Gql) -> None:
    salon = Salon(gql)
    outsider = sign_up(gql)
    foreign_client = _ok(
        outsider.api(CREATE_CLIENT, input={"firstName": "X", "lastName": "Y"}), "createClient"
    )["client"]["id"]
    past = (datetime.now(BRUSSELS) - timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    cases = [
        (salon.book(7), "OUTSIDE_OPENING_HOURS", "start"),
        (salon.book(17, 45), "OUTSIDE_OPENING_HOURS", "start"),  # ends after closing
        (salon.book(10, start=past.isoformat()), "INVALID", "start"),
        (salon.book(10, clientId=foreign_client), "NOT_FOUND", "clientId"),
        (salon.book(10, serviceId="unknown"), "NOT_FOUND", "serviceId"),
        (salon.book(10, staffId=outsider.owner_id), "NOT_FOUND", "staffId"),
        (salon.book(10, start="2030-01-07T10:00:00"), "INVALID", "start"),  # no offset
    ]
    for result, code, field in cases:
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, field)], result
    assert salon.org.api(AGENDA, date=salon.day.isoformat())["agenda"] == []
    malformed = salon.org.api.raw(AGENDA, {"date": "2027-13-45"})
    assert malformed["data"] is None and malformed["errors"]


def test_R10_a_booking_in_B_gives_the_client_history_there(gql: Gql) -> None:
    salon = Salon(gql)
    salon.switch(salon.b)
    assert salon.book(15)["errors"] == []
    query = """query($est: ID) { clients(establishmentId: $est) { edges { node { id
      establishments { id } appointments { id } } } } }"""
    deadline = time.monotonic() + 15
    while True:  # history arrives through the booking event
        edges = salon.org.api(query, est=salon.b)["clients"]["edges"]
        if edges or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [e["node"]["id"] for e in edges] == [salon.client]
    assert {e["id"] for e in edges[0]["node"]["establishments"]} == {salon.a, salon.b}
    assert len(edges[0]["node"]["appointments"]) == 1  # the session establishment's (B)


def test_B05_deleting_a_service_with_future_appointments_needs_confirmation(gql: Gql) -> None:
    salon = Salon(gql)
    assert salon.book(10)["errors"] == []
    delete = """mutation($input: DeleteServiceInput!) { deleteService(input: $input) {
      deletedServiceId establishments { id } futureAppointments errors { field code } } }"""
    deadline = time.monotonic() + 15
    while True:  # the catalogue counts appointments from the booking events
        asked = salon.org.api(delete, input={"id": salon.service})["deleteService"]
        if asked["futureAppointments"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert asked["deletedServiceId"] is None
    assert asked["futureAppointments"] == 1
    assert {e["id"] for e in asked["establishments"]} == {salon.a, salon.b}
    assert [(e["code"], e["field"]) for e in asked["errors"]] == [
        ("CONFIRMATION_REQUIRED", "confirm")
    ]
    confirmed = salon.org.api(delete, input={"id": salon.service, "confirm": True})
    assert confirmed["deleteService"]["deletedServiceId"] == salon.service
