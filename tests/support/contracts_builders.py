"""Builders for contracts domain tests (RULES §7): award events, placements, reviews."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.contracts import domain
from services.contracts.messages import DirectPlacementRecorded, ReferralAwarded

AWARDED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PUBLISHED_AT = datetime(2026, 2, 26, 9, 0, tzinfo=UTC)
CHILD_REFERENCE = "KCC-CHILD-000123"
SECRET = b"test-anonymisation-secret"


def award_event(**overrides) -> ReferralAwarded:
    """A ``referral_awarded`` payload shaped as the referral service sends it (with fields
    contracts ignores, such as ``contacts`` and the child's details in ``referral``)."""
    payload = {
        "event_id": "evt-1",
        "occurred_at": AWARDED_AT.isoformat(),
        "request_id": "req-1",
        "referral_id": "ref-1",
        "placement_id": "pl-1",
        "authority": "KCC",
        "category": "SEN",
        "bid_id": "bid-1",
        "provider_id": "prov-1",
        "provider_name": "Oakwood Care Ltd",
        "establishment_id": "est-1",
        "establishment_name": "Oakwood School",
        "contacts": [{"name": "Head", "email": "head@oakwood.example"}],
        "child_reference": CHILD_REFERENCE,
        "price": {
            "core_costs": {"core_staffing": "2000.00", "premises": "1000.00"},
            "children": 1,
            "variable_costs": [{"label": "Speech therapy", "weekly": "250.00"}],
            "discount_percent": "0",
            "discount": "0.00",
            "weekly_price": "3250.00",
        },
        "proposed_start": "2026-03-09",
        "incentive": {
            "kind": "early_step_down",
            "description": "£2,000 if stepped down within 26 weeks",
            "premium": "2000.00",
            "within_weeks": 26,
        },
        "desired_outcomes": ["Attends school every day"],
        "published_at": PUBLISHED_AT.isoformat(),
        "awarded_at": AWARDED_AT.isoformat(),
        "bids_count": 4,
        "compliant_bids_count": 3,
        "winning_total": "84.08",
        "parent_choice": False,
        "parent_choice_reason": None,
        "referral": {
            "child_reference": CHILD_REFERENCE,
            "children": [{"age": 11, "name": "Sam Example"}],
            "needs": [{"code": "ASD", "label": "Autism", "marks": 3}],
        },
    }
    payload.update(overrides)
    return ReferralAwarded.model_validate(payload)


def direct_event(**overrides) -> DirectPlacementRecorded:
    payload = {
        "event_id": "evt-d1",
        "occurred_at": datetime(2026, 8, 3, 10, 0, tzinfo=UTC).isoformat(),
        "direct_placement_id": "dp-1",
        "placement_id": "pl-d1",
        "authority": "ESCC",
        "category": "RESIDENTIAL",
        "establishment_id": "est-9",
        "provider_id": "prov-9",
        "provider_name": "Harbour Homes Ltd",
        "reason_code": "emergency",
        "justification": "Sam needed a bed the same night after a family breakdown",
        "weekly_price": "5200.00",
        "child_reference": "ESCC-CHILD-777",
    }
    payload.update(overrides)
    return DirectPlacementRecorded.model_validate(payload)


def placement(**overrides) -> domain.Placement:
    """A pending placement priced 2000 + 1000 core, 250 variable (3,250.00 a week)."""
    fields = {
        "placement_id": "pl-1",
        "authority": "KCC",
        "provider_id": "prov-1",
        "provider_name": "Oakwood Care Ltd",
        "establishment_id": "est-1",
        "establishment_name": "Oakwood School",
        "category": "SEN",
        "child_reference": CHILD_REFERENCE,
        "source": domain.PlacementSource.REFERRAL_AWARD,
        "source_ref": "ref-1",
        "agreed_at": AWARDED_AT,
        "price": domain.PriceBreakdown(
            core_costs={"core_staffing": Decimal("2000.00"), "premises": Decimal("1000.00")},
            variable_costs=(domain.VariableItem("Speech therapy", Decimal("250.00")),),
        ),
    }
    fields.update(overrides)
    return domain.Placement(**fields)


def started(on: date = date(2026, 3, 9), **overrides) -> domain.Placement:
    p = placement(**overrides)
    p.start(on)
    return p


def review(p: domain.Placement, on: date, score: int | dict, review_id: str = "rv-1"):
    scores = score if isinstance(score, dict) else dict.fromkeys(p.monitored_components, score)
    return domain.record_review(
        p,
        review_id=review_id,
        on=on,
        scores=scores,
        recorded_at=datetime.combine(on, datetime.min.time(), UTC),
    )


# --- a small market for benchmarks and reports (§7.6, §7.7) -------------------------------

FROM, TO = date(2026, 4, 1), date(2026, 6, 30)


def at(day: date, hours: int = 9) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hours)


def market():
    """KCC: 2 awards (3,000 and 4,000), MED: 1 award (5,000) and 1 direct placement (6,000)."""

    def priced(pid, authority, weekly, day, **kw):
        return placement(
            placement_id=pid,
            authority=authority,
            source_ref=pid,
            agreed_at=at(day),
            price=domain.PriceBreakdown(core_costs={"core_staffing": Decimal(weekly)}),
            **kw,
        )

    placements = [
        priced("k1", "KCC", "3000.00", date(2026, 4, 10)),
        priced("k2", "KCC", "4000.00", date(2026, 5, 10)),
        priced("m1", "MED", "5000.00", date(2026, 6, 1)),
        priced(
            "m2",
            "MED",
            "6000.00",
            date(2026, 6, 2),
            source=domain.PlacementSource.DIRECT_PLACEMENT,
            reason_code="emergency",
        ),
        priced("old", "KCC", "9999.00", date(2026, 3, 31)),  # before the period
        priced("fc", "KCC", "900.00", date(2026, 4, 10), category="FOSTERCARE"),
    ]
    referrals = [
        domain.ReferralRecord(
            "r1",
            "KCC",
            "SEN",
            at(date(2026, 4, 1)),
            ("ASD", "SEMH"),
            5,
            4,
            at(date(2026, 4, 11)),
            ("no_capacity",),
        ),
        domain.ReferralRecord(
            "r2",
            "KCC",
            "SEN",
            at(date(2026, 5, 1)),
            ("ASD",),
            2,
            1,
            at(date(2026, 5, 4), 21),
            ("no_capacity", "location"),
        ),
        domain.ReferralRecord(
            "r3", "MED", "SEN", at(date(2026, 5, 20)), ("SEMH",), 3, 3, at(date(2026, 5, 27))
        ),
        domain.ReferralRecord("r4", "MED", "SEN", at(date(2026, 6, 25)), ("ASD",)),  # open
        domain.ReferralRecord("r0", "MED", "SEN", at(date(2026, 3, 25)), ("ASD",), 9, 9),
    ]
    started = placements[0]
    started.start(date(2026, 4, 13))
    reviews = [review(started, date(2026, 5, 1), 4, "a"), review(started, date(2026, 6, 1), 3, "b")]
    return placements, referrals, reviews
