"""Input checks shared by the gateway and the services. Each raises an INVALID
DomainError naming the field, so a bad value never reaches a write."""

from __future__ import annotations

import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.common.errors import invalid

MAX_NAME = 100
MAX_EMAIL = 254
DEFAULT_PHONE_REGION = "BE"


def name(value: str | None, field: str, max_length: int = MAX_NAME) -> str:
    cleaned = unicodedata.normalize("NFC", (value or "").strip())
    if not cleaned:
        raise invalid(field, "must not be empty")
    if len(cleaned) > max_length:
        raise invalid(field, f"must be at most {max_length} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise invalid(field, "must not contain control characters")
    return cleaned


def email(value: str, field: str = "email") -> str:
    """The normalised address (domain lower-cased); no DNS look-up."""
    raw = value.strip()
    if len(raw) > MAX_EMAIL:
        raise invalid(field, f"must be at most {MAX_EMAIL} characters")
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise invalid(field, f"is not a valid e-mail address: {exc}") from exc
    return result.normalized


def email_key(value: str) -> str:
    """How two addresses are compared (sign-up uniqueness, search): case-insensitive."""
    return value.strip().lower()


def phone(value: str, field: str = "phone", region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 (+32470123456); local numbers are read in the default region."""
    raw = value.strip()
    if len(raw) > 32:
        raise invalid(field, "must be at most 32 characters")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise invalid(field, "is not a valid phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise invalid(field, "is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def timezone(value: str, field: str = "timezone") -> str:
    cleaned = value.strip()
    if cleaned not in _zones():
        raise invalid(field, "is not an IANA timezone (e.g. Europe/Brussels)")
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise invalid(field, "is not an IANA timezone (e.g. Europe/Brussels)") from exc
    return cleaned


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def password(value: str, field: str = "password") -> str:
    if len(value) < 8:
        raise invalid(field, "must be at least 8 characters")
    if len(value) > 256:
        raise invalid(field, "must be at most 256 characters")
    return value


def slugify(value: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    out = "".join(ch if ch.isalnum() else "-" for ch in ascii_.lower())
    slug = "-".join(part for part in out.split("-") if part)
    return slug[:60] or "salon"
