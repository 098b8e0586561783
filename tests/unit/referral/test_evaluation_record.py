"""Issue 15: the evaluation's inputs as data (RULES §6.3, §10). The referral keeps what the
scoring service applied, serves it to the owner and the auditor, and gives each bidder its
own bid's inputs in its feedback (distance in whole miles, §5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.common.errors import Conflict, Forbidden, NotFound
from services.referral.handlers import evaluation
from services.referral.messages import AwardRequest, ParentChoice
from services.scoring.messages import ScoringResult
from services.scoring.service import score_referral
from tests.support.referral_builders import (
    AUDITOR,
    LATER,
    OTHER_COMMISSIONER,
    OWNER,
    closed,
    provider,
    scored,
)
from tests.support.referral_fakes import FakePeers, unit_of_work


class RealScoring(FakePeers):
    """Peers whose scoring is the real rules, in process."""

    def score(self, request):
        return ScoringResult.model_validate(
            score_referral(request.model_dump(mode="json"), request.category)
        )


def evaluated_for_real():
    referral, ids = closed(changes={2: {"needs_met": ["N1"]}, 3: {"features_met": ["D1"]}})
    scored(referral)
    uow = unit_of_work(referral, at=LATER)
    evaluation.evaluate(referral.referral_id, uow, OWNER, RealScoring())
    return uow.store.referrals[referral.referral_id], ids, uow


def test_the_record_holds_the_inputs_weights_and_formula_version_as_applied():
    referral, ids, uow = evaluated_for_real()
    record = evaluation.evaluation_record(referral.referral_id, uow, OWNER)
    assert (record.formula, record.formula_version) == ("RULES §6", "1")
    assert record.evaluated_at == LATER and record.weights == referral.weights
    [audit] = [a for a in uow.audits if a["action"] == "referral.evaluated"]
    assert audit["after"]["formula_version"] == "1"
    bids = {b.bid_id: b for b in record.bids}
    one = bids[ids[1]].inputs
    assert one.weekly_price == referral.bids[ids[1]].price.weekly_price
    assert one.competency == Decimal(75) and one.distance_miles == Decimal("12.7")
    assert one.outcome_scores == [Decimal(70)]
    assert (one.needs_marks_met, one.needs_marks_total) == (5, 5)
    assert (one.desirable_marks_met, one.desirable_marks_total) == (2, 3)
    assert bids[ids[2]].inputs.needs_marks_met == 3  # N1 only
    assert record.lowest_compliant_weekly_price == min(
        b.inputs.weekly_price for b in record.bids if b.compliant
    )
    assert bids[ids[3]].compliant is False and bids[ids[3]].inputs is not None
    assert bids[ids[1]].total_exact and bids[ids[1]].subscores_exact["L"]


def test_the_owner_and_the_auditor_read_it_nobody_else():
    referral, _, uow = evaluated_for_real()
    rid = referral.referral_id
    owner = evaluation.evaluation_record(rid, uow, OWNER)
    assert evaluation.evaluation_record(rid, uow, AUDITOR) == owner
    with pytest.raises(Forbidden):
        evaluation.evaluation_record(rid, uow, provider(1))
    with pytest.raises(NotFound):
        evaluation.evaluation_record(rid, uow, OTHER_COMMISSIONER)


def test_before_evaluation_there_is_no_record():
    referral, _ = closed()
    with pytest.raises(Conflict, match="not been evaluated"):
        evaluation.evaluation_record(referral.referral_id, unit_of_work(referral), OWNER)


def test_each_bidders_feedback_carries_its_own_inputs_in_whole_miles():
    referral, ids, uow = evaluated_for_real()
    record = evaluation.evaluation_record(referral.referral_id, uow, OWNER)
    if referral.status == "parent_choice":
        referral.record_parent_choice(OWNER, ParentChoice(bid_id=record.shortlist[0]))
    referral.award(OWNER, AwardRequest(), LATER)
    [mine] = referral.feedback_for(provider(2))
    theirs = next(b for b in record.bids if b.bid_id == ids[2])
    assert mine.total_exact == theirs.total_exact and mine.formula_version == "1"
    assert mine.inputs == theirs.inputs.model_copy(update={"distance_miles": Decimal(12)})
