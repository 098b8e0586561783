"""Exact money (RULES §4.4): Decimal pounds with 2 decimals, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PENNY = Decimal("0.01")
WEEKS_PER_YEAR = 52


def parse(value: str | int | Decimal) -> Decimal:
    """Parse a money string such as ``"3500.00"``. Floats are refused."""
    if isinstance(value, float | bool):
        raise ValueError("money must be a string such as \"3500.00\", not a float")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {value!r}")
    if amount != amount.quantize(PENNY):
        raise ValueError("money has at most 2 decimal places")
    return amount.quantize(PENNY)


def round_pence(amount: Decimal) -> Decimal:
    """Round half up to whole pence."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def fmt(amount: Decimal) -> str:
    """Format for the API: ``"3500.00"``."""
    return str(round_pence(Decimal(amount)))


def to_pence(amount: Decimal) -> int:
    return int(round_pence(amount) * 100)


def from_pence(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(PENNY)


def weekly_to_annual(weekly: Decimal) -> Decimal:
    """Annual = weekly × 52 (RULES §4.4)."""
    return weekly * WEEKS_PER_YEAR
