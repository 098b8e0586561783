"""Issue 13 (RULES §4.4, §5, §7.3): draft edits, extension, widening that moves the
deadline, re-run, the winner's membership at award, qualified additional services in
bids, and a block place closing the referral."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput
from services.referral.domain import Status
from services.referral.messages import (
    AwardRequest,
    CancelRequest,
    CopyRequest,
    DeadlineRequest,
    RadiusRequest,
)
from tests.support.referral_builders import (
    BEFORE_DEADLINE,
    DEADLINE,
    NOW,
    OWNER,
    WEIGHTS,
    draft,
    evaluated,
    provider,
    published,
    snapshot,
    spec,
    terms,
)

OT = {"name": "occupational therapy", "unit": "session", "unit_price": "60.00",
      "weekly_price": "120.00"}


def test_a_draft_is_edited_in_full_and_only_a_draft():
    referral = draft()
    later = NOW + timedelta(days=9)
    referral.edit_draft(OWNER, spec(deadline=later, radius_miles=12), WEIGHTS, NOW, 3)
    assert (referral.deadline, referral.spec.radius_miles) == (later, 12)
    with pytest.raises(InvalidInput):
        referral.edit_draft(OWNER, spec(deadline=NOW), WEIGHTS, NOW, 3)
    with pytest.raises(Conflict):
        published().edit_draft(OWNER, spec(), WEIGHTS, NOW, 3)


def test_an_extension_is_later_only_before_the_deadline_and_tells_every_invited():
    referral = published()
    referral.events.clear()
    with pytest.raises(InvalidInput):
        referral.extend_deadline(OWNER, DeadlineRequest(deadline=DEADLINE), NOW)
    result = referral.extend_deadline(
        OWNER, DeadlineRequest(deadline=DEADLINE + timedelta(days=1)), NOW
    )
    assert (result.previous_deadline, result.told) == (DEADLINE, 3)
    (event,) = referral.events
    assert event.event_type == "referral_deadline_extended" and len(event.invited) == 3
    with pytest.raises(Conflict):  # once it has passed
        referral.extend_deadline(
            OWNER, DeadlineRequest(deadline=DEADLINE + timedelta(days=5)),
            DEADLINE + timedelta(days=2),
        )


def test_widening_near_the_deadline_moves_it_for_the_newcomers():
    referral = published(n=2, min_invited=1)
    referral.events.clear()
    result = referral.widen_radius(
        OWNER, RadiusRequest(radius_miles=45), [snapshot(3)], BEFORE_DEADLINE, 24
    )
    assert result.deadline_moved and result.deadline >= BEFORE_DEADLINE + timedelta(hours=24)
    assert [e.event_type for e in referral.events] == [
        "referral_deadline_extended", "referral_widened"
    ]
    assert len(referral.events[0].invited) == 3  # every invited establishment
    calm = published(n=2, min_invited=1)
    assert not calm.widen_radius(OWNER, RadiusRequest(radius_miles=45), [snapshot(3)], NOW,
                                 24).deadline_moved


def test_only_an_unsuccessful_or_cancelled_referral_is_copied():
    referral = published()
    with pytest.raises(Conflict):
        referral.copy_as_draft(OWNER, CopyRequest(), NOW)
    referral.cancel(OWNER, CancelRequest(reason="placed with family"), NOW)
    copy = referral.copy_as_draft(OWNER, CopyRequest(), NOW + timedelta(days=1))
    assert copy.status == Status.DRAFT and copy.referral_id != referral.referral_id
    assert copy.spec.model_dump(exclude={"deadline"}) == referral.spec.model_dump(
        exclude={"deadline"}
    )
    assert copy.deadline == NOW + timedelta(days=1) + (DEADLINE - NOW)


def test_a_winner_no_longer_admitted_is_refused_and_the_next_bid_awarded():
    referral, ids = evaluated("evaluated")
    standing = {"E1": {"admitted": False, "status": "suspended"}, "E2": {"admitted": True}}
    later = DEADLINE + timedelta(days=1)
    with pytest.raises(Conflict, match="suspended") as refused:
        referral.award(OWNER, AwardRequest(), later, standing)
    assert refused.value.errors[0]["next_bid_id"] == ids[2]
    assert referral.status == Status.EVALUATED and referral.awarded_bid_id is None
    with pytest.raises(InvalidInput):  # E1 admitted again: the award goes to bid 1
        referral.award(OWNER, AwardRequest(bid_id=ids[2]), later, {"E1": {"admitted": True}})
    referral.award(OWNER, AwardRequest(bid_id=ids[2]), later, standing)
    assert referral.awarded_bid_id == ids[2]


def test_variable_costs_name_qualified_services_at_or_below_their_price():
    referral = published(n=1, min_invited=1)
    referral.invitations["E1"].snapshot = snapshot(1, additional_services=[OT])
    dear = terms(1, variable_costs=[{"service": OT["name"], "units": 2, "weekly": "120.01"}])
    with pytest.raises(InvalidInput) as refused:
        referral.submit_bid(provider(1), dear, NOW)
    assert refused.value.errors[0]["loc"] == ["variable_costs", 0, "weekly"]
    with pytest.raises(InvalidInput):
        referral.submit_bid(
            provider(1), terms(1, variable_costs=[{"service": "swimming", "units": 1}]), NOW
        )
    bid = referral.submit_bid(provider(1), terms(1, variable_costs=[
        {"service": OT["name"], "units": "1.5"},
        {"label": "taxi", "weekly": "20.00"},
    ]), NOW)
    items = bid.price.variable_costs
    assert [(i.weekly, i.free_text) for i in items] == [(Decimal("90.00"), False),
                                                        (Decimal("20.00"), True)]
    assert bid.price.weekly_price == Decimal("3110.00")


def test_a_block_place_awards_and_closes_an_open_referral_of_its_authority_only():
    referral = published()
    assert not referral.place_in_block("ESCC", "RESIDENTIAL", "PL1", "B1", NOW)
    assert not referral.place_in_block("KCC", "FOSTERCARE", "PL1", "B1", NOW)
    assert referral.place_in_block("KCC", "RESIDENTIAL", "PL1", "B1", NOW)
    assert (referral.status, referral.placement_id, referral.block_id) == (
        Status.AWARDED, "PL1", "B1"
    )
    assert referral.closed_at == NOW
    assert not referral.place_in_block("KCC", "RESIDENTIAL", "PL2", "B1", NOW)
