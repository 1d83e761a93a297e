"""The shared catalogue: services with organization defaults and per-establishment
overrides (R11, R12, B10), products with a price per establishment (R13), menus per
establishment (R25), and the safety net of a shared delete (B05).

Everything here is plain Python: input checks that raise a DomainError naming the
GraphQL field, and the rules that decide what a value is and whether a change may go on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.common import validation
from services.common.errors import DomainError, ErrorCode, invalid, not_found
from services.common.money import parse_amount
from services.common.scope import Role

MAX_BATCH = 1000
MAX_CATEGORY = 60
MAX_DESCRIPTION = 2000
MIN_DURATION = 1
MAX_DURATION = 24 * 60
MAX_MENU_SERVICES = 50
RESTORE_WINDOW = timedelta(days=30)
_BARCODE = re.compile(r"^[A-Za-z0-9-]{1,64}$")

# The per-establishment settings of a service (R12), by their proto (snake_case) names,
# with the GraphQL names that errors carry.
SETTINGS: dict[str, str] = {
    "price": "price",
    "duration_minutes": "durationMinutes",
    "description": "description",
    "bookable_online": "bookableOnline",
}


@dataclass(frozen=True)
class Settings:
    """Values of the per-establishment settings. As organization defaults every field is
    set; as an establishment's overrides None means "the organization's value" (B10)."""

    price: Decimal | None = None
    duration_minutes: int | None = None
    description: str | None = None
    bookable_online: bool | None = None

    def present(self) -> list[str]:
        """Names of the fields that carry a value, in the contract's order."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def over(self, defaults: Settings) -> Settings:
        """These overrides applied to `defaults`: what the establishment shows."""
        return replace(defaults, **{name: getattr(self, name) for name in self.present()})


@dataclass
class Service:
    """A shared service with the values of one establishment."""

    id: str
    organization_id: str
    name: str
    category: str
    establishment_id: str
    defaults: Settings
    overrides: Settings
    created_at: datetime
    deleted_at: datetime | None = None

    @property
    def values(self) -> Settings:
        return self.overrides.over(self.defaults)

    @property
    def customized_fields(self) -> list[str]:
        return self.overrides.present()


@dataclass(frozen=True)
class NewService:
    name: str
    category: str
    defaults: Settings


@dataclass
class Product:
    """A shared product with the price of one establishment."""

    id: str
    organization_id: str
    name: str
    brand: str
    barcode: str | None
    default_price: Decimal
    establishment_id: str
    own_price: Decimal | None = None
    created_at: datetime | None = None

    @property
    def price(self) -> Decimal:
        return self.own_price if self.own_price is not None else self.default_price

    @property
    def price_customized(self) -> bool:
        return self.own_price is not None


@dataclass(frozen=True)
class NewProduct:
    name: str
    brand: str
    barcode: str | None
    price: Decimal


@dataclass
class Menu:
    id: str
    organization_id: str
    establishment_id: str
    name: str
    price: Decimal
    service_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NewMenu:
    name: str
    price: Decimal
    service_ids: list[str]


# -- input checks -----------------------------------------------------------------------


def category(value: str | None) -> str:
    """Optional: blank is no category."""
    if not value or not value.strip():
        return ""
    return validation.name(value, "category", MAX_CATEGORY)


def description(value: str | None) -> str:
    """Optional free text (line breaks allowed); blank is no description."""
    cleaned = unicodedata.normalize("NFC", (value or "").strip())
    if len(cleaned) > MAX_DESCRIPTION:
        raise invalid("description", f"must be at most {MAX_DESCRIPTION} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in cleaned):
        raise invalid("description", "must not contain control characters")
    return cleaned


def duration_minutes(value: int) -> int:
    if value < MIN_DURATION or value > MAX_DURATION:
        raise invalid(
            "durationMinutes", f"must be between {MIN_DURATION} and {MAX_DURATION} minutes"
        )
    return value


def price(value: str) -> Decimal:
    return parse_amount(value, "price")


def barcode(value: str | None) -> str | None:
    """Optional: 1 to 64 letters, digits or dashes; blank is no barcode."""
    if not value or not value.strip():
        return None
    cleaned = value.strip()
    if not _BARCODE.match(cleaned):
        raise invalid("barcode", "must be 1 to 64 letters, digits or dashes")
    return cleaned


def check_new_service(
    name: str,
    category_: str | None,
    price_: str,
    duration_minutes_: int,
    description_: str | None,
    bookable_online: bool,
) -> NewService:
    return NewService(
        name=validation.name(name, "name"),
        category=category(category_),
        defaults=Settings(
            price=price(price_),
            duration_minutes=duration_minutes(duration_minutes_),
            description=description(description_),
            bookable_online=bookable_online,
        ),
    )


def check_overrides(
    price_: str | None,
    duration_minutes_: int | None,
    description_: str | None,
    bookable_online: bool | None,
) -> Settings:
    """The values an update sets for its establishment; None: not given, left as it is.
    An empty description is a value ("no description here"), not a reset (B10 resets)."""
    return Settings(
        price=None if price_ is None else price(price_),
        duration_minutes=None if duration_minutes_ is None else duration_minutes(duration_minutes_),
        description=None if description_ is None else description(description_),
        bookable_online=bookable_online,
    )


def check_reset_fields(names: Sequence[str]) -> list[str]:
    """The settings to give back to the organization's value (B10); none named: all."""
    if not names:
        return list(SETTINGS)
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        raise invalid(
            "fields",
            f"{', '.join(unknown)}: not a per-establishment setting (one of {', '.join(SETTINGS)})",
        )
    wanted = set(names)
    return [n for n in SETTINGS if n in wanted]


