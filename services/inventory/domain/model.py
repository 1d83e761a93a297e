"""Stock per establishment (R20) and transfers between establishments (B02): what a level
and a movement are, and which changes are allowed before anything touches the database.

Stock reservations (R20, R28) are the till's step of a checkout saga: the products of a
checkout leave the session establishment's stock as SALE movements carrying the
reservation id (HELD), come back when the checkout fails (RELEASED, the movements dropped:
the sale never happened), or stay sold once the receipt exists (COMMITTED, final).

"Never below zero" is not checked here: it cannot be, without racing. The store applies
every change as one conditional atomic update (``quantity + delta >= 0``) and reports
OUT_OF_STOCK when it matches no row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.common.errors import DomainError, ErrorCode, invalid

# The largest single change: far above any delivery, small enough that a typo (an extra
# zero or three) is refused instead of booked.
MAX_DELTA = 100_000
# The highest level: far below the 32-bit column's limit, so no sum can overflow it.
MAX_LEVEL = 1_000_000_000
MAX_BATCH = 1000
MAX_IDEMPOTENCY_KEY = 100
DEFAULT_MOVEMENTS = 100
MAX_MOVEMENTS = 500
# A checkout's products: lines per reservation and units per product.
MAX_RESERVATION_LINES = 100
MAX_RESERVATION_QUANTITY = 999
MAX_RESERVATION_ID = 64
# The caller chooses the id (the till: 32 hex characters); anything else is refused, so an
# id is always safe in logs, events and subjects.
_RESERVATION_ID = re.compile(r"^[A-Za-z0-9_-]+$")


class Reason(StrEnum):
    DELIVERY = "DELIVERY"
    CORRECTION = "CORRECTION"
    SALE = "SALE"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"


# The reasons AdjustStock takes; transfers go through TransferStock, which books both sides.
ADJUSTMENT_REASONS = (Reason.DELIVERY, Reason.CORRECTION, Reason.SALE)


class ReservationStatus(StrEnum):
    HELD = "HELD"
    RELEASED = "RELEASED"
    # The receipt exists (payments.receipt.created): final, its stock stays sold.
    COMMITTED = "COMMITTED"


@dataclass(frozen=True)
class StockLevel:
    product_id: str
    establishment_id: str
    quantity: int


@dataclass(frozen=True)
class StockMovement:
    id: str
    product_id: str
    establishment_id: str
    delta: int
    reason: Reason
    user_id: str | None
    at: datetime
    transfer_id: str | None = None
    reservation_id: str | None = None


@dataclass(frozen=True)
class StockChange:
    level: StockLevel
    movement: StockMovement


@dataclass(frozen=True)
class Transfer:
    id: str
    sent: StockChange
    received: StockChange


@dataclass(frozen=True)
class Reservation:
    """A reservation as stored: its status, the products it took (product id to units,
    from its SALE movements; none once released) and the first answer, kept to be given
    again to a retry."""

    id: str
    establishment_id: str
    status: ReservationStatus
    lines: Mapping[str, int]
    response: bytes | None


@dataclass(frozen=True)
class Release:
    """What a release did: the status after it, whether it put stock back, the levels of
    the products it put back."""

    status: ReservationStatus
    released: bool
    levels: Sequence[StockLevel] = ()


def out_of_stock(field: str) -> DomainError:
    return DomainError(
        ErrorCode.OUT_OF_STOCK, "not enough stock in this establishment for this change", field
    )


def above_max_level(field: str) -> DomainError:
    return invalid(field, f"would take the stock above {MAX_LEVEL}")


def check_product_id(product_id: str) -> str:
    if not product_id.strip():
        raise invalid("productId", "must not be empty")
    return product_id


def check_adjustment(reason: Reason | None, delta: int) -> Reason:
    """A delivery adds, a sale removes, a correction goes either way; none is zero."""
    if reason is None or reason not in ADJUSTMENT_REASONS:
        raise invalid("reason", "must be DELIVERY, CORRECTION or SALE (transfers: transferStock)")
    if delta == 0:
        raise invalid("delta", "must not be zero")
    if abs(delta) > MAX_DELTA:
        raise invalid("delta", f"must be between -{MAX_DELTA} and {MAX_DELTA}")
    if reason is Reason.DELIVERY and delta < 0:
        raise invalid("delta", "a delivery adds stock: must be positive")
    if reason is Reason.SALE and delta > 0:
        raise invalid("delta", "a sale removes stock: must be negative")
    return reason


def check_transfer(session_establishment_id: str, to_establishment_id: str, quantity: int) -> None:
    if not to_establishment_id:
        raise invalid("toEstablishmentId", "must not be empty")
    if to_establishment_id == session_establishment_id:
        raise invalid("toEstablishmentId", "must be another establishment than the session's")
    if quantity < 1 or quantity > MAX_DELTA:
        raise invalid("quantity", f"must be between 1 and {MAX_DELTA}")


def check_idempotency_key(key: str) -> str | None:
    """The key, or None when the request has none (then every call applies)."""
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise invalid("idempotencyKey", f"must be at most {MAX_IDEMPOTENCY_KEY} characters")
    return key


def line_out_of_stock(product_id: str) -> DomainError:
    """A reservation line the establishment cannot serve; the field is the product id, so
    that the till can point at its line."""
    return DomainError(
        ErrorCode.OUT_OF_STOCK,
        f"not enough stock of product {product_id} in this establishment",
        product_id,
    )


def product_not_found(product_id: str) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"product {product_id} not found", product_id)


def reservation_released() -> DomainError:
    return DomainError(
        ErrorCode.RESERVATION_RELEASED,
        "this reservation was released: start a new checkout attempt with a new id",
        "reservationId",
    )


def reservation_committed() -> DomainError:
    return DomainError(
        ErrorCode.CONFLICT,
        "this reservation is committed (its receipt exists): its stock stays sold",
        "reservationId",
    )


def reservation_reused() -> DomainError:
    return DomainError(
        ErrorCode.CONFLICT,
        "this reservation id was used for other products or quantities",
        "reservationId",
    )


def check_reservation_id(reservation_id: str) -> str:
    if not reservation_id:
        raise invalid("reservationId", "must not be empty")
    if len(reservation_id) > MAX_RESERVATION_ID:
        raise invalid("reservationId", f"must be at most {MAX_RESERVATION_ID} characters")
    if not _RESERVATION_ID.match(reservation_id):
        raise invalid("reservationId", "may contain only letters, digits, '-' and '_'")
    return reservation_id


def check_reservation_lines(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Product id to units, each product once (duplicates merged), in the order first
    asked: 1 to MAX_RESERVATION_LINES lines, each naming a product, 1 to
    MAX_RESERVATION_QUANTITY units per line (the till's own bounds)."""
    given = list(lines)
    if not given:
        raise invalid("lines", "must name at least one product")
    if len(given) > MAX_RESERVATION_LINES:
        raise invalid("lines", f"at most {MAX_RESERVATION_LINES} lines per reservation")
    merged: dict[str, int] = {}
    for number, (product_id, quantity) in enumerate(given, start=1):
        if not product_id.strip():
            raise invalid("lines", f"line {number}: the product id must not be empty")
        if quantity < 1 or quantity > MAX_RESERVATION_QUANTITY:
            raise invalid(
                "lines",
                f"line {number}: the quantity must be between 1 and {MAX_RESERVATION_QUANTITY}",
            )
        # At most MAX_RESERVATION_LINES * MAX_RESERVATION_QUANTITY units of one product,
        # well below MAX_DELTA: the till's lines as they are, merged.
        merged[product_id] = merged.get(product_id, 0) + quantity
    return merged


def check_same_reservation(stored: Reservation, lines: Mapping[str, int]) -> None:
    """A reservation id asked again: RESERVATION_RELEASED once released; the same products
    and quantities otherwise (a retry), CONFLICT when they differ (the id of another
    attempt)."""
    if stored.status is ReservationStatus.RELEASED:
        raise reservation_released()
    if dict(stored.lines) != dict(lines):
        raise reservation_reused()


def check_product_ids(product_ids: Sequence[str]) -> list[str]:
    """Each id once, in the order asked."""
    if len(product_ids) > MAX_BATCH:
        raise invalid("productIds", f"at most {MAX_BATCH} ids per call")
    return list(dict.fromkeys(product_ids))


def check_movements_limit(limit: int) -> int:
    if limit == 0:
        return DEFAULT_MOVEMENTS
    if limit < 0 or limit > MAX_MOVEMENTS:
        raise invalid("limit", f"must be between 1 and {MAX_MOVEMENTS}")
    return limit
