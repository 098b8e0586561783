"""Outcome reviews, review schedule and the performance index (RULES §7.4, §4.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.common.errors import Conflict, InvalidInput
from services.contracts import domain
from services.contracts.messages import PerformanceReviewed
from tests.support.contracts_builders import placement, review, started


def test_s7_4_default_framework_is_every_child_matters():
    assert domain.DEFAULT_FRAMEWORK.components == (
        "be_healthy",
        "stay_safe",
        "enjoy_and_achieve",
        "positive_contribution",
        "economic_wellbeing",
    )


def test_s7_4_framework_is_configurable_but_has_five_distinct_components():
    custom = domain.OutcomesFramework(("a", "b", "c", "d", "e"))
    assert custom.monitored(["e", "a"]) == ("a", "e")
    for bad in (("a", "b", "c", "d"), ("a", "a", "b", "c", "d"), ("a", "b", "c", "d", " ")):
        with pytest.raises(InvalidInput):
            domain.OutcomesFramework(bad)
    with pytest.raises(InvalidInput):
        custom.monitored(["z"])
    with pytest.raises(InvalidInput):
        custom.monitored([])


def test_s7_4_review_scores_every_monitored_component_and_keeps_the_views():
    p = started(monitored_components=("be_healthy", "stay_safe"))
    r = domain.record_review(
        p,
        review_id="rv-1",
        on=date(2026, 6, 1),
        scores={"stay_safe": 5, "be_healthy": 4},
        recorded_at=datetime(2026, 6, 1, tzinfo=UTC),
        child_view="I like my room",
        parent_view="  ",
    )
    assert r.scores == {"be_healthy": 4, "stay_safe": 5}
    assert (r.child_view, r.parent_view) == ("I like my room", None)
    assert (r.establishment_id, r.category, r.authority) == ("est-1", "SEN", "KCC")


@pytest.mark.parametrize(
    ("scores", "loc"),
    [
        ({"be_healthy": 4}, ["scores", "stay_safe"]),
        (
            {"be_healthy": 4, "stay_safe": 4, "enjoy_and_achieve": 3},
            ["scores", "enjoy_and_achieve"],
        ),
        ({"be_healthy": 0, "stay_safe": 4}, ["scores", "be_healthy"]),
        ({"be_healthy": 6, "stay_safe": 4}, ["scores", "be_healthy"]),
        ({"be_healthy": True, "stay_safe": 4}, ["scores", "be_healthy"]),
        ({"be_healthy": 3.5, "stay_safe": 4}, ["scores", "be_healthy"]),
    ],
)
def test_s7_4_bad_scores_name_the_component(scores, loc):
    p = started(monitored_components=("be_healthy", "stay_safe"))
    with pytest.raises(InvalidInput) as exc:
        review(p, date(2026, 6, 1), scores)
    assert exc.value.errors[0]["loc"] == loc


def test_s7_4_only_started_placements_are_reviewed_and_not_before_the_start():
    with pytest.raises(Conflict):
        review(placement(), date(2026, 6, 1), 3)
    with pytest.raises(InvalidInput):
        review(started(date(2026, 3, 9)), date(2026, 3, 8), 3)


def test_s7_1_next_review_is_start_or_last_review_plus_interval():
    p = started(date(2026, 1, 31))
    assert domain.next_review_due(p, []) == date(2026, 4, 30)  # clamped month end
    reviews = [review(p, date(2026, 4, 20), 3, "rv-1"), review(p, date(2026, 3, 1), 3, "rv-0")]
    assert domain.next_review_due(p, reviews) == date(2026, 7, 20)
    monthly = started(date(2026, 1, 31), review_interval_months=1)
    assert domain.next_review_due(monthly, []) == date(2026, 2, 28)
    assert domain.next_review_due(placement(), []) is None


def test_s7_1_overdue_reviews_as_of_a_date():
    late = started(date(2026, 1, 5), placement_id="pl-late")
    due_today = started(date(2026, 2, 1), placement_id="pl-today")
    reviewed = started(date(2026, 1, 5), placement_id="pl-reviewed")
    ended = started(date(2026, 1, 5), placement_id="pl-ended")
    ended.end(date(2026, 3, 1), "planned")
    reviews = [review(reviewed, date(2026, 4, 1), 4)]
    overdue = domain.overdue_reviews([late, due_today, reviewed, ended], reviews, date(2026, 5, 1))
    assert [(o.placement_id, o.due, o.days_overdue) for o in overdue] == [
        ("pl-late", date(2026, 4, 5), 26)
    ]


def test_s7_4_performance_index_is_mean_minus_one_over_four_times_100():
    p = started()
    assert domain.performance_index([review(p, date(2026, 6, 1), 5)]) == Decimal("100.00")
    assert domain.performance_index([review(p, date(2026, 6, 1), 1)]) == Decimal("0.00")
    two = [review(p, date(2026, 6, 1), 4, "a"), review(p, date(2026, 7, 1), 3, "b")]
    assert domain.performance_index(two) == Decimal("62.50")  # mean 3.5
    # each review counts once: means 4 and 13/5 → 3.3; (3.3 − 1) / 4 × 100 = 57.5
    mixed = [
        review(p, date(2026, 6, 1), 4, "a"),
        review(p, date(2026, 7, 1), dict(zip(domain.ECM_COMPONENTS, [3, 3, 2, 2, 3], strict=True))),
    ]
    assert domain.performance_index(mixed) == Decimal("57.50")
    # mean 10/3: 58.333… → 58.33
    thirds = [review(p, date(2026, 6, 1), s, str(s)) for s in (3, 3, 4)]
    assert domain.performance_index(thirds) == Decimal("58.33")
    assert domain.performance_index([]) is None


def test_s7_4_performance_per_establishment_over_the_period_and_its_event():
    a1 = started(placement_id="a1", establishment_id="est-A")
    a2 = started(placement_id="a2", establishment_id="est-A", authority="SCC")
    b1 = started(placement_id="b1", establishment_id="est-B")
    start, end = domain.performance_period(date(2026, 10, 1))
    assert (start, end) == (date(2026, 4, 1), date(2026, 9, 30))
    reviews = [
        review(a1, date(2026, 4, 1), 4, "r1"),
        review(a2, date(2026, 9, 30), 5, "r2"),
        review(a1, date(2026, 3, 31), 1, "too-early"),
        review(b1, date(2026, 10, 1), 1, "too-late"),
    ]
    [perf] = domain.establishment_performance(reviews, start, end)
    assert (perf.establishment_id, perf.category, perf.reviews_count) == ("est-A", "SEN", 2)
    assert perf.performance_index == Decimal("87.50")
    event = PerformanceReviewed(
        event_id="e1", occurred_at=datetime(2026, 10, 1, tzinfo=UTC), **perf.payload()
    )
    body = event.model_dump(mode="json")
    assert body == {
        "event_id": "e1",
        "occurred_at": "2026-10-01T00:00:00Z",
        "request_id": None,
        "establishment_id": "est-A",
        "category": "SEN",
        "period_start": "2026-04-01",
        "period_end": "2026-09-30",
        "performance_index": "87.50",
        "reviews_count": 2,
    }
    assert PerformanceReviewed.model_validate(body) == event


def test_s7_4_performance_period_must_run_forwards():
    with pytest.raises(InvalidInput):
        domain.establishment_performance([], date(2026, 4, 1), date(2026, 4, 1))
