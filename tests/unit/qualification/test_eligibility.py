"""§5 eligibility: great-circle distance, bounding-box prefilter, the exact check."""

from datetime import date
from decimal import Decimal
from math import asin, cos, degrees, radians, sin
from math import atan2 as _atan2

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.qualification.domain import (
    EARTH_RADIUS_MILES,
    GeoPoint,
    apply_settings_change,
    bounding_box,
    eligible,
    haversine_miles,
)
from tests.support.qualification_builders import (
    BRIGHTON,
    LONDON,
    NOW,
    TODAY,
    admitted,
    configs,
    establishment,
)

CFG = configs()
SEN = CFG["SEN"]
MANCHESTER = GeoPoint(53.4808, -2.2426)
PARIS = GeoPoint(48.8566, 2.3522)


@pytest.mark.parametrize(
    ("a", "b", "miles", "tolerance"),
    [
        (LONDON, BRIGHTON, 47.3, 0.5),
        (LONDON, MANCHESTER, 163.0, 1.0),
        (LONDON, PARIS, 213.5, 1.0),
        (
            GeoPoint(50, 0),
            GeoPoint(51, 0),
            69.0941,
            0.0001,
        ),  # one degree of a great circle: 2π × 3958.8 / 360
        (GeoPoint(0, 179.5), GeoPoint(0, -179.5), 69.0941, 0.0001),  # across the antimeridian
        (BRIGHTON, BRIGHTON, 0.0, 0.0),
    ],
)
def test_haversine_against_known_distances(a, b, miles, tolerance):
    """§5: great-circle miles with an Earth radius of 3958.8 miles."""
    assert haversine_miles(a, b) == pytest.approx(miles, abs=tolerance)
    assert haversine_miles(a, b) == pytest.approx(haversine_miles(b, a))


def _destination(start: GeoPoint, bearing: float, miles: float) -> GeoPoint:
    """The point ``miles`` from ``start`` on ``bearing`` (degrees), on the same sphere."""
    d = miles / EARTH_RADIUS_MILES
    lat1, lon1, brg = radians(start.lat), radians(start.lon), radians(bearing)
    lat2 = asin(sin(lat1) * cos(d) + cos(lat1) * sin(d) * cos(brg))
    lon2 = lon1 + _atan2(sin(brg) * sin(d) * cos(lat1), cos(d) - sin(lat1) * sin(lat2))
    return GeoPoint(degrees(lat2), (degrees(lon2) + 540) % 360 - 180)


@given(
    st.floats(-85, 85),
    st.floats(-180, 180),
    st.floats(0.1, 500),
    st.floats(0, 360),
    st.floats(0, 1),
)
def test_every_point_within_the_radius_is_inside_the_bounding_box(
    lat, lon, radius, bearing, fraction
):
    centre = GeoPoint(lat, lon)
    point = _destination(centre, bearing, radius * fraction)
    min_lat, max_lat, min_lon, max_lon = bounding_box(centre, radius)
    assert min_lat <= point.lat <= max_lat
    assert min_lon <= point.lon <= max_lon


def test_bounding_box_is_tight_in_the_south_east():
    min_lat, max_lat, min_lon, max_lon = bounding_box(LONDON, 50)
    assert max_lat - min_lat == pytest.approx(2 * 50 / 69.0941, rel=1e-6)
    assert 1.0 < max_lon - LONDON.lon < 1.2


def test_bounding_box_near_a_pole_spans_all_longitudes():
    assert bounding_box(GeoPoint(89.5, 10), 100)[2:] == (-180.0, 180.0)


# --- the exact check ----------------------------------------------------------------------


def test_an_admitted_establishment_within_the_radius_is_eligible_with_its_snapshot():
    est, ms = admitted(SEN)  # in Brighton
    reply = eligible(est, SEN, LONDON, 50, "KCC", TODAY)
    assert reply.establishment_id == est.id and reply.provider_id == est.provider_id
    assert reply.distance_miles == pytest.approx(47.3, abs=0.5)
    assert reply.competency == Decimal("79.00")
    assert reply.total_weekly_core_cost == Decimal("2700.00")
    payload = reply.model_dump(mode="json")
    assert payload["core_costs"]["premises"] == "300.00"
    assert payload["cohort_discounts"][0] == {"min_children": 2, "percent": 5.0}
    assert payload["contacts"][0]["email"] == "ann@downs-school.org.uk"


def test_the_radius_is_inclusive():
    est, _ = admitted(SEN)
    distance = haversine_miles(BRIGHTON, LONDON)
    assert eligible(est, SEN, LONDON, distance, "KCC", TODAY) is not None
    assert eligible(est, SEN, LONDON, distance - 1e-9, "KCC", TODAY) is None
    assert eligible(est, SEN, LONDON, 40, "KCC", TODAY) is None


def test_suspended_removed_or_other_category_is_not_eligible():
    est, _ = admitted(SEN)
    assert eligible(est, CFG["RESIDENTIAL"], LONDON, 50, "KCC", TODAY) is None
    assert eligible(establishment("Nowhere"), SEN, LONDON, 50, "KCC", TODAY) is None
    est.suspend("SEN", "INSURANCE", "cancelled", SEN, NOW)
    assert eligible(est, SEN, LONDON, 50, "KCC", TODAY) is None


def test_only_the_authoritys_own_cap_keeps_an_establishment_out():
    """§4.4, §5: above KCC's cap → not invited by KCC; others still invite it."""
    capped = apply_settings_change(SEN, {"authority_caps": {"KCC": "2699.99", "ESCC": "2700.00"}})
    est, _ = admitted(SEN)
    assert eligible(est, capped, LONDON, 50, "KCC", TODAY) is None
    assert eligible(est, capped, LONDON, 50, "ESCC", TODAY) is not None  # not above
    assert eligible(est, capped, LONDON, 50, "BHCC", TODAY) is not None  # no cap
    assert eligible(est, capped, LONDON, 50, "HCC", TODAY) is not None  # an associate


def test_the_cap_check_uses_the_costs_in_force_that_day():
    capped = apply_settings_change(SEN, {"authority_caps": {"KCC": "2750.00"}})
    est, _ = admitted(SEN)
    est.apply_uplift(SEN, "staff_related", Decimal("20"), date(2026, 4, 1), "u1", NOW)
    assert eligible(est, capped, LONDON, 50, "KCC", date(2026, 3, 31)) is not None
    reply = eligible(est, SEN, LONDON, 50, "KCC", date(2026, 4, 1))
    assert reply.total_weekly_core_cost == Decimal("2760.00")
    assert eligible(est, capped, LONDON, 50, "KCC", date(2026, 4, 1)) is None
