"""The rules of a stock change that need no database: reasons, signs, bounds, keys."""

from __future__ import annotations

import pytest

from services.common.errors import DomainError, ErrorCode
from services.inventory.domain import model
from services.inventory.domain.model import Reason


def _field(call, *args) -> str | None:
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert caught.value.code is ErrorCode.INVALID
    return caught.value.field


@pytest.mark.parametrize(
    ("reason", "delta"),
    [
        (Reason.DELIVERY, 10),
        (Reason.SALE, -1),
        (Reason.CORRECTION, 3),
        (Reason.CORRECTION, -3),
        (Reason.DELIVERY, model.MAX_DELTA),
        (Reason.SALE, -model.MAX_DELTA),
    ],
)
def test_allowed_adjustments(reason: Reason, delta: int) -> None:
    assert model.check_adjustment(reason, delta) is reason


@pytest.mark.parametrize("reason", [None, Reason.TRANSFER_IN, Reason.TRANSFER_OUT])
def test_transfers_and_no_reason_are_not_adjustments(reason: Reason | None) -> None:
    assert _field(model.check_adjustment, reason, 1) == "reason"


@pytest.mark.parametrize(
    ("reason", "delta"),
    [
        (Reason.CORRECTION, 0),
        (Reason.DELIVERY, -1),
        (Reason.SALE, 1),
        (Reason.DELIVERY, model.MAX_DELTA + 1),
        (Reason.CORRECTION, -model.MAX_DELTA - 1),
    ],
)
def test_bad_deltas_name_the_delta(reason: Reason, delta: int) -> None:
    assert _field(model.check_adjustment, reason, delta) == "delta"


def test_B02_a_transfer_goes_to_another_establishment_in_sane_quantities() -> None:
    model.check_transfer("a", "b", 1)
    model.check_transfer("a", "b", model.MAX_DELTA)
    assert _field(model.check_transfer, "a", "", 1) == "toEstablishmentId"
    assert _field(model.check_transfer, "a", "a", 1) == "toEstablishmentId"
    for quantity in (0, -1, model.MAX_DELTA + 1):
        assert _field(model.check_transfer, "a", "b", quantity) == "quantity"


def test_idempotency_keys_are_optional_and_bounded() -> None:
    assert model.check_idempotency_key("") is None
    assert model.check_idempotency_key("k" * 100) == "k" * 100
    assert _field(model.check_idempotency_key, "k" * 101) == "idempotencyKey"


def test_batch_and_page_bounds() -> None:
    assert model.check_product_ids(["b", "a", "b"]) == ["b", "a"]
    assert len(model.check_product_ids(["p"] * 1000)) == 1
    assert _field(model.check_product_ids, [str(i) for i in range(1001)]) == "productIds"
    assert model.check_movements_limit(0) == 100
    assert model.check_movements_limit(500) == 500
    assert _field(model.check_movements_limit, 501) == "limit"
    assert _field(model.check_movements_limit, -1) == "limit"
    assert _field(model.check_product_id, " ") == "productId"
