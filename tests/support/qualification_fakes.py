"""An in-memory qualification store for handler unit tests: the surface of
``services.qualification.store.repository.Store`` over dicts.

Aggregates are copied in and out (as the real store rebuilds them from rows), so a
handler that forgets to ``save`` leaves nothing behind. Locks are no-ops.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

from services.qualification import domain as d
from services.qualification import messages as m

DEFAULT_DPS = d.DpsSettings(date(2025, 4, 1), date(2035, 3, 31), entry_open=True)


class FakeEstablishments:
    def __init__(self):
        self.rows: dict[str, d.Establishment] = {}

    def get(self, establishment_id, *, lock=False):
        est = self.rows.get(establishment_id)
        return None if est is None else copy.deepcopy(est)

    def get_many(self, ids, *, lock=False, light=False):
        return {i: copy.deepcopy(self.rows[i]) for i in sorted(set(ids)) if i in self.rows}

    def add(self, est, at):
        self.save(est, at)

    def save(self, est, at):
        stored = copy.deepcopy(est)
        stored.events = []
        self.rows[est.id] = stored

    def list_ids(self, *, provider_id=None, category=None, status=None, admitted_only=False,
                 near=None, radius_miles=None, reverification_due=None, after=None, limit=50):
        def keep(e: d.Establishment) -> bool:
            states = [ms.state for ms in e.memberships
                      if category is None or ms.category == category]
            return ((provider_id is None or e.provider_id == provider_id)
                    and (category is None or category in e.categories)
                    and (status is None or status in states)
                    and (not admitted_only or "admitted" in states)
                    and (after is None or e.id > after))
        return sorted(i for i, e in self.rows.items() if keep(e))[:limit]

    def admitted_ids(self, category=None):
        return sorted(i for i, e in self.rows.items() for ms in e.memberships
                      if ms.state == "admitted" and category in (None, ms.category))

    def current_ids(self, category):
        return sorted(i for i, e in self.rows.items()
                      if (ms := e.current_membership(category)) is not None and ms.current)

    def lock_next_due(self, today, exclude=()):
        for i, e in sorted(self.rows.items()):
            if i in exclude:
                continue
            if any(ms.current and (n := ms.next_check()) is not None and n <= today
                   for ms in e.memberships):
                return copy.deepcopy(e)
        return None


class FakeApplications:
    def __init__(self):
        self.rows: dict[str, d.Application] = {}

    def get(self, application_id, *, lock=False):
        app = self.rows.get(application_id)
        return None if app is None else copy.deepcopy(app)

    def for_establishments(self, ids):
        ids = list(ids)
        out = {i: [] for i in ids}
        for app in self.rows.values():
            if app.establishment_id in out:
                out[app.establishment_id].append(copy.deepcopy(app))
        return out

    def add(self, app, at):
        self.save(app, at)

    def save(self, app, at):
        stored = copy.deepcopy(app)
        stored.events = []
        self.rows[app.id] = stored

    def list(self, *, provider_id=None, status=None, overdue=None, today=None, category=None,
             establishment_id=None, after=None, limit=50):
        found = [a for a in self.rows.values()
                 if (provider_id is None or a.provider_id == provider_id)
                 and (status is None or a.status == status)
                 and (overdue is None or a.is_overdue(today) == overdue)
                 and (category is None or a.category == category)
                 and (establishment_id is None or a.establishment_id == establishment_id)]
        return sorted(found, key=lambda a: (a.created_at, a.id))[:limit]


class FakeStore:
    def __init__(self, configs: dict[str, d.CategoryConfig] | None = None,
                 dps: d.DpsSettings = DEFAULT_DPS):
        self.establishments = FakeEstablishments()
        self.applications = FakeApplications()
        self.providers: dict[str, dict] = {}
        self.configs = {code: [c] for code, c in (configs or d.default_category_configs()).items()}
        self.dps_versions = [dps]
        self.uplifts: dict[str, dict] = {}

    def add_provider(self, row):
        self.providers[row["id"]] = dict(row)

    def get_provider(self, provider_id):
        return self.providers.get(provider_id)

    def provider_names(self, ids):
        return {i: self.providers[i]["name"] for i in ids if i in self.providers}

    def dps(self):
        return self.dps_versions[-1]

    def lock_dps(self):
        pass

    def save_dps(self, settings, at, by):
        self.dps_versions.append(settings)
        return len(self.dps_versions)

    def current_configs(self, at):
        return {code: versions[-1] for code, versions in self.configs.items()}

    def config_version(self, code, version):
        return next((c for c in self.configs.get(code, []) if c.version == version), None)

    def add_config(self, config, at, by):
        self.configs[config.code].append(config)

    def lock_category(self, code):
        pass

    def eligible_establishments(self, config, point, radius_miles, authority, today):
        found = [d.eligible(e, config, point, radius_miles, authority, today)
                 for e in self.establishments.rows.values()]
        return sorted((f for f in found if f is not None),
                      key=lambda e: (e.distance_miles, e.establishment_id))

    def standings(self, category, ids):
        out = {}
        for i in dict.fromkeys(ids):
            est = self.establishments.rows.get(i)
            latest = None if est is None else next(
                (ms for ms in reversed(est.memberships) if ms.category == category), None)
            out[i] = (m.Standing(admitted=False, status=None, competency=Decimal(0))
                      if latest is None else
                      m.Standing(admitted=latest.state == "admitted", status=latest.state,
                                 competency=latest.competency))
        return out

    def lock_uplift(self, uplift_id):
        pass

    def uplift_applied(self, uplift_id):
        return self.uplifts.get(uplift_id)

    def record_uplift(self, req, at, applied, skipped):
        self.uplifts[req.uplift_id] = {"id": req.uplift_id, "applied": applied,
                                       "skipped": skipped}
