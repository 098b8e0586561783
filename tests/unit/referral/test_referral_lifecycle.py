"""RULES §5 lifecycle: every transition pair, and the actions that enforce it."""

from __future__ import annotations

import itertools

import pytest

from services.common.errors import Conflict, Forbidden, InvalidInput
from services.referral.domain import Referral, Status, transition
from services.referral.messages import (
    AwardRequest,
    BidCreate,
    CancelRequest,
    ParentChoice,
    PublishRequest,
    RadiusRequest,
)
from tests.support.referral_builders import (
    BEFORE_DEADLINE,
    DEADLINE,
    LEAD,
    NOW,
    OWNER,
    WEIGHTS,
    closed,
    draft,
    provider,
    published,
    snapshot,
    spec,
    terms,
)

S = Status
LEGAL = {
    (S.DRAFT, S.PUBLISHED),
    (S.DRAFT, S.CANCELLED),
    (S.PUBLISHED, S.CLOSED),
    (S.PUBLISHED, S.CANCELLED),
    (S.CLOSED, S.EVALUATED),
    (S.CLOSED, S.PARENT_CHOICE),
    (S.CLOSED, S.UNSUCCESSFUL),
    (S.CLOSED, S.CANCELLED),
    (S.EVALUATED, S.AWARDED),
    (S.EVALUATED, S.CANCELLED),
    (S.PARENT_CHOICE, S.AWARDED),
    (S.PARENT_CHOICE, S.CANCELLED),
    # §7.3 (issue 13): a child placed into a free block place awards the referral
    (S.DRAFT, S.AWARDED),
    (S.PUBLISHED, S.AWARDED),
    (S.CLOSED, S.AWARDED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_transition_pair_follows_section_5(current, target):
    """§5: draft → published → closed → evaluated → [parent_choice] → awarded, closed →
    unsuccessful, → cancelled before award; every other pair is a Conflict."""
    if (current, target) in LEGAL:
        assert transition(current, target) == target
    else:
        with pytest.raises(Conflict):
            transition(current, target)


def test_create_makes_a_draft_owned_by_the_commissioners_authority():
    """§5 ownership; min_invited defaults to the category's (3)."""
    referral = draft()
    assert referral.status == S.DRAFT
    assert referral.authority == "KCC"
    assert referral.min_invited == 3
    assert Referral.create(OWNER, spec(), WEIGHTS, NOW, category_min_invited=5).min_invited == 5
    assert Referral.create(OWNER, spec(min_invited=2), WEIGHTS, NOW).min_invited == 2


def test_lead_creates_referrals_for_wscc():
    """§10: the lead acts as a commissioner of WSCC."""
    assert Referral.create(LEAD, spec(), WEIGHTS, NOW).authority == "WSCC"
    assert Referral.create({"role": "lead"}, spec(), WEIGHTS, NOW).authority == "WSCC"


@pytest.mark.parametrize("role", ["provider", "contract_manager", "auditor"])
def test_only_commissioners_create_referrals(role):
    with pytest.raises(Forbidden):
        Referral.create({"role": role, "provider_id": "P1"}, spec(), WEIGHTS, NOW)


def test_deadline_must_be_in_the_future_at_creation():
    with pytest.raises(InvalidInput) as exc:
        Referral.create(OWNER, spec(deadline=NOW), WEIGHTS, NOW)
    assert exc.value.errors[0]["loc"] == ["deadline"]


def test_publishing_twice_is_a_conflict():
    referral = published()
    with pytest.raises(Conflict):
        referral.publish(OWNER, PublishRequest(), [snapshot(9)], NOW)


def test_a_draft_takes_no_bid_and_cannot_close():
    referral = draft()
    with pytest.raises(Conflict):
        referral.close_early(OWNER, NOW, {})
    assert referral.close_due(DEADLINE, {}) is False
    assert referral.status == S.DRAFT


def test_a_closed_referral_cannot_be_awarded_before_evaluation():
    referral, _ = closed()
    with pytest.raises(Conflict):
        referral.award(OWNER, AwardRequest(), DEADLINE)
    with pytest.raises(Conflict):
        referral.record_parent_choice(OWNER, ParentChoice(bid_id="x"))


def test_a_published_referral_cannot_be_scored_or_evaluated():
    referral = published()
    with pytest.raises(Conflict):
        referral.scoring_request(OWNER)


def test_radius_cannot_change_after_close():
    referral, _ = closed()
    with pytest.raises(Conflict):
        referral.widen_radius(OWNER, RadiusRequest(radius_miles=60), [], DEADLINE)


def test_a_published_referral_is_cancelled_with_its_reason_and_invitees_told():
    """§5: cancelled any time before award, with a reason."""
    referral = published()
    referral.cancel(OWNER, CancelRequest(reason="child placed with family"), BEFORE_DEADLINE)
    assert referral.status == S.CANCELLED
    assert referral.cancel_reason == "child placed with family"
    event = referral.events[-1]
    assert event.event_type == "referral_cancelled"
    assert event.reason == "child placed with family"
    assert event.status_before == "published"
    assert {i.establishment_id for i in event.invited} == {"E1", "E2", "E3"}


def test_cancelled_referral_takes_no_more_bids_and_cannot_be_cancelled_again():
    referral = published()
    referral.cancel(OWNER, CancelRequest(reason="no longer needed"), NOW)
    with pytest.raises(Conflict):
        referral.submit_bid(provider(1), terms(1), NOW)
    with pytest.raises(Conflict):
        referral.cancel(OWNER, CancelRequest(reason="again"), NOW)


def test_cancel_needs_a_reason():
    with pytest.raises(ValueError):
        CancelRequest(reason="  ")


def test_only_the_owner_cancels():
    referral = published()
    with pytest.raises(Forbidden):
        referral.cancel(provider(1), CancelRequest(reason="x"), NOW)
    assert referral.status == S.PUBLISHED


def test_bid_terms_are_a_strict_model():
    with pytest.raises(ValueError):
        BidCreate.model_validate(terms(1).model_dump() | {"price": "1.00"})
