"""Applications (RULES §4, §4.3): drafts, copies, submission, evaluation and decision."""

from __future__ import annotations

from services.common import paging
from services.common.errors import Conflict, InvalidInput, NotFound
from services.qualification import access
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers.common import (
    application_for,
    application_summary,
    audit_memberships,
    emit,
    establishment_for,
    flush,
    summaries,
)
from services.qualification.handlers.markets import market_for
from services.qualification.store.codecs import content_to_row


def _view(app: d.Application, now) -> dict:
    return app.to_view(d.london_date(now)).model_dump(mode="json")


def create_application(command: m.ApplicationCreate, uow, principal: dict | None) -> dict:
    """§4: a draft for one of the provider's own establishments."""
    principal = access.require_role(principal, *access.PROVIDER)
    with uow:
        now = uow.now()
        try:
            est = establishment_for(uow, command.establishment_id, principal, lock=True)
        except NotFound:
            raise InvalidInput.at(["establishment_id"], "no such establishment") from None
        apps = uow.store.applications
        market = market_for(uow, command.dps_id)
        if command.category not in market.categories():
            raise InvalidInput.at(["category"], f"not a part of the market {market.dps_id}")
        config = uow.store.current_configs(now)[command.category]
        app = d.open_application(
            est, command.category, d.ApplicationContent.from_message(command), config,
            apps.for_establishments([est.id])[est.id], now, dps_id=market.dps_id,
        )
        apps.add(app, now)
        uow.audit("application.created", "application", app.id, None, application_summary(app))
        uow.commit()
    return _view(app, now)


def _command(uow, application_id: str, principal: dict, action: str, command,
             summary=application_summary) -> dict:
    """Run ``command(app, store, now)`` on a locked application; save it and audit the
    change (§9) as ``summary`` of the application before and after."""
    with uow:
        now = uow.now()
        app = application_for(uow, application_id, principal, lock=True)
        before = summary(app)
        command(app, uow.store, now)
        uow.store.applications.save(app, now)
        uow.audit(action, "application", app.id, before, summary(app))
        uow.commit()
    return _view(app, now)


def update_application(command: m.ApplicationUpdate, uow, principal: dict | None, *,
                       application_id: str) -> dict:
    """Replace a draft's content (§4), e.g. a copy's establishment-level answers."""
    principal = access.require_role(principal, *access.PROVIDER)
    content = d.ApplicationContent.from_message(command)
    return _command(
        uow, application_id, principal, "application.revised",
        lambda app, store, now: app.revise(content, store.current_configs(now)[app.category],
                                           now),
        summary=lambda app: content_to_row(app.content),
    )


def get_application(application_id: str, uow, principal: dict | None) -> dict:
    principal = access.require_role(principal, *access.APPLICATION_READERS)
    with uow:
        return _view(application_for(uow, application_id, principal), uow.now())


def list_applications(q: m.ApplicationQuery, uow, principal: dict | None) -> dict:
    principal = access.require_role(principal, *access.APPLICATION_READERS)
    after = paging.decode(q.cursor)
    with uow:
        today = d.london_date(uow.now())
        found = uow.store.applications.list(
            provider_id=access.applications_scope(principal),
            status=q.status,
            overdue=q.overdue,
            today=today,
            category=q.category,
            establishment_id=q.establishment_id,
            dps_id=q.dps_id,
            after=after,
            limit=q.limit + 1,
        )
    items = [a.to_view(today).model_dump(mode="json") for a in found]
    return paging.page(items, q.limit, lambda i: [i["created_at"], i["id"]])


def copy_application(command: m.ApplicationCopy, uow, principal: dict | None, *,
                     application_id: str) -> dict:
    """§4: new drafts for the provider's other establishments in one call, reusing the
    organisation's answers; all or nothing."""
    principal = access.require_role(principal, *access.PROVIDER)
    with uow:
        now = uow.now()
        apps = uow.store.applications
        source = application_for(uow, application_id, principal)
        found = uow.store.establishments.get_many(command.establishment_ids, lock=True)
        targets = []
        for i, est_id in enumerate(command.establishment_ids):
            est = found.get(est_id)
            if not access.owns_establishment(principal, est):
                raise InvalidInput.at(["establishment_ids", i], "no such establishment")
            targets.append(est)
        config = uow.store.current_configs(now)[source.category]
        drafts = d.copy_application(source, targets, apps.for_establishments(found), config,
                                    now)
        for app in drafts:
            apps.add(app, now)
            uow.audit("application.created", "application", app.id, None,
                      {**application_summary(app), "copied_from": source.id})
        uow.commit()
    return {"items": [_view(a, now) for a in drafts], "next_cursor": None}


def submit_application(application_id: str, uow, principal: dict | None) -> dict:
    """§3, §4.3: Conflict (409) while the application's market takes no application or
    when incomplete; complete against the conditions of membership of the market's regime
    (§11.2: no insurance under PA2023, s.36(2))."""
    principal = access.require_role(principal, *access.PROVIDER)

    def submit(app: d.Application, store, now) -> None:
        market = market_for(uow, app.dps_id)
        if app.status == "draft":
            market.ensure_accepting_applications(app.category, d.london_date(now))
        config = d.regime_config(store.current_configs(now)[app.category], market)
        app.submit(config, market.effective_settings(), now)

    return _command(uow, application_id, principal, "application.submitted", submit)


def record_exclusion_check(command: m.ExclusionCheck, uow, principal: dict | None, *,
                           application_id: str) -> dict:
    """§11.2 (ss.57, 62): the lead records the debarment-list and exclusion check."""
    principal = access.require_role(principal, *access.LEAD)
    return _command(uow, application_id, principal, "application.exclusion_checked",
                    lambda app, store, now: app.record_exclusion_check(command, principal, now),
                    summary=lambda app: {"exclusion_check": app.exclusion_check})


def extend_evaluation(command: m.EvaluationExtension, uow, principal: dict | None, *,
                      application_id: str) -> dict:
    """§4.3: once, to 15 working days, with the reason recorded (the lead)."""
    principal = access.require_role(principal, *access.LEAD)
    return _command(uow, application_id, principal, "application.evaluation_extended",
                    lambda app, store, now: app.extend_evaluation(command.reason))


def decide_application(command: m.Decision, uow, principal: dict | None, *,
                       application_id: str) -> dict:
    """§4.2, §4.3: admitted (a membership, its competency) or rejected with reasons,
    judged against the configuration version in force at submission (the lead)."""
    principal = access.require_role(principal, *access.LEAD)
    with uow:
        now, today = uow.now(), d.london_date(uow.now())
        repo, apps = uow.store.establishments, uow.store.applications
        peek = application_for(uow, application_id, principal)
        est = repo.get(peek.establishment_id, lock=True)  # establishment first, then app
        app = apps.get(application_id, lock=True)
        if app.status != "submitted":
            raise Conflict(
                f"the application is {app.status}; only a submitted application can be decided"
            )
        market = market_for(uow, app.dps_id)
        config = d.regime_config(
            uow.store.config_version(app.category, app.config_version), market)
        before_app, before_ms = application_summary(app), summaries(est, today)
        app.decide(d.Decision.from_message(command), config, est, now,
                   require_exclusion_check=market.pa2023,
                   drop_evidence=market.conditions_exclude())
        apps.save(app, now)
        uow.audit("application.decided", "application", app.id, before_app,
                  application_summary(app))
        emit(uow, app)
        flush(uow, est, now)
        audit_memberships(uow, "membership.admitted", est, before_ms, today)
        uow.commit()
    return app.to_view(today).model_dump(mode="json")
