"""RULES §13: free-text needs, features and outcomes that appear to hold a name or a date
of birth are flagged to the owning authority (never refused), each with where and why."""

from __future__ import annotations

import pytest

from services.referral.domain.identifying import BIRTH, CHILD_NAME, DATE, TITLED_NAME, warnings_for
from services.referral.messages import ReferralCreate

BASE = {
    "category": "RESIDENTIAL", "child_reference": "KCC-1",
    "children": [{"age": 13, "name": "Rowan Quill-Amberly"}],
    "home_location": {"lat": 51.25, "lon": 0.5}, "radius_miles": 20,
    "deadline": "2026-12-10T12:00:00+00:00",
    "needs": [{"code": "N1", "label": "education on site", "marks": 3}],
    "features": [{"code": "F1", "label": "garden", "marks": 2}],
    "desired_outcomes": ["attend school every day"], "price_weight": 60,
}


def spec(**changes) -> ReferralCreate:
    return ReferralCreate.model_validate({**BASE, **changes})


def test_plain_free_text_raises_no_warning():
    assert warnings_for(spec()) == []


@pytest.mark.parametrize(("text", "reason"), [
    ("settled since 12/03/2014", DATE),
    ("review due 2027-01-05", DATE),
    ("moved on 3rd March 2019", DATE),
    ("DOB known to the social worker", BIRTH),
    ("born prematurely: needs a quiet room", BIRTH),
    ("Rowan likes horses", CHILD_NAME),
    ("contact with the amberly family", CHILD_NAME),
    ("keep away from Mr Jones", TITLED_NAME),
])
def test_a_date_a_birth_a_childs_name_or_a_titled_name_is_flagged_where_it_stands(text, reason):
    flagged = warnings_for(spec(desired_outcomes=["attend school", text]))
    assert [(w.field, w.reason) for w in flagged] == [(["desired_outcomes", 1], reason)]


def test_needs_and_features_are_checked_too():
    flagged = warnings_for(spec(
        needs=[{"code": "N1", "label": "speech therapy", "marks": 2},
               {"code": "N2", "label": "Quill needs a key worker", "marks": 2}],
        features=[{"code": "F1", "label": "near Miss Patel's school", "marks": 1}]))
    assert [(w.field, w.reason) for w in flagged] == [
        (["needs", 1, "label"], CHILD_NAME), (["features", 0, "label"], TITLED_NAME)]


def test_a_word_inside_another_is_not_the_childs_name():
    assert warnings_for(spec(children=[{"age": 9, "name": "Al Bo"}],
                             desired_outcomes=["improve reading and ball games"])) == []
