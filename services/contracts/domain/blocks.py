"""Block contracts: places reserved at an establishment, occupancy and voids (RULES §7.3).

A block contract runs ``start..end`` with both days included. Partial weeks: place-days are
counted exactly; place-weeks are place-days / 7, rounded half up to 2 decimals (voids are
computed in days, then converted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from services.common.errors import Conflict, InvalidInput
from services.contracts.domain.placements import (
    DEFAULT_FRAMEWORK,
    DEFAULT_REVIEW_INTERVAL_MONTHS,
    SINGLE_PRICE_HEAD,
    OutcomesFramework,
    Placement,
    PlacementSource,
)
from services.contracts.domain.values import _amount, _q2, _text
from services.contracts.domain.variations import PriceBreakdown


@dataclass(frozen=True)
class BlockContract:
    """k places reserved by an authority at an establishment, ``start..end`` (both days
    included), at a weekly price per place (§7.3)."""

    block_id: str
    authority: str
    provider_id: str
    establishment_id: str
    category: str
    places: int
    weekly_price_per_place: Decimal
    start: date
    end: date
    provider_name: str = ""
    establishment_name: str = ""

    def __post_init__(self) -> None:
        for name in ("block_id", "authority", "provider_id", "establishment_id", "category"):
            object.__setattr__(self, name, _text(getattr(self, name), [name]))
        if isinstance(self.places, bool) or not isinstance(self.places, int) or self.places < 1:
            raise InvalidInput.at(["places"], "must be a whole number of at least 1")
        price = _amount(self.weekly_price_per_place, ["weekly_price_per_place"])
        object.__setattr__(self, "weekly_price_per_place", price)
        if self.end < self.start:
            raise InvalidInput.at(["end"], "must not be before start")


def _span(placement: Placement, until: date) -> tuple[date, date] | None:
    """Days a placement holds a place: ``[start_date, ended_on or until)``; none for one
    that never started (§7.1 ``did_not_start``), whose place is free again."""
    if placement.start_date is None or placement.never_started:
        return None
    return placement.start_date, placement.ended_on or until


def _occupants(block: BlockContract, placements: Iterable[Placement]) -> list[tuple[date, date]]:
    after_end = block.end + timedelta(days=1)
    spans = (_span(p, after_end) for p in placements if p.block_id == block.block_id)
    return [s for s in spans if s is not None]


def _peak(spans: Iterable[tuple[date, date]], low: date, high: date) -> tuple[date, int]:
    """The first day in ``[low, high)`` with the most spans, and that count."""
    changes: list[tuple[date, int]] = []
    for start, end in spans:
        start, end = max(start, low), min(end, high)
        if start < end:
            changes += [(start, 1), (end, -1)]
    best_day, best, current = low, 0, 0
    for day, delta in sorted(changes, key=lambda c: (c[0], c[1])):
        current += delta
        if current > best:
            best_day, best = day, current
    return best_day, best


def place_in_block(
    block: BlockContract,
    placements: Iterable[Placement],
    *,
    placement_id: str,
    child_reference: str,
    start_date: date,
    agreed_at: datetime,
    referral_id: str | None = None,
    framework: OutcomesFramework = DEFAULT_FRAMEWORK,
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS,
) -> Placement:
    """Place a child into a free block place (§7.3). It is recorded as a placement at the
    place price. A place must be free on every day from ``start_date`` to the block's end
    (the new placement is assumed to last to the end), else ``Conflict``. ``placements``
    are the block's placements (others are ignored)."""
    if not block.start <= start_date <= block.end:
        raise InvalidInput.at(
            ["start_date"], f"must be within the block {block.start}..{block.end}"
        )
    day, taken = _peak(_occupants(block, placements), start_date, block.end + timedelta(days=1))
    if taken >= block.places:
        raise Conflict(
            f"block contract {block.block_id} has no free place from {start_date}: "
            f"all {block.places} places are taken on {day}"
        )
    return Placement(
        placement_id=placement_id,
        authority=block.authority,
        provider_id=block.provider_id,
        provider_name=block.provider_name,
        establishment_id=block.establishment_id,
        establishment_name=block.establishment_name,
        category=block.category,
        child_reference=child_reference,
        source=PlacementSource.BLOCK_PLACE,
        source_ref=f"{block.block_id}/{referral_id or placement_id}",
        agreed_at=agreed_at,
        price=PriceBreakdown(core_costs={SINGLE_PRICE_HEAD: block.weekly_price_per_place}),
        block_id=block.block_id,
        monitored_components=framework.components,
        review_interval_months=review_interval_months,
        start_date=start_date,
    )


def _weeks(days: int) -> Decimal:
    return _q2(Fraction(days, 7))


@dataclass(frozen=True)
class BlockOccupancy:
    """Occupancy of a block from its start up to ``as_of`` (included, capped at its end).
    Place-days are exact; place-weeks are days / 7 rounded half up to 2 decimals."""

    block_id: str
    as_of: date
    days: int
    capacity_place_days: int
    used_place_days: int
    void_place_days: int
    occupied_places: int
    free_places: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "block_id": self.block_id,
            "as_of": self.as_of.isoformat(),
            "days": self.days,
            "capacity_place_days": self.capacity_place_days,
            "used_place_days": self.used_place_days,
            "void_place_days": self.void_place_days,
            "capacity_place_weeks": str(_weeks(self.capacity_place_days)),
            "used_place_weeks": str(_weeks(self.used_place_days)),
            "void_place_weeks": str(_weeks(self.void_place_days)),
            "occupied_places": self.occupied_places,
            "free_places": self.free_places,
        }


def block_occupancy(
    block: BlockContract, placements: Iterable[Placement], as_of: date
) -> BlockOccupancy:
    """Used and void (unused) place-days of a block up to ``as_of`` (§7.3 voids), and the
    places occupied and free on ``as_of`` (0 free outside the block's period)."""
    window_end = min(as_of, block.end) + timedelta(days=1)
    days = max(0, (window_end - block.start).days)
    spans = _occupants(block, placements)
    used = sum(
        max(0, (min(end, window_end) - max(start, block.start)).days) for start, end in spans
    )
    capacity = block.places * days
    occupied = sum(1 for start, end in spans if start <= as_of < end)
    running = block.start <= as_of <= block.end
    return BlockOccupancy(
        block_id=block.block_id,
        as_of=as_of,
        days=days,
        capacity_place_days=capacity,
        used_place_days=used,
        void_place_days=max(0, capacity - used),
        occupied_places=occupied if running else 0,
        free_places=max(0, block.places - occupied) if running else 0,
    )