def check_ids(ids: Sequence[str], field_: str = "ids") -> list[str]:
    if len(ids) > MAX_BATCH:
        raise invalid(field_, f"at most {MAX_BATCH} ids per call")
    return list(dict.fromkeys(ids))


def check_new_product(
    name: str, brand: str | None, barcode_: str | None, price_: str
) -> NewProduct:
    return NewProduct(
        name=validation.name(name, "name"),
        brand=validation.name(brand, "brand") if brand and brand.strip() else "",
        barcode=barcode(barcode_),
        price=price(price_),
    )


def check_new_menu(name: str, price_: str, service_ids: Sequence[str]) -> NewMenu:
    checked_name = validation.name(name, "name")
    checked_price = price(price_)
    unique = list(dict.fromkeys(service_ids))
    if not unique:
        raise invalid("serviceIds", "a menu needs at least one service")
    if len(unique) > MAX_MENU_SERVICES:
        raise invalid("serviceIds", f"at most {MAX_MENU_SERVICES} services per menu")
    return NewMenu(name=checked_name, price=checked_price, service_ids=unique)


# -- rules ------------------------------------------------------------------------------


def check_may_delete_services(role: Role) -> None:
    """Deleting a shared service removes it from every establishment (R11): owners and
    managers only (B05)."""
    if role not in (Role.OWNER, Role.MANAGER):
        raise DomainError(
            ErrorCode.FORBIDDEN, "only an owner or a manager may delete or restore a service"
        )


def needs_confirmation(future_appointments: int, confirm: bool) -> bool:
    """B05: a service with future appointments is deleted only when confirmed. Unconfirmed,
    the answer is the impact alone (no deleted id), for the caller to show and confirm."""
    return future_appointments > 0 and not confirm


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class AppointmentFact:
    """What one of the booking service's appointment events says of an appointment, as the
    catalogue keeps it to count a service's future appointments (B05)."""

    id: str
    service_id: str
    start_at: datetime
    status: AppointmentStatus
    # When the booking service recorded it (the event's time): orders two moves.
    at: datetime
    # From the booked event, an appointment's first: whatever is recorded is as new.
    first: bool = False


def supersedes(new: AppointmentFact, status: AppointmentStatus, at: datetime) -> bool:
    """Whether `new` replaces what is recorded (`status`, set by an event of time `at`).

    Events come more than once and in any order, so: a booked event never replaces
    anything (nothing of the appointment is older); an ended appointment (cancelled,
    completed, no-show) is never brought back by a booked state, be it a late move or a
    duplicate booked; an end always replaces a booked state; otherwise the later event
    wins, a tie going to the newcomer.
    """
    if new.first:
        return False
    new_booked = new.status is AppointmentStatus.BOOKED
    old_booked = status is AppointmentStatus.BOOKED
    if new_booked != old_booked:
        return old_booked
    return new.at >= at


def check_restore(deleted_at: datetime | None, now: datetime) -> None:
    """B05: a deleted service comes back within 30 days of its delete; after that it is
    gone (NOT_FOUND), and one that is not deleted cannot be restored (CONFLICT)."""
    if deleted_at is None:
        raise DomainError(ErrorCode.CONFLICT, "the service is not deleted", "id")
    if now - deleted_at >= RESTORE_WINDOW:
        raise not_found("service", "id")


def sort_key(service: Service) -> tuple[str, str, str]:
    """Lists: by category, then name, case-insensitively, the same on every backend."""
    return (service.category.casefold(), service.name.casefold(), service.id)
