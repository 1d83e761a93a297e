"""docs/events.md is exactly what `python -m gateway.events.catalogue` writes from the protos
and the code, and the generator refuses to leave an event type out (B06)."""

from __future__ import annotations

import json
import re

import pytest

from gateway.events import catalogue, registry
from services.common.events import EventType


@pytest.fixture(scope="module")
def protos() -> catalogue.Protos:
    return catalogue.read_protos()


@pytest.fixture(scope="module")
def code() -> dict[str, catalogue.CodeType]:
    return catalogue.read_code()


def test_B06_docs_events_md_is_what_the_generator_writes(
    protos: catalogue.Protos, code: dict[str, catalogue.CodeType]
) -> None:
    assert catalogue.DOCS_FILE.read_text() == catalogue.render(protos, code), (
        f"docs/events.md is stale: run `{catalogue.COMMAND}`"
    )


def test_B06_every_published_type_is_documented_with_its_subject_message_and_example(
    protos: catalogue.Protos, code: dict[str, catalogue.CodeType]
) -> None:
    text = catalogue.DOCS_FILE.read_text()
    published = {name for name, c in code.items() if c.publishers}
    # What the README lists as published, and the gateway's own tenancy events.
    assert {
        "salon.tenancy.organization.created.v1",
        "salon.clients.client.created.v1",
        "salon.booking.appointment.booked.v1",
        "salon.inventory.stock.transferred.v1",
        "salon.payments.receipt.created.v1",
    } <= published
    sections = dict(re.findall(r"^### (salon\.[a-z_.0-9]+)\n(.*?)(?=^### |\Z)", text, re.M | re.S))
    for name in published:
        event_type = EventType.parse(name)
        section = sections[name]
        assert f"- version: {event_type.version}" in section
        assert f"`{registry.message_name(event_type)}`" in section
        example = json.loads(section.split("```json\n", 1)[1].split("\n```", 1)[0])
        cls = registry.message_class(name)
        assert cls is not None
        # The example is a message of that type in the JSON a subscription delivers.
        assert set(example) == {f.json_name for f in cls.DESCRIPTOR.fields}
    # The subject's level comes from the code: record_event(..., establishment_id=None).
    assert (
        "`salon.<organization>.org.catalog.service.created`"
        in sections["salon.catalog.service.created.v1"]
    )
    assert (
        "`salon.<organization>.<establishment>.booking.appointment.booked`"
        in sections["salon.booking.appointment.booked.v1"]
    )


def test_B06_a_type_published_without_its_message_stops_the_generator(
    protos: catalogue.Protos, code: dict[str, catalogue.CodeType]
) -> None:
    orphan = EventType("booking", "appointment", "teleported")
    broken = {**code, orphan.name: catalogue.CodeType(orphan, {"booking"}, {"establishment"})}
    with pytest.raises(catalogue.CatalogueError, match="AppointmentTeleported"):
        catalogue.entries(protos, broken)
    # A ce-type comment naming another message than the naming rule's is refused too.
    comments = dict(protos.comments)
    comments["salon.booking.v1.AppointmentBooked"] = "ce-type salon.booking.appointment.moved2.v1"
    misnamed = catalogue.Protos(comments, protos.event_files)
    with pytest.raises(catalogue.CatalogueError, match="moved2"):
        catalogue.entries(misnamed, code)
