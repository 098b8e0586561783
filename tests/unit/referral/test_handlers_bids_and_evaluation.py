"""Bid, clarification, evaluation, award, direct-placement and membership-event handlers
(RULES §4.5, §5, §6, §9, §10) on a fake unit of work."""

from __future__ import annotations

from datetime import date

import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from services.qualification.messages import MembershipReinstated, MembershipSuspended
from services.referral.domain import Status
from services.referral.handlers import (
    bids,
    clarifications,
    direct_placements,
    evaluation,
    membership,
)
from services.referral.messages import (
    AnswerCreate,
    AwardRequest,
    DeclineCreate,
    DirectPlacementCreate,
    ParentChoice,
    QuestionCreate,
)
from tests.support.referral_builders import (
    LATER,
    NOW,
    OTHER_COMMISSIONER,
    OWNER,
    closed,
    evaluated,
    provider,
    published,
    ranked,
    result,
    score,
    scored,
    terms,
    with_bids,
)
from tests.support.referral_fakes import FakePeers, establishment_view, unit_of_work


def stored(uow, referral_id):
    return uow.store.referrals[referral_id]


# --------------------------------------------------------------------------- bids


def test_a_bid_is_stored_announced_and_audited_sealed():
    referral = published()
    uow = unit_of_work(referral)
    view = bids.submit_bid(referral.referral_id, terms(1), uow, provider(1))
    assert view.status == "submitted" and view.outcome_scores is None
    assert view.bid_id in stored(uow, referral.referral_id).bids
    assert uow.event_types() == ["bid_received"]
    [audit] = uow.audits
    assert audit["action"] == "bid.submitted" and audit["before"] is None
    assert len(audit["after"]["terms_sha256"]) == 64
    assert "core_costs" not in str(audit)  # §5 sealed: the terms only as a hash
    assert uow.committed == 1


def test_an_over_cap_bid_is_refused_and_nothing_is_written():
    referral = published()
    uow = unit_of_work(referral)
    with pytest.raises(InvalidInput) as exc:
        bids.submit_bid(
            referral.referral_id,
            terms(1, core_costs={"premises": "1000.01", "staffing": "2000.00"}),
            uow,
            provider(1),
        )
    assert exc.value.errors[0]["loc"] == ["core_costs", "premises"]
    assert stored(uow, referral.referral_id).bids == {}
    assert uow.events == [] and uow.audits == [] and uow.committed == 0


def test_replace_and_withdraw_are_the_bidders_own_and_audited_before_and_after():
    referral, ids = with_bids(bidders=(1,))
    uow = unit_of_work(referral)
    with pytest.raises(NotFound, match="bid not found"):
        bids.withdraw_bid(referral.referral_id, ids[1], uow, provider(2))
    bids.replace_bid(referral.referral_id, ids[1], terms(1, needs_met=["N1"]), uow, provider(1))
    view = bids.withdraw_bid(referral.referral_id, ids[1], uow, provider(1))
    assert view.status == "withdrawn"
    assert [a["action"] for a in uow.audits] == ["bid.replaced", "bid.withdrawn"]
    assert uow.audits[1]["before"]["status"] == "submitted"
    assert uow.audits[1]["after"]["status"] == "withdrawn"
    assert [e.action for e in uow.events] == ["changed", "withdrawn"]


def test_the_owner_sees_only_a_count_before_the_deadline():
    referral, _ = with_bids(bidders=(1, 2))
    assert bids.list_bids(referral.referral_id, unit_of_work(referral), OWNER) == {"count": 2}
    later = bids.list_bids(referral.referral_id, unit_of_work(referral, at=LATER), OWNER)
    assert later["count"] == 2 and len(later["items"]) == 2
    mine = bids.list_bids(referral.referral_id, unit_of_work(referral), provider(1))
    assert [b["establishment_id"] for b in mine["items"]] == ["E1"]


# --------------------------------------------------------------------------- clarifications


