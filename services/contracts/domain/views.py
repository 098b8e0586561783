"""JSON-ready views of placements, reviews and block contracts (RULES §10: providers
see their placements without child details; the child's and parents' views are child data)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.common.money import fmt
from services.contracts.domain.blocks import BlockContract, block_occupancy
from services.contracts.domain.placements import Placement, next_review_due, weekly_cost_on
from services.contracts.domain.reviews import Review
from services.contracts.domain.uplifts import Uplift
from services.contracts.domain.values import ZERO, _iso


def placement_view(
    placement: Placement,
    *,
    on: date,
    reviews: Iterable[Review] = (),
    include_child_details: bool = True,
) -> dict[str, Any]:
    """A JSON-ready view of a placement on a day. With ``include_child_details=False`` it is
    the provider's view (§10: "own, without child details"): no child reference, no direct
    placement justification and no end note, which are free text about the child."""
    p = placement
    view: dict[str, Any] = {
        "id": p.placement_id,
        "authority": p.authority,
        "provider_id": p.provider_id,
        "provider_name": p.provider_name,
        "establishment_id": p.establishment_id,
        "establishment_name": p.establishment_name,
        "category": p.category,
        "source": p.source.value,
        "source_ref": p.source_ref,
        "reason_code": p.reason_code,
        "block_id": p.block_id,
        "status": p.status.value,
        "start_date": _iso(p.start_date),
        "ended_on": _iso(p.ended_on),
        "end_reason": p.end_reason.value if p.end_reason else None,
        "agreed_at": p.agreed_at.isoformat(),
        # §11: the regime and market, the voluntary standstill and the day it was entered
        "regime": p.regime or "PCR2015_DPS",
        "dps_id": p.dps_id,
        "standstill_ends_on": _iso(p.standstill_ends_on),
        "entered_on": _iso(p.entered_on),
        "awarded_weekly_price": fmt(p.awarded_weekly_price or ZERO),
        "price": p.price.to_dict(),
        "current_price": p.price_on(on).to_dict(),
        "weekly_cost": fmt(weekly_cost_on(p, on)),
        "variations": [v.to_dict() for v in sorted(p.variations, key=lambda v: v.order)],
        "incentive": p.incentive.to_dict() if p.incentive else None,
        "desired_outcomes": list(p.desired_outcomes),
        "monitored_components": list(p.monitored_components),
        "review_interval_months": p.review_interval_months,
        "next_review_due": _iso(next_review_due(p, reviews)),
    }
    if include_child_details:
        view["child_reference"] = p.child_reference
        view["justification"] = p.justification
        view["end_note"] = p.end_note
    return view


def placement_state(p: Placement) -> dict[str, Any]:
    """The audited state of a placement (RULES §9 before/after)."""
    return {
        "status": p.status.value,
        "start_date": p.start_date.isoformat() if p.start_date else None,
        "ended_on": p.ended_on.isoformat() if p.ended_on else None,
        "end_reason": p.end_reason.value if p.end_reason else None,
        "end_note": p.end_note,
    }


def two_places(value) -> str:
    """An exact fraction shown with 2 decimals, rounded half up."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{exact.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def review_view(r: Review, *, views: bool) -> dict[str, Any]:
    """A review; ``views`` adds the child's and parents' views (child data, §5, §10)."""
    out = {
        "id": r.review_id,
        "placement_id": r.placement_id,
        "establishment_id": r.establishment_id,
        "category": r.category,
        "date": r.date.isoformat(),
        "scores": dict(r.scores),
        "score": two_places(r.score),
        "recorded_at": r.recorded_at.isoformat(),
    }
    if views:
        out["child_view"] = r.child_view
        out["parent_view"] = r.parent_view
    return out


def block_view(
    block: BlockContract, placements: Iterable[Placement], as_of: date, *, child_details: bool
) -> dict[str, Any]:
    """A block contract with its occupancy up to ``as_of`` and its placements (§7.3); the
    child references only for the owning authority (§10)."""
    occupancy = block_occupancy(block, placements, as_of).to_dict()
    return {
        "id": block.block_id,
        "authority": block.authority,
        "provider_id": block.provider_id,
        "provider_name": block.provider_name,
        "establishment_id": block.establishment_id,
        "establishment_name": block.establishment_name,
        "category": block.category,
        "places": block.places,
        "weekly_price_per_place": f"{block.weekly_price_per_place:.2f}",
        "start": block.start.isoformat(),
        "end": block.end.isoformat(),
        "occupancy": occupancy,
        "placements": [
            {
                "id": p.placement_id,
                "status": p.status.value,
                "start_date": p.start_date.isoformat() if p.start_date else None,
                "ended_on": p.ended_on.isoformat() if p.ended_on else None,
                **({"child_reference": p.child_reference} if child_details else {}),
            }
            for p in placements
        ],
    }


def uplift_view(u: Uplift, count: int, created_at: datetime) -> dict[str, Any]:
    """An uplift as set, with the number of placements it applied to (§7.2)."""
    return {
        "id": u.uplift_id,
        "category": u.category,
        "cost_head": u.cost_head,
        "percent": format(u.percent.normalize(), "f"),
        "effective_from": u.effective_from.isoformat(),
        "placements_uplifted": count,
        "created_at": created_at.isoformat(),
    }
