"""Stock per establishment (R20) and transfers between establishments (B02): what a level
and a movement are, and which changes are allowed before anything touches the database.

"Never below zero" is not checked here: it cannot be, without racing. The store applies
every change as one conditional atomic update (``quantity + delta >= 0``) and reports
OUT_OF_STOCK when it matches no row.
"""

from __future__ import annotations

from collections.abc import Sequence
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


class Reason(StrEnum):
    DELIVERY = "DELIVERY"
    CORRECTION = "CORRECTION"
    SALE = "SALE"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"


# The reasons AdjustStock takes; transfers go through TransferStock, which books both sides.
ADJUSTMENT_REASONS = (Reason.DELIVERY, Reason.CORRECTION, Reason.SALE)


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


@dataclass(frozen=True)
class StockChange:
    level: StockLevel
    movement: StockMovement


@dataclass(frozen=True)
class Transfer:
    id: str
    sent: StockChange
    received: StockChange


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