def test_a_question_is_answered_once_to_everyone():
    referral = published()
    uow = unit_of_work(referral)
    asked = clarifications.ask_question(
        referral.referral_id,
        QuestionCreate(establishment_id="E1", question="Is there a garden?"),
        uow,
        provider(1),
    )
    answered = clarifications.answer_question(
        referral.referral_id, asked.question_id, AnswerCreate(answer="Yes"), uow, OWNER
    )
    assert answered.answer == "Yes"
    assert uow.event_types() == ["question_answered"]
    assert uow.audits[1]["after"]["recipients"] == 3
    with pytest.raises(Conflict, match="already been answered"):
        clarifications.answer_question(
            referral.referral_id, asked.question_id, AnswerCreate(answer="No"), uow, OWNER
        )
    seen = clarifications.list_questions(referral.referral_id, uow, provider(2))
    assert [q["establishment_id"] for q in seen["items"]] == [None]  # asker hidden


def test_a_decline_is_recorded_and_a_stranger_gets_404():
    referral = published()
    uow = unit_of_work(referral)
    with pytest.raises(NotFound):
        clarifications.decline(
            referral.referral_id,
            DeclineCreate(establishment_id="E1", reason_code="location"),
            uow,
            provider(9),
        )
    view = clarifications.decline(
        referral.referral_id,
        DeclineCreate(establishment_id="E1", reason_code="no_capacity"),
        uow,
        provider(1),
    )
    assert view.reason_code == "no_capacity"
    assert "E1" in stored(uow, referral.referral_id).declines
    assert uow.event_types() == ["invitation_declined"]
    assert uow.audits[0]["action"] == "invitation.declined"


# --------------------------------------------------------------------------- evaluation


def test_outcome_scores_by_the_owner_only():
    referral, ids = closed()
    uow = unit_of_work(referral, at=LATER)
    with pytest.raises(NotFound):
        evaluation.score_outcomes(referral.referral_id, ids[1], score(70), uow, OTHER_COMMISSIONER)
    view = evaluation.score_outcomes(referral.referral_id, ids[1], score(70), uow, OWNER)
    assert view.outcome_scores == {"eva": 70} and str(view.mean) == "70.00"
    assert uow.audits[0]["before"] == {"outcome_scores": {}}


def parent_choice_result(ids):
    return result(
        "parent_choice",
        [
            ranked(ids[1], "E1", "84.08", rank=1),
            ranked(ids[2], "E2", "81.00", rank=2),
            ranked(ids[3], "E3", "60.00", rank=3),
        ],
        [ids[1], ids[2]],
    )


def test_evaluate_applies_the_scoring_result_and_audits_the_ranking():
    referral, ids = closed()
    scored(referral)
    uow = unit_of_work(referral, at=LATER)
    peers = FakePeers(scoring=parent_choice_result(ids))
    view = evaluation.evaluate(referral.referral_id, uow, OWNER, peers)
    assert view.status == "parent_choice" and view.shortlist == [ids[1], ids[2]]
    assert uow.event_types() == ["parent_choice_required"]
    [audit] = uow.audits
    assert [r["rank"] for r in audit["after"]["ranking"]] == [1, 2, 3]
    assert stored(uow, referral.referral_id).status == Status.PARENT_CHOICE


def test_evaluate_while_scoring_is_down_writes_nothing():
    referral, ids = closed()
    scored(referral)
    uow = unit_of_work(referral, at=LATER)
    peers = FakePeers(scoring=parent_choice_result(ids))
    peers.down.add("scoring")
    with pytest.raises(Unavailable):
        evaluation.evaluate(referral.referral_id, uow, OWNER, peers)
    assert stored(uow, referral.referral_id).status == Status.CLOSED
    assert uow.events == [] and uow.audits == [] and uow.committed == 0


def test_parent_choice_then_award_announces_the_winner_and_feeds_back_the_others():
    referral, ids = evaluated("parent_choice")
    uow = unit_of_work(referral, at=LATER)
    with pytest.raises(Conflict, match="record the parents' choice first"):
        evaluation.award(referral.referral_id, AwardRequest(), uow, OWNER, FakePeers())
    evaluation.record_parent_choice(
        referral.referral_id, ParentChoice(bid_id=ids[2], reason="closer to school"), uow, OWNER
    )
    awarded = evaluation.award(referral.referral_id, AwardRequest(), uow, OWNER, FakePeers())
    assert stored(uow, referral.referral_id).placement_id == awarded.placement_id
    assert uow.event_types() == ["referral_awarded", "bid_feedback", "bid_feedback"]
    assert [a["action"] for a in uow.audits] == ["referral.parent_choice", "referral.awarded"]
    mine = evaluation.feedback(referral.referral_id, uow, provider(1))
    assert [f["awarded"] for f in mine["items"]] == [False]
    with pytest.raises(NotFound):
        evaluation.feedback(referral.referral_id, uow, provider(9))


