"""Published messages (``messages.py``) ↔ domain objects (``domain/``), in one place."""

from __future__ import annotations

from services.scoring import domain
from services.scoring.messages import (
    BidMsg,
    FeatureMsg,
    NeedMsg,
    RankedBidMsg,
    ScoringResult,
    SubscoresMsg,
    WeightsMsg,
)


def weights_in(msg: WeightsMsg | None) -> domain.Weights | None:
    return None if msg is None else domain.Weights(**msg.model_dump())


def weights_out(weights: domain.Weights) -> WeightsMsg:
    return WeightsMsg(**weights.as_dict())


def need_in(msg: NeedMsg) -> domain.Need:
    return domain.Need(code=msg.code, marks=msg.marks, label=msg.label)


def feature_in(msg: FeatureMsg) -> domain.Feature:
    return domain.Feature(code=msg.code, must_have=msg.must_have, marks=msg.marks,
                          label=msg.label)


def bid_in(msg: BidMsg) -> domain.Bid:
    """A bid priced from its breakdown after the cohort discount (§4.4, §6.3), or as given."""
    if msg.costs is not None:
        price = domain.weekly_price(
            msg.costs.core_costs.values(),
            (v.weekly for v in msg.costs.variable_costs),
            msg.costs.discount_percent,
        )
    else:
        assert msg.weekly_price is not None
        price = msg.weekly_price
    return domain.Bid(
        bid_id=msg.bid_id,
        establishment_id=msg.establishment_id,
        weekly_price=price,
        competency=msg.competency,
        distance_miles=msg.distance_miles,
        submitted_at=msg.submitted_at,
        admitted_at_deadline=msg.admitted_at_deadline,
        outcome_scores=tuple(msg.outcome_scores),
        needs_met=frozenset(msg.needs_met),
        features_met=frozenset(msg.features_met),
    )


def ranked_out(s: domain.ScoredBid) -> RankedBidMsg:
    """One bid of the result: points rounded for display, the exact total as a fraction."""
    sub = s.subscores
    return RankedBidMsg(
        bid_id=s.bid.bid_id,
        establishment_id=s.bid.establishment_id,
        compliant=s.compliant,
        reason="; ".join(s.reasons) or None,
        rank=s.rank,
        total=None if sub is None else domain.display(sub.total),
        total_exact=None if sub is None else str(sub.total),
        quality_total=None if sub is None else domain.display(sub.quality),
        subscores=None
        if sub is None
        else SubscoresMsg(**{c: domain.display(v) for c, v in sub.as_dict().items()}),
        explanation=dict(s.explanation),
        weekly_price=s.bid.weekly_price,
    )


def result_out(evaluation: domain.Evaluation) -> ScoringResult:
    return ScoringResult(
        status=evaluation.status,
        weights=weights_out(evaluation.weights),
        lowest_price=evaluation.lowest_price,
        ranking=[ranked_out(s) for s in evaluation.ranking],
        shortlist=list(evaluation.shortlist),
    )
