"""Marketing campaigns (R30): per establishment, to the shared client file, consent first.

- A campaign belongs to the establishment it was created in (the session establishment) and
  is seen, listed and sent only there; another establishment's campaign is NOT_FOUND.
- Its audience is the shared client file (R10, R30): every client of the organization, or
  only the clients with history in the campaign's establishment.
- Sending turns a DRAFT into one message per recipient, once. A recipient who declined the
  channel (marketing e-mail / SMS opt-out), an erased client (B11) and a client without an
  address for the channel get nothing: their message is recorded SKIPPED with the reason.
  The sender checks again just before each message goes (consent given back is not
  needed, consent withdrawn meanwhile is respected).
- Only owners and managers send (a campaign reaches every client of the file).

Pure rules; the store and the sender apply them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.common.errors import DomainError, ErrorCode, invalid
from services.common.scope import Role, Scope

MAX_NAME = 200
MAX_SUBJECT = 300
MAX_EMAIL_BODY = 20_000
# Ten concatenated SMS segments of 160 GSM characters; longer is not an SMS any more.
MAX_SMS_BODY = 1_600
MAX_PAGE = 100
MAX_MESSAGES_PAGE = 1000
# Attempts at one message before it is FAILED (the waits between them: 2, 4, 8... seconds,
# at most five minutes; about 25 minutes in all).
MAX_ATTEMPTS = 10
# Placeholders a campaign's text may use.
FIRST_NAME = "{{firstName}}"
LAST_NAME = "{{lastName}}"


class Channel(StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class Audience(StrEnum):
    ORGANIZATION = "ORGANIZATION"
    ESTABLISHMENT = "ESTABLISHMENT"


class CampaignStatus(StrEnum):
    DRAFT = "DRAFT"
    SENDING = "SENDING"
    SENT = "SENT"


class MessageStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


# Why a message was skipped.
OPTED_OUT_EMAIL = "the client declined marketing e-mail"
OPTED_OUT_SMS = "the client declined marketing SMS"
NO_EMAIL = "the client has no e-mail address"
NO_PHONE = "the client has no phone number"
ERASED = "the client's personal data was erased (B11)"
MERGED = "the client was merged into another record (B07), which is the one written to"


@dataclass(frozen=True)
class NewCampaign:
    name: str
    channel: Channel
    subject: str | None
    body: str
    audience: Audience


@dataclass(frozen=True)
class Counts:
    pending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Campaign:
    id: str
    organization_id: str
    establishment_id: str
    name: str
    channel: Channel
    subject: str | None
    body: str
    audience: Audience
    status: CampaignStatus
    created_by: str
    created_at: datetime
    sent_at: datetime | None
    counts: Counts = field(default_factory=Counts)


@dataclass(frozen=True)
class Message:
    id: str
    campaign_id: str
    client_id: str
    channel: Channel
    address: str | None
    status: MessageStatus
    reason: str | None
    attempts: int
    sent_at: datetime | None


@dataclass(frozen=True)
class Recipient:
    """What the rules need to know of a client of the audience."""

    client_id: str
    email: str | None
    phone: str | None
    marketing_email_opt_out: bool
    marketing_sms_opt_out: bool
    erased: bool
    # B07: merged into another record, which is the one that hears from the salon.
    merged: bool = False


@dataclass(frozen=True)
class Decision:
    """PENDING with the address to send to, or SKIPPED with the reason."""

    status: MessageStatus
    address: str | None
    reason: str | None


def decide(channel: Channel, recipient: Recipient) -> Decision:
    """Whether a client of the audience gets the campaign's message, and at which address.
    An erased client keeps nothing (not even an address); consent comes before address."""
    if recipient.erased:
        return Decision(MessageStatus.SKIPPED, None, ERASED)
    if recipient.merged:
        return Decision(MessageStatus.SKIPPED, None, MERGED)
    if channel is Channel.EMAIL:
        if recipient.marketing_email_opt_out:
            return Decision(MessageStatus.SKIPPED, None, OPTED_OUT_EMAIL)
        if not (recipient.email or "").strip():
            return Decision(MessageStatus.SKIPPED, None, NO_EMAIL)
        return Decision(MessageStatus.PENDING, recipient.email.strip(), None)  # type: ignore[union-attr]
    if recipient.marketing_sms_opt_out:
        return Decision(MessageStatus.SKIPPED, None, OPTED_OUT_SMS)
    if not (recipient.phone or "").strip():
        return Decision(MessageStatus.SKIPPED, None, NO_PHONE)
    return Decision(MessageStatus.PENDING, recipient.phone.strip(), None)  # type: ignore[union-attr]


def personalise(text: str, first_name: str, last_name: str) -> str:
    """The campaign's text for one client: {{firstName}} and {{lastName}} filled in (on one
    line each: a name never breaks a header or an SMS)."""
    first = " ".join(first_name.split())
    last = " ".join(last_name.split())
    return text.replace(FIRST_NAME, first).replace(LAST_NAME, last)


def _text(value: str, fieldname: str, limit: int, *, single_line: bool) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise invalid(fieldname, "must not be empty")
    if len(cleaned) > limit:
        raise invalid(fieldname, f"must be at most {limit} characters")
    if single_line and ("\n" in cleaned or "\r" in cleaned):
        raise invalid(fieldname, "must be one line")
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in cleaned):
        raise invalid(fieldname, "must not contain control characters")
    return cleaned


def check_new(
    name: str, channel: Channel | None, subject: str, body: str, audience: Audience | None
) -> NewCampaign:
    """The campaign as given, checked: INVALID naming the field otherwise."""
    checked_name = _text(name, "name", MAX_NAME, single_line=True)
    if channel is None:
        raise invalid("channel", "must be EMAIL or SMS")
    if audience is None:
        raise invalid("audience", "must be ORGANIZATION or ESTABLISHMENT")
    if channel is Channel.EMAIL:
        checked_subject: str | None = _text(subject, "subject", MAX_SUBJECT, single_line=True)
        checked_body = _text(body, "body", MAX_EMAIL_BODY, single_line=False)
    else:
        if subject.strip():
            raise invalid("subject", "an SMS has no subject")
        checked_subject = None
        checked_body = _text(body, "body", MAX_SMS_BODY, single_line=False)
    return NewCampaign(checked_name, channel, checked_subject, checked_body, audience)


def check_sender(scope: Scope) -> None:
    """Sending reaches every client of the audience: owners and managers only."""
    if scope.role not in (Role.OWNER, Role.MANAGER):
        raise DomainError(ErrorCode.FORBIDDEN, "only an owner or a manager sends a campaign")


def check_campaign_id(campaign_id: str, fieldname: str = "id") -> str:
    if not campaign_id.strip():
        raise invalid(fieldname, "must not be empty")
    return campaign_id.strip()


def check_page(first: int, limit: int, default: int) -> int:
    if first == 0:
        return default
    if first < 1 or first > limit:
        raise invalid("first", f"must be between 1 and {limit}")
    return first
