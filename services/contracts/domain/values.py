"""Small value rules shared by the contracts domain (RULES §4.4, §7.2 pence rounding).

Validators turn loose input into exact values or raise ``InvalidInput`` naming the field;
money and percentages are Decimals with at most 2 decimals (floats refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from services.common import money
from services.common.errors import InvalidInput

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _text(value: object, loc: list) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.at(loc, "must not be empty")
    return value.strip()


def _optional_text(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _decimal(value: object, loc: list) -> Decimal:
    """A Decimal with at most 2 decimals (money and percentages); floats refused."""
    try:
        return money.parse(value)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        raise InvalidInput.at(loc, str(exc)) from None


def _amount(value: object, loc: list) -> Decimal:
    amount = _decimal(value, loc)
    if amount < 0:
        raise InvalidInput.at(loc, "must not be negative")
    return amount


def _discount(value: object, loc: list) -> Decimal:
    percent = _decimal(value, loc)
    if not 0 <= percent < 100:
        raise InvalidInput.at(loc, "must be at least 0 and below 100")
    return percent


def _core(heads: Mapping[str, object], loc: list) -> dict[str, Decimal]:
    return {
        _text(head, loc): _amount(amount, [*loc, head]) for head, amount in sorted(heads.items())
    }


def _q2(value: Fraction) -> Decimal:
    """An exact rational rounded half up to 2 decimals."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENT, ROUND_HALF_UP)


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _jsonable(value: Any) -> Any:
    """Decimals as 2-decimal strings and dates as ISO strings, recursively (JSON views)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value
