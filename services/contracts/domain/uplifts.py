"""Common annual uplifts of a core cost head (RULES §7.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.common.errors import InvalidInput
from services.contracts.domain.calendar import award_day
from services.contracts.domain.placements import Placement
from services.contracts.domain.values import _decimal, _text
from services.contracts.domain.variations import HeadUplift, Variation


@dataclass(frozen=True)
class Uplift:
    """A common annual uplift of one core cost head in one category, e.g. staff-related
    +3.1 % from 1 April (§7.2). It never touches variable costs."""

    uplift_id: str
    category: str
    cost_head: str
    percent: Decimal
    effective_from: date

    def __post_init__(self) -> None:
        for name in ("uplift_id", "category", "cost_head"):
            object.__setattr__(self, name, _text(getattr(self, name), [name]))
        percent = _decimal(self.percent, ["percent"])
        if not -100 < percent <= 100 or percent == 0:
            raise InvalidInput.at(["percent"], "must be above -100, at most 100 and not 0")
        object.__setattr__(self, "percent", percent)

    def applies_to(self, placement: Placement) -> bool:
        """Same category; price agreed before the effective date (later prices already
        reflect it); not ended by then; the head is priced on that date; not applied yet."""
        return (
            placement.category == self.category
            and award_day(placement.agreed_at) < self.effective_from
            and (placement.ended_on is None or placement.ended_on > self.effective_from)
            and self.cost_head in placement.price_on(self.effective_from).core_costs
            and not any(
                v.uplift is not None and v.uplift.uplift_id == self.uplift_id
                for v in placement.variations
            )
        )


def apply_uplift(
    placement: Placement, uplift: Uplift, *, variation_id: str, recorded_at: datetime
) -> Variation | None:
    """Record the uplift on a placement as a variation from its effective date, or ``None``
    when it does not apply. The store keeps (placement, uplift) unique as well."""
    if not uplift.applies_to(placement):
        return None
    variation = Variation(
        variation_id=variation_id,
        effective_from=uplift.effective_from,
        reason=f"annual uplift of {uplift.cost_head} by {uplift.percent} % (§7.2)",
        recorded_at=recorded_at,
        uplift=HeadUplift(uplift.uplift_id, uplift.cost_head, uplift.percent),
    )
    placement.variations.append(variation)
    return variation
