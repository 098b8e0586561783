"""Published messages (``messages.py``) ↔ domain objects (``domain/``), in one place."""

from __future__ import annotations

from services.scoring import domain
from services.scoring.messages import (
    BidMsg,
    FeatureMsg,
    NeedMsg,
    RankedBidMsg,
    ReplayedBidMsg,
    ReplayRequest,
    ReplayResult,
    ScoreInputsMsg,
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
            msg.costs.children,
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


def inputs_out(x: domain.Inputs) -> ScoreInputsMsg:
    return ScoreInputsMsg(
        weekly_price=x.weekly_price,
        competency=x.competency,
        distance_miles=x.distance_miles,
        outcome_scores=list(x.outcome_scores),
        needs_marks_met=x.needs_marks_met,
        needs_marks_total=x.needs_marks_total,
        desirable_marks_met=x.desirable_marks_met,
        desirable_marks_total=x.desirable_marks_total,
        final_submission_at=x.final_submission_at,
    )


def inputs_in(msg: ScoreInputsMsg) -> domain.Inputs:
    return domain.Inputs(
        weekly_price=msg.weekly_price,
        competency=msg.competency,
        distance_miles=msg.distance_miles,
        outcome_scores=tuple(msg.outcome_scores),
        needs_marks_met=msg.needs_marks_met,
        needs_marks_total=msg.needs_marks_total,
        desirable_marks_met=msg.desirable_marks_met,
        desirable_marks_total=msg.desirable_marks_total,
        final_submission_at=msg.final_submission_at,
    )


def _exact(sub: domain.Subscores | None) -> dict[str, str] | None:
    return None if sub is None else {c: str(v) for c, v in sub.as_dict().items()}


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
        inputs=None if s.inputs is None else inputs_out(s.inputs),
        subscores_exact=_exact(sub),
    )


def result_out(evaluation: domain.Evaluation) -> ScoringResult:
    return ScoringResult(
        status=evaluation.status,
        formula_version=evaluation.formula_version,
        weights=weights_out(evaluation.weights),
        lowest_price=evaluation.lowest_price,
        ranking=[ranked_out(s) for s in evaluation.ranking],
        shortlist=list(evaluation.shortlist),
    )


def replay_in(msg: ReplayRequest) -> tuple[domain.Weights, list[domain.RecordedBid]]:
    weights = domain.Weights(**msg.weights.model_dump())
    bids = [domain.RecordedBid(b.bid_id, b.compliant, inputs_in(b.inputs)) for b in msg.bids]
    return weights, bids


def replay_out(r: domain.Replay) -> ReplayResult:
    return ReplayResult(
        formula_version=r.formula_version,
        lowest_price=r.lowest_price,
        bids=[
            ReplayedBidMsg(
                bid_id=b.bid_id,
                compliant=b.compliant,
                rank=b.rank,
                total_exact=None if b.subscores is None else str(b.subscores.total),
                subscores_exact=_exact(b.subscores),
            )
            for b in r.bids
        ],
        shortlist=list(r.shortlist),
    )
