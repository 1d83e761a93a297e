"""The shared client file (R10): what a client record is and how its input is checked; and
loyalty cards (R23), which belong to the establishment where they were created and earn
points from that establishment's receipts only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import phonenumbers

from services.common import validation
from services.common.errors import invalid

MAX_PAGE = 100
MAX_SEARCH = 100
MAX_BATCH = 1000
# A card's points stay well inside the proto's int32, whatever the receipts.
MAX_POINTS = 2_000_000_000


@dataclass
class Client:
    id: str
    organization_id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    created_in_establishment_id: str
    created_at: datetime
    updated_at: datetime
    establishment_ids: list[str] = field(default_factory=list)
    # B11: set once the client's personal data was erased.
    erased_at: datetime | None = None
    # R30: the client declined marketing e-mail / SMS. False by default: a salon's own
    # clients receive its campaigns until they object (the soft opt-in of the ePrivacy
    # rules for existing customers; an objection is recorded here and always respected).
    marketing_email_opt_out: bool = False
    marketing_sms_opt_out: bool = False
    # B07: the record this one was merged into (which answers for it), and when.
    merged_into_id: str | None = None
    merged_at: datetime | None = None


# B11: what an erased client's names become; e-mail and phone become NULL.
ERASED_FIRST_NAME = "Erased"


def erased_last_name(client_id: str) -> str:
    """ "client <short id>": tells erased clients apart in a list without naming anyone."""
    return f"client {client_id[:8]}"


@dataclass(frozen=True)
class ClientFields:
    """Validated, normalised values; None means absent (create) or unchanged (update)."""

    first_name: str | None = None
    last_name: str | None = None
    # "" clears the value on update.
    email: str | None = None
    phone: str | None = None
    # R30: None is false (create) or unchanged (update).
    marketing_email_opt_out: bool | None = None
    marketing_sms_opt_out: bool | None = None


def check_new(
    first_name: str,
    last_name: str,
    email: str | None,
    phone: str | None,
    *,
    marketing_email_opt_out: bool | None = None,
    marketing_sms_opt_out: bool | None = None,
) -> ClientFields:
    return ClientFields(
        first_name=validation.name(first_name, "firstName"),
        last_name=validation.name(last_name, "lastName"),
        email=validation.email(email, "email") if email else None,
        phone=validation.phone(phone, "phone") if phone else None,
        marketing_email_opt_out=marketing_email_opt_out,
        marketing_sms_opt_out=marketing_sms_opt_out,
    )


def check_update(
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    phone: str | None,
    *,
    marketing_email_opt_out: bool | None = None,
    marketing_sms_opt_out: bool | None = None,
) -> ClientFields:
    def clearable(value: str | None, check: type | object, fieldname: str) -> str | None:
        if value is None:
            return None
        if not value.strip():
            return ""
        return check(value, fieldname)  # type: ignore[operator]

    return ClientFields(
        first_name=None if first_name is None else validation.name(first_name, "firstName"),
        last_name=None if last_name is None else validation.name(last_name, "lastName"),
        email=clearable(email, validation.email, "email"),
        phone=clearable(phone, validation.phone, "phone"),
        marketing_email_opt_out=marketing_email_opt_out,
        marketing_sms_opt_out=marketing_sms_opt_out,
    )


def check_page_size(first: int) -> int:
    if first < 1 or first > MAX_PAGE:
        raise invalid("first", f"must be between 1 and {MAX_PAGE}")
    return first


def sort_key(first_name: str, last_name: str) -> str:
    return f"{last_name.casefold()} {first_name.casefold()}"


def search_text(first_name: str, last_name: str, email: str | None, phone: str | None) -> str:
    """What a search matches: names, e-mail, and the phone in international and national
    digits, so "0470 12 34 56" finds "+32470123456"."""
    parts = [first_name.casefold(), last_name.casefold()]
    if email:
        parts.append(validation.email_key(email))
    if phone:
        parts.append(phone)
        parts.append(phone.lstrip("+"))
        try:
            national = phonenumbers.format_number(
                phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL
            )
            parts.append("".join(ch for ch in national if ch.isdigit()))
        except phonenumbers.NumberParseException:
            pass
    return " ".join(parts)


def search_terms(search: str | None) -> list[str]:
    """Each whitespace-separated term must match; a term that is mostly digits is compared
    on its digits alone (spaces, dots and dashes in phone numbers do not matter)."""
    if not search:
        return []
    if len(search) > MAX_SEARCH:
        raise invalid("search", f"must be at most {MAX_SEARCH} characters")
    text = search.strip().casefold()
    digits = "".join(ch for ch in text if ch.isdigit())
    stripped = "".join(ch for ch in text if ch not in " .-/()+")
    if digits and len(digits) >= 3 and digits == stripped:
        return [digits]
    return [t for t in text.split() if t]


# -- loyalty cards (R23) ------------------------------------------------------------------


@dataclass(frozen=True)
class LoyaltyCard:
    id: str
    client_id: str
    establishment_id: str
    points: int
    created_at: datetime


def check_client_id(client_id: str) -> str:
    if not client_id.strip():
        raise invalid("clientId", "must not be empty")
    return client_id


def check_client_ids(client_ids: Sequence[str]) -> list[str]:
    """Each id once, in the order asked."""
    if len(client_ids) > MAX_BATCH:
        raise invalid("clientIds", f"at most {MAX_BATCH} ids per call")
    return list(dict.fromkeys(i for i in client_ids if i))


def points_earned(total: str) -> int:
    """One point per whole euro of a receipt's total ("45.99" earns 45); a total of zero
    or below earns nothing. ValueError for a total that is not a decimal amount."""
    try:
        amount = Decimal(total.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {total!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {total!r}")
    if amount <= 0:
        return 0
    return min(math.floor(amount), MAX_POINTS)


# -- duplicates and merge (B07) -----------------------------------------------------------

REASON_EMAIL = "EMAIL"
REASON_PHONE = "PHONE"
# Groups are listed e-mail groups first, then phone groups.
REASONS = (REASON_EMAIL, REASON_PHONE)


@dataclass
class DuplicateGroup:
    reason: str
    # The normalised e-mail (trimmed, lower-case) or phone (E.164) the clients share.
    value: str
    clients: list[Client]


def email_key(email: str | None) -> str | None:
    """How duplicates compare e-mails: the key search and online booking use."""
    return validation.email_key(email) if email else None


def check_merge(keep_id: str, merge_id: str) -> tuple[str, str]:
    """Both ids given and different (merging a record with itself changes nothing)."""
    if not keep_id.strip():
        raise invalid("keepId", "must not be empty")
    if not merge_id.strip():
        raise invalid("mergeId", "must not be empty")
    if keep_id == merge_id:
        raise invalid("mergeId", "a client cannot be merged with itself")
    return keep_id, merge_id


def filled_contacts(kept: Client, merged: Client) -> dict[str, str]:
    """The kept record's empty contact fields that the merged record fills (nothing of the
    merged record's contact data is lost; the kept record's own values win)."""
    out: dict[str, str] = {}
    if not kept.email and merged.email:
        out["email"] = merged.email
    if not kept.phone and merged.phone:
        out["phone"] = merged.phone
    return out
