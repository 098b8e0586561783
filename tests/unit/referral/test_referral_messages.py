"""The referral service's published language: request validation (§5) and event envelopes."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from services.referral.messages import (
    MAX_RADIUS_MILES,
    AwardRequest,
    DeclineCreate,
    PublishRequest,
    RadiusRequest,
)
from tests.support.referral_builders import DEADLINE, evaluated, spec


def field_of(exc: pytest.ExceptionInfo) -> tuple:
    return exc.value.errors()[0]["loc"]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"home_location": {"lat": 91, "lon": 0}}, ("home_location", "lat")),
        ({"home_location": {"lat": 51, "lon": -181}}, ("home_location", "lon")),
        ({"radius_miles": 0}, ("radius_miles",)),
        ({"radius_miles": MAX_RADIUS_MILES + 1}, ("radius_miles",)),
        ({"deadline": datetime(2026, 3, 5, 9, 0)}, ("deadline",)),
        ({"children": []}, ("children",)),
        ({"children": [{"age": -1}]}, ("children", 0, "age")),
        ({"desired_outcomes": []}, ("desired_outcomes",)),
        ({"needs": [{"code": "N1", "label": "x", "marks": 0}]}, ("needs", 0, "marks")),
        ({"features": [{"code": "D1", "label": "x", "marks": 0}]}, ("features", 0)),
        ({"min_invited": 0}, ("min_invited",)),
        ({"category": "sen"}, ("category",)),
        ({"child_reference": ""}, ("child_reference",)),
        ({"colour": "blue"}, ("colour",)),
        ({"weights": {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10}}, ("weights", "F")),
    ],
)
def test_referral_create_refuses_bad_content_naming_the_field(change, loc):
    with pytest.raises(ValidationError) as exc:
        spec(**change)
    assert field_of(exc) == loc


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"needs": [{"code": "N1", "label": "a", "marks": 1}] * 2}, "duplicate codes N1"),
        (
            {"features": [{"code": "M1", "label": "a", "must_have": True}] * 2},
            "duplicate codes M1",
        ),
        (
            {"weights": {"P": 50, "C": 20, "L": 5, "O": 10, "N": 10, "F": 5}, "price_weight": 40},
            "not both",
        ),
    ],
)
def test_referral_create_checks_consistency(change, text):
    with pytest.raises(ValidationError, match=text):
        spec(**change)


def test_referral_create_accepts_the_api_shape():
    """API.md POST /referrals, with price_weight instead of weights, and a must-have
    feature without marks."""
    referral = spec(price_weight=60, incentive={"description": "early step-down premium"})
    assert referral.price_weight == 60 and referral.weights is None
    assert referral.features[0].must_have and referral.features[0].marks == 0
    assert referral.deadline == DEADLINE
    assert referral.incentive.kind == "early_step_down"


def test_small_requests_are_strict():
    assert PublishRequest().accept_fewer is False
    assert AwardRequest().bid_id is None
    with pytest.raises(ValidationError):
        PublishRequest(accept_fewer=True, force=True)
    with pytest.raises(ValidationError):
        RadiusRequest(radius_miles=-5)
    with pytest.raises(ValidationError):
        DeclineCreate(establishment_id="E1", reason_code="")


def test_every_event_carries_its_envelope():
    """DESIGN rule 3: event_id, occurred_at and (stamped by the outbox) request_id."""
    referral, _ = evaluated("evaluated")
    events = referral.events
    assert {e.event_type for e in events} >= {
        "referral_published",
        "bid_received",
        "referral_closed",
    }
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.occurred_at is not None and e.event_type for e in events)
    assert all(e.request_id is None for e in events)
