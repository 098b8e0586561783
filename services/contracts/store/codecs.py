"""Row mapping of the contracts service: one ``*_to_row`` / ``*_from_row`` pair per domain type
(RULES §7). Nested values (price breakdown, incentive, variation) are JSON in JSONB columns
through their ``to_dict`` / ``from_dict``.

``placement_summary_from_row`` is the one extra reader: a light placement for benchmarks and
cost shares (§7.6, §7.7), which need neither the breakdown, the child nor the variations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table

from services.common import codecs as common_codecs
from services.common.crypto import ERASED
from services.contracts import domain
from services.contracts.store import tables as t


def _fields_to_row(obj: Any, table: Table) -> dict[str, Any]:
    """The fields of a domain dataclass that are columns of ``table`` (same names)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name in table.c}


def _fields_from_row(cls: Any, row: Any) -> Any:
    """A domain dataclass from a row holding a column for each field (same names)."""
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls) if f.name in m})


# --- placements (§7.1) ---------------------------------------------------------------------


def placement_to_row(p: domain.Placement) -> dict[str, Any]:
    """The columns of a placement (not its timestamps nor its review schedule)."""
    return {
        "placement_id": p.placement_id,
        "source_key": p.source_key,
        "source": p.source.value,
        "source_ref": p.source_ref,
        "authority": p.authority,
        "provider_id": p.provider_id,
        "provider_name": p.provider_name,
        "establishment_id": p.establishment_id,
        "establishment_name": p.establishment_name,
        "category": p.category,
        "child_key_id": p.child_key_id,
        "agreed_at": p.agreed_at,
        "price": p.price.to_dict(),
        "awarded_weekly_price": p.awarded_weekly_price,
        "reason_code": p.reason_code,
        "justification": p.justification,
        "block_id": p.block_id,
        "bids_count": p.bids_count,
        "incentive": p.incentive.to_dict() if p.incentive else None,
        "desired_outcomes": list(p.desired_outcomes),
        "monitored_components": list(p.monitored_components),
        "review_interval_months": p.review_interval_months,
        "start_date": p.start_date,
        "status": p.status.value,
        "ended_on": p.ended_on,
        "end_reason": p.end_reason.value if p.end_reason else None,
        "end_note": p.end_note,
        "dps_id": p.dps_id,
        "regime": p.regime,
        "estimated_value": p.estimated_value,
        "above_threshold": p.above_threshold,
        "standstill_ends_on": p.standstill_ends_on,
        "entered_on": p.entered_on,
    }


PLACEMENT_DECODED = {
    "source": domain.PlacementSource,
    "price": domain.PriceBreakdown.from_dict,
    "incentive": lambda v: domain.IncentiveTerms.from_dict(v) if v else None,
    "monitored_components": tuple,
    "status": domain.PlacementStatus,
    "end_reason": lambda v: domain.EndReason(v) if v else None,
}


def placement_from_row(row: Any, variations: Sequence[domain.Variation] = (),
                       child_reference: str = ERASED) -> domain.Placement:
    """``child_reference`` as opened from the row's sealed column (§13), or ``erased``."""
    return common_codecs.from_row(
        domain.Placement, row, convert=PLACEMENT_DECODED, variations=list(variations),
        child_reference=child_reference,
        desired_outcomes=tuple(row._mapping["desired_outcomes"] or ()),
    )


SUMMARY_COLUMNS = (
    t.placements.c.placement_id,
    t.placements.c.authority,
    t.placements.c.provider_id,
    t.placements.c.provider_name,
    t.placements.c.establishment_id,
    t.placements.c.category,
    t.placements.c.source,
    t.placements.c.source_ref,
    t.placements.c.agreed_at,
    t.placements.c.awarded_weekly_price,
    t.placements.c.reason_code,
    t.placements.c.block_id,
    t.placements.c.end_reason,  # §7.1 did_not_start counts nowhere
    t.placements.c.bids_count,
    t.placements.c.regime,  # §11.2 fees (s.38)
    t.placements.c.dps_id,
    t.placements.c.estimated_value,
)
"""What ``placement_summary_from_row`` reads."""

_NO_PRICE = domain.PriceBreakdown(core_costs={})


