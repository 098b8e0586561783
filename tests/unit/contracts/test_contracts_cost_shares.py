"""Cost sharing between authorities (RULES §7.7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidInput
from services.contracts import domain
from services.contracts.domain import publication as ocds
from tests.support.contracts_builders import placement

SEVEN = ["BHCC", "ECC", "ESCC", "KCC", "MED", "SCC", "WSCC"]


def D(text: str) -> Decimal:
    return Decimal(text)


def test_s7_7_forty_thousand_over_seven_authorities_by_placements_sums_exactly():
    weights = dict(zip(SEVEN, [1, 2, 3, 4, 5, 6, 7], strict=True))  # 28 placements
    shares = domain.allocate_pence(D("40000.00"), weights)
    assert sum(shares.values()) == D("40000.00")
    # floors leave 3 pence; they go to the 3 largest remainders (.857, .714, .571 of a penny)
    assert shares == {
        "BHCC": D("1428.57"),  # 1428.5714…
        "ECC": D("2857.14"),  # 2857.1428…
        "ESCC": D("4285.71"),  # 4285.7142…
        "KCC": D("5714.29"),  # 5714.2857… ↑
        "MED": D("7142.86"),  # 7142.8571… ↑
        "SCC": D("8571.43"),  # 8571.4285… ↑
        "WSCC": D("10000.00"),
    }


def test_s7_7_remainder_ties_go_to_the_smaller_authority_code():
    assert domain.allocate_pence(D("10000.01"), {"KCC": 1, "BHCC": 1, "ESCC": 1}) == {
        "BHCC": D("3333.34"),
        "ESCC": D("3333.34"),
        "KCC": D("3333.33"),
    }
    assert domain.allocate_pence(D("0.02"), {"MED": 1, "ECC": 1, "SCC": 1}) == {
        "ECC": D("0.01"),
        "MED": D("0.01"),
        "SCC": D("0.00"),
    }


def test_s7_7_zero_placements_pay_no_running_share_unless_all_are_zero():
    shares = domain.allocate_pence(D("40000.00"), {"KCC": 3, "MED": 0, "SCC": 1})
    assert shares == {"KCC": D("30000.00"), "MED": D("0.00"), "SCC": D("10000.00")}
    equal = domain.allocate_pence(D("100.00"), {"KCC": 0, "MED": 0, "SCC": 0})
    assert equal == {"KCC": D("33.34"), "MED": D("33.33"), "SCC": D("33.33")}


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        ("-1.00", {"KCC": 1}),
        ("1.001", {"KCC": 1}),
        ("1.00", {}),
        ("1.00", {"KCC": -1}),
        ("1.00", {"KCC": 1.5}),
    ],
)
def test_s7_7_bad_allocations_are_refused(total, weights):
    with pytest.raises(InvalidInput):
        domain.allocate_pence(D(total), weights)


@given(
    pence=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12),
)
def test_s7_7_shares_always_sum_exactly_and_stay_within_a_penny_of_the_quota(pence, weights):
    codes = [f"A{i:02d}" for i in range(len(weights))]
    total = Decimal(pence) / 100
    shares = domain.allocate_pence(total, dict(zip(codes, weights, strict=True)))
    assert sum(shares.values()) == total
    basis = weights if any(weights) else [1] * len(weights)
    for code, weight in zip(codes, basis, strict=True):
        quota = Decimal(pence) * weight / sum(basis)
        assert abs(shares[code] * 100 - quota) < 1
    assert shares == domain.allocate_pence(
        total, dict(reversed(list(zip(codes, weights, strict=True))))
    )


def award(authority: str, weekly: str, when: datetime, award_id: str) -> ocds.AwardRecord:
    return ocds.AwardRecord(
        award_id, f"pl-{award_id}", authority, "prov-1", "Oakwood Care Ltd", "SEN", when, D(weekly)
    )


def test_s7_7_cost_shares_for_a_financial_year():
    previous = [  # financial year 2025/26: KCC 2, MED 1 (outside dates ignored)
        placement(placement_id="a", authority="KCC", agreed_at=datetime(2025, 4, 1, tzinfo=UTC)),
        placement(placement_id="b", authority="KCC", agreed_at=datetime(2026, 3, 31, tzinfo=UTC)),
        placement(placement_id="c", authority="MED", agreed_at=datetime(2025, 9, 1, tzinfo=UTC)),
        placement(placement_id="d", authority="MED", agreed_at=datetime(2026, 4, 1, tzinfo=UTC)),
        placement(placement_id="e", authority="SCC", agreed_at=datetime(2025, 3, 31, tzinfo=UTC)),
    ]
    awards = [
        award("KCC", "3250.00", datetime(2026, 4, 2, tzinfo=UTC), "r1"),  # fee 1690.00
        award("KCC", "1000.01", datetime(2026, 5, 2, tzinfo=UTC), "r2"),  # 520.0052 → 520.01
        award("KCC", "1000.00", datetime(2026, 7, 2, tzinfo=UTC), "r3"),  # 520.00, Q3
        award("MED", "1000.00", datetime(2027, 4, 1, tzinfo=UTC), "r4"),  # next year
    ]
    report = domain.cost_shares(
        year=2026,
        authorities=["KCC", "MED", "SCC"],
        placements=previous,
        awards=awards,
        running_cost=D("40000.00"),
        setup_cost=D("10000.01"),
    )
    assert report["year"] == "2026/27"
    assert (report["from"], report["to"]) == ("2026-04-01", "2027-03-31")
    assert (report["basis_from"], report["basis_to"]) == ("2025-04-01", "2026-03-31")
    rows = {r["authority"]: r for r in report["authorities"]}
    assert [rows[a]["placements_previous_year"] for a in ("KCC", "MED", "SCC")] == [2, 1, 0]
    assert [rows[a]["running_share"] for a in ("KCC", "MED", "SCC")] == [
        "26666.67",
        "13333.33",
        "0.00",
    ]
    assert [rows[a]["setup_share"] for a in ("KCC", "MED", "SCC")] == [
        "3333.34",
        "3333.34",
        "3333.33",
    ]
    assert rows["KCC"]["total_share"] == "30000.01"
    assert rows["KCC"]["transaction_fees"] == {"2026-Q2": "2210.01", "2026-Q3": "520.00"}
    assert rows["KCC"]["transaction_fees_total"] == "2730.01"
    assert rows["MED"]["transaction_fees"] == {}
    assert report["transaction_fees_total"] == "2730.01"
    assert report["fee_percent"] == "1.00"
    running = sum(Decimal(r["running_share"]) for r in report["authorities"])
    setup = sum(Decimal(r["setup_share"]) for r in report["authorities"])
    assert (running, setup) == (D("40000.00"), D("10000.01"))


def test_s7_7_fee_rate_is_configurable():
    a = award("KCC", "1000.00", datetime(2026, 4, 2, tzinfo=UTC), "r1")
    assert domain.transaction_fee(a) == D("520.00")
    assert domain.transaction_fee(a, D("2.5")) == D("1300.00")
    with pytest.raises(InvalidInput):
        domain.cost_shares(
            year=2026,
            authorities=["KCC"],
            placements=[],
            awards=[],
            running_cost=D("1.00"),
            fee_percent=D("101"),
        )


def test_s7_7_financial_year_bounds():
    assert domain.financial_year(2026) == (date(2026, 4, 1), date(2027, 3, 31))
    for bad in (0, 9999, True, "2026"):
        with pytest.raises(InvalidInput):
            domain.financial_year(bad)
