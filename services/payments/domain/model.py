"""Online deposits (R17): what a deposit is, and which requests are allowed before anything
touches the database.

"One deposit per appointment" is not checked here: it cannot be, without racing. The store
inserts with ON CONFLICT DO NOTHING on the (organization, appointment) unique constraint
and, when another request got there first, compares the request with the deposit it finds
(:func:`check_repeat`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from services.common.errors import DomainError, ErrorCode, invalid
from services.common.money import format_amount, parse_amount

MAX_BATCH = 1000
# The width of the id columns: longer ids are refused here rather than by PostgreSQL
# (as an internal error) or silently stored by SQLite.
MAX_ID = 32


class DepositStatus(StrEnum):
    PAID = "PAID"
    APPLIED = "APPLIED"
    REFUNDED = "REFUNDED"
    # Waiting for the payment provider / refused by it (R32).
    PENDING = "PENDING"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Deposit:
    id: str
    appointment_id: str
    client_id: str
    # The appointment's establishment: the only one whose client record shows it (R17).
    establishment_id: str
    amount: Decimal
    status: DepositStatus
    created_at: datetime
    # The receipt that applied it (status APPLIED), whatever establishment checked out.
    receipt_id: str = ""


def _check_id(value: str, field: str) -> str:
    if not value.strip():
        raise invalid(field, "must not be empty")
    if len(value) > MAX_ID:
        raise invalid(field, f"must be at most {MAX_ID} characters")
    return value


def check_appointment_id(appointment_id: str) -> str:
    return _check_id(appointment_id, "appointmentId")


def check_client_id(client_id: str) -> str:
    return _check_id(client_id, "clientId")


def check_amount(amount: str) -> Decimal:
    """A deposit is a positive EUR amount with at most two decimals."""
    return parse_amount(amount, "deposit", allow_zero=False)


def check_appointment_ids(appointment_ids: Sequence[str]) -> list[str]:
    """Each id once, in the order asked."""
    if len(appointment_ids) > MAX_BATCH:
        raise invalid("appointmentIds", f"at most {MAX_BATCH} ids per call")
    return list(dict.fromkeys(appointment_ids))


def check_repeat(
    existing: Deposit, client_id: str, establishment_id: str, amount: Decimal
) -> Deposit:
    """A second request for an appointment that has its deposit: the same request (a retry)
    is answered with the first deposit, unchanged; anything else is a CONFLICT and changes
    nothing."""
    if existing.amount != amount:
        raise DomainError(
            ErrorCode.CONFLICT,
            f"this appointment already has a deposit of {format_amount(existing.amount)}",
            "deposit",
        )
    if existing.client_id != client_id:
        raise DomainError(
            ErrorCode.CONFLICT, "this appointment's deposit was paid by another client", "clientId"
        )
    if existing.establishment_id != establishment_id:
        raise DomainError(
            ErrorCode.CONFLICT,
            "this appointment's deposit was recorded in another establishment",
            "appointmentId",
        )
    return existing
