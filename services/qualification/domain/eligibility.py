"""Eligibility: the exact check after the store's prefilter (RULES §5)."""

from __future__ import annotations

from datetime import date

from services.common.money import fmt
from services.qualification import messages as m
from services.qualification.domain.categories import CategoryConfig, total_weekly_core_cost
from services.qualification.domain.establishment import Establishment
from services.qualification.domain.geo import GeoPoint, haversine_miles


def eligible(
    establishment: Establishment,
    config: CategoryConfig,
    point: GeoPoint,
    radius_miles: float,
    authority: str,
    today: date,
) -> m.EligibleEstablishment | None:
    """§5: the exact check after the store's bounding-box prefilter. Eligible when admitted
    (not suspended) in the category, within the radius (``distance <= radius``) and not
    above the authority's own cap on the total weekly core cost in force ``today``."""
    ms = establishment.current_membership(config.code)
    if ms is None or ms.state != "admitted":
        return None
    distance = haversine_miles(establishment.location, point)
    if distance > radius_miles:
        return None
    costs = ms.costs_on(today)
    total = total_weekly_core_cost(costs, config)
    cap = config.authority_caps.get(authority)
    if cap is not None and total > cap:
        return None
    location = establishment.location
    return m.EligibleEstablishment(  # plain dicts: this runs for every establishment found
        establishment_id=establishment.id,
        provider_id=establishment.provider_id,
        name=establishment.name,
        category=config.code,
        location={"lat": location.lat, "lon": location.lon},
        distance_miles=distance,
        core_costs=costs,
        total_weekly_core_cost=total,
        cohort_discounts=[
            {"min_children": t.min_children, "percent": t.percent} for t in ms.cohort_discounts
        ],
        competency=ms.competency,
        contacts=[
            {"name": c.name, "email": c.email, "phone": c.phone, "sms_opt_in": c.sms_opt_in}
            for c in establishment.contacts
        ],
        additional_services=[
            {"name": a.name, "unit": a.unit, "unit_price": fmt(a.unit_price),
             "weekly_price": fmt(a.weekly_price)}
            for a in ms.additional_services
        ],
    )
