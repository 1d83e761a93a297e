"""Gift cards (R14) and prepaid subscriptions (R24): what they are and which requests are
allowed before anything touches the database; the establishment's local days.

A gift card is sold in one establishment and redeemable in every establishment of the
organization, except a NUMBERED card, redeemable only where it was issued. A subscription
is bound to the establishment that sold it. Balances and visits are only ever changed by
conditional UPDATEs in the store (balance >= amount, visits_left >= 1): the checks here
are the early answer, never the guarantee.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.common import validation
from services.common.errors import DomainError, ErrorCode, invalid
from services.common.money import parse_amount
from services.payments.domain.model import MAX_BATCH, MAX_ID

DEFAULT_TIMEZONE = "Europe/Brussels"
MAX_GIFT_CARD = Decimal("10000.00")
MAX_VISITS = 1000
MAX_KEY = 100
# Unambiguous when read aloud or off a printed card: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 4
CODE_GROUP_LENGTH = 4
_CODE = re.compile(r"^[A-Z0-9-]{4,32}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class GiftCardKind(StrEnum):
    GENERAL = "GENERAL"
    DIGITAL = "DIGITAL"
    NUMBERED = "NUMBERED"


@dataclass(frozen=True)
class GiftCard:
    id: str
    code: str
    kind: GiftCardKind
    balance: Decimal
    initial_amount: Decimal
    # The establishment that sold it (and holds the money, B08).
    establishment_id: str
    client_id: str
    created_at: datetime

    def redeemable_in(self, establishment_id: str) -> bool:
        """R14: everywhere in the organization; a NUMBERED card only where issued."""
        return self.kind is not GiftCardKind.NUMBERED or self.establishment_id == establishment_id


@dataclass(frozen=True)
class Subscription:
    id: str
    name: str
    # R24: usable only here.
    establishment_id: str
    client_id: str
    visits: int
    visits_left: int
    price: Decimal
    valid_until: date | None
    created_at: datetime

    def expired_on(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today


@dataclass(frozen=True)
class GiftCardRequest:
    amount: Decimal
    kind: GiftCardKind
    client_id: str
    # Empty: generated.
    code: str
    idempotency_key: str


@dataclass(frozen=True)
class SubscriptionRequest:
    client_id: str
    name: str
    visits: int
    price: Decimal
    valid_until: date | None


# -- ids, codes, dates ------------------------------------------------------------------


def check_id(value: str, field: str) -> str:
    if not value.strip():
        raise invalid(field, "must not be empty")
    if len(value) > MAX_ID:
        raise invalid(field, f"must be at most {MAX_ID} characters")
    return value


def check_optional_id(value: str, field: str) -> str:
    return check_id(value, field) if value else ""


def check_ids(ids: Sequence[str], field: str = "ids") -> list[str]:
    """Each id once, in the order asked."""
    if len(ids) > MAX_BATCH:
        raise invalid(field, f"at most {MAX_BATCH} ids per call")
    return list(dict.fromkeys(ids))


def normalize_code(code: str) -> str:
    return code.strip().upper()


def check_code(code: str, field: str = "code") -> str:
    """A code chosen by the salon: 4 to 32 of A-Z, 0-9 and '-', case-insensitive."""
    cleaned = normalize_code(code)
    if not _CODE.match(cleaned):
        raise invalid(field, "must be 4 to 32 letters, digits or dashes")
    return cleaned


def generate_code() -> str:
    """XXXX-XXXX-XXXX-XXXX from CODE_ALPHABET (31^16, about 2^79: not guessable)."""
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def zone(name: str | None) -> ZoneInfo:
    """The establishment's timezone; DEFAULT_TIMEZONE while it is unknown (or unusable)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_TIMEZONE)


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a local day (23 or 25 hours long when the clock changes)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def check_date(value: str, field: str) -> date:
    text = value.strip()
    if not _DATE.match(text):
        raise invalid(field, "must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise invalid(field, "must be a date YYYY-MM-DD") from exc


def check_period(start: str, end: str, max_days: int = 366) -> tuple[date, date]:
    first, last = check_date(start, "from"), check_date(end, "to")
    if last < first:
        raise invalid("to", "must not be before from")
    if (last - first).days >= max_days:
        raise invalid("to", f"the period is at most {max_days} days")
    return first, last


def check_idempotency_key(value: str, field: str = "idempotencyKey", required: bool = True) -> str:
    if not value:
        if required:
            raise invalid(field, "must not be empty")
        return ""
    if not value.strip():
        raise invalid(field, "must not be blank")
    if len(value) > MAX_KEY:
        raise invalid(field, f"must be at most {MAX_KEY} characters")
    if any(ord(ch) < 32 for ch in value):
        raise invalid(field, "must not contain control characters")
    return value


# -- requests ---------------------------------------------------------------------------


def check_gift_card(
    amount: str, kind: str, client_id: str, code: str, idempotency_key: str
) -> GiftCardRequest:
    """`kind`: the enum name without prefix; UNSPECIFIED is GENERAL."""
    value = parse_amount(amount, "amount", allow_zero=False)
    if value > MAX_GIFT_CARD:
        raise invalid("amount", f"must be at most {MAX_GIFT_CARD}")
    if kind == "UNSPECIFIED":
        kind = GiftCardKind.GENERAL.value
    if kind not in GiftCardKind.__members__:
        raise invalid("kind", "is not a gift card kind")
    return GiftCardRequest(
        amount=value,
        kind=GiftCardKind(kind),
        client_id=check_optional_id(client_id, "clientId"),
        code=check_code(code) if code.strip() else "",
        idempotency_key=check_idempotency_key(idempotency_key, required=False),
    )


def check_same_gift_card(existing: GiftCard, request: GiftCardRequest) -> GiftCard:
    """The same idempotency key again: the first card when the request is the same."""
    same = (
        existing.initial_amount == request.amount
        and existing.kind is request.kind
        and existing.client_id == request.client_id
        and (not request.code or existing.code == request.code)
    )
    if not same:
        raise DomainError(
            ErrorCode.CONFLICT,
            "this idempotency key was used for another gift card",
            "idempotencyKey",
        )
    return existing


def check_subscription(
    client_id: str, name: str, visits: int, price: str, valid_until: str, today: date
) -> SubscriptionRequest:
    if not 1 <= visits <= MAX_VISITS:
        raise invalid("visits", f"must be between 1 and {MAX_VISITS}")
    until: date | None = None
    if valid_until.strip():
        until = check_date(valid_until, "validUntil")
        if until < today:
            raise invalid("validUntil", "must not be in the past")
    return SubscriptionRequest(
        client_id=check_id(client_id, "clientId"),
        name=validation.name(name, "name"),
        visits=visits,
        price=parse_amount(price, "price"),
        valid_until=until,
    )
