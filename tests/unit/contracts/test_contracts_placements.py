"""Placement agreements, variations and uplifts (RULES §7.1, §7.2)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput
from services.contracts import domain
from tests.support.contracts_builders import (
    AWARDED_AT,
    CHILD_REFERENCE,
    award_event,
    direct_event,
    placement,
    started,
)

RECORDED = datetime(2026, 3, 10, tzinfo=UTC)


# --- §7.1 creation -----------------------------------------------------------------------


def test_s7_1_placement_from_award_records_the_agreement():
    p = domain.placement_from_award(award_event(), child_reference=CHILD_REFERENCE)
    assert p.placement_id == "pl-1"
    assert (p.authority, p.provider_id, p.establishment_id) == ("KCC", "prov-1", "est-1")
    assert p.child_reference == CHILD_REFERENCE
    assert p.status is domain.PlacementStatus.PENDING_START
    assert p.start_date == date(2026, 3, 9)
    assert p.price.core_costs == {"core_staffing": Decimal("2000.00"), "premises": Decimal("1000")}
    assert p.price.weekly_price == p.awarded_weekly_price == Decimal("3250.00")
    assert p.incentive == domain.IncentiveTerms(
        "£2,000 if stepped down within 26 weeks", "early_step_down", Decimal("2000.00"), 26
    )
    assert p.monitored_components == domain.ECM_COMPONENTS
    assert p.review_interval_months == 3
    assert p.desired_outcomes == ("Attends school every day",)


def test_s7_1_creation_is_keyed_by_the_referral_so_a_redelivery_maps_to_the_same_key():
    first = domain.placement_from_award(award_event())
    again = domain.placement_from_award(award_event(event_id="evt-redelivered"))
    other = domain.placement_from_award(award_event(referral_id="ref-2", placement_id="pl-2"))
    assert first.source_key == again.source_key == "referral_award:ref-1"
    assert first.source_key == domain.source_key(domain.PlacementSource.REFERRAL_AWARD, "ref-1")
    assert other.source_key != first.source_key


def test_s7_1_cohort_award_keeps_the_referral_price_rule():
    """2 children at 1,000.01 + 999.99 each, 5 % off the core total, rounded half up once."""
    price = {
        "core_costs": {"a": "1000.01", "b": "999.99"},
        "children": 2,
        "variable_costs": [{"label": "Transport", "weekly": "100.00"}],
        "discount_percent": "5",
        "discount": "200.00",
        "weekly_price": "3900.00",
    }
    p = domain.placement_from_award(award_event(price=price))
    assert p.price.core_total == Decimal("4000.00")
    assert p.price.discount == Decimal("200.00")
    assert p.price.weekly_price == Decimal("3900.00") == p.awarded_weekly_price


def test_s7_1_discount_rounds_half_up_to_the_penny():
    price = domain.PriceBreakdown(core_costs={"a": Decimal("0.50")}, discount_percent=Decimal("5"))
    assert price.discount == Decimal("0.03")  # 0.025 → 0.03
    assert price.weekly_price == Decimal("0.47")


def test_s5_direct_placement_is_a_placement_with_its_reason_and_single_price():
    p = domain.placement_from_direct(direct_event())
    assert p.source is domain.PlacementSource.DIRECT_PLACEMENT
    assert p.source_key == "direct_placement:dp-1"
    assert p.reason_code == "emergency"
    assert p.agreed_at == datetime(2026, 8, 3, 10, 0, tzinfo=UTC)
    assert p.price.core_costs == {domain.SINGLE_PRICE_HEAD: Decimal("5200.00")}
    assert p.price.weekly_price == Decimal("5200.00")


def test_s5_direct_reason_must_come_from_the_configured_list():
    domain.check_direct_reason("emergency")
    with pytest.raises(InvalidInput) as exc:
        domain.check_direct_reason("cheapest", ("emergency", "other"))
    assert exc.value.errors[0]["loc"] == ["reason_code"]


def test_s7_1_a_reason_code_belongs_to_direct_placements_only():
    with pytest.raises(InvalidInput):
        placement(reason_code="emergency")
    with pytest.raises(InvalidInput):
        placement(source=domain.PlacementSource.DIRECT_PLACEMENT, source_ref="dp-1")


def test_s7_1_agreed_time_must_be_timezone_aware():
    with pytest.raises(InvalidInput):
        placement(agreed_at=datetime(2026, 3, 2, 9, 0))


# --- §7.1 state machine --------------------------------------------------------------------


def test_s7_1_pending_start_then_active_then_ended():
    p = placement()
    p.start(date(2026, 3, 10))
    assert (p.status, p.start_date) == (domain.PlacementStatus.ACTIVE, date(2026, 3, 10))
    p.end(date(2026, 9, 1), "step_down")
    assert p.status is domain.PlacementStatus.ENDED
    assert (p.ended_on, p.end_reason) == (date(2026, 9, 1), domain.EndReason.STEP_DOWN)


@pytest.mark.parametrize(
    "moves",
    [
        ["end"],  # pending_start → ended skips active
        ["start", "start"],  # active → active
        ["start", "end", "start"],  # ended → active
        ["start", "end", "end"],  # ended → ended
    ],
)
def test_s7_1_illegal_transitions_are_conflicts(moves):
    p = placement()
    *legal, illegal = moves
    for move in legal:
        p.start(date(2026, 3, 10)) if move == "start" else p.end(date(2026, 4, 1), "planned")
    status = p.status
    with pytest.raises(Conflict):
        p.start(date(2026, 5, 1)) if illegal == "start" else p.end(date(2026, 5, 1), "planned")
    assert p.status is status


def test_s7_1_end_reason_must_be_known_and_other_needs_a_note():
    p = started()
    with pytest.raises(InvalidInput) as exc:
        p.end(date(2026, 4, 1), "bored")
    assert exc.value.errors[0]["loc"] == ["reason"]
    with pytest.raises(InvalidInput) as exc:
        p.end(date(2026, 4, 1), "other", "  ")
    assert exc.value.errors[0]["loc"] == ["note"]
    p.end(date(2026, 4, 1), "other", "moved abroad with family")
    assert p.end_note == "moved abroad with family"


def test_s7_1_cannot_end_before_the_start():
    p = started(date(2026, 3, 9))
    with pytest.raises(InvalidInput) as exc:
        p.end(date(2026, 3, 8), "breakdown")
    assert exc.value.errors[0]["loc"] == ["date"]
    assert p.status is domain.PlacementStatus.ACTIVE


# --- §7.2 variations and uplifts ----------------------------------------------------------


def staff_uplift(percent: str = "3.1", effective_from: date = date(2026, 4, 1)) -> domain.Uplift:
    return domain.Uplift("up-1", "SEN", "core_staffing", Decimal(percent), effective_from)


def test_s7_2_weekly_cost_across_variations_and_an_uplift():
    p = started(date(2026, 3, 9))
    p.vary(
        variation_id="v1",
        effective_from=date(2026, 3, 23),
        reason="extra night staff",
        recorded_at=RECORDED,
        core_costs={"core_staffing": Decimal("2100.00")},
    )
    uplift = domain.apply_uplift(
        p, staff_uplift(), variation_id="v2", recorded_at=datetime(2026, 3, 20, tzinfo=UTC)
    )
    assert uplift is not None
    p.vary(
        variation_id="v3",
        effective_from=date(2026, 5, 4),
        reason="therapy increased",
        recorded_at=datetime(2026, 5, 1, tzinfo=UTC),
        variable_costs=[
            domain.VariableItem("Speech therapy", Decimal("300.00")),
            domain.VariableItem("OT", Decimal("80.00")),
        ],
        discount_percent=Decimal("5"),
    )
    assert domain.weekly_cost_on(p, date(2026, 3, 9)) == Decimal("3250.00")
    assert domain.weekly_cost_on(p, date(2026, 3, 22)) == Decimal("3250.00")
    assert domain.weekly_cost_on(p, date(2026, 3, 23)) == Decimal("3350.00")
    # 2100.00 × 1.031 = 2165.10; variable 250.00 untouched
    assert p.price_on(date(2026, 4, 1)).core_costs["core_staffing"] == Decimal("2165.10")
    assert p.price_on(date(2026, 4, 1)).variable_costs == p.price.variable_costs
    assert domain.weekly_cost_on(p, date(2026, 4, 1)) == Decimal("3415.10")
    # core 3165.10 − 5 % (158.255 → 158.26) + 300 + 80
    assert domain.weekly_cost_on(p, date(2026, 5, 4)) == Decimal("3386.84")


def test_s7_2_uplift_never_touches_variable_costs():
    p = started()
    domain.apply_uplift(p, staff_uplift("10"), variation_id="v1", recorded_at=RECORDED)
    after = p.price_on(date(2026, 4, 1))
    assert after.variable_costs == p.price.variable_costs
    assert after.core_costs["premises"] == Decimal("1000.00")
    assert after.core_costs["core_staffing"] == Decimal("2200.00")


def test_s7_2_uplift_rounds_the_head_half_up_to_the_penny():
    p = started(price=domain.PriceBreakdown(core_costs={"core_staffing": Decimal("1234.50")}))
    domain.apply_uplift(p, staff_uplift("3.1"), variation_id="v1", recorded_at=RECORDED)
    # 1234.50 × 1.031 = 1272.7695 → 1272.77
    assert p.price_on(date(2026, 4, 1)).core_costs["core_staffing"] == Decimal("1272.77")


def test_s7_2_back_dated_variation_is_still_uplifted_on_replay():
    p = started()
    domain.apply_uplift(p, staff_uplift("10"), variation_id="v1", recorded_at=RECORDED)
    p.vary(
        variation_id="v2",
        effective_from=date(2026, 3, 16),
        reason="correction",
        recorded_at=datetime(2026, 5, 1, tzinfo=UTC),
        core_costs={"core_staffing": Decimal("1900.00")},
    )
    assert p.price_on(date(2026, 3, 16)).core_costs["core_staffing"] == Decimal("1900.00")
    assert p.price_on(date(2026, 4, 1)).core_costs["core_staffing"] == Decimal("2090.00")


def test_s7_2_uplift_applies_once_and_only_where_it_should():
    uplift = staff_uplift()
    p = started()
    assert domain.apply_uplift(p, uplift, variation_id="v1", recorded_at=RECORDED)
    assert domain.apply_uplift(p, uplift, variation_id="v2", recorded_at=RECORDED) is None
    assert len(p.variations) == 1
    cases = {
        "other category": started(category="RESIDENTIAL"),
        "agreed on or after the date": started(
            agreed_at=datetime(2026, 4, 1, 8, 0, tzinfo=UTC), start_date=None
        ),
        "ended before the date": started(),
        "head not priced": started(
            price=domain.PriceBreakdown(core_costs={"premises": Decimal("1000.00")})
        ),
    }
    cases["ended before the date"].end(date(2026, 3, 31), "planned")
    for name, other in cases.items():
        assert domain.apply_uplift(other, uplift, variation_id="x", recorded_at=RECORDED) is None, (
            name
        )
        assert other.variations == [], name


def test_s7_2_uplift_applies_to_a_pending_placement_agreed_before_it():
    p = placement()
    assert domain.apply_uplift(p, staff_uplift(), variation_id="v1", recorded_at=RECORDED)


def test_s7_2_variation_rules():
    p = started(date(2026, 3, 9))
    with pytest.raises(InvalidInput) as exc:
        p.vary(
            variation_id="v",
            effective_from=date(2026, 3, 1),
            reason="x",
            recorded_at=RECORDED,
            discount_percent=Decimal("1"),
        )
    assert exc.value.errors[0]["loc"] == ["effective_from"]
    with pytest.raises(InvalidInput):
        p.vary(
            variation_id="v",
            effective_from=date(2026, 4, 1),
            reason=" ",
            recorded_at=RECORDED,
            discount_percent=Decimal("1"),
        )
    with pytest.raises(InvalidInput):
        p.vary(variation_id="v", effective_from=date(2026, 4, 1), reason="x", recorded_at=RECORDED)
    with pytest.raises(InvalidInput) as exc:
        p.vary(
            variation_id="v",
            effective_from=date(2026, 4, 1),
            reason="x",
            recorded_at=RECORDED,
            core_costs={"premises": Decimal("-1.00")},
        )
    assert exc.value.errors[0]["loc"] == ["changes", "core_costs", "premises"]
    with pytest.raises(InvalidInput):
        p.vary(
            variation_id="v",
            effective_from=date(2026, 4, 1),
            reason="x",
            recorded_at=RECORDED,
            discount_percent=Decimal("100"),
        )
    assert p.variations == []
    p.end(date(2026, 6, 1), "planned")
    with pytest.raises(Conflict):
        p.vary(
            variation_id="v",
            effective_from=date(2026, 5, 1),
            reason="x",
            recorded_at=RECORDED,
            discount_percent=Decimal("1"),
        )


def test_s7_2_uplift_percent_bounds():
    for bad in ("0", "-100", "100.01", "3.125"):
        with pytest.raises(InvalidInput):
            staff_uplift(bad)


def test_s7_2_weekly_cost_is_zero_when_the_child_is_not_placed():
    p = placement()
    assert domain.weekly_cost_on(p, date(2026, 3, 10)) == Decimal("0.00")  # not started
    p.start(date(2026, 3, 9))
    assert domain.weekly_cost_on(p, date(2026, 3, 8)) == Decimal("0.00")
    p.end(date(2026, 6, 1), "planned")
    assert domain.weekly_cost_on(p, date(2026, 5, 31)) == Decimal("3250.00")
    assert domain.weekly_cost_on(p, date(2026, 6, 1)) == Decimal("0.00")


def test_s7_2_price_and_variations_round_trip_through_dicts():
    p = started()
    domain.apply_uplift(p, staff_uplift(), variation_id="v1", recorded_at=RECORDED)
    manual = p.vary(
        variation_id="v2",
        effective_from=date(2026, 5, 1),
        reason="review",
        recorded_at=RECORDED,
        variable_costs=[domain.VariableItem("OT", Decimal("80.00"))],
    )
    for variation in (p.variations[0], manual):
        assert domain.Variation.from_dict(json.loads(json.dumps(variation.to_dict()))) == variation
    assert domain.PriceBreakdown.from_dict(p.price.to_dict()) == p.price


# --- §10 provider view --------------------------------------------------------------------


def test_s10_provider_view_has_no_child_details():
    p = domain.placement_from_direct(direct_event(), child_reference="ESCC-CHILD-777")
    p.start(date(2026, 8, 3))
    p.end(date(2026, 9, 1), "other", "Sam returned home to mum")
    provider = json.dumps(
        domain.placement_view(p, on=date(2026, 8, 10), include_child_details=False)
    )
    for secret in ("ESCC-CHILD-777", "Sam needed a bed", "returned home"):
        assert secret not in provider
    owner = domain.placement_view(p, on=date(2026, 8, 10))
    assert owner["child_reference"] == "ESCC-CHILD-777"
    assert owner["weekly_cost"] == "5200.00"
    assert json.loads(provider)["current_price"]["weekly_price"] == "5200.00"


def test_s7_1_view_shows_current_price_and_next_review():
    p = started(date(2026, 3, 9))
    view = domain.placement_view(p, on=date(2026, 3, 10))
    assert view["status"] == "active"
    assert view["next_review_due"] == "2026-06-09"
    assert view["current_price"]["weekly_price"] == "3250.00"
    assert view["agreed_at"] == AWARDED_AT.isoformat()
