"""Exact money (RULES §4.4): Decimal pounds with 2 decimals, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PENNY = Decimal("0.01")
WEEKS_PER_YEAR = 52


MAX = Decimal("9999999999.99")
"""The largest amount a message accepts (``services.common.types.Money``): ten digits of
pounds, beyond any placement's annual value, within every column's precision."""

_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")


def parse(value: str | int | Decimal) -> Decimal:
    """Parse a money string such as ``"3500.00"``: a plain decimal (no exponent, no
    spaces) with at most 2 decimal places. Floats are refused."""
    if isinstance(value, float | bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("money must be a string such as \"3500.00\", not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not an amount of money: {value!r}")
        value = format(value, "f")
    text = str(value)
    if not _PLAIN.match(text) or len(text) > 40:
        raise ValueError(f"not a plain amount of money such as \"3500.00\": {text[:40]!r}")
    amount = Decimal(text)
    try:
        pence = amount.quantize(PENNY)
    except InvalidOperation:  # more digits than any context holds
        raise ValueError(f"money is at most {MAX}") from None
    if amount != pence:
        raise ValueError("money has at most 2 decimal places")
    return pence


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
