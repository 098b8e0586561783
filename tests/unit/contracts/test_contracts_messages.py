"""The contracts service's published language (DESIGN rule 2; RULES §4.4 money, §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.contracts import messages as m
from tests.support.contracts_builders import award_event, direct_event


def error_locs(exc: pytest.ExceptionInfo) -> list[tuple]:
    return [e["loc"] for e in exc.value.errors()]


def test_s7_requests_refuse_unknown_fields():
    with pytest.raises(ValidationError) as exc:
        m.PlacementStart.model_validate({"date": "2026-03-09", "child_name": "Sam"})
    assert ("child_name",) in error_locs(exc)


def test_s4_4_money_is_a_string_and_floats_are_refused():
    ok = m.DirectPlacementCreate.model_validate(
        {
            "establishment_id": "est-1",
            "category": "SEN",
            "reason_code": "emergency",
            "justification": "court ordered",
            "weekly_price": "3500.5",
            "child_reference": "KCC-1",
        }
    )
    assert ok.weekly_price == Decimal("3500.50")
    assert ok.model_dump(mode="json")["weekly_price"] == "3500.50"
    for bad in (3500.5, "3500.505", "-1.00", "abc", True):
        with pytest.raises(ValidationError) as exc:
            m.DirectPlacementCreate.model_validate({**ok.model_dump(), "weekly_price": bad})
        assert ("weekly_price",) in error_locs(exc)


def test_s7_1_end_needs_a_known_reason_and_other_needs_a_note():
    assert m.PlacementEnd.model_validate({"date": "2026-06-01", "reason": "step_down"}).reason
    with pytest.raises(ValidationError):
        m.PlacementEnd.model_validate({"date": "2026-06-01", "reason": "bored"})
    with pytest.raises(ValidationError):
        m.PlacementEnd.model_validate({"date": "2026-06-01", "reason": "other"})
    with pytest.raises(ValidationError):
        m.PlacementEnd.model_validate({"date": "2026-06-01"})


def test_s7_2_variation_must_change_something():
    body = {"effective_from": "2026-04-01", "reason": "review", "changes": {}}
    with pytest.raises(ValidationError):
        m.VariationCreate.model_validate(body)
    body["changes"] = {"core_costs": {"premises": "1100.00"}, "discount_percent": "5"}
    v = m.VariationCreate.model_validate(body)
    assert v.changes.core_costs == {"premises": Decimal("1100.00")}
    assert v.model_dump(mode="json")["changes"]["discount_percent"] == "5"


def test_s7_2_uplift_percent_is_bounded_and_not_zero():
    body = {"category": "SEN", "cost_head": "staff_related", "effective_from": "2026-04-01"}
    assert m.UpliftCreate.model_validate({**body, "percent": "3.1"}).percent == Decimal("3.1")
    for bad in ("0", "-100", "100.5", 3.1):
        with pytest.raises(ValidationError):
            m.UpliftCreate.model_validate({**body, "percent": bad})


def test_s7_3_block_contract_period_runs_forwards():
    body = {
        "establishment_id": "e",
        "places": 3,
        "weekly_price_per_place": "4200.00",
        "start": "2026-04-06",
        "end": "2026-04-05",
    }
    with pytest.raises(ValidationError):
        m.BlockContractCreate.model_validate(body)
    with pytest.raises(ValidationError):
        m.BlockContractCreate.model_validate({**body, "end": "2026-05-03", "places": 0})
    assert m.BlockContractCreate.model_validate({**body, "end": "2026-05-03"}).category is None


def test_s7_4_review_scores_are_whole_numbers_from_1_to_5():
    ok = m.ReviewCreate.model_validate({"date": "2026-06-01", "scores": {"stay_safe": 4}})
    assert ok.scores == {"stay_safe": 4}
    for bad in (0, 6, "4", 4.0, True):
        with pytest.raises(ValidationError):
            m.ReviewCreate.model_validate({"date": "2026-06-01", "scores": {"stay_safe": bad}})
    with pytest.raises(ValidationError):
        m.ReviewCreate.model_validate({"date": "2026-06-01", "scores": {}})


def test_s7_1_referral_awarded_reads_the_referral_service_payload():
    event = award_event()
    assert event.placement_id == "pl-1"
    assert event.price.weekly_price == Decimal("3250.00")
    assert [n.code for n in event.referral.needs] == ["ASD"]
    assert event.awarded_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert event.proposed_start == date(2026, 3, 9)
    no_name = award_event(provider_name=None)
    assert no_name.provider_name is None
    with pytest.raises(ValidationError):
        award_event(awarded_at="2026-03-02T09:00:00")  # naive time


def test_s5_direct_placement_recorded_reads_the_referral_service_payload():
    event = direct_event()
    assert (event.placement_id, event.direct_placement_id) == ("pl-d1", "dp-1")
    assert event.establishment_name is None
    with pytest.raises(ValidationError):
        direct_event(occurred_at=None)


def test_s7_2_uplift_set_event_serialises_percent_as_a_string():
    event = m.UpliftSet(
        event_id="e",
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        uplift_id="u1",
        category="SEN",
        cost_head="staff_related",
        percent=Decimal("3.10"),
        effective_from=date(2026, 4, 1),
    )
    assert event.model_dump(mode="json")["percent"] == "3.1"
    assert m.UpliftSet.event_type == "uplift_set"
    assert m.PerformanceReviewed.event_type == "performance_reviewed"


def test_s7_4_performance_reviewed_has_exactly_its_fields():
    assert set(m.PerformanceReviewed.model_fields) == {
        "event_id",
        "occurred_at",
        "request_id",
        "establishment_id",
        "category",
        "period_start",
        "period_end",
        "performance_index",
        "reviews_count",
    }
    body = {
        "event_id": "e",
        "occurred_at": "2026-10-01T00:00:00Z",
        "establishment_id": "x",
        "category": "SEN",
        "period_start": "2026-04-01",
        "period_end": "2026-09-30",
        "performance_index": "87.50",
        "reviews_count": 2,
    }
    with pytest.raises(ValidationError):
        m.PerformanceReviewed.model_validate({**body, "performance_index": "100.01"})
    with pytest.raises(ValidationError):
        m.PerformanceReviewed.model_validate({**body, "period_end": "2026-04-01"})
    with pytest.raises(ValidationError):
        m.PerformanceReviewed.model_validate({**body, "extra": 1})
