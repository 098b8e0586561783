"""Eligibility (RULES §5) and standings (§6.2, §6.3), mostly for the referral service."""

from __future__ import annotations

from services.common.validation import parse
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m


def eligible_establishments(q: m.EligibilityQuery, uow, principal: dict | None = None) -> list:
    """§5: admitted, non-suspended establishments of the category within the radius, not
    above ``authority``'s own cap; nearest first (``EligibleEstablishment``)."""
    with uow:
        today = d.london_date(uow.now())
        config = uow.store.current_configs(uow.now())[q.category]
        if q.dps_id is not None:  # §11.3: members of that market only, while it runs
            market = uow.store.market(q.dps_id)
            if market is None or not market.running(today):
                return []
        found = uow.store.eligible_establishments(
            config, d.GeoPoint(q.lat, q.lon), q.radius_miles, q.authority, today,
            q.dps_id,
        )
    return [e.model_dump(mode="json") for e in found]


def list_eligible(q: m.EligibleQuery, uow, principal: dict | None) -> dict:
    """GET /establishments/eligible: the same list for the caller's own authority."""
    principal = access.require_role(principal, *access.ELIGIBILITY_READERS)
    query = parse(m.EligibilityQuery,
                  {**q.model_dump(), "authority": access.referral_authority(principal)})
    return {"items": eligible_establishments(query, uow), "next_cursor": None}


def standings(q: m.StandingsQuery, uow, principal: dict | None = None) -> dict:
    """§6.2, §6.3: ``{id: {admitted, status, competency}}`` now (referral calls it at the
    deadline). An unknown establishment is not admitted, competency 0."""
    with uow:
        found = uow.store.standings(q.category, q.establishment_ids, q.dps_id)
    return {i: s.model_dump(mode="json") for i, s in found.items()}
