"""The published language: request validation (shape and format), event payloads."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.qualification import messages as m
from services.qualification.domain import Establishment

ESTABLISHMENT = {
    "name": "Downs School",
    "urn": "SC123456",
    "address": "1 Downs Road, Brighton",
    "postcode": "bn1  1aa",
    "location": {"lat": 50.8225, "lon": -0.1372},
    "categories": ["SEN", "RESIDENTIAL"],
    "capacity": 40,
    "contacts": [
        {
            "name": "Ann Head",
            "email": "ann@downs-school.org.uk",
            "phone": "+44 7700 900123",
            "sms_opt_in": True,
        }
    ],
}


def error_locs(exc: pytest.ExceptionInfo) -> list[tuple]:
    return [e["loc"] for e in exc.value.errors()]


def test_establishment_create_normalises_the_postcode_and_registers():
    req = m.EstablishmentCreate.model_validate(ESTABLISHMENT)
    assert req.postcode == "BN1 1AA"
    est = Establishment.register("provider-1", req)
    assert est.provider_id == "provider-1" and est.location.lat == 50.8225
    assert est.categories == ("SEN", "RESIDENTIAL") and est.contacts[0].sms_opt_in


@pytest.mark.parametrize(
    "postcode",
    ["SW1A 1AA", "EC1A1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "tn24 8ab"],
)
def test_uk_postcodes_are_accepted(postcode):
    m.EstablishmentCreate.model_validate({**ESTABLISHMENT, "postcode": postcode})


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"postcode": "12345"}, ("postcode",)),
        ({"postcode": "BN1 1AAA"}, ("postcode",)),
        ({"location": {"lat": 91, "lon": 0}}, ("location", "lat")),
        ({"location": {"lat": 50, "lon": -181}}, ("location", "lon")),
        ({"location": {"lat": "nan", "lon": 0}}, ("location", "lat")),
        ({"categories": []}, ("categories",)),
        ({"categories": ["SEN", "SEN"]}, ("categories",)),
        ({"categories": ["HOSPITAL"]}, ("categories", 0)),
        ({"contacts": []}, ("contacts",)),
        ({"contacts": [{"name": "A", "email": "not-an-email"}]}, ("contacts", 0, "email")),
        ({"contacts": [{"name": "A", "email": "a@b.org.uk", "sms_opt_in": True}]}, ("contacts", 0)),
        ({"capacity": 0}, ("capacity",)),
        ({"colour": "blue"}, ("colour",)),
    ],
)
def test_establishment_create_is_validated(change, loc):
    with pytest.raises(ValidationError) as err:
        m.EstablishmentCreate.model_validate({**ESTABLISHMENT, **change})
    assert error_locs(err) == [loc]


def test_money_is_a_string_never_a_float():
    """§4.4: money is exact."""
    base = {"establishment_id": "e1", "category": "SEN"}
    ok = m.ApplicationCreate.model_validate({**base, "core_costs": {"premises": "300.5"}})
    assert ok.core_costs["premises"] == Decimal("300.50")
    assert ok.model_dump(mode="json")["core_costs"] == {"premises": "300.50"}
    for bad in (300.5, "300.505", "lots"):
        with pytest.raises(ValidationError) as err:
            m.ApplicationCreate.model_validate({**base, "core_costs": {"premises": bad}})
        assert error_locs(err) == [("core_costs", "premises")]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"surprise": 1}, ("surprise",)),
        ({"method_statements": {"PRICE": "x"}}, ("method_statements", "PRICE")),
        (
            {"pass_fail": {"EXCLUSIONS": {"answer": "none"}}},
            ("pass_fail", "EXCLUSIONS", "evidence"),
        ),
        (
            {
                "pass_fail": {
                    "INSPECTION": {
                        "answer": "a",
                        "evidence": "e",
                        "judgement": {"body": "OFSTED", "grade": "POOR", "date": "2025-01-01"},
                    }
                }
            },
            ("pass_fail", "INSPECTION", "judgement", "grade"),
        ),
        ({"category": "CARE"}, ("category",)),
    ],
)
def test_application_create_forbids_unknown_fields_and_checks_shape(body, loc):
    with pytest.raises(ValidationError) as err:
        m.ApplicationCreate.model_validate({"establishment_id": "e1", "category": "SEN", **body})
    assert error_locs(err) == [loc]


def test_decision_scores_are_whole_numbers_0_to_100():
    results = {"EXCLUSIONS": {"result": "pass"}}
    ok = m.Decision.model_validate(
        {
            "pass_fail": results,
            "scores": {"WORKFORCE": 80, "OUTCOMES_APPROACH": 70, "PERFORMANCE_MONITORING": 90},
        }
    )
    assert ok.scores.WORKFORCE == 80
    with pytest.raises(ValidationError) as err:
        m.Decision.model_validate(
            {"pass_fail": results, "scores": {"WORKFORCE": 101, "OUTCOMES_APPROACH": 70}}
        )
    assert set(error_locs(err)) == {("scores", "WORKFORCE"), ("scores", "PERFORMANCE_MONITORING")}


@pytest.mark.parametrize(
    "model",
    [
        m.SuspendRequest,
        m.DpsPatch,
        m.CategoryPatch,
        m.ApplicationCopy,
        m.EligibilityQuery,
        m.InspectionCreate,
        m.Resubmission,
    ],
)
def test_every_request_model_forbids_unknown_fields(model):
    assert model.model_config["extra"] == "forbid"


def test_eligibility_query_bounds():
    q = m.EligibilityQuery(category="SEN", lat=51.5, lon=-0.1, radius_miles=20, authority="KCC")
    assert q.radius_miles == 20
    with pytest.raises(ValidationError):
        m.EligibilityQuery(category="SEN", lat=51.5, lon=-0.1, radius_miles=0, authority="KCC")


def test_performance_reviewed_is_consumed_tolerantly_and_checked():
    """§7.4: the contracts service's event, consumed here."""
    payload = {
        "event_id": "ev-1",
        "occurred_at": "2026-07-01T00:00:00+00:00",
        "establishment_id": "e1",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "performance_index": "62.5",
        "reviews_count": 4,
        "new_field_from_the_future": True,
    }
    event = m.PerformanceReviewed.model_validate(payload)
    assert event.performance_index == Decimal("62.5") and event.category is None
    assert m.PerformanceReviewed.event_type == "performance_reviewed"
    for bad in ({"period_end": "2026-01-01"}, {"reviews_count": 0}, {"performance_index": 101}):
        with pytest.raises(ValidationError):
            m.PerformanceReviewed.model_validate({**payload, **bad})


