"""Eligibility (RULES §5) and standings (§6.2, §6.3): read-only queries for the referral
service.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    select,
    text,
)
from sqlalchemy.orm import Session

from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.store.codecs import service_from_row, tier_from_row
from services.qualification.store.tables import memberships

# --- eligibility (§5) ----------------------------------------------------------------------


_ELIGIBLE = text("""
SELECT ms.establishment_id, ms.id AS membership_id, ms.lat, ms.lon, ms.competency,
       ms.cohort_discounts, ms.additional_services, ms.application_id, ms.admitted_on,
       ms.reverification_due_on,
       e.name, e.provider_id, e.address, e.postcode, e.categories,
       (SELECT jsonb_agg(jsonb_build_array(c.head, c.amount::text)) FROM (
            SELECT DISTINCT ON (head) head, amount FROM qualification.membership_costs
            WHERE membership_id = ms.id AND effective_from <= :today
            ORDER BY head, effective_from DESC, seq DESC) c) AS costs,
       (SELECT jsonb_agg(jsonb_build_array(k.name, k.email, k.phone, k.sms_opt_in)
                         ORDER BY k.seq)
          FROM qualification.establishment_contacts k
         WHERE k.establishment_id = ms.establishment_id) AS contacts
  FROM qualification.memberships ms
  JOIN qualification.establishments e ON e.id = ms.establishment_id
 WHERE ms.category = :category AND ms.state = 'admitted'
   AND (CAST(:dps_id AS varchar) IS NULL OR ms.dps_id = :dps_id)
   AND ms.lat BETWEEN :min_lat AND :max_lat AND ms.lon BETWEEN :min_lon AND :max_lon
   AND 2 * :earth * asin(least(1.0, sqrt(
         power(sin(radians(:lat - ms.lat) / 2), 2)
         + cos(radians(ms.lat)) * cos(radians(:lat)) * power(sin(radians(:lon - ms.lon) / 2), 2)
       ))) <= :slack
""")


def eligible_establishments(
    session: Session,
    config: d.CategoryConfig,
    point: d.GeoPoint,
    radius_miles: float,
    authority: str,
    today: date,
    dps_id: str | None = None,
) -> list[m.EligibleEstablishment]:
    """RULES §5: admitted (not suspended) in the category, within the radius, not above the
    authority's own cap; nearest first.

    One query: the domain's bounding box on the partial index ``ix_memberships_eligible``,
    a great-circle prefilter (with a hair of slack) that drops the box's corners before the
    prices in force today and the contacts are gathered; then the domain's ``eligible``
    decides on each survivor (exact distance, admitted, the authority's cap)."""
    min_lat, max_lat, min_lon, max_lon = d.bounding_box(point, radius_miles)
    rows = session.execute(
        _ELIGIBLE,
        {
            "category": config.code,
            "dps_id": dps_id,
            "today": today,
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lon": min_lon,
            "max_lon": max_lon,
            "lat": point.lat,
            "lon": point.lon,
            "earth": d.EARTH_RADIUS_MILES,
            "slack": radius_miles * (1 + 1e-9) + 1e-9,
        },
    ).all()
    order = {head: i for i, head in enumerate(config.all_cost_heads)}
    results = []
    for r in rows:
        prices = sorted(r.costs or [], key=lambda c: (order.get(c[0], len(order)), c[0]))
        membership = d.Membership(
            id=r.membership_id,
            category=config.code,
            application_id=r.application_id,
            admitted_on=r.admitted_on,
            competency=r.competency,
            scores={},
            evidence={},
            costs=[
                d.CostEntry(head, Decimal(amount), today, "in force") for head, amount in prices
            ],
            reverification_due_on=r.reverification_due_on,
            cohort_discounts=tuple(tier_from_row(t) for t in r.cohort_discounts),
            additional_services=tuple(
                service_from_row(x) for x in (r.additional_services or [])
            ),
        )
        est = d.Establishment(
            id=r.establishment_id,
            provider_id=r.provider_id,
            name=r.name,
            address=r.address,
            postcode=r.postcode,
            location=d.GeoPoint(r.lat, r.lon),
            categories=tuple(r.categories),
            contacts=tuple(d.Contact(*c) for c in (r.contacts or [])),
            memberships=[membership],
        )
        found = d.eligible(est, config, point, radius_miles, authority, today)
        if found is not None:
            results.append(found)
    return sorted(results, key=lambda e: (e.distance_miles, e.establishment_id))


def standings(session: Session, category: str, ids: Iterable[str],
              dps_id: str | None = None) -> dict[str, m.Standing]:
    """RULES §6.2, §6.3: each establishment's latest membership in ``category`` (of the
    market ``dps_id`` when given, §11.3)."""
    ids = list(dict.fromkeys(ids))
    found = {}
    if ids:
        q = (select(memberships.c.establishment_id, memberships.c.state,
                    memberships.c.competency)
             .where(memberships.c.category == category, memberships.c.establishment_id.in_(ids))
             .order_by(memberships.c.establishment_id, memberships.c.created_at))
        if dps_id is not None:
            q = q.where(memberships.c.dps_id == dps_id)
        rows = session.execute(q).all()
        for r in rows:  # the latest membership wins
            found[r.establishment_id] = r
    return {
        i: m.Standing(
            admitted=found[i].state == "admitted",
            status=found[i].state,
            competency=found[i].competency,
        )
        if i in found
        else m.Standing(admitted=False, status=None, competency=Decimal(0))
        for i in ids
    }


