"""§7.2 uplifts of qualified core costs: dated price history, half-up pence rounding."""

from datetime import date
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput, NotFound
from services.qualification import messages as m
from tests.support.qualification_builders import (
    NOW,
    TODAY,
    admitted,
    complete_content,
    configs,
    establishment,
)

CFG = configs()
SEN = CFG["SEN"]
APRIL = date(2026, 4, 1)


def member(**costs):
    core = {**complete_content(SEN).core_costs, **{h: Decimal(v) for h, v in costs.items()}}
    return admitted(SEN, core_costs=core)


@pytest.mark.parametrize(
    ("base", "percent", "expected"),
    [
        ("1234.56", "3.1", "1272.83"),  # 1272.83136
        ("100.50", "1", "101.51"),  # 101.505: half up, not to even
        ("100.00", "2.5", "102.50"),
        ("333.33", "-1.5", "328.33"),  # 328.330005
        ("0.00", "3.1", "0.00"),
    ],
)
def test_uplift_rounds_half_up_to_the_penny_per_head(base, percent, expected):
    est, ms = member(staff_related=base)
    event = est.apply_uplift(SEN, "staff_related", Decimal(percent), APRIL, "u1", NOW)
    assert ms.cost_on("staff_related", APRIL) == Decimal(expected)
    assert event.new == Decimal(expected) and event.old == Decimal(base)


def test_prices_are_a_dated_history():
    est, ms = member(staff_related="1000.00")
    est.events.clear()
    event = est.apply_uplift(SEN, "staff_related", Decimal("3.1"), APRIL, "u1", NOW)
    assert ms.cost_on("staff_related", date(2026, 3, 31)) == Decimal("1000.00")
    assert ms.cost_on("staff_related", APRIL) == Decimal("1031.00")
    assert ms.cost_on("premises", APRIL) == Decimal("300.00")  # other heads untouched
    assert ms.costs_on(TODAY)["staff_related"] == Decimal("1000.00")
    with pytest.raises(NotFound):
        ms.cost_on("premises", date(2026, 3, 1))  # before admission
    assert isinstance(event, m.CoreCostsChanged) and est.events == [event]
    payload = event.model_dump(mode="json")
    assert payload["old"] == "1000.00" and payload["new"] == "1031.00"
    assert payload["core_costs"]["staff_related"] == "1031.00"
    assert payload["total_weekly_core_cost"] == "3431.00"
    assert payload["reason"] == "uplift of 3.1% from 2026-04-01"
    assert payload["percent"] == 3.1
    # compounding on the next year's uplift
    est.apply_uplift(SEN, "staff_related", Decimal("2"), date(2027, 4, 1), "u2", NOW)
    assert ms.cost_on("staff_related", date(2027, 4, 1)) == Decimal("1051.62")
    assert [e.amount for e in ms.costs if e.head == "staff_related"] == [
        Decimal("1000.00"),
        Decimal("1031.00"),
        Decimal("1051.62"),
    ]


def test_the_same_uplift_twice_is_a_no_op():
    est, ms = member(staff_related="1000.00")
    est.apply_uplift(SEN, "staff_related", Decimal("3.1"), APRIL, "u1", NOW)
    assert est.apply_uplift(SEN, "staff_related", Decimal("3.1"), APRIL, "u1", NOW) is None
    assert ms.cost_on("staff_related", APRIL) == Decimal("1031.00")


def test_uplifts_apply_in_date_order():
    est, ms = member(staff_related="1000.00")
    est.apply_uplift(SEN, "staff_related", Decimal("3.1"), date(2027, 4, 1), "u2", NOW)
    with pytest.raises(Conflict):
        est.apply_uplift(SEN, "staff_related", Decimal("2"), APRIL, "u1", NOW)
    assert ms.cost_on("staff_related", APRIL) == Decimal("1000.00")


def test_no_uplift_before_admission_nor_without_a_current_membership():
    est, ms = member(staff_related="1000.00")
    assert est.apply_uplift(SEN, "staff_related", Decimal("3"), date(2026, 1, 1), "u0", NOW) is None
    assert (
        establishment("Elsewhere").apply_uplift(
            SEN, "staff_related", Decimal("3"), APRIL, "u1", NOW
        )
        is None
    )
    est.remove("SEN", "left", NOW)
    assert est.apply_uplift(SEN, "staff_related", Decimal("3"), APRIL, "u1", NOW) is None


def test_a_suspended_membership_is_uplifted_too():
    est, ms = member(staff_related="1000.00")
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, NOW)
    assert est.apply_uplift(SEN, "staff_related", Decimal("3.1"), APRIL, "u1", NOW) is not None


@pytest.mark.parametrize(
    ("head", "percent", "loc"),
    [
        ("pocket_money", Decimal(3), ["cost_head"]),
        ("staff_related", Decimal(-100), ["percent"]),
        ("staff_related", 3.1, ["percent"]),
    ],
)
def test_an_invalid_uplift_is_refused(head, percent, loc):
    est, _ = member()
    with pytest.raises(InvalidInput) as err:
        est.apply_uplift(SEN, head, percent, APRIL, "u1", NOW)
    assert [e["loc"] for e in err.value.errors] == [loc]
