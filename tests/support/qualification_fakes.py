"""An in-memory qualification store for handler unit tests: the surface of
``services.qualification.store.repository.Store`` over dicts.

Aggregates are copied in and out (as the real store rebuilds them from rows), so a
handler that forgets to ``save`` leaves nothing behind. Locks are no-ops.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime
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
             establishment_id=None, after=None, limit=50, dps_id=None):
        found = [a for a in self.rows.values()
                 if (provider_id is None or a.provider_id == provider_id)
                 and (status is None or a.status == status)
                 and (overdue is None or a.is_overdue(today) == overdue)
                 and (category is None or a.category == category)
                 and (establishment_id is None or a.establishment_id == establishment_id)
                 and (dps_id is None or a.dps_id == dps_id)]
        return sorted(found, key=lambda a: (a.created_at, a.id))[:limit]


class FakeStore:
    def __init__(self, configs: dict[str, d.CategoryConfig] | None = None,
                 dps: d.DpsSettings = DEFAULT_DPS):
        self.establishments = FakeEstablishments()
        self.applications = FakeApplications()
        self.providers: dict[str, dict] = {}
        self.configs = {code: [c] for code, c in (configs or d.default_category_configs()).items()}
        self.dps_versions = [dps]
        self.market_settings: dict[str, list[d.DpsSettings]] = {}
        self.market_rows: dict[str, d.Market] = {}
        first = d.Market(
            dps_id=d.FIRST_DPS_ID, regime=d.PCR2015, title="Children's placements DPS",
            parts=tuple(d.Part(i, c, c) for i, c in enumerate(d.CATEGORIES, 1)), settings=dps,
            lead_authority="WSCC", created_at=datetime(2024, 1, 1, tzinfo=UTC),
            state="established", established_on=dps.valid_from, is_default=True)
        self.market_rows[first.dps_id] = first
        self.uplifts: dict[str, dict] = {}

    def add_provider(self, row):
        self.providers[row["id"]] = dict(row)

    def get_provider(self, provider_id):
        return self.providers.get(provider_id)

    def provider_names(self, ids):
        return {i: self.providers[i]["name"] for i in ids if i in self.providers}

    def dps(self, dps_id=d.FIRST_DPS_ID):
        if dps_id == d.FIRST_DPS_ID:
            return self.dps_versions[-1]
        return self.market_settings[dps_id][-1]

    def lock_dps(self):
        pass

    def save_dps(self, settings, at, by, dps_id=d.FIRST_DPS_ID):
        versions = (self.dps_versions if dps_id == d.FIRST_DPS_ID
                    else self.market_settings.setdefault(dps_id, []))
        versions.append(settings)
        return len(versions)

    def _market(self, mk):
        if mk is None:
            return None
        copy = replace(mk, events=[], warnings_sent=list(mk.warnings_sent))
        copy.settings = self.dps(mk.dps_id)
        return copy

    def markets(self):
        return [self._market(mk) for mk in self.market_rows.values()]

    def market(self, dps_id, *, lock=False):
        return self._market(self.market_rows.get(dps_id))

    def default_market(self):
        return next((self._market(mk) for mk in self.market_rows.values() if mk.is_default),
                    None)

    def add_market(self, mk, at, by):
        self.market_rows[mk.dps_id] = replace(mk, events=[])
        self.save_dps(mk.settings, at, by, mk.dps_id)

    def save_market(self, mk):
        if mk.is_default:
            for other in self.market_rows.values():
                other.is_default = False
        self.market_rows[mk.dps_id] = replace(mk, events=[], warnings_sent=list(mk.warnings_sent))

    def update_provider(self, provider_id, values):
        self.providers[provider_id].update(values)

    def current_configs(self, at):
        return {code: versions[-1] for code, versions in self.configs.items()}

    def config_version(self, code, version):
        return next((c for c in self.configs.get(code, []) if c.version == version), None)

    def add_config(self, config, at, by):
        self.configs[config.code].append(config)

    def lock_category(self, code):
        pass

    def eligible_establishments(self, config, point, radius_miles, authority, today,
                                dps_id=None):
        def of_market(e):
            if dps_id is None:
                return e
            return replace(e, memberships=[ms for ms in e.memberships if ms.dps_id == dps_id])
        found = [d.eligible(of_market(e), config, point, radius_miles, authority, today)
                 for e in self.establishments.rows.values()]
        return sorted((f for f in found if f is not None),
                      key=lambda e: (e.distance_miles, e.establishment_id))

    def standings(self, category, ids, dps_id=None):
        out = {}
        for i in dict.fromkeys(ids):
            est = self.establishments.rows.get(i)
            latest = None if est is None else next(
                (ms for ms in reversed(est.memberships) if ms.category == category
                 and dps_id in (None, ms.dps_id)), None)
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
