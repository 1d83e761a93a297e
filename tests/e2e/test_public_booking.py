"""The public booking page end to end, without a session (R15, R16, R17, R26, B01)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.test_agenda import SET_HOURS, WEEK, Salon, _at, _ok
from tests.support.graphql import Gql

pytestmark = pytest.mark.e2e

PAGE = """query($slug: String!) { publicBookingPage(organizationSlug: $slug) {
  name slug establishments { id name openingHours { weekday } } } }"""
SERVICES = """query($est: ID!) { publicServices(establishmentId: $est) { id name price
  bookableOnline } }"""
SLOTS = """query($est: ID!, $s: ID!, $date: Date!) {
  publicAvailability(establishmentId: $est, serviceId: $s, date: $date) {
    start end staff { id name email memberships { role } } } }"""
ACROSS = """query($slug: String!, $s: ID!, $date: Date!) {
  publicAvailabilityAcross(organizationSlug: $slug, serviceId: $s, date: $date) {
    establishment { id } slots { start } } }"""
BOOK = """mutation($input: PublicBookInput!) { publicBook(input: $input) {
  appointment { id start status establishment { id } client { id email }
    deposit { amount status } }
  manageToken errors { field code message } } }"""
MINE = """query($est: ID!, $t: String!) { publicAppointments(establishmentId: $est,
  manageToken: $t) { id status start } }"""
CANCEL = """mutation($input: PublicCancelInput!) { publicCancel(input: $input) {
  appointment { id status } errors { field code message } } }"""
MOVE = """mutation($input: PublicRescheduleInput!) { publicReschedule(input: $input) {
  appointment { id start status } errors { field code message } } }"""
UPDATE_SERVICE = """mutation($input: UpdateServiceInput!) { updateService(input: $input) {
  errors { code } } }"""
CLIENT = """query($id: ID!) { client(id: $id) { id deposits { amount appointment { id } }
  establishments { id } } }"""
ORG = "{ organization { slug } }"


def _page_salon(gql: Gql) -> tuple[Salon, str]:
    salon = Salon(gql)
    slug = salon.org.api(ORG)["organization"]["slug"]
    return salon, slug


def _public_book(gql: Gql, salon: Salon, est: str, hour: int, **extra: str) -> dict:
    values = {
        "establishmentId": est,
        "serviceId": salon.service,
        "start": _at(salon.day, hour),
        "firstName": "Nora",
        "lastName": "Online",
        "email": "nora.online@example.com",
        **extra,
    }
    return dict(gql.as_(None)(BOOK, input=values)["publicBook"])


def test_R16_one_page_shows_every_establishment_side_by_side(gql: Gql) -> None:
    salon, slug = _page_salon(gql)
    page = gql.as_(None)(PAGE, slug=slug)["publicBookingPage"]
    assert {e["id"] for e in page["establishments"]} == {salon.a, salon.b}
    assert all(len(e["openingHours"]) == 6 for e in page["establishments"])
    assert gql.as_(None)(PAGE, slug="no-such-salon-anywhere")["publicBookingPage"] is None


def test_R16_only_services_bookable_online_there_are_offered(gql: Gql) -> None:
    salon, _slug = _page_salon(gql)
    salon.switch(salon.b)
    _ok(
        salon.org.api(UPDATE_SERVICE, input={"id": salon.service, "bookableOnline": False}),
        "updateService",
    )
    anonymous = gql.as_(None)
    assert [s["id"] for s in anonymous(SERVICES, est=salon.a)["publicServices"]] == [salon.service]
    assert anonymous(SERVICES, est=salon.b)["publicServices"] == []
    refused = _public_book(gql, salon, salon.b, 10)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("NOT_FOUND", "serviceId")]


def test_B01_free_slots_of_a_service_in_every_establishment_at_once(gql: Gql) -> None:
    salon, slug = _page_salon(gql)
    across = gql.as_(None)(ACROSS, slug=slug, s=salon.service, date=salon.day.isoformat())
    by_est = {e["establishment"]["id"]: e["slots"] for e in across["publicAvailabilityAcross"]}
    assert set(by_est) == {salon.a, salon.b} and all(by_est.values())
    slots = gql.as_(None)(SLOTS, est=salon.a, s=salon.service, date=salon.day.isoformat())
    staff = slots["publicAvailability"][0]["staff"]
    assert staff["email"] is None and staff["memberships"] == []  # public: id and name only


def test_R26_a_manage_token_works_in_its_establishment_only(gql: Gql) -> None:
    salon, _slug = _page_salon(gql)
    booked = _public_book(gql, salon, salon.a, 10)
    assert booked["errors"] == [] and booked["manageToken"]
    token, appointment = booked["manageToken"], booked["appointment"]
    anonymous = gql.as_(None)
    assert [a["id"] for a in anonymous(MINE, est=salon.a, t=token)["publicAppointments"]] == [
        appointment["id"]
    ]
    assert anonymous(MINE, est=salon.b, t=token)["publicAppointments"] == []
    assert anonymous(MINE, est=salon.a, t="not-a-token")["publicAppointments"] == []
    elsewhere = anonymous(
        CANCEL,
        input={
            "establishmentId": salon.b,
            "manageToken": token,
            "appointmentId": appointment["id"],
        },
    )["publicCancel"]
    assert elsewhere["errors"][0]["code"] == "NOT_FOUND"
    moved = anonymous(
        MOVE,
        input={
            "establishmentId": salon.a,
            "manageToken": token,
            "appointmentId": appointment["id"],
            "start": _at(salon.day, 12),
        },
    )["publicReschedule"]
    assert moved["errors"] == []
    assert datetime.fromisoformat(moved["appointment"]["start"]) == datetime.fromisoformat(
        _at(salon.day, 12)
    )
    cancelled = anonymous(
        CANCEL,
        input={
            "establishmentId": salon.a,
            "manageToken": token,
            "appointmentId": appointment["id"],
        },
    )["publicCancel"]
    assert cancelled["errors"] == [] and cancelled["appointment"]["status"] == "CANCELLED"


def test_R17_an_online_deposit_shows_in_the_appointments_establishment_only(gql: Gql) -> None:
    salon, _slug = _page_salon(gql)
    booked = _public_book(
        gql, salon, salon.b, 11, deposit="10.00", email="deposit.client@example.com"
    )
    assert booked["errors"] == []
    assert booked["appointment"]["deposit"] == {"amount": "10.00", "status": "PAID"}
    client_id = booked["appointment"]["client"]["id"]
    salon.switch(salon.b)
    in_b = salon.org.api(CLIENT, id=client_id)["client"]
    assert [d["amount"] for d in in_b["deposits"]] == ["10.00"]
    salon.switch(salon.a)
    in_a = salon.org.api(CLIENT, id=client_id)["client"]
    assert in_a is not None and in_a["deposits"] == []  # the shared file, not the deposit
    bad = _public_book(gql, salon, salon.b, 13, deposit="-1", email="bad.deposit@example.com")
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID", "deposit")]


def test_R16_online_booking_uses_the_shared_client_file(gql: Gql) -> None:
    salon, _slug = _page_salon(gql)
    first = _public_book(gql, salon, salon.a, 9, email="same.person@example.com")
    second = _public_book(gql, salon, salon.b, 15, email="Same.Person@example.com")
    assert first["errors"] == [] and second["errors"] == []
    assert first["appointment"]["client"]["id"] == second["appointment"]["client"]["id"]


def test_R15_a_confirmation_mail_is_written_once(gql: Gql, mailbox_dir: Path) -> None:
    salon, _slug = _page_salon(gql)
    booked = _public_book(gql, salon, salon.a, 16, email="mail.me@example.com")
    assert booked["errors"] == []
    appointment_id = booked["appointment"]["id"]
    mailbox = mailbox_dir  # the stack's services inherit SALON_MAILBOX_DIR from the tests
    deadline = time.monotonic() + 20
    found: list[Path] = []
    while time.monotonic() < deadline:
        found = [p for p in mailbox.glob("*.eml") if appointment_id in p.name]
        if found:
            break
        time.sleep(0.2)
    assert len(found) == 1, found
    text = found[0].read_text()
    assert "mail.me@example.com" in text


def test_setting_hours_needs_no_session_check_bypass(gql: Gql) -> None:
    """Public operations never open the staff ones: no session, no setOpeningHours."""
    body = gql.as_(None).raw(SET_HOURS, {"input": {"hours": WEEK}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