# --------------------------------------------------------------------------- direct placement


def direct(**over) -> DirectPlacementCreate:
    data = {
        "category": "RESIDENTIAL",
        "establishment_id": "E1",
        "reason_code": "emergency",
        "justification": "placed out of hours",
        "weekly_price": "4200.00",
        "child_reference": "KCC-CHILD-0002",
    }
    return DirectPlacementCreate.model_validate(data | over)


def test_a_direct_placement_at_an_admitted_establishment_is_recorded_and_announced():
    uow = unit_of_work()
    peers = FakePeers(establishments={"E1": establishment_view("E1", "P1")})
    view = direct_placements.record_direct_placement(direct(), uow, OWNER, peers)
    assert view.provider_id == "P1" and view.authority == "KCC"
    assert [p.placement_id for p in uow.store.direct_placements] == [view.placement_id]
    assert uow.event_types() == ["direct_placement_recorded"]
    assert uow.audits[0]["action"] == "direct_placement.recorded"


def test_a_direct_placement_is_refused_at_a_suspended_or_unknown_establishment():
    uow = unit_of_work()
    peers = FakePeers(establishments={"E1": establishment_view("E1", status="suspended")})
    with pytest.raises(Conflict, match="not admitted in RESIDENTIAL"):
        direct_placements.record_direct_placement(direct(), uow, OWNER, peers)
    with pytest.raises(NotFound, match="establishment not found"):
        direct_placements.record_direct_placement(direct(establishment_id="E9"), uow, OWNER, peers)
    with pytest.raises(Forbidden):
        direct_placements.record_direct_placement(
            direct(), uow, provider(1), FakePeers(establishments={"E1": establishment_view()})
        )
    assert uow.store.direct_placements == [] and uow.committed == 0


# --------------------------------------------------------------------------- membership events


def suspension(**over) -> MembershipSuspended:
    data = {
        "event_id": "ev-1",
        "occurred_at": NOW.isoformat(),
        "establishment_id": "E1",
        "provider_id": "P1",
        "establishment_name": "Home 1",
        "category": "RESIDENTIAL",
        "contacts": [],
        "membership_id": "m-E1",
        "criterion": "INSPECTION",
        "reason": "INADEQUATE judgement",
        "suspended_by": "lead",
        "suspended_on": date(2026, 3, 2).isoformat(),
    }
    return MembershipSuspended.model_validate(data | over)


def test_a_suspension_withdraws_the_live_bid_with_its_reason_and_a_reinstatement_undoes_the_bar():
    referral, ids = with_bids(bidders=(1, 2))
    uow = unit_of_work(referral)
    membership.membership_suspended(suspension(), uow)
    uow.commit()  # @consumes commits after the handler
    after = stored(uow, referral.referral_id)
    assert after.bids[ids[1]].withdrawn_reason == (
        "membership suspended: INSPECTION: INADEQUATE judgement"
    )
    assert after.bids[ids[2]].live
    assert [e.action for e in uow.events] == ["withdrawn"]
    [audit] = uow.audits
    assert audit["action"] == "invitation.suspended"
    assert audit["after"]["withdrawn_bids"] == [ids[1]]
    with pytest.raises(Conflict, match="suspended"):
        bids.submit_bid(referral.referral_id, terms(1), uow, provider(1))

    reinstated = MembershipReinstated.model_validate(
        {
            "event_id": "ev-2",
            "establishment_id": "E1",
            "provider_id": "P1",
            "establishment_name": "Home 1",
            "category": "RESIDENTIAL",
            "contacts": [],
            "membership_id": "m-E1",
            "criteria": ["INSPECTION"],
            "reinstated_on": "2026-03-02",
            "competency": "80",
            "core_costs": {"premises": "1000.00", "staffing": "2000.00"},
            "total_weekly_core_cost": "3000.00",
        }
    )
    membership.membership_reinstated(reinstated, uow)
    uow.commit()
    assert stored(uow, referral.referral_id).invitations["E1"].suspended_reason is None
    assert uow.audits[-1]["action"] == "invitation.reinstated"
    bids.submit_bid(referral.referral_id, terms(1), uow, provider(1))
