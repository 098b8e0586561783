"""Builders for referral domain tests (RULES §5): a referral in any state in one call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.referral.domain import Referral
from services.referral.messages import (
    BidCreate,
    EstablishmentSnapshot,
    OutcomeScoreCreate,
    PublishRequest,
    ReferralCreate,
    Standing,
)
from services.scoring.messages import RankedBidMsg, ScoringResult, SubscoresMsg, WeightsMsg

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=3)
BEFORE_DEADLINE = DEADLINE - timedelta(minutes=1)
LATER = DEADLINE + timedelta(hours=2)
WEIGHTS = WeightsMsg(P=50, C=20, L=5, O=10, N=10, F=5)

OWNER = {"role": "commissioner", "authority": "KCC"}
OTHER_COMMISSIONER = {"role": "commissioner", "authority": "ESCC"}
LEAD = {"role": "lead", "authority": "WSCC"}
CONTRACT_MANAGER = {"role": "contract_manager"}
AUDITOR = {"role": "auditor"}
STRANGER = {"role": "provider", "provider_id": "P-none"}

CORE = {"premises": "1000.00", "staffing": "2000.00"}


def provider(i: int) -> dict:
    return {"role": "provider", "provider_id": f"P{i}"}


def spec(**over) -> ReferralCreate:
    data = {
        "category": "RESIDENTIAL",
        "child_reference": "KCC-CHILD-0001",
        "children": [{"age": 14, "gender": "female", "legal_status": "s31", "name": "Ann Smith"}],
        "home_location": {"lat": 51.2787, "lon": 1.0789},
        "address": "1 High Street, Canterbury",
        "radius_miles": 30,
        "deadline": DEADLINE,
        "needs": [
            {"code": "N1", "label": "therapy", "marks": 3},
            {"code": "N2", "label": "education", "marks": 2},
        ],
        "features": [
            {"code": "M1", "label": "single occupancy", "must_have": True},
            {"code": "D1", "label": "near school", "marks": 2},
            {"code": "D2", "label": "pets", "marks": 1},
        ],
        "desired_outcomes": ["attend school full time", "stable placement"],
    }
    return ReferralCreate.model_validate(data | over)


def snapshot(i: int, **over) -> EstablishmentSnapshot:
    data = {
        "establishment_id": f"E{i}",
        "provider_id": f"P{i}",
        "name": f"Home {i}",
        "distance_miles": "12.7",
        "core_costs": CORE,
        "cohort_discounts": [{"min_children": 2, "percent": 5}, {"min_children": 3, "percent": 8}],
        "competency": "80",
        "contacts": [{"name": f"Manager {i}", "email": f"e{i}@example.org"}],
    }
    return EstablishmentSnapshot.model_validate(data | over)


def terms(i: int = 1, **over) -> BidCreate:
    data = {
        "establishment_id": f"E{i}",
        "core_costs": CORE,
        "variable_costs": [{"label": "1:1 support", "weekly": "150.50"}],
        "needs_met": ["N1", "N2"],
        "features_met": ["M1", "D1"],
        "outcomes_statement": "We will work towards full-time attendance.",
    }
    return BidCreate.model_validate(data | over)


def draft(**spec_over) -> Referral:
    return Referral.create(OWNER, spec(**spec_over), WEIGHTS, NOW)


def published(n: int = 3, **spec_over) -> Referral:
    referral = draft(**spec_over)
    referral.publish(OWNER, PublishRequest(), [snapshot(i) for i in range(1, n + 1)], NOW)
    return referral


def with_bids(
    bidders=(1, 2, 3), n: int = 3, changes: dict | None = None, **spec_over
) -> tuple[Referral, dict[int, str]]:
    """Published, with a bid from each of ``bidders`` (``changes[i]`` altering bidder i's
    terms); returns the bid ids by bidder."""
    referral = published(n, **spec_over)
    changes = changes or {}
    ids = {
        i: referral.submit_bid(provider(i), terms(i, **changes.get(i, {})), NOW).bid_id
        for i in bidders
    }
    return referral, ids


def admitted(referral: Referral, competency: str = "75") -> dict[str, Standing]:
    return {
        e: Standing(admitted=True, competency=Decimal(competency)) for e in referral.live_bidders()
    }


def closed(bidders=(1, 2, 3), changes=None, **spec_over) -> tuple[Referral, dict[int, str]]:
    referral, ids = with_bids(bidders, changes=changes, **spec_over)
    assert referral.close_due(DEADLINE, admitted(referral))
    return referral, ids


def scored(referral: Referral) -> None:
    """One outcome score (70) for every live bid offering the must-have M1 (§6.2)."""
    for bid in referral.bids.values():
        if bid.live and "M1" in bid.terms.features_met:
            referral.score_outcomes(OWNER, bid.bid_id, score(70))


def score(value: int, evaluator: str = "eva") -> OutcomeScoreCreate:
    return OutcomeScoreCreate(evaluator=evaluator, score=value)


def ranked(
    bid_id: str,
    establishment_id: str,
    total: str | None,
    rank: int | None = None,
    reason: str | None = None,
    weekly_price: str = "6150.50",
) -> RankedBidMsg:
    compliant = total is not None
    subscores = (
        SubscoresMsg(P="40.00", C="16.00", L="4.00", O="7.00", N="10.00", F="3.33")
        if compliant
        else None
    )
    return RankedBidMsg(
        bid_id=bid_id,
        establishment_id=establishment_id,
        compliant=compliant,
        reason=reason,
        rank=rank,
        total=total,
        subscores=subscores,
        weekly_price=weekly_price,
    )


def result(status: str, ranking: list[RankedBidMsg], shortlist: list[str]) -> ScoringResult:
    return ScoringResult(status=status, weights=WEIGHTS, ranking=ranking, shortlist=shortlist)


def evaluated(status: str = "parent_choice"):
    """Closed with bids 1, 2, 3 and a scoring result applied: 1 and 2 shortlisted when
    ``parent_choice``, only 1 when ``evaluated``; 3 non-compliant (no M1)."""
    referral, ids = closed(changes={3: {"features_met": ["D1"]}})
    scored(referral)
    second = "81.00" if status == "parent_choice" else "70.00"
    shortlist = [ids[1], ids[2]] if status == "parent_choice" else [ids[1]]
    referral.apply_scoring(
        result(
            status,
            [
                ranked(ids[1], "E1", "84.08", rank=1),
                ranked(ids[2], "E2", second, rank=2),
                ranked(ids[3], "E3", None, reason="does not offer must-have feature M1"),
            ],
            shortlist,
        ),
        LATER,
    )
    return referral, ids
