"""When a Procurement Act notice applies and by when (RULES §11.4), a voluntary standstill
(s.51) and the dynamic market's supplier fee (s.38, §11.2 → §7.7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.common.errors import Conflict
from services.contracts import domain
from services.contracts.domain import notice_rules as rules
from services.contracts.domain.calendar import add_working_days, is_working_day
from tests.support.contracts_builders import placement

# --- due dates -------------------------------------------------------------------------------


def test_s11_4_uk7_is_due_120_days_after_entering_the_contract_s53():
    assert rules.uk7_due(date(2026, 3, 2)) == date(2026, 6, 30)
    assert rules.uk7_due(date(2026, 11, 20)) == date(2027, 3, 20)  # across the year end


def test_s11_4_uk11_is_due_30_days_after_the_placement_ends_s80():
    assert rules.uk11_due(date(2026, 6, 2)) == date(2026, 7, 2)
    assert rules.uk11_due(date(2027, 2, 10)) == date(2027, 3, 12)  # February has 28 days


def test_s11_4_eight_working_days_skip_easter_bank_holidays():
    # Good Friday 3 April and Easter Monday 6 April 2026 are not working days
    assert not is_working_day(date(2026, 4, 3)) and not is_working_day(date(2026, 4, 6))
    assert add_working_days(date(2026, 3, 31), 8) == date(2026, 4, 14)
    assert add_working_days(date(2026, 4, 14), -8) == date(2026, 3, 31)


def test_s11_4_eight_working_days_skip_christmas_and_the_boxing_day_substitute():
    # 26 December 2026 is a Saturday: its bank holiday is Monday 28 December
    assert not is_working_day(date(2026, 12, 28))
    assert add_working_days(date(2026, 12, 22), 8) == date(2027, 1, 6)


def test_s11_4_uk6_with_a_voluntary_standstill_is_due_8_working_days_before_it_ends():
    awarded = date(2026, 3, 30)
    # a standstill ending on Tuesday 14 April 2026 needs the award notice out by 31 March
    assert rules.uk6_due(awarded, date(2026, 4, 14)) == date(2026, 3, 31)
    assert rules.standstill_long_enough(date(2026, 3, 31), date(2026, 4, 14))
    assert not rules.standstill_long_enough(date(2026, 4, 1), date(2026, 4, 14))
    # without a standstill the notice is due on the award day (s.50)
    assert rules.uk6_due(awarded, None) == awarded


def test_s11_4_due_list_holds_near_and_missed_deadlines_most_urgent_first():
    today = date(2026, 5, 1)
    notices = [
        rules.DueNotice("UK7:a", "UK7", date(2026, 8, 1)),  # far off: not listed
        rules.DueNotice("UK11:b", "UK11", date(2026, 5, 5)),
        rules.DueNotice("UK6:c", "UK6", date(2026, 4, 28)),
    ]
    due = rules.due_list(notices, today, within_days=7)
    assert [d["notice_id"] for d in due] == ["UK6:c", "UK11:b"]
    assert due[0]["overdue"] is True and due[0]["days_left"] == -3
    assert due[1]["overdue"] is False and due[1]["days_left"] == 4


# --- standstill refuses an early start (§11.4, s.51) -------------------------------------------


def test_s11_4_a_placement_cannot_start_within_the_voluntary_standstill():
    p = placement(standstill_ends_on=date(2026, 4, 14), regime=rules.PA2023_DYNAMIC_MARKET)
    with pytest.raises(Conflict, match="2026-04-15"):
        p.start(date(2026, 4, 14))  # the standstill runs to midnight at the end of that day
    assert p.status is domain.PlacementStatus.PENDING_START
    p.start(date(2026, 4, 15))
    assert p.status is domain.PlacementStatus.ACTIVE


def test_s11_4_without_a_standstill_a_placement_starts_any_day():
    p = placement()
    p.start(date(2026, 3, 2))
    assert p.start_date == date(2026, 3, 2)


# --- which notices apply --------------------------------------------------------------------


def test_s11_4_call_off_notices_only_under_the_act_at_or_above_the_threshold():
    pa, pcr = rules.PA2023_DYNAMIC_MARKET, rules.PCR2015_DPS
    at_threshold = Decimal("663540.00")
    assert rules.call_off_notices_apply(pa, None, at_threshold)
    assert not rules.call_off_notices_apply(pa, None, Decimal("663539.99"))
    assert rules.call_off_notices_apply(pa, None, None)  # unknown: above (Sch. 3 para 5)
    assert not rules.call_off_notices_apply(pa, False, Decimal("900000"))  # its own answer
    assert not rules.call_off_notices_apply(pcr, True, Decimal("900000"))
    assert not rules.call_off_notices_apply(None, True, Decimal("900000"))  # before regimes
    assert not rules.call_off_notices_apply(pa, True, None, "user_choice")  # Sch. 5 15-17
    assert rules.call_off_notices_apply(pa, True, None, "emergency")


# --- fees (s.38) -------------------------------------------------------------------------------


def test_s11_2_fee_is_the_markets_percentage_of_the_estimated_value_rounded_half_up():
    assert rules.supplier_fee(Decimal("780000.00"), Decimal("1.5")) == Decimal("11700.00")
    assert rules.supplier_fee(Decimal("123456.78"), Decimal("0.25")) == Decimal("308.64")
    assert rules.supplier_fee(Decimal("1001.00"), Decimal("0.05")) == Decimal("0.50")  # .5005


def test_s11_2_fees_are_reported_per_supplier_and_per_quarter():
    def award(provider, at, value, pct="2"):
        return rules.MarketAward(provider, f"{provider} Ltd", at, Decimal(value), Decimal(pct))

    fees = rules.supplier_fees(
        [
            award("prov-a", datetime(2026, 4, 2, tzinfo=UTC), "100000.00"),
            award("prov-a", datetime(2026, 5, 2, tzinfo=UTC), "50000.00"),
            award("prov-a", datetime(2026, 7, 2, tzinfo=UTC), "10000.00"),
            award("prov-b", datetime(2026, 7, 9, tzinfo=UTC), "700000.00", "1"),
            award("prov-b", datetime(2027, 4, 9, tzinfo=UTC), "700000.00", "1"),  # next year
        ],
        date(2026, 4, 1), date(2027, 3, 31))
    assert fees["suppliers"] == [
        {"provider_id": "prov-a", "provider_name": "prov-a Ltd",
         "fees": {"2026-Q2": "3000.00", "2026-Q3": "200.00"}, "total": "3200.00"},
        {"provider_id": "prov-b", "provider_name": "prov-b Ltd",
         "fees": {"2026-Q3": "7000.00"}, "total": "7000.00"},
    ]
    assert fees["total"] == "10200.00"


def test_s11_2_cost_shares_charge_market_awards_to_suppliers_and_pcr_awards_to_authorities():
    def record(award_id, regime, dps_id=None, value=None):
        return domain.AwardRecord(
            award_id=award_id, placement_id=f"pl-{award_id}", authority="KCC",
            provider_id="prov-1", provider_name="Oakwood Care Ltd", category="SEN",
            awarded_at=datetime(2026, 6, 1, tzinfo=UTC), weekly_price=Decimal("1000.00"),
            regime=regime, dps_id=dps_id,
            estimated_value=None if value is None else Decimal(value))

    result = domain.cost_shares(
        year=2026, authorities=["KCC"], placements=[],
        awards=[record("r-pcr", None), record("r-pa", rules.PA2023_DYNAMIC_MARKET, "mkt-1",
                                               "780000.00")],
        running_cost=Decimal("0"), fee_percent=Decimal("1"),
        market_fee_percents={"mkt-1": Decimal("1.5")})
    kcc = result["authorities"][0]
    # the authority pays 1 % of the PCR award's annualised value (52,000.00) only
    assert kcc["transaction_fees"] == {"2026-Q2": "520.00"}
    assert result["supplier_fees"]["suppliers"][0]["fees"] == {"2026-Q2": "11700.00"}
