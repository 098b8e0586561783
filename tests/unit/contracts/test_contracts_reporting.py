"""Pure logic added while wiring contracts: reporting periods of the performance index
(§4.5, §7.4) and the transaction fees shown in benchmarks (§7.6, §7.7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.common.errors import InvalidInput
from services.contracts import domain
from tests.support.contracts_builders import FROM, SECRET, TO, market


@pytest.mark.parametrize(
    ("day", "months", "period"),
    [
        (date(2026, 8, 14), 6, (date(2026, 7, 1), date(2026, 12, 31))),
        (date(2026, 1, 1), 6, (date(2026, 1, 1), date(2026, 6, 30))),
        (date(2026, 6, 30), 6, (date(2026, 1, 1), date(2026, 6, 30))),
        (date(2026, 5, 5), 3, (date(2026, 4, 1), date(2026, 6, 30))),
        (date(2024, 2, 29), 1, (date(2024, 2, 1), date(2024, 2, 29))),
        (date(2026, 12, 31), 12, (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_s7_4_reporting_periods_are_fixed_from_1_january(day, months, period):
    assert domain.reporting_period(day, months) == period


def test_s4_5_consecutive_periods_start_exactly_the_period_apart():
    start, end = domain.reporting_period(date(2026, 3, 1))
    following, _ = domain.reporting_period(date.fromordinal(end.toordinal() + 1))
    assert following == domain.add_months(start, 6)


@pytest.mark.parametrize("months", [0, 5, 7, 13, -6])
def test_s7_4_a_period_must_divide_the_year(months):
    with pytest.raises(InvalidInput):
        domain.reporting_period(date(2026, 3, 1), months)


def test_s7_7_benchmark_reports_transaction_fees_per_quarter_overall_and_per_authority():
    placements, referrals, reviews = market()
    b = domain.benchmark(
        category="SEN",
        period_start=FROM,
        period_end=TO,
        placements=placements,
        referrals=referrals,
        reviews=reviews,
        role="lead",
        reader_authority="WSCC",
        secret=SECRET,
    )
    # 1 % of weekly × 52 per award: 3000 → 1560, 4000 → 2080, 5000 → 2600, 6000 → 3120
    assert b["transaction_fees"] == {
        "percent": "1",
        "by_quarter": {"2026-Q2": "9360.00"},
        "total": "9360.00",
    }
    fees = {a["authority"]: a["transaction_fees"]["by_quarter"] for a in b["by_authority"]}
    assert fees == {"KCC": {"2026-Q2": "3640.00"}, "MED": {"2026-Q2": "5720.00"}}


def test_s7_7_block_places_pay_no_transaction_fee_and_the_rate_is_configurable():
    placements, referrals, reviews = market()
    block = domain.BlockContract(
        "b1", "KCC", "prov-1", "est-1", "SEN", 2, Decimal("3000.00"), FROM, TO
    )
    placed = domain.place_in_block(
        block,
        [],
        placement_id="bp1",
        child_reference="KCC-9",
        start_date=FROM,
        agreed_at=placements[0].agreed_at,
    )
    b = domain.benchmark(
        category="SEN",
        period_start=FROM,
        period_end=TO,
        placements=[*placements, placed],
        referrals=referrals,
        reviews=reviews,
        role="contract_manager",
        reader_authority=None,
        secret=SECRET,
        fee_percent=Decimal("0.5"),
    )
    assert b["transaction_fees"]["percent"] == "0.5"
    assert b["transaction_fees"]["total"] == "4680.00"  # half of 9,360; the block adds nothing
