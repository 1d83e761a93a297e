"""Money: EUR amounts as Decimal with two decimals, parsed strictly at the edge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.common.errors import invalid

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000.00")


def parse_amount(value: str, field: str, *, allow_zero: bool = True) -> Decimal:
    """ "45", "45.5" and "45.50" are 45.50; negative, non-decimal, NaN, more than two
    decimals or absurdly large amounts are INVALID for `field`."""
    text = (value or "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise invalid(field, "must be a decimal amount such as 45.00") from exc
    if not amount.is_finite():
        raise invalid(field, "must be a decimal amount such as 45.00")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise invalid(field, "must have at most two decimals")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise invalid(field, "must be positive" if not allow_zero else "must not be negative")
    if amount > MAX_AMOUNT:
        raise invalid(field, f"must be at most {MAX_AMOUNT}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))
