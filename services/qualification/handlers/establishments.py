"""Establishments (RULES §4, §4.1, §8): registration, details, reads, export, inspections."""

from __future__ import annotations

from services.common import paging
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers.common import (
    audit_memberships,
    emit,
    establishment_for,
    flush,
    summaries,
    view,
)

DETAILS = ("name", "address", "capacity", "contacts")


def create_establishment(command: m.EstablishmentCreate, uow, principal: dict | None) -> dict:
    """§4: a provider registers one of its own establishments (no event: see
    ``Establishment.register``)."""
    principal = access.require_role(principal, *access.PROVIDER)
    with uow:
        now = uow.now()
        configs = uow.store.current_configs(now)
        est = d.Establishment.register(principal["provider_id"], command)
        uow.store.establishments.add(est, now)
        v = view(est, configs, d.london_date(now), principal)
        uow.audit("establishment.registered", "establishment", est.id, None, v)
        emit(uow, est)
        uow.commit()
    return v


def update_establishment(command: m.EstablishmentUpdate, uow, principal: dict | None, *,
                         establishment_id: str) -> dict:
    """Name, address, capacity or contacts (§4, §8): the provider or the lead."""
    principal = access.require_role(principal, *access.ESTABLISHMENT_EDITORS)
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        configs = uow.store.current_configs(now)
        est = establishment_for(uow, establishment_id, principal, lock=True)
        before = view(est, configs, today, principal)
        est.update(command)
        flush(uow, est, now)
        after = view(est, configs, today, principal)
        uow.audit("establishment.changed", "establishment", est.id,
                  {k: before[k] for k in DETAILS}, {k: after[k] for k in DETAILS})
        uow.commit()
    return after


def get_establishment(establishment_id: str, uow, principal: dict | None) -> dict:
    principal = access.require_role(principal, *access.READERS)
    with uow:
        configs = uow.store.current_configs(uow.now())
        est = establishment_for(uow, establishment_id, principal)
        return view(est, configs, d.london_date(uow.now()), principal)


def list_establishments(q: m.EstablishmentQuery, uow, principal: dict | None) -> dict:
    """GET /establishments (§10 scoping, then the filters; pages by id)."""
    principal = access.require_role(principal, *access.READERS)
    after = paging.decode(q.cursor)
    if not access.can_list_status(principal, q.status):
        return {"items": [], "next_cursor": None}
    with uow:
        today = d.london_date(uow.now())
        configs = uow.store.current_configs(uow.now())
        repo = uow.store.establishments
        ids = repo.list_ids(
            **access.establishments_scope(principal),
            category=q.category,
            status=q.status,
            near=m.parse_near(q.near) if q.near else None,
            radius_miles=q.radius_miles,
            reverification_due=today if q.reverification_due else None,
            after=after[0] if after else None,
            limit=q.limit + 1,
        )
        found = repo.get_many(ids)
        items = [view(found[i], configs, today, principal) for i in ids]
    return paging.page(items, q.limit, lambda item: [item["id"]])


EXPORTED_MEMBERSHIP_FIELDS = {
    "category", "status", "admitted_on", "competency", "core_costs",
    "total_weekly_core_cost", "cohort_discounts", "additional_services",
    "reverification_due_on",
}


def export_establishments(q: m.ExportQuery, uow, principal: dict | None) -> dict:
    """Admitted establishments with their admitted memberships (business case 7.16), for
    partners running referrals elsewhere: the lead and the contract manager (§10)."""
    access.require_role(principal, *access.EXPORTERS)
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        configs = uow.store.current_configs(now)
        repo = uow.store.establishments
        found = repo.get_many(repo.admitted_ids(q.category))
        names = uow.store.provider_names({e.provider_id for e in found.values()})
    items = [_exported(est, configs, today, q.category, names)
             for est in sorted(found.values(), key=lambda e: (e.name, e.id))]
    return {
        "items": items,
        "cost_heads": {code: list(c.all_cost_heads) for code, c in configs.items()
                       if q.category in (None, code)},
        "generated_on": today.isoformat(),
    }


def _exported(est: d.Establishment, configs, today, category, names) -> dict:
    latest = est.latest_judgement()
    members = [
        ms.to_view(configs[ms.category], today).model_dump(
            mode="json", include=EXPORTED_MEMBERSHIP_FIELDS)
        for ms in est.memberships
        if ms.state == "admitted" and category in (None, ms.category)
    ]
    return {
        "id": est.id,
        "name": est.name,
        "urn": est.urn,
        "provider_id": est.provider_id,
        "provider_name": names.get(est.provider_id),
        "address": est.address,
        "postcode": est.postcode,
        "location": {"lat": est.location.lat, "lon": est.location.lon},
        "capacity": est.capacity,
        "contacts": [{"name": c.name, "email": c.email, "phone": c.phone,
                      "sms_opt_in": c.sms_opt_in} for c in est.contacts],
        "latest_inspection": None if latest is None else {
            "body": latest.body, "grade": latest.grade, "date": latest.date.isoformat()},
        "memberships": members,
    }


def record_inspection(command: m.InspectionCreate, uow, principal: dict | None, *,
                      establishment_id: str) -> dict:
    """§4.1, §4.5: a new judgement (the lead); a latest INADEQUATE suspends at once."""
    principal = access.require_role(principal, *access.LEAD)
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        configs = uow.store.current_configs(now)
        est = establishment_for(uow, establishment_id, principal, lock=True)
        before = summaries(est, today)
        judgement = d.InspectionJudgement.from_message(command)
        est.record_inspection(judgement, configs, now)
        flush(uow, est, now)
        uow.audit("establishment.inspection_recorded", "establishment", est.id, None,
                  {"body": judgement.body, "grade": judgement.grade,
                   "date": judgement.date.isoformat()})
        audit_memberships(uow, "membership.suspended", est, before, today)
        v = view(est, configs, today, principal)
        uow.commit()
    return v
