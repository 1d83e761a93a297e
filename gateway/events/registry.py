"""Event types and their protobuf messages, as the gateway sees them on the wire.

The gateway listens to every service's events but may not import the services (only
`protos/` and `services.common`), so it finds an event's message by the naming rule every
``events.proto`` follows: type ``salon.<service>.<entity>.<verb>.v<N>`` carries the message
``salon.<service>.v<N>.<Entity><Verb>`` (``salon.catalog.product.price_changed.v1`` is
``salon.catalog.v1.ProductPriceChanged``). docs/events.md is generated with the same rule,
and its generator fails when a type published in the code has no such message.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, TypeAlias

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

import salon
from services.common.events import EventType

if TYPE_CHECKING:  # the upb backend's types, as the protobuf stubs give DESCRIPTOR
    from google._upb._message import Descriptor as UpbDescriptor
    from google._upb._message import EnumDescriptor as UpbEnumDescriptor
    from google._upb._message import FieldDescriptor as UpbFieldDescriptor

AnyDescriptor: TypeAlias = "Descriptor | UpbDescriptor"
AnyFieldDescriptor: TypeAlias = "FieldDescriptor | UpbFieldDescriptor"
AnyEnumDescriptor: TypeAlias = "EnumDescriptor | UpbEnumDescriptor"

EVENTS_MODULE = "events_pb2"
# Ids that only repeat the envelope (ce-organizationid, ce-establishmentid): a subject
# names them last.
ENVELOPE_IDS = ("organization_id", "establishment_id")
# Entities that have no id of their own, and the id that says what changed.
KEYS: Mapping[str, str] = {"stock": "product_id"}


def _camel(token: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in token.split("_"))


def message_name(event_type: EventType) -> str:
    """The full protobuf name of an event type's message."""
    return (
        f"salon.{event_type.service}.v{event_type.version}."
        f"{_camel(event_type.entity)}{_camel(event_type.verb)}"
    )


@lru_cache(maxsize=1)
def event_messages() -> Mapping[str, type[Message]]:
    """Every message of every ``salon/<service>/v<N>/events.proto``, by full name."""
    found: dict[str, type[Message]] = {}
    for info in pkgutil.walk_packages(salon.__path__, "salon."):
        if info.name.rsplit(".", 1)[-1] != EVENTS_MODULE:
            continue
        module = importlib.import_module(info.name)
        for name in module.DESCRIPTOR.message_types_by_name:
            cls = getattr(module, name)
            found[cls.DESCRIPTOR.full_name] = cls
    return found


def message_class(type_name: str) -> type[Message] | None:
    """The message class of an event type name; None for a name that is not one, or a
    type this gateway does not know (a newer service)."""
    try:
        event_type = EventType.parse(type_name)
    except ValueError:
        return None
    return event_messages().get(message_name(event_type))


def decode(type_name: str, data: bytes) -> Message | None:
    cls = message_class(type_name)
    if cls is None:
        return None
    message = cls()
    try:
        message.ParseFromString(data)
    except DecodeError:
        return None
    return message


def to_dict(message: Message) -> dict[str, object]:
    """The proto3 JSON mapping: lowerCamelCase names, enums by name, timestamps in RFC 3339,
    fields left at their default included (a client sees every field, always)."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def to_json(message: Message) -> str:
    return orjson.dumps(to_dict(message)).decode()


def describe(type_name: str, message: Message | None) -> str:
    """A readable subject for the audit log: the entity and the first id that names it
    ("appointment 3f2a…", "loyalty card 9c1e…", "stock, product 77ab…")."""
    try:
        entity = EventType.parse(type_name).entity
    except ValueError:
        return type_name[:120]
    words = entity.replace("_", " ")
    if message is None:
        return words
    found = _subject_id(entity, message)
    if found is None:
        return words
    field, value = found
    if field in ("id", f"{entity}_id"):
        return f"{words} {value}"
    return f"{words}, {field.removesuffix('_id').replace('_', ' ')} {value}"


def _is_entity_message(entity: str, field: AnyFieldDescriptor) -> bool:
    if field.message_type is None or field.is_repeated:
        return False
    type_name = snake(field.message_type.name)
    return field.name == entity or type_name == entity or type_name.endswith(f"_{entity}")


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _own_id(entity: str, message: Message) -> tuple[str, str] | None:
    for name in ("id", f"{entity}_id"):
        value = _string(message, name)
        if value:
            return name, value
    return None


def _string(message: Message, name: str) -> str:
    field = message.DESCRIPTOR.fields_by_name.get(name)
    if field is None or field.is_repeated or field.type != FieldDescriptor.TYPE_STRING:
        return ""
    return str(getattr(message, name))


def _ids(message: Message, *, envelope: bool) -> list[tuple[str, str]]:
    out = []
    for field in message.DESCRIPTOR.fields:
        if not field.name.endswith("_id") or (field.name in ENVELOPE_IDS) is not envelope:
            continue
        value = _string(message, field.name)
        if value:
            out.append((field.name, value))
    if envelope:
        out.sort(key=lambda pair: ENVELOPE_IDS.index(pair[0]), reverse=True)
    return out


def _parts(message: Message) -> list[Message]:
    """The singular sub-messages that are ours (not google.protobuf.*), set ones only."""
    descriptor: AnyDescriptor = message.DESCRIPTOR
    return [
        getattr(message, f.name)
        for f in descriptor.fields
        if f.message_type is not None
        and not f.is_repeated
        and not f.message_type.full_name.startswith("google.protobuf.")
        and message.HasField(f.name)
    ]


def _subject_id(entity: str, message: Message) -> tuple[str, str] | None:
    # 1. The entity's own id at the top (service_id of ServiceDeleted).
    if found := _own_id(entity, message):
        return found
    # 2. The entity's message (appointment of AppointmentBooked, card of LoyaltyCardCredited).
    for field in message.DESCRIPTOR.fields:
        if (
            _is_entity_message(entity, field)
            and message.HasField(field.name)
            and (found := _own_id(entity, getattr(message, field.name)))
        ):
            return found
    parts = _parts(message)
    # 3. What names an entity without an id of its own (the product of a stock change).
    key = KEYS.get(entity)
    if key:
        for candidate in (message, *parts):
            if value := _string(candidate, key):
                return key, value
    # 4. Another id at the top (transfer_id, reservation_id, user_id of a membership), then
    #    in the first part, then the envelope's ids (the establishment of opening hours).
    for candidate in (message, *parts[:1]):
        if ids := _ids(candidate, envelope=False):
            return ids[0]
    for candidate in (message, *parts[:1]):
        if ids := _ids(candidate, envelope=True):
            return ids[0]
    return None
