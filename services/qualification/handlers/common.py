"""What several handlers share: audit summaries (RULES §9), views (§10) and the outbox."""

from __future__ import annotations

from datetime import date

from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.store.codecs import decision_to_row


def membership_summary(ms: d.Membership, today: date) -> dict:
    """What the audit trail keeps of a membership before and after a change (§9)."""
    return {
        "id": ms.id,
        "category": ms.category,
        "status": ms.state,
        "competency": str(ms.competency),
        "open_failures": {c: s.reason for c, s in ms.open_failures.items()},
        "pending_resubmissions": sorted(ms.pending_resubmissions),
        "core_costs": {h: str(a) for h, a in ms.costs_on(today).items()},
        "evidence_expiry": {
            c: a.expires_on.isoformat() for c, a in ms.evidence.items() if a.expires_on
        },
        "reverification_due_on": ms.reverification_due_on.isoformat(),
    }


def summaries(est: d.Establishment, today: date) -> dict[str, dict]:
    return {ms.id: membership_summary(ms, today) for ms in est.memberships}


def application_summary(app: d.Application) -> dict:
    return {
        "status": app.status,
        "establishment_id": app.establishment_id,
        "category": app.category,
        "config_version": app.config_version,
        "due_on": app.due_on.isoformat() if app.due_on else None,
        "extension_reason": app.extension_reason,
        "decision": None if app.decision is None else decision_to_row(app.decision),
    }


def view(est: d.Establishment, configs: dict, today: date, principal: dict) -> dict:
    """The establishment as ``principal`` may see it (§10: a commissioner, admitted
    memberships only)."""
    v = est.to_view(configs, today)
    if access.sees_admitted_memberships_only(principal):
        v.memberships = [ms for ms in v.memberships if ms.status == "admitted"]
    return v.model_dump(mode="json")


def emit(uow, aggregate: d.Establishment | d.Application) -> None:
    """Put the aggregate's new events in the outbox (DESIGN rule 3); membership events
    carry their market and the supplier's identifiers (RULES §11.2, §11.4: UK15)."""
    for event in aggregate.events:
        uow.emit(_with_market(uow, aggregate, event))
    aggregate.events.clear()


def _with_market(uow, aggregate, event):
    """``dps_id``, ``regime``, ``part_number`` of the membership's (or application's)
    market and the provider's name, PPON and Companies House number (§11.2)."""
    if not isinstance(event, m.MembershipEvent) or event.dps_id is not None:
        return event
    dps_id = getattr(aggregate, "dps_id", None)
    ms_id = getattr(event, "membership_id", None)
    for ms in getattr(aggregate, "memberships", ()):
        if ms.id == ms_id:
            dps_id = ms.dps_id
    if dps_id is None:
        return event
    market = uow.store.market(dps_id)
    provider = uow.store.get_provider(event.provider_id) or {}
    return event.model_copy(update={
        "dps_id": dps_id,
        "regime": market.regime if market else None,
        "part_number": market.part_number(event.category) if market else None,
        "provider_name": provider.get("name"),
        "ppon": provider.get("ppon"),
        "companies_house_number": provider.get("companies_house_number"),
    })


def flush(uow, est: d.Establishment, now) -> None:
    """Save the establishment and put its events in the outbox (DESIGN rule 3)."""
    uow.store.establishments.save(est, now)
    emit(uow, est)


def audit_memberships(
    uow, action: str, est: d.Establishment, before: dict[str, dict], today: date
) -> None:
    """One audit record per membership the command changed (§9)."""
    for ms_id, after in summaries(est, today).items():
        if before.get(ms_id) != after:
            uow.audit(action, "membership", ms_id, before.get(ms_id),
                      {**after, "establishment_id": est.id})


def establishment_for(uow, establishment_id: str, principal: dict, *, lock: bool = False):
    """One the principal may see, or NotFound (§10: another provider's is hidden)."""
    est = uow.store.establishments.get(establishment_id, lock=lock)
    return access.readable_establishment(principal, est)


def application_for(uow, application_id: str, principal: dict, *, lock: bool = False):
    app = uow.store.applications.get(application_id, lock=lock)
    return access.readable_application(principal, app)
