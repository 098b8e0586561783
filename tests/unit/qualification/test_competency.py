"""§4.2 core competency score and §4.5/§7.4 bounded six-monthly moves."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.qualification import messages as m
from services.qualification.domain import (
    apply_settings_change,
    competency_score,
    moved_competency,
)
from tests.support.qualification_builders import NOW, admitted, configs

CFG = configs()
SEN = CFG["SEN"]
WEIGHTS = SEN.weighted_criteria_weights


def scores(w, o, p):
    return {"WORKFORCE": w, "OUTCOMES_APPROACH": o, "PERFORMANCE_MONITORING": p}


@pytest.mark.parametrize(
    ("given_scores", "weights", "expected"),
    [
        ((80, 70, 90), WEIGHTS, "79.00"),
        ((100, 100, 100), WEIGHTS, "100.00"),
        ((0, 0, 0), WEIGHTS, "0.00"),
        ((80, 70, 90), scores(20, 50, 30), "78.00"),
        ((33, 67, 1), scores(33, 33, 34), "33.34"),
    ],
)
def test_core_competency_is_the_weighted_mean(given_scores, weights, expected):
    """§4.2: 80/70/90 at 30/40/30 → 79.0, exact."""
    assert competency_score(scores(*given_scores), weights) == Decimal(expected)


@pytest.mark.parametrize(
    ("old", "index", "new"),
    [
        ("60", "70", "65.00"),  # half the gap
        ("60", "90", "70.00"),  # +10 at most
        ("60", "30", "50.00"),  # -10 at most
        ("60", "55", "57.50"),
        ("95", "100", "97.50"),
        ("5", "0", "2.50"),
        ("50", "50", "50.00"),
        ("100", "100", "100.00"),
        ("0", "0", "0.00"),
        ("70", "66.67", "68.34"),  # 68.335 rounds half up
        ("79", "58.3333333333", "69.00"),
    ],
)
def test_a_move_is_half_the_gap_bounded_to_ten_points(old, index, new):
    """§7.4: new = old + clamp((index − old) / 2, −10, +10), within 0–100."""
    assert moved_competency(Decimal(old), Decimal(index)) == Decimal(new)


decimals = st.decimals(min_value=0, max_value=100, places=2)


@given(decimals, st.decimals(min_value=0, max_value=100, places=6))
def test_moves_stay_bounded_and_go_towards_the_index(old, index):
    new = moved_competency(old, index)
    assert Decimal(0) <= new <= Decimal(100)
    assert abs(new - old) <= Decimal("10.00")
    assert min(old, index) - Decimal("0.005") <= new <= max(old, index) + Decimal("0.005")


def review(est, start, end, index, category="SEN", count=4):
    return m.PerformanceReviewed(
        establishment_id=est.id,
        category=category,
        period_start=start,
        period_end=end,
        performance_index=Decimal(index),
        reviews_count=count,
    )


def test_a_review_moves_the_score_at_most_once_per_period_and_keeps_every_move():
    est, ms = admitted(SEN)  # competency 79.00
    est.events.clear()
    first = review(est, date(2026, 1, 1), date(2026, 6, 30), "50")
    (event,) = est.apply_performance_review(first, CFG, NOW)
    assert ms.competency == Decimal("69.00")
    assert (event.old, event.new, event.performance_index) == (
        Decimal("79.00"),
        Decimal("69.00"),
        Decimal("50"),
    )
    assert event.model_dump(mode="json")["new"] == 69.0
    # the same period again (a redelivery) or an overlapping one does nothing
    assert est.apply_performance_review(first, CFG, NOW) == []
    assert (
        est.apply_performance_review(
            review(est, date(2026, 4, 1), date(2026, 9, 30), "100"), CFG, NOW
        )
        == []
    )
    # the next period moves again
    est.apply_performance_review(review(est, date(2026, 7, 1), date(2026, 12, 31), "100"), CFG, NOW)
    assert ms.competency == Decimal("79.00")
    moves = [(mv.period_start, mv.performance_index, mv.old, mv.new) for mv in ms.competency_moves]
    assert moves == [
        (date(2026, 1, 1), Decimal("50"), Decimal("79.00"), Decimal("69.00")),
        (date(2026, 7, 1), Decimal("100"), Decimal("69.00"), Decimal("79.00")),
    ]
    assert len(est.events) == 2


def test_the_period_is_configurable():
    quarterly = apply_settings_change(SEN, {"competency_period_months": 3})
    est, ms = admitted(SEN)
    configs_q = {**CFG, "SEN": quarterly}
    est.apply_performance_review(
        review(est, date(2026, 1, 1), date(2026, 3, 31), "79"), configs_q, NOW
    )
    est.apply_performance_review(
        review(est, date(2026, 4, 1), date(2026, 6, 30), "99"), configs_q, NOW
    )
    assert len(ms.competency_moves) == 2 and ms.competency == Decimal("89.00")


def test_an_unchanged_score_is_kept_as_a_move_without_an_event():
    est, ms = admitted(SEN)
    est.events.clear()
    assert (
        est.apply_performance_review(
            review(est, date(2026, 1, 1), date(2026, 6, 30), "79"), CFG, NOW
        )
        == []
    )
    assert len(ms.competency_moves) == 1 and est.events == []


def test_a_review_without_category_moves_every_current_membership():
    est, sen_ms = admitted(SEN)
    _, res_ms = admitted(CFG["RESIDENTIAL"], est=est)
    _, alt_ms = admitted(CFG["ALT_EDUCATION"], est=est)
    est.remove("ALT_EDUCATION", "left", NOW)
    events = est.apply_performance_review(
        review(est, date(2026, 1, 1), date(2026, 6, 30), "0", category=None),
        CFG,
        NOW + timedelta(days=1),
    )
    assert [e.category for e in events] == ["SEN", "RESIDENTIAL"]
    assert sen_ms.competency == res_ms.competency == Decimal("69.00")
    assert alt_ms.competency == Decimal("79.00")


def test_a_review_of_one_category_leaves_the_others():
    est, sen_ms = admitted(SEN)
    _, res_ms = admitted(CFG["RESIDENTIAL"], est=est)
    est.apply_performance_review(
        review(est, date(2026, 1, 1), date(2026, 6, 30), "0", category="RESIDENTIAL"), CFG, NOW
    )
    assert sen_ms.competency == Decimal("79.00") and res_ms.competency == Decimal("69.00")


def test_a_review_of_another_establishment_is_a_programming_error():
    est, _ = admitted(SEN)
    other = m.PerformanceReviewed(
        establishment_id="elsewhere",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        performance_index=Decimal(1),
        reviews_count=1,
    )
    with pytest.raises(ValueError):
        est.apply_performance_review(other, CFG, NOW)
