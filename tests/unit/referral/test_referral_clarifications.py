"""RULES §5 clarifications (anonymised answers to every invitee), declines and closing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.referral.domain import Status
from services.referral.messages import AnswerCreate, DeclineCreate, QuestionCreate, Standing
from tests.support.referral_builders import (
    DEADLINE,
    NOW,
    OTHER_COMMISSIONER,
    OWNER,
    STRANGER,
    admitted,
    provider,
    published,
    terms,
    with_bids,
)


def ask(referral, i: int, text: str = "Is there a garden?", when=NOW):
    return referral.ask_question(
        provider(i), QuestionCreate(establishment_id=f"E{i}", question=text), when
    )


def decline(referral, i: int, reason: str = "no_capacity", note: str | None = None):
    request = DeclineCreate(establishment_id=f"E{i}", reason_code=reason, note=note)
    return referral.decline(provider(i), request, NOW)


# ------------------------------------------------------------------ clarifications


def test_an_invited_provider_asks_before_the_deadline():
    referral = published()
    question = ask(referral, 2)
    assert (question.establishment_id, question.answer) == ("E2", None)
    with pytest.raises(Conflict):
        ask(referral, 2, when=DEADLINE)
    with pytest.raises(NotFound):
        referral.ask_question(STRANGER, QuestionCreate(establishment_id="E1", question="?"), NOW)


def test_the_answer_goes_to_every_invitee_with_the_asker_anonymised():
    referral = published()
    question = ask(referral, 2, "Home 2 here: can we visit?")
    referral.answer_question(
        OWNER,
        question.question_id,
        AnswerCreate(answer="Visits from 1 April.", question="Can providers visit?"),
        NOW,
    )
    event = referral.events[-1]
    assert event.event_type == "question_answered"
    assert (event.question, event.answer) == ("Can providers visit?", "Visits from 1 April.")
    assert [r.establishment_id for r in event.recipients] == ["E1", "E2", "E3"]
    assert "establishment_id" not in event.model_dump() and "provider_id" not in event.model_dump()
    assert "Home 2 here" not in event.model_dump_json()


def test_the_answer_keeps_the_question_wording_unless_reworded():
    referral = published()
    question = ask(referral, 1, "Is there a garden?")
    referral.answer_question(OWNER, question.question_id, AnswerCreate(answer="Yes"), NOW)
    assert referral.events[-1].question == "Is there a garden?"


def test_a_question_is_answered_once_by_the_owner_only():
    referral = published()
    question = ask(referral, 1)
    with pytest.raises(Forbidden):
        referral.answer_question(provider(1), question.question_id, AnswerCreate(answer="x"), NOW)
    with pytest.raises(NotFound):
        referral.answer_question(OWNER, "nope", AnswerCreate(answer="x"), NOW)
    referral.answer_question(OWNER, question.question_id, AnswerCreate(answer="first"), NOW)
    with pytest.raises(Conflict):
        referral.answer_question(OWNER, question.question_id, AnswerCreate(answer="again"), NOW)
    assert referral.questions[question.question_id].answer == "first"


def test_a_provider_sees_answered_questions_and_its_own_unanswered_ones():
    referral = published()
    answered = ask(referral, 2, "Q from E2")
    referral.answer_question(
        OWNER, answered.question_id, AnswerCreate(answer="A", question="Anonymised Q"), NOW
    )
    own = ask(referral, 1, "Q from E1")
    ask(referral, 3, "Q from E3")  # unanswered, someone else's
    views = {v.question_id: v for v in referral.questions_for(provider(1))}
    assert set(views) == {answered.question_id, own.question_id}
    assert views[answered.question_id].question == "Anonymised Q"
    assert views[answered.question_id].establishment_id is None
    assert views[own.question_id].establishment_id == "E1"
    assert views[own.question_id].answer is None


def test_the_owner_sees_every_question_and_its_asker():
    referral = published()
    ask(referral, 1)
    ask(referral, 3)
    assert sorted(v.establishment_id for v in referral.questions_for(OWNER)) == ["E1", "E3"]
    with pytest.raises(NotFound):
        referral.questions_for(OTHER_COMMISSIONER)


# ------------------------------------------------------------------ declines (§5)


def test_a_decline_is_recorded_for_benchmarking():
    referral = published()
    decline(referral, 2, "location")
    assert referral.declines["E2"].reason_code == "location"
    event = referral.events[-1]
    assert (event.event_type, event.establishment_id, event.reason_code) == (
        "invitation_declined",
        "E2",
        "location",
    )


def test_decline_reason_comes_from_the_configured_list():
    referral = published()
    with pytest.raises(InvalidInput) as exc:
        decline(referral, 1, "too_far")
    assert exc.value.errors[0]["loc"] == ["reason_code"]
    custom = DeclineCreate(establishment_id="E1", reason_code="too_far")
    referral.decline(provider(1), custom, NOW, reasons=("too_far", "other"))
    assert referral.declines["E1"].reason_code == "too_far"


def test_other_needs_a_note():
    referral = published()
    with pytest.raises(InvalidInput) as exc:
        decline(referral, 1, "other")
    assert exc.value.errors[0]["loc"] == ["note"]
    decline(referral, 1, "other", "staff changes")
    assert referral.declines["E1"].note == "staff changes"


def test_one_decline_per_establishment_and_none_with_a_live_bid():
    referral, ids = with_bids((1,))
    with pytest.raises(Conflict):
        decline(referral, 1)
    referral.withdraw_bid(provider(1), ids[1], NOW)
    decline(referral, 1)
    with pytest.raises(Conflict):
        decline(referral, 1)
    with pytest.raises(Conflict):
        referral.submit_bid(provider(1), terms(1), NOW)  # declined: no bid


def test_declines_stop_at_the_deadline_and_need_an_invitation():
    referral = published()
    with pytest.raises(Conflict):
        referral.decline(
            provider(1), DeclineCreate(establishment_id="E1", reason_code="location"), DEADLINE
        )
    with pytest.raises(NotFound):
        referral.decline(STRANGER, DeclineCreate(establishment_id="E1", reason_code="x"), NOW)


# ------------------------------------------------------------------ close (§5)


def test_the_deadline_timer_closes_once():
    """§5: the deadline closes the referral; the timer is idempotent."""
    referral, ids = with_bids((1, 2))
    standing = admitted(referral, "66")
    assert referral.close_due(DEADLINE - timedelta(seconds=1), standing) is False
    assert referral.close_due(DEADLINE, standing) is True
    assert referral.status == Status.CLOSED and referral.closed_at == DEADLINE
    assert referral.bids[ids[1]].standing == Standing(admitted=True, competency=Decimal(66))
    event = referral.events[-1]
    assert (event.event_type, event.bids_count, event.early) == ("referral_closed", 2, False)
    assert referral.close_due(DEADLINE + timedelta(minutes=1), standing) is False
    assert referral.events[-1] is event


def test_close_needs_the_standing_of_every_live_bidder():
    referral, _ = with_bids((1, 2))
    with pytest.raises(ValueError):
        referral.close_due(DEADLINE, {"E1": Standing(admitted=True, competency=Decimal(1))})
    assert referral.status == Status.PUBLISHED


def test_the_owner_closes_early_only_when_everyone_has_answered():
    referral, ids = with_bids((1, 2))
    with pytest.raises(Conflict) as exc:
        referral.close_early(OWNER, NOW, admitted(referral))
    assert "1 invited establishment" in exc.value.detail
    decline(referral, 3)
    referral.close_early(OWNER, NOW, admitted(referral))
    assert referral.status == Status.CLOSED
    assert referral.events[-1].early is True
    assert referral.visible_bids(OWNER, NOW).items  # closed: bids are open


def test_a_suspended_invitee_does_not_block_early_close():
    referral, _ = with_bids((1, 2))
    referral.apply_suspension("E3", "RESIDENTIAL", "insurance expired", NOW)
    referral.close_early(OWNER, NOW, admitted(referral))
    assert referral.status == Status.CLOSED


def test_a_withdrawn_bid_is_not_an_answer():
    referral, ids = with_bids((1, 2, 3))
    referral.withdraw_bid(provider(3), ids[3], NOW)
    with pytest.raises(Conflict):
        referral.close_early(OWNER, NOW, admitted(referral))


def test_after_the_deadline_the_owner_may_close_at_once():
    referral, _ = with_bids((1,))
    referral.close_early(OWNER, DEADLINE, admitted(referral))
    assert referral.status == Status.CLOSED and referral.events[-1].early is False


def test_only_the_owner_closes():
    referral, _ = with_bids((1, 2, 3))
    with pytest.raises(Forbidden):
        referral.close_early(provider(1), NOW, admitted(referral))
    with pytest.raises(NotFound):
        referral.close_early(OTHER_COMMISSIONER, NOW, admitted(referral))
