"""Event envelope and subjects, as ARCHITECTURE.md defines them.

- type:    ``salon.<service>.<entity>.<verb>.v<version>``
- subject: ``salon.<organization>.<establishment|org>.<service>.<entity>.<verb>``
- headers: CloudEvents attributes (``ce-*``) plus ``Nats-Msg-Id`` = the event id, and the
           W3C ``traceparent`` when the change that wrote the event was traced
- body:    the protobuf message
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

SPEC_VERSION = "1.0"
TRACEPARENT = "traceparent"
CONTENT_TYPE = "application/protobuf"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class EventType:
    service: str
    entity: str
    verb: str
    version: int = 1

    @property
    def name(self) -> str:
        return f"salon.{self.service}.{self.entity}.{self.verb}.v{self.version}"

    def subject(self, organization_id: str, establishment_id: str | None) -> str:
        parts = [organization_id, establishment_id or "org", self.service, self.entity, self.verb]
        for part in parts:
            if not _TOKEN.match(part):
                raise ValueError(f"not a subject token: {part!r}")
        return "salon." + ".".join(parts)

    def filter(self, organization_id: str = "*") -> str:
        """The subject filter matching this type in every establishment."""
        return f"salon.{organization_id}.*.{self.service}.{self.entity}.{self.verb}"

    @classmethod
    def parse(cls, name: str) -> EventType:
        parts = name.split(".")
        if len(parts) != 5 or parts[0] != "salon" or not parts[4].startswith("v"):
            raise ValueError(f"not an event type: {name!r}")
        return cls(parts[1], parts[2], parts[3], int(parts[4][1:]))


@dataclass(frozen=True)
class Event:
    """An event as a consumer sees it: envelope attributes and the raw protobuf body."""

    id: str
    type: str
    source: str
    time: datetime
    organization_id: str
    establishment_id: str | None
    actor_id: str | None
    subject: str
    data: bytes
    # W3C trace context of the span that wrote the event (services/common/tracing.py):
    # the NATS header `traceparent` beside the CloudEvents ones; None when untraced.
    traceparent: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {
            "Nats-Msg-Id": self.id,
            "ce-specversion": SPEC_VERSION,
            "ce-id": self.id,
            "ce-type": self.type,
            "ce-source": self.source,
            "ce-time": self.time.isoformat(),
            "ce-organizationid": self.organization_id,
            "content-type": CONTENT_TYPE,
        }
        if self.establishment_id:
            headers["ce-establishmentid"] = self.establishment_id
        if self.actor_id:
            headers["ce-actorid"] = self.actor_id
        if self.traceparent:
            headers[TRACEPARENT] = self.traceparent
        return headers

    @classmethod
    def from_message(cls, subject: str, headers: Mapping[str, str] | None, data: bytes) -> Event:
        h = headers or {}
        try:
            return cls(
                id=h["ce-id"],
                type=h["ce-type"],
                source=h["ce-source"],
                time=datetime.fromisoformat(h["ce-time"]),
                organization_id=h["ce-organizationid"],
                establishment_id=h.get("ce-establishmentid") or None,
                actor_id=h.get("ce-actorid") or None,
                subject=subject,
                data=data,
                traceparent=h.get(TRACEPARENT) or None,
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"not a salon event: {exc}") from exc

    def parse(self, message_type: builtins.type[M]) -> M:
        msg = message_type()
        msg.ParseFromString(self.data)
        return msg
