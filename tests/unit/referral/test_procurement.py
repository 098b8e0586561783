"""A referral as a call-off under its market's regime (RULES §11.3, §11.4, issue 14):
estimated value and the light touch threshold (Schedule 1, Schedule 3 para 5), the
below-threshold rules (ss.84–88), the 0-hour tender period (s.54(4)), insurance at award
(s.36(2)), the voluntary standstill across bank holidays (s.51) and user choice (Schedule 5
paras 15–17)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput
from services.qualification.messages import InsuranceStatus
from services.referral.domain import DirectPlacement
from services.referral.domain.procurement import (
    PA2023,
    PCR2015,
    Procurement,
    estimate,
    min_tender_hours,
    standstill_ends_on,
    standstill_last_day,
)
from services.referral.messages import AwardRequest, CancelRequest, DirectPlacementCreate
from tests.support.referral_builders import NOW, OWNER, evaluated, published

MARKET = Procurement(dps_id="dm-1", regime=PA2023)


@pytest.mark.parametrize(
    ("ceiling", "weeks", "value", "above"),
    [
        ("6000.00", 52, Decimal("312000.00"), False),
        ("6380.20", 104, Decimal("663540.80"), True),  # at or above £663,540
        ("6380.19", 104, Decimal("663539.76"), False),
        ("6000.00", None, None, True),  # unknown duration: above (Schedule 3 para 5)
        (None, 52, None, True),
    ],
)
def test_the_estimated_value_and_the_light_touch_threshold(ceiling, weeks, value, above):
    got, is_above, rules = estimate(None if ceiling is None else Decimal(ceiling), weeks, PA2023)
    assert (got, is_above) == (value, above)
    assert (rules is None) == above


def test_below_the_threshold_the_rules_followed_are_recorded():
    _, _, regulated = estimate(Decimal("1000.00"), 52, PA2023)
    assert "ss.84-88" in regulated and "s.87" in regulated
    _, _, small = estimate(Decimal("500.00"), 12, PA2023)
    assert "not a regulated below-threshold contract" in small
    assert estimate(Decimal("1000.00"), 52, PCR2015)[2] is None  # the Act's Part 6 only


def test_a_referral_records_its_market_and_value():
    from services.referral.domain import Referral
    from tests.support.referral_builders import WEIGHTS, spec

    referral = Referral.create(OWNER, spec(weekly_price_ceiling="5000.00", expected_weeks=26),
                               WEIGHTS, NOW, procurement=MARKET)
    view = referral.view_for(OWNER).procurement
    assert (view.dps_id, view.regime) == ("dm-1", PA2023)
    assert view.estimated_value == Decimal("130000.00") and view.above_threshold is False
    assert "ss.84-88" in view.below_threshold_rules
    assert published().procurement is None  # built without a market: nothing invented


def test_published_and_cancelled_events_carry_the_procurement_fields():
    from services.referral.domain import Referral
    from tests.support.referral_builders import WEIGHTS, snapshot, spec

    referral = Referral.create(OWNER, spec(weekly_price_ceiling="7000.00", title="Home for one"),
                               WEIGHTS, NOW, procurement=MARKET)
    from services.referral.messages import PublishRequest

    referral.publish(OWNER, PublishRequest(), [snapshot(i) for i in (1, 2, 3)], NOW,
                     min_tender_period_hours=0)
    event = referral.events[-1]
    assert (event.event_type, event.dps_id, event.regime) == ("referral_published", "dm-1", PA2023)
    assert event.title == "Home for one" and event.deadline == referral.deadline
    assert event.above_threshold is True and event.estimated_value is None  # weeks unknown
    referral.cancel(OWNER, CancelRequest(reason="placed elsewhere"), NOW)
    cancelled = referral.events[-1]
    assert cancelled.was_published is True and cancelled.dps_id == "dm-1"


def test_a_zero_hour_minimum_tender_period_only_under_the_act():
    assert min_tender_hours(0, PA2023) == 0  # s.54(4): none for light touch
    assert min_tender_hours(0, PCR2015) == 24
    assert min_tender_hours(48, PCR2015) == 48


def _awardable():
    referral, ids = evaluated("evaluated")
    referral.procurement = MARKET
    return referral, ids


def test_an_award_without_current_insurance_cover_is_refused_with_the_reason():
    referral, ids = _awardable()
    lapsed = InsuranceStatus(current=False, expires_on=date(2026, 2, 1),
                             reason="the insurance cover expired on 2026-02-01")
    with pytest.raises(Conflict) as err:
        referral.award(OWNER, AwardRequest(), NOW, insurance=lambda est: lapsed)
    assert "insurance" in str(err.value) and "s.36(2)" in str(err.value)
    assert referral.status == "evaluated" and referral.awarded_bid_id is None
    result = referral.award(OWNER, AwardRequest(), NOW,
                            insurance=lambda est: InsuranceStatus(current=True))
    event = [e for e in referral.events if e.event_type == "referral_awarded"][0]
    assert result.placement_id and event.insurance_checked_at == NOW
    assert event.summaries_released_at == NOW and event.regime == PA2023


def test_under_a_pcr_dps_insurance_is_a_membership_condition_not_checked_at_award():
    referral, _ = evaluated("evaluated")
    referral.procurement = Procurement(dps_id="dps-1", regime=PCR2015)
    asked = []
    referral.award(OWNER, AwardRequest(), NOW, insurance=lambda est: asked.append(est))
    assert asked == []


def test_a_voluntary_standstill_of_8_working_days_across_bank_holidays():
    # awarded Tuesday 22 December 2026: 25, 28 Dec and 1 Jan are bank holidays
    awarded = datetime(2026, 12, 22, 10, 0, tzinfo=UTC)
    assert standstill_ends_on(awarded, 8, PA2023) == date(2027, 1, 5)
    # 22, 23, 24, 29, 30, 31 Dec, 4, 5 Jan: the 8 working days beginning with the award day
    # from a Saturday (28 Dec a bank holiday): 29, 30, 31 Dec, 4–8 Jan
    assert standstill_last_day(date(2026, 12, 26), 8) == date(2027, 1, 8)
    assert standstill_ends_on(awarded, None, PA2023) is None
    with pytest.raises(InvalidInput):
        standstill_ends_on(awarded, 7, PA2023)
    with pytest.raises(InvalidInput):
        standstill_ends_on(awarded, 8, PCR2015)
    with pytest.raises(ValueError):
        AwardRequest(standstill_working_days=5)


def test_the_award_event_carries_the_standstill():
    referral, _ = _awardable()
    referral.award(OWNER, AwardRequest(standstill_working_days=10), NOW,
                   insurance=lambda est: InsuranceStatus(current=True))
    event = [e for e in referral.events if e.event_type == "referral_awarded"][0]
    assert event.standstill_ends_on == standstill_ends_on(NOW, 10, PA2023)
    assert referral.procurement.standstill_ends_on == event.standstill_ends_on


def _direct(**over) -> DirectPlacementCreate:
    body = {"establishment_id": "E1", "category": "RESIDENTIAL", "reason_code": "user_choice",
            "justification": "the family chose this home", "weekly_price": "4000.00",
            "child_reference": "KCC-123",
            "expressed_preference": "the young person asked to stay near her school",
            "best_interests_reason": "a move through a competition would break her schooling"}
    return DirectPlacementCreate.model_validate({**body, **over})


def test_a_user_choice_direct_placement_records_the_preference_and_the_reason():
    placement = DirectPlacement.record(OWNER, _direct(), "P1", NOW, procurement=MARKET)
    event = placement.events[0]
    assert event.reason == "user_choice" and event.regime == PA2023 and event.dps_id == "dm-1"
    assert event.expressed_preference.startswith("the young person")
    assert placement.procurement["best_interests_reason"].startswith("a move")
    assert "child_reference" not in event.model_dump()


@pytest.mark.parametrize("missing", ["expressed_preference", "best_interests_reason"])
def test_a_user_choice_without_its_record_is_refused_naming_the_field(missing):
    with pytest.raises(InvalidInput) as err:
        DirectPlacement.record(OWNER, _direct(**{missing: None}), "P1", NOW, procurement=MARKET)
    assert [e["loc"] for e in err.value.errors] == [[missing]]
