"""Samples and helpers shared by scoring's tests (RULES §6.5's worked example as JSON)."""

from __future__ import annotations

from nameko.testing.services import worker_factory as nameko_worker_factory

from services.common.runtime import CallContext

OWNER = {"id": "k-med", "role": "commissioner", "authority": "MED", "provider_id": None}


def worker_factory(cls, principal: dict | None = None):
    """nameko's ``worker_factory`` with a real call context (no principal: a service call)."""
    context = CallContext({"principal": principal} if principal else {})
    return nameko_worker_factory(cls, ctx=context)


def worked_example() -> dict:
    """§6.5 as the referral service would send it: money as strings, times with offsets."""

    def bid(bid_id, price, competency, miles, score, needs, features, hour):
        return {
            "bid_id": bid_id,
            "establishment_id": f"est-{bid_id}",
            "weekly_price": price,
            "competency": competency,
            "distance_miles": miles,
            "outcome_scores": [score],
            "needs_met": needs,
            "features_met": features,
            "admitted_at_deadline": True,
            "submitted_at": f"2026-03-02T{hour:02d}:00:00+00:00",
        }

    return {
        "category": "SEN",
        "needs": [{"code": "N1", "label": "SLT", "marks": 3}, {"code": "N2", "marks": 2}],
        "features": [
            {"code": "M1", "label": "wheelchair access", "must_have": True},
            {"code": "D1", "must_have": False, "marks": 2},
            {"code": "D2", "must_have": False, "marks": 1},
        ],
        "bids": [
            bid("A", "4000.00", 80, 12, 70, ["N1", "N2"], ["M1", "D1"], 9),
            bid("B", "3500.00", 60, "35", 60, ["N1"], ["M1", "D1", "D2"], 10),
            bid("C", "3000.00", 90, 5, 90, ["N1", "N2"], ["D1", "D2"], 11),
            bid("D", "5000.00", 100, 55, 100, ["N1", "N2"], ["M1"], 12),
        ],
    }


def error_locs(exc_info) -> list[list]:
    return [e["loc"] for e in exc_info.value.errors]
