"""RULES §5 bids: validation against the invitation snapshot, price, one per establishment,
sealed visibility (§10) and withdrawal on suspension (§4.5)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.referral.domain import cohort_discount, price_bid
from services.referral.messages import (
    CancelRequest,
    CohortTier,
    PricedVariableCost,
    PublishRequest,
)
from tests.support.referral_builders import (
    AUDITOR,
    BEFORE_DEADLINE,
    DEADLINE,
    NOW,
    OTHER_COMMISSIONER,
    OWNER,
    STRANGER,
    admitted,
    draft,
    provider,
    published,
    snapshot,
    terms,
    with_bids,
)


def locs(exc) -> list:
    return [e["loc"] for e in exc.value.errors]


# ------------------------------------------------------------------ submission


def test_an_invited_establishment_bids_and_gets_a_receipt():
    referral = published()
    bid = referral.submit_bid(provider(1), terms(1), NOW)
    assert bid.live and bid.provider_id == "P1" and bid.establishment_id == "E1"
    assert bid.submitted_at == NOW
    assert bid.price.weekly_price == Decimal("3150.50")  # 1000 + 2000 + 150.50, one child
    event = referral.events[-1]
    assert (event.event_type, event.action, event.bid_id) == (
        "bid_received",
        "submitted",
        bid.bid_id,
    )
    assert (event.establishment_id, event.provider_id) == ("E1", "P1")
    assert event.contacts[0].email == "e1@example.org"
    assert "core_costs" not in event.model_dump()  # sealed: a receipt holds no content


def test_one_live_bid_per_establishment():
    referral = published()
    first = referral.submit_bid(provider(1), terms(1), NOW)
    with pytest.raises(Conflict):
        referral.submit_bid(provider(1), terms(1), NOW)
    referral.withdraw_bid(provider(1), first.bid_id, NOW)
    second = referral.submit_bid(provider(1), terms(1), NOW + timedelta(hours=1))
    assert second.bid_id != first.bid_id and second.live


def test_a_provider_bids_for_each_of_its_invited_establishments():
    referral = draft()
    shared = [snapshot(1), snapshot(2, provider_id="P1"), snapshot(3)]
    referral.publish(OWNER, PublishRequest(), shared, NOW)
    referral.submit_bid(provider(1), terms(1), NOW)
    referral.submit_bid(provider(1), terms(2), NOW)
    assert len(referral.live_bidders()) == 2


def test_an_uninvited_establishment_of_an_invited_provider_is_forbidden():
    """§10: the provider knows the referral, so 403."""
    referral = published()
    with pytest.raises(Forbidden):
        referral.submit_bid(provider(1), terms(2), NOW)  # E2 belongs to P2
    with pytest.raises(Forbidden):
        referral.submit_bid(provider(1), terms(9), NOW)  # E9 not invited


def test_an_uninvited_provider_is_not_told_the_referral_exists():
    with pytest.raises(NotFound):
        published().submit_bid(STRANGER, terms(1), NOW)


def test_the_owner_cannot_bid():
    with pytest.raises(Forbidden):
        published().submit_bid(OWNER, terms(1), NOW)


@pytest.mark.parametrize("when", [DEADLINE, DEADLINE + timedelta(seconds=1)])
def test_no_bid_at_or_after_the_deadline(when):
    """§5: no bid is accepted after the deadline (409)."""
    referral = published()
    with pytest.raises(Conflict):
        referral.submit_bid(provider(1), terms(1), when)
    assert referral.bids == {}


def test_a_bid_just_before_the_deadline_is_accepted():
    assert published().submit_bid(provider(1), terms(1), BEFORE_DEADLINE).live


# ------------------------------------------------------------------ validation (§5)


def test_a_core_head_above_the_qualified_amount_is_refused_naming_it():
    """§5, business case 7.4: core costs can be reduced but not increased."""
    referral = published()
    with pytest.raises(InvalidInput) as exc:
        referral.submit_bid(
            provider(1), terms(1, core_costs={"premises": "1000.00", "staffing": "2000.01"}), NOW
        )
    assert locs(exc) == [["core_costs", "staffing"]]
    assert "2000.00" in exc.value.detail
    assert referral.bids == {} and referral.events[-1].event_type == "referral_published"


def test_a_reduced_core_cost_is_accepted():
    bid = published().submit_bid(
        provider(1), terms(1, core_costs={"premises": "900.00", "staffing": "0.00"}), NOW
    )
    assert bid.price.weekly_price == Decimal("1050.50")


def test_unknown_and_missing_heads_are_refused_naming_each():
    referral = published()
    with pytest.raises(InvalidInput) as exc:
        referral.submit_bid(
            provider(1), terms(1, core_costs={"premises": "1.00", "transport": "5.00"}), NOW
        )
    assert sorted(locs(exc)) == [["core_costs", "staffing"], ["core_costs", "transport"]]


def test_needs_and_features_must_be_codes_of_the_referral():
    referral = published()
    bad = terms(1, needs_met=["N1", "N9"], features_met=["M1", "M1", "X"])
    with pytest.raises(InvalidInput) as exc:
        referral.submit_bid(provider(1), bad, NOW)
    assert locs(exc) == [["needs_met", 1], ["features_met", 1], ["features_met", 2]]
    assert "'N9'" in exc.value.detail


def test_proposed_start_cannot_be_in_the_past():
    referral = published()
    with pytest.raises(InvalidInput) as exc:
        referral.submit_bid(provider(1), terms(1, proposed_start=date(2026, 3, 1)), NOW)
    assert locs(exc) == [["proposed_start"]]
    bid = referral.submit_bid(provider(1), terms(1, proposed_start=NOW.date()), NOW)
    assert bid.terms.proposed_start == NOW.date()


def test_a_bid_worth_nothing_is_refused():
    referral = published()
    free = terms(1, core_costs={"premises": "0.00", "staffing": "0.00"}, variable_costs=[])
    with pytest.raises(InvalidInput):
        referral.submit_bid(provider(1), free, NOW)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variable_costs": [{"label": "x", "weekly": "-1.00"}]}, "variable_costs"),
        ({"variable_costs": [{"label": "x", "weekly": 10.5}]}, "variable_costs"),
        ({"core_costs": {"premises": "1.001", "staffing": "1.00"}}, "core_costs"),
        ({"core_costs": {"premises": "-5.00", "staffing": "1.00"}}, "core_costs"),
        ({"outcomes_statement": "   "}, "outcomes_statement"),
        ({"variable_costs": [{"label": "", "weekly": "1.00"}]}, "variable_costs"),
    ],
)
def test_bid_shape_is_validated_by_the_message_model(change, field):
    """Money is a non-negative string with 2 decimals, never a float (§4.4)."""
    with pytest.raises(ValidationError) as exc:
        terms(1, **change)
    assert exc.value.errors()[0]["loc"][0] == field


# ------------------------------------------------------------------ price (§4.4, §6.3)


TIERS = [CohortTier(min_children=3, percent=8), CohortTier(min_children=2, percent=5)]


@pytest.mark.parametrize(("children", "percent"), [(1, 0), (2, 5), (3, 8), (7, 8)])
def test_cohort_discount_is_the_highest_tier_reached(children, percent):
    assert cohort_discount(TIERS, children) == Decimal(percent)


def test_no_tiers_no_discount():
    assert cohort_discount([], 4) == 0


def test_weekly_price_is_exact_with_the_discount_on_core_costs():
    """§4.4, §6.3: children × Σ core − round_half_up(discount) + Σ variable."""
    price = price_bid(terms(1), 2, TIERS)
    assert price.children == 2
    assert price.discount_percent == 5
    assert price.discount == Decimal("300.00")  # 5 % of 2 × 3000.00
    assert price.weekly_price == Decimal("5850.50")  # 6000 − 300 + 150.50


def test_discount_rounds_half_up_to_pence():
    tiers = [CohortTier(min_children=1, percent=10)]
    odd = terms(1, core_costs={"premises": "100.05", "staffing": "0.00"}, variable_costs=[])
    price = price_bid(odd, 1, tiers)
    assert price.discount == Decimal("10.01")  # 10.005 → 10.01
    assert price.weekly_price == Decimal("90.04")


def test_cohort_bid_is_priced_from_the_snapshot_tiers():
    referral = published(children=[{"age": 9}, {"age": 11}, {"age": 13}])
    bid = referral.submit_bid(provider(1), terms(1, variable_costs=[]), NOW)
    assert bid.price.discount_percent == 8
    assert bid.price.weekly_price == Decimal("8280.00")  # 9000 − 720
    assert bid.price.variable_costs == []
    assert price_bid(terms(1), 1, []).variable_costs == [
        PricedVariableCost(label="1:1 support", weekly="150.50", free_text=True)
    ]


# ------------------------------------------------------------------ replace, withdraw


def test_the_bidder_replaces_its_bid_until_the_deadline():
    referral, ids = with_bids((1,))
    later = NOW + timedelta(hours=5)
    bid = referral.replace_bid(
        provider(1),
        ids[1],
        terms(1, core_costs={"premises": "500.00", "staffing": "2000.00"}),
        later,
    )
    assert bid.bid_id == ids[1]
    assert bid.price.weekly_price == Decimal("2650.50")
    assert bid.submitted_at == later  # the final submission counts for ties (§6.3)
    assert referral.events[-1].action == "changed"


def test_a_replacement_is_validated_and_a_refused_one_changes_nothing():
    referral, ids = with_bids((1,))
    with pytest.raises(InvalidInput):
        referral.replace_bid(provider(1), ids[1], terms(1, needs_met=["ZZ"]), NOW)
    assert referral.bids[ids[1]].terms.needs_met == ["N1", "N2"]
    with pytest.raises(InvalidInput) as exc:
        referral.replace_bid(provider(1), ids[1], terms(2), NOW)
    assert locs(exc) == [["establishment_id"]]


def test_replace_and_withdraw_stop_at_the_deadline():
    referral, ids = with_bids((1,))
    with pytest.raises(Conflict):
        referral.replace_bid(provider(1), ids[1], terms(1), DEADLINE)
    with pytest.raises(Conflict):
        referral.withdraw_bid(provider(1), ids[1], DEADLINE)
    assert referral.bids[ids[1]].live


def test_withdrawal_is_recorded_and_receipted():
    referral, ids = with_bids((1,))
    bid = referral.withdraw_bid(provider(1), ids[1], NOW)
    assert not bid.live and bid.withdrawn_at == NOW
    assert bid.withdrawn_reason == "withdrawn by the provider"
    assert referral.events[-1].action == "withdrawn"
    with pytest.raises(Conflict):
        referral.withdraw_bid(provider(1), ids[1], NOW)
    with pytest.raises(Conflict):
        referral.replace_bid(provider(1), ids[1], terms(1), NOW)


def test_only_the_bidder_touches_its_bid():
    referral, ids = with_bids((1, 2))
    with pytest.raises(NotFound):
        referral.withdraw_bid(provider(2), ids[1], NOW)  # invited, but not its bid
    with pytest.raises(NotFound):
        referral.withdraw_bid(STRANGER, ids[1], NOW)
    with pytest.raises(Forbidden):
        referral.withdraw_bid(OWNER, ids[1], NOW)
    with pytest.raises(NotFound):
        referral.replace_bid(provider(1), "no-such-bid", terms(1), NOW)


# ------------------------------------------------------------------ sealed bids (§5, §10)


def test_before_the_deadline_the_owner_sees_only_the_count():
    referral, ids = with_bids((1, 2))
    referral.withdraw_bid(provider(2), ids[2], NOW)
    view = referral.visible_bids(OWNER, BEFORE_DEADLINE)
    assert view.count == 1 and view.items is None


def test_a_provider_sees_only_its_own_bid_and_no_count():
    referral, ids = with_bids((1, 2))
    view = referral.visible_bids(provider(2), NOW)
    assert view.count is None
    assert [b.bid_id for b in view.items] == [ids[2]]
    assert view.items[0].core_costs["staffing"] == Decimal("2000.00")
    assert view.items[0].outcome_scores is None
    assert referral.visible_bids(provider(3), DEADLINE + timedelta(days=1)).items == []


def test_after_the_deadline_the_owner_sees_every_live_bid():
    referral, ids = with_bids((1, 2, 3))
    referral.withdraw_bid(provider(3), ids[3], NOW)
    view = referral.visible_bids(OWNER, DEADLINE)  # deadline passed, timer not yet run
    assert view.count == 2
    assert {b.bid_id for b in view.items} == {ids[1], ids[2]}
    assert view.items[0].price.weekly_price == Decimal("3150.50")
    referral.close_due(DEADLINE, admitted(referral))
    assert len(referral.visible_bids(OWNER, DEADLINE).items) == 2


def test_bids_of_a_referral_cancelled_before_closing_stay_sealed():
    referral, _ = with_bids((1, 2))
    referral.cancel(OWNER, CancelRequest(reason="child returned home"), NOW)
    assert referral.visible_bids(OWNER, DEADLINE + timedelta(days=30)).items is None


@pytest.mark.parametrize(
    ("who", "error"), [(OTHER_COMMISSIONER, NotFound), (STRANGER, NotFound), (AUDITOR, Forbidden)]
)
def test_nobody_else_sees_bids(who, error):
    referral, _ = with_bids((1,))
    with pytest.raises(error):
        referral.visible_bids(who, DEADLINE)


# ------------------------------------------------------------------ suspension (§4.5)


def test_suspension_withdraws_open_bids_with_the_reason():
    referral, ids = with_bids((1, 2))
    withdrawn = referral.apply_suspension("E1", "RESIDENTIAL", "INADEQUATE judgement", NOW)
    assert withdrawn == [ids[1]]
    bid = referral.bids[ids[1]]
    assert not bid.live and bid.withdrawn_reason == "membership suspended: INADEQUATE judgement"
    event = referral.events[-1]
    assert (event.action, event.reason, event.bid_id) == (
        "withdrawn",
        "membership suspended: INADEQUATE judgement",
        ids[1],
    )
    assert referral.bids[ids[2]].live


def test_a_suspended_establishment_cannot_bid_until_reinstated():
    referral = published()
    referral.apply_suspension("E1", "RESIDENTIAL", "insurance expired", NOW)
    with pytest.raises(Conflict):
        referral.submit_bid(provider(1), terms(1), NOW)
    referral.apply_reinstatement("E1", "RESIDENTIAL")
    assert referral.submit_bid(provider(1), terms(1), NOW).live


def test_suspension_in_another_category_or_after_the_deadline_changes_no_bid():
    referral, ids = with_bids((1,))
    assert referral.apply_suspension("E1", "SEN", "x", NOW) == []
    assert referral.invitations["E1"].suspended_reason is None
    assert referral.apply_suspension("E9", "RESIDENTIAL", "x", NOW) == []
    assert referral.apply_suspension("E1", "RESIDENTIAL", "x", DEADLINE) == []
    assert referral.bids[ids[1]].live
