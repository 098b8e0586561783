"""Evaluation and award use cases (RULES §5, §6): outcome scores, evaluation by the scoring
service, the parents' choice (§6.4), the award and each bidder's own feedback."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from services.referral.domain import audit_referral
from services.referral.handlers.shared import audit_change, commit, load
from services.referral.messages import (
    AwardRequest,
    AwardResult,
    EvaluationRecord,
    EvaluationView,
    OutcomeScoreCreate,
    OutcomeScoreView,
    ParentChoice,
    ParentChoiceView,
)


def score_outcomes(
    referral_id: str, bid_id: str, request: OutcomeScoreCreate, uow, principal: Mapping
) -> OutcomeScoreView:
    """``POST …/bids/{bid_id}/outcome-scores``: an evaluator's 0–100 (§5)."""
    referral = load(uow, referral_id, lock=True)
    before = dict(referral.bids[bid_id].outcome_scores) if bid_id in referral.bids else None
    bid = referral.score_outcomes(principal, bid_id, request)
    uow.audit(
        "bid.outcome_scored",
        "bid",
        bid.bid_id,
        {"outcome_scores": before},
        {"referral_id": referral.referral_id, "outcome_scores": dict(bid.outcome_scores)},
    )
    commit(uow, referral)
    scores = dict(bid.outcome_scores)
    mean = Decimal(sum(scores.values())) / len(scores)
    return OutcomeScoreView(bid_id=bid.bid_id, outcome_scores=scores, mean=round(mean, 2))


def evaluate(referral_id: str, uow, principal: Mapping, peers) -> EvaluationView:
    """``POST /referrals/{id}/evaluate``: the scoring service ranks the bids (§6); the
    referral becomes evaluated, parent_choice or unsuccessful. Nothing is written
    unless scoring answers (503 otherwise; evaluating again later succeeds)."""
    referral = load(uow, referral_id, lock=True)
    result = peers.score(referral.scoring_request(principal))
    before = audit_referral(referral)
    evaluation = referral.apply_scoring(result, uow.now())
    audit_change(
        uow,
        "referral.evaluated",
        referral,
        before,
        shortlist=evaluation.shortlist,
        formula_version=evaluation.formula_version,
        ranking=[
            {"bid_id": r.bid_id, "compliant": r.compliant, "total": r.total_exact, "rank": r.rank}
            for r in evaluation.ranking
        ],
    )
    commit(uow, referral)
    return evaluation


def evaluation_record(referral_id: str, uow, principal: Mapping) -> EvaluationRecord:
    """``GET /referrals/{id}/evaluation`` (issue 15): as stored at evaluation."""
    return load(uow, referral_id).evaluation_record(principal)


def record_parent_choice(
    referral_id: str, request: ParentChoice, uow, principal: Mapping
) -> ParentChoiceView:
    """``POST /referrals/{id}/parent-choice`` (§6.4): a bid on the shortlist."""
    referral = load(uow, referral_id, lock=True)
    before = audit_referral(referral)
    referral.record_parent_choice(principal, request)
    audit_change(uow, "referral.parent_choice", referral, before, reason=request.reason)
    commit(uow, referral)
    return ParentChoiceView(status=referral.status, bid_id=request.bid_id, reason=request.reason)


def award(
    referral_id: str, request: AwardRequest, uow, principal: Mapping, peers
) -> AwardResult:
    """``POST /referrals/{id}/award`` (§5, §6.4): to the top bid or the parents' choice,
    whose membership qualification confirms is still admitted (409 otherwise, the
    referral unchanged); contracts creates the placement agreement under the returned
    ``placement_id``."""
    referral = load(uow, referral_id, lock=True)
    ids = referral.award_candidates(principal)
    dps_id = referral.procurement.dps_id if referral.procurement else None
    standing_now = peers.standings(referral.category, ids, dps_id) if ids else {}
    before = audit_referral(referral)
    result = referral.award(  # §11.2: insurance checked at award under the Act
        principal, request, uow.now(), standing_now,
        insurance=lambda est_id: peers.insurance(est_id, referral.category, dps_id))
    audit_change(uow, "referral.awarded", referral, before)
    commit(uow, referral)
    return result


def feedback(referral_id: str, uow, principal: Mapping) -> dict:
    """``GET /referrals/{id}/feedback``: a bidder's own feedback only (§5, §10)."""
    items = [f.model_dump(mode="json") for f in load(uow, referral_id).feedback_for(principal)]
    return {"items": items, "next_cursor": None}
