"""The rules of a deposit that need no database: ids, amounts, batches, repeats."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.common.errors import DomainError, ErrorCode
from services.payments.domain import model
from services.payments.domain.model import Deposit, DepositStatus

FIRST = Deposit(
    id="d1",
    appointment_id="appt",
    client_id="client",
    establishment_id="a",
    amount=Decimal("10.00"),
    status=DepositStatus.PAID,
    created_at=datetime(2025, 1, 1, tzinfo=UTC),
)


def _error(call, *args) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(("text", "amount"), [("10", "10.00"), ("10.5", "10.50"), ("0.01", "0.01")])
def test_deposit_amounts_are_positive_with_two_decimals(text: str, amount: str) -> None:
    assert model.check_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["-5", "abc", "1.234", "0", "0.00", "", "NaN", "1000000.01"])
def test_bad_deposit_amounts_are_invalid(text: str) -> None:
    error = _error(model.check_amount, text)
    assert (error.code, error.field) == (ErrorCode.INVALID, "deposit")


@pytest.mark.parametrize(
    ("check", "field"),
    [(model.check_appointment_id, "appointmentId"), (model.check_client_id, "clientId")],
)
@pytest.mark.parametrize("value", ["", "  ", "x" * (model.MAX_ID + 1)])
def test_ids_must_be_present_and_fit(check, field: str, value: str) -> None:
    error = _error(check, value)
    assert (error.code, error.field) == (ErrorCode.INVALID, field)


def test_a_batch_is_deduplicated_in_order_and_bounded() -> None:
    assert model.check_appointment_ids(["b", "a", "b"]) == ["b", "a"]
    assert len(model.check_appointment_ids(["x"] * model.MAX_BATCH)) == 1
    error = _error(model.check_appointment_ids, ["x"] * (model.MAX_BATCH + 1))
    assert (error.code, error.field) == (ErrorCode.INVALID, "appointmentIds")


def test_the_same_request_again_answers_the_first_deposit() -> None:
    assert model.check_repeat(FIRST, "client", "a", Decimal("10")) is FIRST


@pytest.mark.parametrize(
    ("client", "establishment", "amount", "field"),
    [
        ("client", "a", Decimal("12.00"), "deposit"),
        ("other", "a", Decimal("10.00"), "clientId"),
        ("client", "b", Decimal("10.00"), "appointmentId"),
    ],
)
def test_another_request_for_the_same_appointment_is_a_conflict(
    client: str, establishment: str, amount: Decimal, field: str
) -> None:
    error = _error(model.check_repeat, FIRST, client, establishment, amount)
    assert (error.code, error.field) == (ErrorCode.CONFLICT, field)
