"""Collecting every problem with one input and raising them together (InvalidInput, 422)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from services.common import money
from services.common.errors import InvalidInput

# --- input problems -----------------------------------------------------------------------


class _Problems:
    """Collects every problem with one input, then raises them together."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, loc: Sequence[Any], msg: str) -> None:
        self.items.append({"loc": list(loc), "msg": msg})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput(_describe(self.items), self.items)


def _describe(problems: list[dict]) -> str:
    return "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _whole(value: Any, loc: Sequence[Any], problems: _Problems, low: int, high: int) -> int | None:
    if value is None:
        problems.add(loc, "is required")
    elif isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(loc, f"must be a whole number from {low} to {high}")
    else:
        return value
    return None


def _money(
    value: Any, loc: Sequence[Any], problems: _Problems, *, positive: bool = False
) -> Decimal | None:
    """A money amount (§4.4): parsed exactly, never negative (or zero when ``positive``)."""
    try:
        amount = money.parse(value)
    except (ValueError, TypeError) as exc:
        problems.add(loc, str(exc))
        return None
    if amount < 0 or (positive and amount == 0):
        problems.add(loc, "must be more than 0" if positive else "must not be negative")
        return None
    return amount


# --- time (§4.3, §4.5) ----------------------------------------------------------------------

