"""RULES §5 evaluation and award: outcome scores, the scoring request (§6), parent choice
(§6.4), the award payload for contracts (§7.1) and each other bidder's own feedback."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.referral.domain import DirectPlacement, Referral, Status
from services.referral.messages import (
    AwardRequest,
    CancelRequest,
    DirectPlacementCreate,
    OutcomeScoreCreate,
    ParentChoice,
    PublishRequest,
    Standing,
)
from services.scoring.messages import ScoringResult, WeightsMsg
from services.scoring.service import score_referral
from tests.support.referral_builders import (
    DEADLINE,
    LATER,
    NOW,
    OTHER_COMMISSIONER,
    OWNER,
    WEIGHTS,
    admitted,
    closed,
    draft,
    evaluated,
    provider,
    published,
    ranked,
    result,
    score,
    scored,
    snapshot,
    spec,
    terms,
    with_bids,
)

# ------------------------------------------------------------------ outcome scores (§5)


def test_outcome_scores_are_given_after_close_one_per_evaluator_and_averaged():
    """§5: one or more evaluators score 0–100; scoring again replaces the evaluator's
    score; the mean is used (O = 10 × mean / 100)."""
    referral, ids = closed((1,))
    referral.score_outcomes(OWNER, ids[1], score(60, "ann"))
    referral.score_outcomes(OWNER, ids[1], score(80, "bob"))
    referral.score_outcomes(OWNER, ids[1], score(65, "ann"))
    assert referral.bids[ids[1]].outcome_scores == {"ann": 65, "bob": 80}
    request = referral.scoring_request(OWNER)
    assert sorted(request.bids[0].outcome_scores) == [Decimal(65), Decimal(80)]
    reply = ScoringResult.model_validate(
        score_referral(request.model_dump(mode="json"), "RESIDENTIAL")
    )
    outcomes = reply.ranking[0].subscores.O
    assert outcomes == Decimal("7.25")  # 10 × mean 72.5 / 100


def test_outcome_scores_wait_for_the_deadline():
    referral, ids = with_bids((1,))
    with pytest.raises(Conflict):
        referral.score_outcomes(OWNER, ids[1], score(50))


def test_a_non_compliant_bid_is_not_scored():
    """§6.2: a missing must-have, or not admitted at the deadline."""
    referral = published_with([terms(1), terms(2, features_met=["D1"])])
    standing = admitted(referral)
    standing["E1"] = Standing(admitted=False, competency=Decimal(50))
    referral.close_due(DEADLINE, standing)
    b1, b2 = list(referral.bids)
    with pytest.raises(Conflict, match="not admitted"):
        referral.score_outcomes(OWNER, b1, score(50))
    with pytest.raises(Conflict, match="must-have feature M1"):
        referral.score_outcomes(OWNER, b2, score(50))


def test_only_the_owner_scores_live_bids():
    referral, ids = with_bids((1, 2))
    referral.withdraw_bid(provider(2), ids[2], NOW)
    referral.close_due(DEADLINE, admitted(referral))
    with pytest.raises(Forbidden):
        referral.score_outcomes(provider(1), ids[1], score(50))
    with pytest.raises(NotFound):
        referral.score_outcomes(OWNER, ids[2], score(50))
    with pytest.raises(ValidationError):
        OutcomeScoreCreate(evaluator="ann", score=101)


# ------------------------------------------------------------------ scoring request (§6)


def published_with(bids: list) -> Referral:
    referral = draft()
    referral.publish(OWNER, PublishRequest(), [snapshot(i) for i in range(1, 4)], NOW)
    for bid in bids:
        i = int(bid.establishment_id[1:])
        referral.submit_bid(provider(i), bid, NOW + timedelta(minutes=i))
    return referral


def test_evaluation_needs_every_compliant_bid_scored():
    referral, ids = closed()
    referral.score_outcomes(OWNER, ids[1], score(50))
    with pytest.raises(Conflict) as exc:
        referral.scoring_request(OWNER)
    assert ids[2] in exc.value.detail and ids[1] not in exc.value.detail


def test_no_outcome_scores_are_needed_when_outcomes_weigh_nothing():
    referral = Referral.create(OWNER, spec(), WeightsMsg(P=60, C=20, L=5, O=0, N=10, F=5), NOW)
    referral.publish(OWNER, PublishRequest(), [snapshot(i) for i in (1, 2, 3)], NOW)
    referral.submit_bid(provider(1), terms(1), NOW)
    referral.close_due(DEADLINE, admitted(referral))
    assert len(referral.scoring_request(OWNER).bids) == 1


def test_the_scoring_request_carries_what_section_6_needs():
    referral, ids = with_bids((1, 2))
    replaced_at = NOW + timedelta(hours=3)
    referral.replace_bid(provider(2), ids[2], terms(2, needs_met=["N1"]), replaced_at)
    referral.close_due(DEADLINE, admitted(referral, "61.5"))
    scored(referral)
    request = referral.scoring_request(OWNER)
    assert request.category == "RESIDENTIAL"
    assert request.weights == WEIGHTS
    assert [n.code for n in request.needs] == ["N1", "N2"]
    assert [(f.code, f.must_have) for f in request.features] == [
        ("M1", True),
        ("D1", False),
        ("D2", False),
    ]
    by_id = {b.bid_id: b for b in request.bids}
    bid = by_id[ids[2]]
    assert bid.weekly_price == Decimal("3150.50")
    assert bid.competency == Decimal("61.5")  # at the deadline, not the snapshot's 80
    assert bid.distance_miles == Decimal("12.7")  # exact, not whole miles
    assert bid.admitted_at_deadline is True
    assert bid.submitted_at == replaced_at
    assert bid.needs_met == ["N1"] and bid.features_met == ["M1", "D1"]
    assert bid.outcome_scores == [Decimal(70)]
    assert request.model_dump(mode="json")["bids"][0]["weekly_price"] == "3150.50"


def test_withdrawn_bids_are_not_evaluated():
    referral, ids = with_bids((1, 2))
    referral.withdraw_bid(provider(1), ids[1], NOW)
    referral.close_due(DEADLINE, admitted(referral))
    scored(referral)
    assert [b.bid_id for b in referral.scoring_request(OWNER).bids] == [ids[2]]


def test_only_the_owner_evaluates():
    referral, _ = closed()
    with pytest.raises(NotFound):
        referral.scoring_request(OTHER_COMMISSIONER)


# ------------------------------------------------------------------ applying the result


def test_a_close_result_needs_parent_choice():
    """§6.4: a shortlist of 2 or more → parent_choice, and the commissioner is told."""
    referral, ids = evaluated("parent_choice")
    assert referral.status == Status.PARENT_CHOICE
    assert referral.evaluation.shortlist == [ids[1], ids[2]]
    assert referral.evaluated_at == LATER
    event = referral.events[-1]
    assert event.event_type == "parent_choice_required"
    assert [(e.bid_id, e.name, str(e.total)) for e in event.shortlist] == [
        (ids[1], "Home 1", "84.08"),
        (ids[2], "Home 2", "81.00"),
    ]


def test_a_clear_winner_is_evaluated():
    referral, _ = evaluated("evaluated")
    assert referral.status == Status.EVALUATED
    assert referral.events[-1].event_type == "referral_closed"


def test_no_compliant_bid_is_unsuccessful_and_every_bidder_gets_its_reason():
    referral, ids = closed((1, 2))
    reason = "does not offer must-have feature M1"
    referral.apply_scoring(
        result(
            "unsuccessful",
            [ranked(ids[1], "E1", None, reason=reason), ranked(ids[2], "E2", None, reason=reason)],
            [],
        ),
        LATER,
    )
    assert referral.status == Status.UNSUCCESSFUL
    summary, *feedback = referral.events[-3:]
    assert (summary.event_type, summary.bids_count) == ("referral_unsuccessful", 2)
    assert [(f.event_type, f.provider_id) for f in feedback] == [
        ("bid_feedback", "P1"),
        ("bid_feedback", "P2"),
    ]
    assert feedback[0].feedback.reason == reason
    assert feedback[0].feedback.compliant is False and feedback[0].feedback.winning_total is None
    with pytest.raises(Conflict):
        referral.cancel(OWNER, CancelRequest(reason="too late"), LATER)


def test_a_result_for_other_bids_is_refused():
    referral, ids = closed((1, 2))
    with pytest.raises(ValueError):
        referral.apply_scoring(
            result("evaluated", [ranked(ids[1], "E1", "80", 1)], [ids[1]]), LATER
        )
    assert referral.status == Status.CLOSED


# ------------------------------------------------------------------ parent choice (§6.4)


def test_the_parents_choice_must_be_on_the_shortlist():
    referral, ids = evaluated("parent_choice")
    with pytest.raises(InvalidInput) as exc:
        referral.record_parent_choice(OWNER, ParentChoice(bid_id=ids[3]))
    assert exc.value.errors[0]["loc"] == ["bid_id"]
    referral.record_parent_choice(OWNER, ParentChoice(bid_id=ids[2], reason="near grandparents"))
    assert (referral.parent_choice_bid_id, referral.parent_choice_reason) == (
        ids[2],
        "near grandparents",
    )


def test_parent_choice_only_when_needed():
    referral, ids = evaluated("evaluated")
    with pytest.raises(Conflict):
        referral.record_parent_choice(OWNER, ParentChoice(bid_id=ids[1]))


def test_award_waits_for_the_parents_choice_and_goes_to_it():
    referral, ids = evaluated("parent_choice")
    with pytest.raises(Conflict):
        referral.award(OWNER, AwardRequest(), LATER)
    referral.record_parent_choice(OWNER, ParentChoice(bid_id=ids[2]))
    with pytest.raises(InvalidInput) as exc:
        referral.award(OWNER, AwardRequest(bid_id=ids[1]), LATER)
    assert exc.value.errors[0]["loc"] == ["bid_id"]
    referral.award(OWNER, AwardRequest(bid_id=ids[2]), LATER)
    assert referral.awarded_bid_id == ids[2]
    awarded = next(e for e in referral.events if e.event_type == "referral_awarded")
    assert awarded.parent_choice is True and awarded.winning_total == Decimal("81.00")


def test_an_evaluated_referral_is_awarded_to_the_top_bid():
    referral, ids = evaluated("evaluated")
    with pytest.raises(InvalidInput):
        referral.award(OWNER, AwardRequest(bid_id=ids[2]), LATER)
    res = referral.award(OWNER, AwardRequest(), LATER)
    assert referral.status == Status.AWARDED and referral.awarded_bid_id == ids[1]
    assert res.placement_id == referral.placement_id
    with pytest.raises(Conflict):
        referral.award(OWNER, AwardRequest(), LATER)
    with pytest.raises(Conflict):
        referral.cancel(OWNER, CancelRequest(reason="x"), LATER)


def test_only_the_owner_awards():
    referral, _ = evaluated("evaluated")
    with pytest.raises(Forbidden):
        referral.award(provider(1), AwardRequest(), LATER)


def test_the_award_event_holds_everything_contracts_and_the_winner_need():
    """§5 award, §7.1: authority, provider, establishment, child reference, price breakdown,
    incentive, outcomes; the full referral goes to the winner only."""
    incentive = {"description": "step down to foster care within 9 months", "premium": "2000.00"}
    referral, ids = closed(incentive=incentive)
    scored(referral)
    referral.apply_scoring(
        result(
            "evaluated",
            [
                ranked(ids[1], "E1", "84.08", 1),
                ranked(ids[2], "E2", "70.00", 2),
                ranked(ids[3], "E3", "60.00", 3),
            ],
            [ids[1]],
        ),
        LATER,
    )
    referral.award(OWNER, AwardRequest(), LATER)
    event = next(e for e in referral.events if e.event_type == "referral_awarded")
    assert (event.referral_id, event.authority, event.category) == (
        referral.referral_id,
        "KCC",
        "RESIDENTIAL",
    )
    assert (event.bid_id, event.provider_id, event.establishment_id) == (ids[1], "P1", "E1")
    assert event.establishment_name == "Home 1"
    assert event.contacts[0].email == "e1@example.org"
    assert "KCC-CHILD-0001" not in event.model_dump_json()  # §13: sealed by the store
    assert event.referral == referral.anonymised_profile()
    assert event.placement_id == referral.placement_id
    data = event.model_dump(mode="json")
    assert data["price"] == {
        "core_costs": {"premises": "1000.00", "staffing": "2000.00"},
        "children": 1,
        "variable_costs": [{"label": "1:1 support", "weekly": "150.50", "free_text": True,
                            "service": None, "units": None, "unit_price": None}],
        "discount_percent": "0",
        "discount": "0.00",
        "weekly_price": "3150.50",
    }
    assert data["incentive"]["premium"] == "2000.00"
    assert event.desired_outcomes == ["attend school full time", "stable placement"]
    assert (event.published_at, event.awarded_at) == (NOW, LATER)
    assert (event.bids_count, event.compliant_bids_count) == (3, 3)
    assert event.winning_total == Decimal("84.08") and event.parent_choice is False
    dumped = event.model_dump_json()  # §13: no personal data in clear in the event
    assert "Ann Smith" not in dumped and "1 High Street" not in dumped
    assert event.occurred_at == LATER


def test_every_other_bidder_gets_only_its_own_feedback():
    """§5: its own total and sub-scores, its rank, the number of compliant bids and the
    winning total; a non-compliant bid gets its reason."""
    referral, ids = evaluated("evaluated")
    referral.award(OWNER, AwardRequest(), LATER)
    feedback = [e for e in referral.events if e.event_type == "bid_feedback"]
    assert [f.feedback.bid_id for f in feedback] == [ids[2], ids[3]]  # not the winner
    second, third = feedback
    assert (second.provider_id, second.contacts[0].email) == ("P2", "e2@example.org")
    fb = second.feedback
    assert (fb.rank, fb.total, fb.compliant_bids_count, fb.winning_total) == (
        2,
        Decimal("70.00"),
        2,
        Decimal("84.08"),
    )
    price_points = fb.subscores.P
    assert price_points == Decimal("40.00") and fb.awarded is False
    assert (third.feedback.compliant, third.feedback.reason, third.feedback.rank) == (
        False,
        "does not offer must-have feature M1",
        None,
    )
    # nothing of another bidder travels in a bidder's feedback
    assert ids[1] not in second.model_dump_json() and ids[3] not in second.model_dump_json()


def test_a_bidder_reads_its_own_feedback_after_the_award():
    referral, ids = evaluated("evaluated")
    with pytest.raises(Conflict):
        referral.feedback_for(provider(2))
    referral.award(OWNER, AwardRequest(), LATER)
    (mine,) = referral.feedback_for(provider(2))
    assert mine.bid_id == ids[2] and mine.rank == 2
    (winner,) = referral.feedback_for(provider(1))
    assert winner.awarded is True
    with pytest.raises(Forbidden):
        referral.feedback_for(OWNER)


def test_an_invitee_that_did_not_bid_has_no_feedback():
    referral, ids = closed((1, 2))
    scored(referral)
    referral.apply_scoring(
        result(
            "evaluated", [ranked(ids[1], "E1", "90", 1), ranked(ids[2], "E2", "50", 2)], [ids[1]]
        ),
        LATER,
    )
    referral.award(OWNER, AwardRequest(), LATER)
    with pytest.raises(NotFound):
        referral.feedback_for(provider(3))


# ------------------------------------------------------------------ contract with scoring


WORKED = {  # RULES §6.5: weekly £, competency, miles, outcomes, needs met, features
    1: ("4000.00", 80, "12", 70, ["N1", "N2"], ["M1", "D1"]),
    2: ("3500.00", 60, "35", 60, ["N1"], ["M1", "D1", "D2"]),
    3: ("3000.00", 90, "5", 90, ["N1", "N2"], ["D1", "D2"]),
    4: ("5000.00", 100, "55", 100, ["N1", "N2"], ["M1"]),
}


def test_the_worked_example_round_trips_through_the_scoring_service():
    """§6.5 end to end: this request is what scoring accepts, and its reply is applied."""
    referral = draft()
    referral.publish(
        OWNER,
        PublishRequest(),
        [
            snapshot(i, core_costs={"all": price}, distance_miles=miles)
            for i, (price, _, miles, *_) in WORKED.items()
        ],
        NOW,
    )
    for i, (price, _, _, _, needs, feats) in WORKED.items():
        bid = terms(
            i, core_costs={"all": price}, variable_costs=[], needs_met=needs, features_met=feats
        )
        referral.submit_bid(provider(i), bid, NOW + timedelta(minutes=i))
    ids = {b.establishment_id: b.bid_id for b in referral.bids.values()}
    referral.close_due(
        DEADLINE,
        {f"E{i}": Standing(admitted=True, competency=c) for i, (_, c, *_) in WORKED.items()},
    )
    for i, (*_, outcome, _, _) in WORKED.items():
        if i != 3:  # C misses the must-have M1
            referral.score_outcomes(OWNER, ids[f"E{i}"], score(outcome))
    reply = score_referral(referral.scoring_request(OWNER).model_dump(mode="json"), "RESIDENTIAL")
    view = referral.apply_scoring(ScoringResult.model_validate(reply), LATER)
    assert view.status == "parent_choice" and referral.status == Status.PARENT_CHOICE
    assert [(r.bid_id, r.total) for r in view.ranking if r.compliant] == [
        (ids["E1"], Decimal("84.08")),
        (ids["E2"], Decimal("81.00")),
        (ids["E4"], Decimal("75.00")),
    ]
    assert view.shortlist == [ids["E1"], ids["E2"]]
    referral.record_parent_choice(OWNER, ParentChoice(bid_id=ids["E2"]))
    referral.award(OWNER, AwardRequest(), LATER)
    feedback = {
        e.provider_id: e.feedback for e in referral.events if e.event_type == "bid_feedback"
    }
    assert set(feedback) == {"P1", "P3", "P4"}
    assert (feedback["P1"].rank, feedback["P1"].winning_total) == (1, Decimal("81.00"))
    assert feedback["P3"].compliant is False and "M1" in feedback["P3"].reason


# ------------------------------------------------------------------ direct placement (§5)


def direct(**over) -> DirectPlacementCreate:
    data = {
        "establishment_id": "E1",
        "category": "RESIDENTIAL",
        "reason_code": "emergency",
        "justification": "Placement broke down overnight; only E1 had a bed.",
        "weekly_price": "4200.00",
        "child_reference": "KCC-CHILD-0002",
    }
    return DirectPlacementCreate.model_validate(data | over)


def test_a_direct_placement_is_recorded_with_its_reason():
    placement = DirectPlacement.record(OWNER, direct(), "P1", NOW)
    (event,) = placement.events
    assert event.event_type == "direct_placement_recorded"
    assert (event.authority, event.provider_id, event.reason_code) == ("KCC", "P1", "emergency")
    assert event.placement_id == placement.placement_id
    assert event.model_dump(mode="json")["weekly_price"] == "4200.00"


def test_a_direct_placement_needs_a_configured_reason_and_a_justification():
    with pytest.raises(InvalidInput) as exc:
        DirectPlacement.record(OWNER, direct(reason_code="cheaper"), "P1", NOW)
    assert exc.value.errors[0]["loc"] == ["reason_code"]
    with pytest.raises(ValidationError):
        direct(justification=" ")
    with pytest.raises(Forbidden):
        DirectPlacement.record(provider(1), direct(), "P1", NOW)


def test_a_referral_without_bids_ends_unsuccessful():
    """§5: no compliant bid → unsuccessful, even when nobody bid at all."""
    referral = published()
    assert referral.close_due(DEADLINE, {})
    assert referral.events[-1].bids_count == 0
    request = referral.scoring_request(OWNER)
    reply = score_referral(request.model_dump(mode="json"), "RESIDENTIAL")
    referral.apply_scoring(ScoringResult.model_validate(reply), LATER)
    assert referral.status == Status.UNSUCCESSFUL
    assert [e.event_type for e in referral.events[-1:]] == ["referral_unsuccessful"]
