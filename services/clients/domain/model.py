"""The shared client file (R10): what a client record is and how its input is checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from services.common import validation
from services.common.errors import invalid

MAX_PAGE = 100
MAX_SEARCH = 100


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


@dataclass(frozen=True)
class ClientFields:
    """Validated, normalised values; None means absent (create) or unchanged (update)."""

    first_name: str | None = None
    last_name: str | None = None
    # "" clears the value on update.
    email: str | None = None
    phone: str | None = None


def check_new(
    first_name: str, last_name: str, email: str | None, phone: str | None
) -> ClientFields:
    return ClientFields(
        first_name=validation.name(first_name, "firstName"),
        last_name=validation.name(last_name, "lastName"),
        email=validation.email(email, "email") if email else None,
        phone=validation.phone(phone, "phone") if phone else None,
    )


def check_update(
    first_name: str | None, last_name: str | None, email: str | None, phone: str | None
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