def placement_summary_from_row(r: Any) -> domain.Placement:
    """A light placement from ``SUMMARY_COLUMNS``: ``awarded_weekly_price`` is what §7.6 and
    §7.7 figures use; the breakdown is empty and the child reference a dash."""
    return domain.Placement(
        placement_id=r.placement_id,
        authority=r.authority,
        provider_id=r.provider_id,
        provider_name=r.provider_name,
        establishment_id=r.establishment_id,
        category=r.category,
        child_reference="-",
        source=domain.PlacementSource(r.source),
        source_ref=r.source_ref,
        agreed_at=r.agreed_at,
        price=_NO_PRICE,
        awarded_weekly_price=r.awarded_weekly_price,
        reason_code=r.reason_code,
        block_id=r.block_id,
        bids_count=r.bids_count,
        end_reason=domain.EndReason(r.end_reason) if r.end_reason else None,
        regime=r.regime,
        dps_id=r.dps_id,
        estimated_value=r.estimated_value,
    )


# --- variations and uplifts (§7.2) ---------------------------------------------------------


def variation_to_row(placement_id: str, v: domain.Variation) -> dict[str, Any]:
    return {
        "variation_id": v.variation_id,
        "placement_id": placement_id,
        "effective_from": v.effective_from,
        "recorded_at": v.recorded_at,
        "uplift_id": v.uplift.uplift_id if v.uplift else None,
        "data": v.to_dict(),
    }


def variation_from_row(data: Mapping[str, Any]) -> domain.Variation:
    """A variation from its ``data`` column."""
    return domain.Variation.from_dict(data)


def uplift_to_row(u: domain.Uplift, count: int, now: datetime, by: dict | None) -> dict[str, Any]:
    return {
        **_fields_to_row(u, t.uplifts),
        "placements_uplifted": count,
        "created_at": now,
        "created_by": by,
    }


def uplift_from_row(r: Any) -> domain.Uplift:
    return domain.Uplift(r.uplift_id, r.category, r.cost_head, r.percent, r.effective_from)


# --- block contracts (§7.3) ----------------------------------------------------------------


def block_to_row(b: domain.BlockContract, now: datetime) -> dict[str, Any]:
    return {**_fields_to_row(b, t.block_contracts), "created_at": now}


def block_from_row(row: Any) -> domain.BlockContract:
    return _fields_from_row(domain.BlockContract, row)


# --- reviews and performance reports (§7.4) ------------------------------------------------


def review_to_row(r: domain.Review, period_start: date) -> dict[str, Any]:
    return {**_fields_to_row(r, t.reviews), "scores": dict(r.scores), "period_start": period_start}


def review_from_row(row: Any) -> domain.Review:
    return _fields_from_row(domain.Review, row)


def performance_report_to_row(
    perf: domain.EstablishmentPerformance, event_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "establishment_id": perf.establishment_id,
        "category": perf.category,
        "period_start": perf.period_start,
        "period_end": perf.period_end,
        "performance_index": perf.performance_index,
        "reviews_count": perf.reviews_count,
        "event_id": event_id,
        "reported_at": now,
    }


def performance_report_from_row(r: Any) -> dict[str, Any]:
    """A report as the ``performance`` RPC shows it."""
    return {
        "category": r.category,
        "period_start": r.period_start.isoformat(),
        "period_end": r.period_end.isoformat(),
        "performance_index": f"{r.performance_index:.2f}",
        "reviews_count": r.reviews_count,
        "reported_at": r.reported_at.isoformat(),
    }


# --- benchmarking copies (§7.6) ------------------------------------------------------------


def referral_record_from_row(r: Any, decline_reasons: Sequence[str]) -> domain.ReferralRecord:
    return domain.ReferralRecord(
        referral_id=r.referral_id,
        authority=r.authority,
        category=r.category,
        published_at=r.published_at,
        needs=tuple(r.needs or ()),
        bids_count=r.bids_count,
        compliant_bids_count=r.compliant_bids_count,
        awarded_at=r.awarded_at,
        decline_reasons=tuple(decline_reasons),
    )


def overdue_from_row(r: Any, as_of: date) -> dict[str, Any]:
    """An overdue review as the ``overdue_reviews`` RPC lists it (§7.4)."""
    return {
        "placement_id": r.placement_id,
        "authority": r.authority,
        "establishment_id": r.establishment_id,
        "establishment_name": r.establishment_name,
        "category": r.category,
        "due": r.next_review_due.isoformat(),
        "days_overdue": (as_of - r.next_review_due).days,
    }
