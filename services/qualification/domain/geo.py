"""Geography for eligibility (RULES §5): great-circle distance and the bounding box."""

from __future__ import annotations

from dataclasses import dataclass
from math import asin, cos, degrees, radians, sin, sqrt

from services.qualification.domain.vocabulary import EARTH_RADIUS_MILES


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


def haversine_miles(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in miles on a sphere of radius 3958.8 miles (§5, §6.3)."""
    lat1, lat2 = radians(a.lat), radians(b.lat)
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin(radians(b.lon - a.lon) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * asin(min(1.0, sqrt(h)))


def bounding_box(centre: GeoPoint, radius_miles: float) -> tuple[float, float, float, float]:
    """``(min_lat, max_lat, min_lon, max_lon)`` holding every point within the radius.

    The store's index-friendly prefilter before the exact check of ``eligible`` (§5). A box
    that would cross a pole or the antimeridian spans every longitude.
    """
    angle = radius_miles / EARTH_RADIUS_MILES
    margin = 1e-9
    dlat = degrees(angle) + margin
    min_lat, max_lat = centre.lat - dlat, centre.lat + dlat
    if min_lat <= -90 or max_lat >= 90:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    dlon = degrees(asin(min(1.0, sin(angle) / cos(radians(centre.lat))))) + margin
    if centre.lon - dlon < -180 or centre.lon + dlon > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, centre.lon - dlon, centre.lon + dlon


