"""qualification service: thin nameko entrypoints (DESIGN: inside a service).

RULES §2–§4 end to end: the DPS settings, versioned category configuration,
establishments, applications, memberships, eligibility (§5), uplifts (§7.2) and
competency moves (§7.4). Every entrypoint validates with ``messages``, runs one unit of
work (the change, its audit records, RULES §9, and its outbox rows commit together),
calls the domain and returns a model dump.

Access (RULES §10), decided here from the gateway's principal; the gateway has already
refused roles that may never call a route:

- establishments: a provider reads and changes only its own organisation's (another's is
  ``NotFound``: admitting it exists would leak); a commissioner reads admitted ones only,
  seeing their admitted memberships; the lead reads and changes all; the contract manager
  reads all. The export is for the lead and the contract manager.
- applications: a provider its own; the lead all (evaluation, §4.3).
- suspension, reinstatement, inspections, re-verification and removal: the lead only.

RPCs for other services (no principal needed): ``eligible_establishments`` (referral,
§5), ``standings`` (referral at the deadline, §6.2), ``get_category`` (tender period and
minimum invited), ``apply_uplift`` (contracts, §7.2).

Consumed events: ``contracts.performance_reviewed`` (§4.5/§7.4 bounded move, once per
configured period) and ``contracts.uplift_set`` (§7.2, once per uplift id; a refusal is
logged and acknowledged). Both are idempotent by event id as well.

Timer (DESIGN rule 4; ``DPS_QUALIFICATION_TIMER_SECONDS``, default 10): evidence expiry
reminders 30 days ahead (once per item and expiry date), suspension on expiry and the
yearly re-verification flag, one establishment per transaction, rows taken ``FOR UPDATE
SKIP LOCKED`` so several instances share the work. ``check_evidence`` runs one pass on
demand (operations, tests).
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date

from nameko.timer import timer

from services.common import paging
from services.common.config import get_settings
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.common.logging import get_logger
from services.common.runtime import AuditRpc, Database, RequestContext, event_handler, rpc
from services.common.validation import parse
from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification import store
from services.qualification.messages import ProviderCreate, ProviderRegistered, ProviderView

log = get_logger(__name__)

TIMER_SECONDS = float(os.environ.get("DPS_QUALIFICATION_TIMER_SECONDS", "10"))
TIMER_BATCH = int(os.environ.get("DPS_QUALIFICATION_TIMER_BATCH", "500"))

READERS = ("lead", "contract_manager", "commissioner", "provider")


def _membership_summary(ms: d.Membership, today: date) -> dict:
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


def _summaries(est: d.Establishment, today: date) -> dict[str, dict]:
    return {ms.id: _membership_summary(ms, today) for ms in est.memberships}


def _application_summary(app: d.Application) -> dict:
    return {
        "status": app.status,
        "establishment_id": app.establishment_id,
        "category": app.category,
        "config_version": app.config_version,
        "due_on": app.due_on.isoformat() if app.due_on else None,
        "extension_reason": app.extension_reason,
        "decision": None if app.decision is None else store.decision_json(app.decision),
    }


class QualificationService(AuditRpc):
    name = "qualification"

    ctx = RequestContext()
    db = Database(store.metadata)

    # ==== helpers ===========================================================================

    def _allow(self, *roles: str) -> dict:
        """§10: the roles that may call this at all (the gateway checks it first)."""
        principal = self.ctx.require_principal()
        if principal.get("role") not in roles:
            raise Forbidden(f"the {principal.get('role')} role may not do this")
        return principal

    @staticmethod
    def _readable(principal: dict, est: d.Establishment) -> bool:
        role = principal.get("role")
        if role in ("lead", "contract_manager"):
            return True
        if role == "provider":
            return est.provider_id == principal.get("provider_id")
        if role == "commissioner":
            return any(ms.state == "admitted" for ms in est.memberships)
        return False

    def _view(self, est: d.Establishment, configs: dict, today: date, principal: dict) -> dict:
        view = est.to_view(configs, today)
        if principal.get("role") == "commissioner":  # §10: reads admitted establishments
            view.memberships = [ms for ms in view.memberships if ms.status == "admitted"]
        return view.model_dump(mode="json")

    def _establishment(
        self, repo: store.Establishments, est_id: str, principal: dict, *, lock: bool = False
    ) -> d.Establishment:
        """One the principal may see, or NotFound (§10: another provider's is hidden)."""
        est = repo.get(est_id, lock=lock)
        if est is None or not self._readable(principal, est):
            raise NotFound("no such establishment")
        return est

    def _application(
        self, apps: store.Applications, app_id: str, principal: dict, *, lock: bool = False
    ) -> d.Application:
        app = apps.get(app_id, lock=lock)
        if app is None or (
            principal.get("role") == "provider" and app.provider_id != principal.get("provider_id")
        ):
            raise NotFound("no such application")
        return app

    @staticmethod
    def _emit(uow, aggregate: d.Establishment | d.Application) -> None:
        """Put the aggregate's new events in the outbox (DESIGN rule 3)."""
        for event in aggregate.events:
            uow.emit(event)
        aggregate.events.clear()

    @classmethod
    def _flush(cls, uow, repo: store.Establishments, est: d.Establishment, now) -> None:
        """Save the aggregate and put its events in the outbox (DESIGN rule 3)."""
        repo.save(est, now)
        cls._emit(uow, est)

    @staticmethod
    def _audit_memberships(
        uow, action: str, est: d.Establishment, before: dict[str, dict], today: date
    ) -> None:
        """One audit record per membership the command changed (§9)."""
        for ms_id, after in _summaries(est, today).items():
            if before.get(ms_id) != after:
                uow.audit(
                    action,
                    "membership",
                    ms_id,
                    before.get(ms_id),
                    {**after, "establishment_id": est.id},
                )

    # ==== providers (registration) ============================================================

    @rpc
    def ping(self) -> str:
        return "ok"

    @rpc
    def create_provider(self, body: dict) -> dict:
        """Open registration of a provider organisation (RULES §3: no limit, no charge)."""
        data = parse(ProviderCreate, body)
        with self.db.uow() as uow:
            row = {"id": d.new_id(), **data.model_dump(), "created_at": uow.now()}
            uow.session.execute(store.providers.insert().values(**row))
            view = ProviderView.model_validate(row)
            uow.audit(
                "provider.registered", "provider", row["id"], None, view.model_dump(mode="json")
            )
            uow.emit(ProviderRegistered(provider=view))
            uow.commit()
        return view.model_dump(mode="json")

    @rpc
    def get_provider(self, provider_id: str) -> dict | None:
        with self.db.uow() as uow:
            row = uow.session.execute(
                store.providers.select().where(store.providers.c.id == provider_id)
            ).first()
        return (
            ProviderView.model_validate(dict(row._mapping)).model_dump(mode="json") if row else None
        )

    # ==== the DPS (§3) and categories (§2) ===================================================

    @rpc
    def get_dps(self) -> dict:
        with self.db.uow() as uow:
            return store.dps(uow.session).to_view(d.london_date(uow.now())).model_dump(mode="json")

    @rpc
    def update_dps(self, body: dict) -> dict:
        """§3: extend, shorten or end the period of validity; open or close entry."""
        self._allow("lead")
        patch = parse(m.DpsPatch, body).model_dump(exclude_unset=True)
        with self.db.uow() as uow:
            now, today = uow.now(), d.london_date(uow.now())
            store.lock_dps(uow.session)
            before = store.dps(uow.session)
            after = d.apply_dps_change(before, patch)
            version = store.save_dps(uow.session, after, now, self.ctx.principal)
            view = after.to_view(today).model_dump(mode="json")
            uow.audit(
                "dps.changed",
                "dps",
                "dps",
                before.to_view(today).model_dump(mode="json"),
                {**view, "version": version},
            )
            uow.commit()
        return view

    @rpc
    def list_categories(self) -> dict:
        with self.db.uow() as uow:
            configs = store.current_configs(uow.session, uow.now())
            uow.commit()  # the first read seeds version 1
        return {
            "items": [c.to_view().model_dump(mode="json") for c in configs.values()],
            "next_cursor": None,
        }

    @rpc
    def get_category(self, code: str, version: int | None = None) -> dict:
        """The configuration in force (or one version) of a category (§2)."""
        with self.db.uow() as uow:
            configs = store.current_configs(uow.session, uow.now())
            uow.commit()
            if code not in configs:
                raise NotFound(f"no category {code}")
            config = (
                configs[code]
                if version is None
                else store.config_version(uow.session, code, version)
            )
        if config is None:
            raise NotFound(f"{code} has no version {version}")
        return config.to_view().model_dump(mode="json")

    @rpc
    def update_category(self, code: str, body: dict) -> dict:
        """§2: a settings change makes the next version; applications already submitted
        keep the version they were submitted under."""
        self._allow("lead")
        patch = parse(m.CategoryPatch, body).model_dump(exclude_unset=True)
        with self.db.uow() as uow:
            now = uow.now()
            store.lock_category(uow.session, code)
            configs = store.current_configs(uow.session, now)
            if code not in configs:
                raise NotFound(f"no category {code}")
            before = configs[code]
            after = d.apply_settings_change(before, patch, get_settings().authorities)
            store.add_config(uow.session, after, now, self.ctx.principal)
            uow.audit(
                "category.changed",
                "category",
                code,
                store.config_json(before),
                store.config_json(after),
            )
            uow.commit()
        return after.to_view().model_dump(mode="json")

    # ==== establishments (§4) ===============================================================

    @rpc
    def create_establishment(self, body: dict) -> dict:
        principal = self._allow("provider")
        data = parse(m.EstablishmentCreate, body)
        with self.db.uow() as uow:
            now = uow.now()
            repo = store.Establishments(uow.session)
            configs = store.current_configs(uow.session, now)
            est = d.Establishment.register(principal["provider_id"], data)
            repo.add(est, now)
            view = self._view(est, configs, d.london_date(now), principal)
            uow.audit("establishment.registered", "establishment", est.id, None, view)
            self._emit(uow, est)
            uow.commit()
        return view

    @rpc
    def update_establishment(self, establishment_id: str, body: dict) -> dict:
        """Name, address, capacity or contacts (§4, §8): the provider or the lead."""
        principal = self._allow("provider", "lead")
        data = parse(m.EstablishmentUpdate, body)
        with self.db.uow() as uow:
            now, today = uow.now(), d.london_date(uow.now())
            repo = store.Establishments(uow.session)
            configs = store.current_configs(uow.session, now)
            est = self._establishment(repo, establishment_id, principal, lock=True)
            before = self._view(est, configs, today, principal)
            est.update(data)
            self._flush(uow, repo, est, now)
            after = self._view(est, configs, today, principal)
            keys = ("name", "address", "capacity", "contacts")
            uow.audit(
                "establishment.changed",
                "establishment",
                est.id,
                {k: before[k] for k in keys},
                {k: after[k] for k in keys},
            )
            uow.commit()
        return after

    @rpc
    def get_establishment(self, establishment_id: str) -> dict:
        principal = self._allow(*READERS)
        with self.db.uow() as uow:
            configs = store.current_configs(uow.session, uow.now())
            est = self._establishment(
                store.Establishments(uow.session), establishment_id, principal
            )
            return self._view(est, configs, d.london_date(uow.now()), principal)

    @rpc
    def list_establishments(self, query: dict) -> dict:
        """GET /establishments (§10 scoping, then the filters; pages by id)."""
        principal = self._allow(*READERS)
        q = parse(m.EstablishmentQuery, query)
        role = principal["role"]
        after = paging.decode(q.cursor)
        if role == "commissioner" and q.status not in (None, "admitted"):
            return {"items": [], "next_cursor": None}
        with self.db.uow() as uow:
            today = d.london_date(uow.now())
            configs = store.current_configs(uow.session, uow.now())
            repo = store.Establishments(uow.session)
            ids = repo.list_ids(
                provider_id=principal.get("provider_id") if role == "provider" else None,
                category=q.category,
                status=q.status,
                admitted_only=role == "commissioner",
                near=m.parse_near(q.near) if q.near else None,
                radius_miles=q.radius_miles,
                reverification_due=today if q.reverification_due else None,
                after=after[0] if after else None,
                limit=q.limit + 1,
            )
            found = repo.get_many(ids)
            items = [self._view(found[i], configs, today, principal) for i in ids]
        return paging.page(items, q.limit, lambda item: [item["id"]])

    @rpc
    def export_establishments(self, query: dict) -> dict:
        """Admitted establishments with their admitted memberships (business case 7.16),
        for partners running referrals elsewhere: the lead and the contract manager."""
        self._allow("lead", "contract_manager")
        q = parse(m.ExportQuery, query)
        with self.db.uow() as uow:
            now, today = uow.now(), d.london_date(uow.now())
            configs = store.current_configs(uow.session, now)
            repo = store.Establishments(uow.session)
            found = repo.get_many(repo.admitted_ids(q.category))
            names = dict(
                uow.session.execute(
                    store.providers.select()
                    .with_only_columns(store.providers.c.id, store.providers.c.name)
                    .where(store.providers.c.id.in_({e.provider_id for e in found.values()}))
                ).all()
            )
        items = []
        for est in sorted(found.values(), key=lambda e: (e.name, e.id)):
            latest = est.latest_judgement()
            members = [
                ms.to_view(configs[ms.category], today).model_dump(
                    mode="json",
                    include={
                        "category",
                        "status",
                        "admitted_on",
                        "competency",
                        "core_costs",
                        "total_weekly_core_cost",
                        "cohort_discounts",
                        "additional_services",
                        "reverification_due_on",
                    },
                )
                for ms in est.memberships
                if ms.state == "admitted" and q.category in (None, ms.category)
            ]
            items.append(
                {
                    "id": est.id,
                    "name": est.name,
                    "urn": est.urn,
                    "provider_id": est.provider_id,
                    "provider_name": names.get(est.provider_id),
                    "address": est.address,
                    "postcode": est.postcode,
                    "location": {"lat": est.location.lat, "lon": est.location.lon},
                    "capacity": est.capacity,
                    "contacts": [
                        {
                            "name": c.name,
                            "email": c.email,
                            "phone": c.phone,
                            "sms_opt_in": c.sms_opt_in,
                        }
                        for c in est.contacts
                    ],
                    "latest_inspection": None
                    if latest is None
                    else {
                        "body": latest.body,
                        "grade": latest.grade,
                        "date": latest.date.isoformat(),
                    },
                    "memberships": members,
                }
            )
        return {
            "items": items,
            "cost_heads": {
                code: list(c.all_cost_heads)
                for code, c in configs.items()
                if q.category in (None, code)
            },
            "generated_on": today.isoformat(),
        }

    @rpc
    def record_inspection(self, establishment_id: str, body: dict) -> dict:
        """§4.1, §4.5: a new judgement; a latest INADEQUATE suspends at once."""
        principal = self._allow("lead")
        data = parse(m.InspectionCreate, body)
        with self.db.uow() as uow:
            now, today = uow.now(), d.london_date(uow.now())
            repo = store.Establishments(uow.session)
            configs = store.current_configs(uow.session, now)
            est = self._establishment(repo, establishment_id, principal, lock=True)
            before = _summaries(est, today)
            judgement = d.InspectionJudgement.from_message(data)
            est.record_inspection(judgement, configs, now)
            self._flush(uow, repo, est, now)
            uow.audit(
                "establishment.inspection_recorded",
                "establishment",
                est.id,
                None,
                {
                    "body": judgement.body,
                    "grade": judgement.grade,
                    "date": judgement.date.isoformat(),
                },
            )
            self._audit_memberships(uow, "membership.suspended", est, before, today)
            view = self._view(est, configs, today, principal)
            uow.commit()
        return view

    # ==== eligibility and standings (§5, §6) — for the referral service =======================

    @rpc
    def eligible_establishments(self, query: dict) -> list[dict]:
        """§5: admitted, non-suspended establishments of the category within the radius,
        not above ``authority``'s own cap; nearest first (``EligibleEstablishment``)."""
        q = parse(m.EligibilityQuery, query)
        with self.db.uow() as uow:
            config = store.current_configs(uow.session, uow.now())[q.category]
            found = store.eligible_establishments(
                uow.session,
                config,
                d.GeoPoint(q.lat, q.lon),
                q.radius_miles,
                q.authority,
                d.london_date(uow.now()),
            )
        return [e.model_dump(mode="json") for e in found]

    @rpc
    def list_eligible(self, query: dict) -> dict:
        """GET /establishments/eligible: the same list for the caller's own authority."""
        principal = self._allow("commissioner", "lead")
        q = parse(m.EligibleQuery, query)
        items = self.eligible_establishments(
            {**q.model_dump(), "authority": principal.get("authority") or "WSCC"}
        )
        return {"items": items, "next_cursor": None}

    @rpc
    def standings(self, category: str, establishment_ids: list[str]) -> dict:
        """§6.2, §6.3: ``{id: {admitted, status, competency}}`` now (referral calls it at
        the deadline). An unknown establishment is not admitted, competency 0."""
        q = parse(m.StandingsQuery, {"category": category, "establishment_ids": establishment_ids})
        with self.db.uow() as uow:
            found = store.standings(uow.session, q.category, q.establishment_ids)
        return {i: s.model_dump(mode="json") for i, s in found.items()}

    # ==== applications (§4, §4.3) ===========================================================

    @rpc
    def create_application(self, body: dict) -> dict:
        principal = self._allow("provider")
        data = parse(m.ApplicationCreate, body)
        with self.db.uow() as uow:
            now = uow.now()
            repo, apps = store.Establishments(uow.session), store.Applications(uow.session)
            try:
                est = self._establishment(repo, data.establishment_id, principal, lock=True)
            except NotFound:
                raise InvalidInput.at(["establishment_id"], "no such establishment") from None
            config = store.current_configs(uow.session, now)[data.category]
            app = d.open_application(
                est,
                data.category,
                d.ApplicationContent.from_message(data),
                config,
                apps.for_establishments([est.id])[est.id],
                now,
            )
            apps.add(app, now)
            uow.audit("application.created", "application", app.id, None, _application_summary(app))
            uow.commit()
        return app.to_view(d.london_date(now)).model_dump(mode="json")

    def _application_command(
        self,
        application_id: str,
        principal: dict,
        action: str,
        command,
        summary=_application_summary,
    ) -> dict:
        """Run ``command(app, session, now)`` on a locked application; save it and audit the
        change (§9) as ``summary`` of the application before and after."""
        with self.db.uow() as uow:
            now = uow.now()
            apps = store.Applications(uow.session)
            app = self._application(apps, application_id, principal, lock=True)
            before = summary(app)
            command(app, uow.session, now)
            apps.save(app, now)
            uow.audit(action, "application", app.id, before, summary(app))
            uow.commit()
        return app.to_view(d.london_date(now)).model_dump(mode="json")

    @rpc
    def update_application(self, application_id: str, body: dict) -> dict:
        """Replace a draft's content (§4), e.g. a copy's establishment-level answers."""
        principal = self._allow("provider")
        content = d.ApplicationContent.from_message(parse(m.ApplicationUpdate, body))
        return self._application_command(
            application_id,
            principal,
            "application.revised",
            lambda app, s, now: app.revise(
                content, store.current_configs(s, now)[app.category], now
            ),
            summary=lambda app: store.content_json(app.content),
        )

    @rpc
    def get_application(self, application_id: str) -> dict:
        principal = self._allow("provider", "lead")
        with self.db.uow() as uow:
            app = self._application(store.Applications(uow.session), application_id, principal)
            return app.to_view(d.london_date(uow.now())).model_dump(mode="json")

    @rpc
    def list_applications(self, query: dict) -> dict:
        principal = self._allow("provider", "lead")
        q = parse(m.ApplicationQuery, query)
        after = paging.decode(q.cursor)
        with self.db.uow() as uow:
            today = d.london_date(uow.now())
            found = store.Applications(uow.session).list(
                provider_id=principal.get("provider_id")
                if principal["role"] == "provider"
                else None,
                status=q.status,
                overdue=q.overdue,
                today=today,
                category=q.category,
                establishment_id=q.establishment_id,
                after=after,
                limit=q.limit + 1,
            )
        items = [a.to_view(today).model_dump(mode="json") for a in found]
        return paging.page(items, q.limit, lambda i: [i["created_at"], i["id"]])

    @rpc
    def copy_application(self, application_id: str, body: dict) -> dict:
        """§4: new drafts for the provider's other establishments in one call, reusing the
        organisation's answers; all or nothing."""
        principal = self._allow("provider")
        data = parse(m.ApplicationCopy, body)
        with self.db.uow() as uow:
            now = uow.now()
            repo, apps = store.Establishments(uow.session), store.Applications(uow.session)
            source = self._application(apps, application_id, principal)
            found = repo.get_many(data.establishment_ids, lock=True)
            targets = []
            for i, est_id in enumerate(data.establishment_ids):
                est = found.get(est_id)
                if est is None or est.provider_id != principal.get("provider_id"):
                    raise InvalidInput.at(["establishment_ids", i], "no such establishment")
                targets.append(est)
            config = store.current_configs(uow.session, now)[source.category]
            drafts = d.copy_application(
                source, targets, apps.for_establishments(found), config, now
            )
            for app in drafts:
                apps.add(app, now)
                uow.audit(
                    "application.created",
                    "application",
                    app.id,
                    None,
                    {**_application_summary(app), "copied_from": source.id},
                )
            uow.commit()
        today = d.london_date(now)
        return {
            "items": [a.to_view(today).model_dump(mode="json") for a in drafts],
            "next_cursor": None,
        }

    @rpc
    def submit_application(self, application_id: str) -> dict:
        """§3, §4.3: Conflict (409) while entry is closed or when incomplete."""
        principal = self._allow("provider")
        return self._application_command(
            application_id,
            principal,
            "application.submitted",
            lambda app, s, now: app.submit(
                store.current_configs(s, now)[app.category], store.dps(s), now
            ),
        )

    @rpc
    def extend_evaluation(self, application_id: str, body: dict) -> dict:
        """§4.3: once, to 15 working days, with the reason recorded."""
        principal = self._allow("lead")
        data = parse(m.EvaluationExtension, body)
        return self._application_command(
            application_id,
            principal,
            "application.evaluation_extended",
            lambda app, s, now: app.extend_evaluation(data.reason),
        )

    @rpc
    def decide_application(self, application_id: str, body: dict) -> dict:
        """§4.2, §4.3: admitted (a membership, its competency) or rejected with reasons,
        judged against the configuration version in force at submission."""
        principal = self._allow("lead")
        data = parse(m.Decision, body)
        with self.db.uow() as uow:
            now, today = uow.now(), d.london_date(uow.now())
            repo, apps = store.Establishments(uow.session), store.Applications(uow.session)
            peek = self._application(apps, application_id, principal)
            est = repo.get(peek.establishment_id, lock=True)  # establishment first, then app
            app = apps.get(application_id, lock=True)
            if app.status != "submitted":
                raise Conflict(
                    f"the application is {app.status}; only a submitted application can be decided"
                )
            config = store.config_version(uow.session, app.category, app.config_version)
            before_app, before_ms = _application_summary(app), _summaries(est, today)
            app.decide(d.Decision.from_message(data), config, est, now)
            apps.save(app, now)
            uow.audit(
                "application.decided", "application", app.id, before_app, _application_summary(app)
            )
            self._emit(uow, app)
            self._flush(uow, repo, est, now)
            self._audit_memberships(uow, "membership.admitted", est, before_ms, today)
            uow.commit()
        return app.to_view(today).model_dump(mode="json")

    # ==== memberships (§4.5) ================================================================

    def _membership_command(
        self, establishment_id: str, category: str, roles: tuple, action: str, command
    ) -> dict:
        """Run ``command(est, config, now)`` on a locked establishment; audit and emit."""
        principal = self._allow(*roles)
        if category not in d.CATEGORIES:
            raise NotFound(f"no category {category}")
        with self.db.uow() as uow:
            now, today = uow.now(), d.london_date(uow.now())
            repo = store.Establishments(uow.session)
            configs = store.current_configs(uow.session, now)
            est = self._establishment(repo, establishment_id, principal, lock=True)
            before = _summaries(est, today)
            command(est, configs[category], now)
            self._flush(uow, repo, est, now)
            self._audit_memberships(uow, action, est, before, today)
            view = est.membership(category).to_view(configs[category], today)
            uow.commit()
        return view.model_dump(mode="json")

    @rpc
    def suspend_membership(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: only for a pass/fail criterion that no longer holds; all authorities."""
        data = parse(m.SuspendRequest, body)
        return self._membership_command(
            establishment_id,
            category,
            ("lead",),
            "membership.suspended",
            lambda est, config, now: est.suspend(
                category, data.criterion, data.reason, config, now
            ),
        )

    @rpc
    def resubmit_evidence(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: the provider resubmits the failed criterion's evidence only."""
        data = parse(m.Resubmission, body)
        answer = d.CriterionAnswer.from_message(data)
        return self._membership_command(
            establishment_id,
            category,
            ("provider",),
            "membership.evidence_resubmitted",
            lambda est, config, now: est.resubmit(category, data.criterion, answer, config, now),
        )

    @rpc
    def reinstate_membership(self, establishment_id: str, category: str) -> dict:
        """§4.5: the lead accepts the resubmission; admitted again, history kept."""
        return self._membership_command(
            establishment_id,
            category,
            ("lead",),
            "membership.reinstated",
            lambda est, config, now: est.reinstate(category, config, now),
        )

    @rpc
    def renew_evidence(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: new evidence before the old expires (keeps the membership admitted)."""
        data = parse(m.Resubmission, body)
        answer = d.CriterionAnswer.from_message(data)
        return self._membership_command(
            establishment_id,
            category,
            ("provider",),
            "membership.evidence_renewed",
            lambda est, config, now: est.renew_evidence(
                category, data.criterion, answer, config, now
            ),
        )

    @rpc
    def reverify_membership(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: the yearly re-verification; a failed criterion suspends."""
        data = parse(m.Reverification, body)
        return self._membership_command(
            establishment_id,
            category,
            ("lead",),
            "membership.reverified",
            lambda est, config, now: est.reverify(
                category, config, now, data.failed_criterion, data.reason
            ),
        )

    @rpc
    def remove_membership(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: the end of a membership; the establishment may apply again."""
        data = parse(m.MembershipRemoval, body)
        return self._membership_command(
            establishment_id,
            category,
            ("lead",),
            "membership.removed",
            lambda est, config, now: est.remove(category, data.reason, now),
        )

    # ==== uplifts (§7.2) ====================================================================

    @rpc
    def apply_uplift(self, body: dict) -> dict:
        """§7.2: raise one cost head of the category's current memberships by a percentage
        from a date, keeping the price history. Idempotent by ``uplift_id``."""
        if self.ctx.principal is not None:
            self._allow("contract_manager", "lead")
        req = parse(m.UpliftRequest, body)
        with self.db.uow() as uow:
            result = self._apply_uplift(uow, req)
            uow.commit()
        return result.model_dump(mode="json")

    def _apply_uplift(self, uow, req: m.UpliftRequest) -> m.UpliftResult:
        """Checks come before any write, so a refusal leaves nothing to roll back."""
        s, now = uow.session, uow.now()
        today = d.london_date(now)
        store.lock_uplift(s, req.uplift_id)
        done = store.uplift_applied(s, req.uplift_id)
        if done is not None:
            return m.UpliftResult(
                uplift_id=req.uplift_id,
                already_applied=True,
                applied=done["applied"],
                skipped=done["skipped"],
            )
        config = store.current_configs(s, now)[req.category]
        if req.cost_head not in config.all_cost_heads:
            raise InvalidInput.at(["cost_head"], f"not a cost head of {req.category}")
        repo = store.Establishments(s)
        applied, skipped = [], []
        for est in repo.get_many(repo.current_ids(req.category), lock=True).values():
            before = _summaries(est, today)
            try:
                event = est.apply_uplift(
                    config, req.cost_head, req.percent, req.effective_from, req.uplift_id, now
                )
            except Conflict as exc:
                log.warning(
                    "uplift not applied to an establishment",
                    uplift_id=req.uplift_id,
                    establishment_id=est.id,
                    reason=exc.detail,
                )
                skipped.append({"establishment_id": est.id, "reason": exc.detail})
                continue
            if event is None:
                skipped.append(
                    {
                        "establishment_id": est.id,
                        "reason": "no price of the head in force on the effective date",
                    }
                )
                continue
            applied.append(est.id)
            self._flush(uow, repo, est, now)
            uow.audit(
                "membership.core_costs_changed",
                "membership",
                event.membership_id,
                before.get(event.membership_id),
                {
                    "cost_head": event.cost_head,
                    "old": str(event.old),
                    "new": str(event.new),
                    "effective_from": str(event.effective_from),
                    "uplift_id": req.uplift_id,
                    "establishment_id": est.id,
                },
            )
        store.record_uplift(s, req, now, applied, skipped)
        uow.audit(
            "uplift.applied",
            "uplift",
            req.uplift_id,
            None,
            {**req.model_dump(mode="json"), "applied": len(applied), "skipped": len(skipped)},
        )
        return m.UpliftResult(
            uplift_id=req.uplift_id, already_applied=False, applied=applied, skipped=skipped
        )

    # ==== consumed events =====================================================================

    @event_handler("contracts", "uplift_set")
    def on_uplift_set(self, payload: dict) -> None:
        """§7.2 from contracts; a refusal (unknown category or head) is logged and acked."""
        try:
            event = parse(m.UpliftSet, payload)
            req = parse(
                m.UpliftRequest,
                {
                    "uplift_id": event.uplift_id,
                    "category": event.category,
                    "cost_head": event.cost_head,
                    "percent": str(event.percent),
                    "effective_from": event.effective_from.isoformat(),
                },
            )
        except InvalidInput as exc:
            log.error("uplift_set refused", event_id=payload.get("event_id"), error=exc.detail)
            return
        with self.db.event_uow(payload, "on_uplift_set") as uow:
            if uow.duplicate:
                return
            try:
                result = self._apply_uplift(uow, req)
            except (Conflict, InvalidInput) as exc:
                log.error("uplift_set refused", uplift_id=req.uplift_id, error=exc.detail)
                uow.commit()  # nothing was written but the claim: never retried
                return
            uow.commit()
        log.info(
            "uplift applied",
            uplift_id=req.uplift_id,
            applied=len(result.applied),
            skipped=len(result.skipped),
            already=result.already_applied,
        )

    @event_handler("contracts", "performance_reviewed")
    def on_performance_reviewed(self, payload: dict) -> None:
        """§4.5, §7.4: move the competency by the performance index, at most once per
        configured period per membership (the domain skips a review too early); every move
        kept with its reason."""
        try:
            event = parse(m.PerformanceReviewed, payload)
        except InvalidInput as exc:
            log.error(
                "performance_reviewed refused", event_id=payload.get("event_id"), error=exc.detail
            )
            return
        with self.db.event_uow(payload, "on_performance_reviewed") as uow:
            if uow.duplicate:
                return
            now, today = uow.now(), d.london_date(uow.now())
            repo = store.Establishments(uow.session)
            est = repo.get(event.establishment_id, lock=True)
            if est is None:
                log.warning(
                    "performance review of an unknown establishment",
                    establishment_id=event.establishment_id,
                )
                uow.commit()
                return
            configs = store.current_configs(uow.session, now)
            moves = {ms.id: len(ms.competency_moves) for ms in est.memberships}
            before = _summaries(est, today)
            est.apply_performance_review(event, configs, now)
            self._flush(uow, repo, est, now)
            for ms in est.memberships:
                if len(ms.competency_moves) > moves.get(ms.id, 0):
                    move = ms.competency_moves[-1]
                    uow.audit(
                        "membership.competency_moved",
                        "membership",
                        ms.id,
                        {"competency": before[ms.id]["competency"]},
                        {
                            "competency": str(move.new),
                            "performance_index": str(move.performance_index),
                            "period_start": move.period_start.isoformat(),
                            "period_end": move.period_end.isoformat(),
                            "reviews_count": move.reviews_count,
                            "event_id": event.event_id,
                        },
                    )
            uow.commit()

    # ==== timer (§4.5, DESIGN rule 4) ===========================================================

    @timer(interval=TIMER_SECONDS)
    def evidence_timer(self) -> None:
        counts = self._check_evidence()
        if any(counts.values()):
            log.info("evidence timer", **counts)

    @rpc
    def check_evidence(self) -> dict:
        """One pass of the evidence timer now (operations, tests)."""
        return self._check_evidence()

    def _check_evidence(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        seen: set[str] = set()
        for _ in range(TIMER_BATCH):
            with self.db.uow() as uow:
                now, today = uow.now(), d.london_date(uow.now())
                repo = store.Establishments(uow.session)
                est = repo.lock_next_due(today, exclude=seen)
                if est is None:
                    break
                seen.add(est.id)
                before = _summaries(est, today)
                reminders = est.remind_expiring_evidence(now)
                suspensions = est.suspend_expired_evidence(now)
                flagged = est.flag_due_reverifications(now)
                self._flush(uow, repo, est, now)
                for e in reminders:
                    uow.audit(
                        "membership.expiry_reminded",
                        "membership",
                        e.membership_id,
                        None,
                        {"criterion": e.criterion, "expires_on": e.expires_on.isoformat()},
                    )
                for e in flagged:
                    uow.audit(
                        "membership.reverification_due",
                        "membership",
                        e.membership_id,
                        None,
                        {"due_on": e.due_on.isoformat()},
                    )
                self._audit_memberships(uow, "membership.suspended", est, before, today)
                uow.commit()
            counts["reminded"] += len(reminders)
            counts["suspended"] += len(suspensions)
            counts["reverification_due"] += len(flagged)
            counts["establishments"] += 1
        return dict(counts)