def test_every_emitted_event_has_a_distinct_type():
    emitted = [
        m.ApplicationDecided,
        m.MembershipAdmitted,
        m.MembershipSuspended,
        m.MembershipReinstated,
        m.MembershipRemoved,
        m.EvidenceExpiring,
        m.CompetencyChanged,
        m.CoreCostsChanged,
    ]
    types = [cls.event_type for cls in emitted]
    assert all(types) and len(set(types)) == len(types)
    assert "membership_suspended" in types and "core_costs_changed" in types


def test_events_carry_the_envelope_and_round_trip_through_json():
    event = m.MembershipSuspended(
        occurred_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
        establishment_id="e1",
        provider_id="p1",
        establishment_name="Downs School",
        category="SEN",
        contacts=[{"name": "Ann", "email": "ann@downs-school.org.uk"}],
        membership_id="m1",
        criterion="INSURANCE",
        reason="expired",
        suspended_by="system",
        suspended_on=date(2026, 3, 2),
    )
    payload = event.model_dump(mode="json")
    assert payload["event_id"] and payload["request_id"] is None
    assert m.MembershipSuspended.model_validate(payload) == event
    stamped = event.stamped(datetime(2026, 3, 3, tzinfo=UTC), "req-1")
    assert stamped.request_id == "req-1" and stamped.occurred_at == event.occurred_at
