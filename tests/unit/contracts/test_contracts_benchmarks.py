"""Benchmarking (RULES §7.6) and anonymous authority labels (§10)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from services.common.errors import Forbidden, InvalidInput
from services.contracts import domain
from tests.support.contracts_builders import FROM, SECRET, TO, market

AUTHORITIES = ["BHCC", "ESCC", "ECC", "KCC", "MED", "SCC", "WSCC"]


def D(text: str) -> Decimal:
    return Decimal(text)


# --- quartiles -----------------------------------------------------------------------------


def test_s7_6_quartiles_use_the_inclusive_method():
    values = [D("3000.00"), D("1000.00"), D("4000.00"), D("2000.00")]
    assert domain.cost_distribution(values) == {
        "count": 4,
        "min": D("1000.00"),
        "lower_quartile": D("1750.00"),
        "median": D("2500.00"),
        "upper_quartile": D("3250.00"),
        "max": D("4000.00"),
    }


def test_s7_6_quartiles_round_half_up_to_the_penny():
    dist = domain.cost_distribution([D("0.01"), D("0.02"), D("0.03"), D("0.06"), D("0.10")])
    assert (dist["lower_quartile"], dist["median"], dist["upper_quartile"]) == (
        D("0.02"),
        D("0.03"),
        D("0.06"),
    )
    dist = domain.cost_distribution([D("0.01"), D("0.02")])
    # 0.0125, 0.015, 0.0175 → half up
    assert (dist["lower_quartile"], dist["median"], dist["upper_quartile"]) == (
        D("0.01"),
        D("0.02"),
        D("0.02"),
    )


def test_s7_6_distribution_of_one_and_of_none():
    one = domain.cost_distribution([D("2500.00")])
    assert one["count"] == 1
    assert {one[k] for k in ("min", "lower_quartile", "median", "upper_quartile", "max")} == {
        D("2500.00")
    }
    assert domain.cost_distribution([]) is None


# --- §10 anonymous labels ----------------------------------------------------------------


def test_s10_commissioner_sees_itself_by_name_and_others_as_stable_distinct_labels():
    labels = domain.authority_labels(
        AUTHORITIES, role="commissioner", reader_authority="KCC", secret=SECRET
    )
    assert labels["KCC"] == "KCC"
    others = [labels[a] for a in AUTHORITIES if a != "KCC"]
    assert len(set(others)) == 6
    assert all(re.fullmatch(r"Authority [0-9A-F]{4,}", label) for label in others)
    assert not any(code in label for label in others for code in AUTHORITIES)
    again = domain.authority_labels(
        list(reversed(AUTHORITIES)), role="commissioner", reader_authority="KCC", secret=SECRET
    )
    assert again == labels
    # a subset keeps the same labels
    subset = domain.authority_labels(
        ["ESCC", "KCC"], role="commissioner", reader_authority="KCC", secret=SECRET
    )
    assert subset["ESCC"] == labels["ESCC"]


def test_s10_labels_differ_between_readers_and_secrets():
    kcc = domain.authority_labels(
        AUTHORITIES, role="commissioner", reader_authority="KCC", secret=SECRET
    )
    med = domain.authority_labels(
        AUTHORITIES, role="commissioner", reader_authority="MED", secret=SECRET
    )
    other_secret = domain.authority_labels(
        AUTHORITIES, role="commissioner", reader_authority="KCC", secret=b"another"
    )
    assert kcc["ESCC"] != med["ESCC"]
    assert kcc["ESCC"] != other_secret["ESCC"]


def test_s10_labels_stay_distinct_for_many_authorities():
    many = [f"A{i:03d}" for i in range(400)]  # 4 hex digits collide here: labels widen
    labels = domain.authority_labels(
        many, role="commissioner", reader_authority="A000", secret=SECRET
    )
    assert len(set(labels.values())) == 400


@pytest.mark.parametrize("role", ["lead", "contract_manager"])
def test_s10_lead_and_contract_manager_see_names(role):
    labels = domain.authority_labels(AUTHORITIES, role=role, reader_authority=None, secret=SECRET)
    assert labels == {a: a for a in AUTHORITIES}


@pytest.mark.parametrize(
    ("role", "authority"), [("provider", None), ("auditor", None), ("commissioner", None)]
)
def test_s10_other_roles_get_no_benchmarks(role, authority):
    with pytest.raises(Forbidden):
        domain.authority_labels(AUTHORITIES, role=role, reader_authority=authority, secret=SECRET)


# --- §7.6 figures --------------------------------------------------------------------------


def bench(role="contract_manager", reader=None):
    placements, referrals, reviews = market()
    return domain.benchmark(
        category="SEN",
        period_start=FROM,
        period_end=TO,
        placements=placements,
        referrals=referrals,
        reviews=reviews,
        role=role,
        reader_authority=reader,
        secret=SECRET,
    )


def test_s7_6_market_figures_for_a_category_and_period():
    b = bench()
    assert (b["category"], b["from"], b["to"]) == ("SEN", "2026-04-01", "2026-06-30")
    assert b["placements"] == 3
    assert b["weekly_cost"] == {
        "count": 3,
        "min": "3000.00",
        "lower_quartile": "3500.00",
        "median": "4000.00",
        "upper_quartile": "4500.00",
        "max": "5000.00",
    }
    assert b["direct_placements"] == {
        "count": 1,
        "by_reason": {"emergency": 1},
        "weekly_cost": {
            "count": 1,
            "min": "6000.00",
            "lower_quartile": "6000.00",
            "median": "6000.00",
            "upper_quartile": "6000.00",
            "max": "6000.00",
        },
    }
    assert b["referrals"] == 4
    assert b["bids_per_referral"] == "3.33"  # (5 + 2 + 3) / 3 past their deadline
    assert b["share_with_3_compliant_bids_percent"] == "66.67"  # r1 and r3 of 3
    # 10 days, 3.5 days, 7 days → median 7
    assert b["time_to_place_days"] == "7.00"
    assert b["mean_review_score"] == "3.50"
    assert b["demand"] == {
        "referrals_per_month": {"2026-04": 1, "2026-05": 2, "2026-06": 1},
        "referrals_per_need": {"ASD": 3, "SEMH": 2},
    }
    assert b["declines_by_reason"] == {"location": 1, "no_capacity": 2}
    assert [a["authority"] for a in b["by_authority"]] == ["KCC", "MED"]
    kcc = b["by_authority"][0]
    assert (kcc["placements"], kcc["referrals"], kcc["mean_review_score"]) == (2, 2, "3.50")
    assert b["by_authority"][1]["direct_placements"]["count"] == 1


def test_s7_6_s10_commissioner_sees_others_anonymised():
    b = bench(role="commissioner", reader="KCC")
    names = {a["authority"]: a for a in b["by_authority"]}
    [label] = set(names) - {"KCC"}
    assert label.startswith("Authority ")
    assert "MED" not in str(b)
    assert names[label]["direct_placements"]["count"] == 1  # MED's figures, unnamed
    assert names["KCC"]["placements"] == 2
    assert [a["authority"] for a in bench(role="commissioner", reader="KCC")["by_authority"]] == [
        a["authority"] for a in b["by_authority"]
    ]


def test_s7_6_empty_period_and_bad_period():
    empty = domain.benchmark(
        category="SEN",
        period_start=date(2030, 1, 1),
        period_end=date(2030, 3, 31),
        placements=[],
        referrals=[],
        reviews=[],
        role="lead",
        reader_authority="WSCC",
        secret=SECRET,
    )
    assert empty["placements"] == 0 and empty["weekly_cost"] is None
    assert empty["bids_per_referral"] is None and empty["time_to_place_days"] is None
    assert empty["by_authority"] == []
    with pytest.raises(InvalidInput):
        domain.benchmark(
            category="SEN",
            period_start=TO,
            period_end=FROM,
            placements=[],
            referrals=[],
            reviews=[],
            role="lead",
            reader_authority="WSCC",
            secret=SECRET,
        )
