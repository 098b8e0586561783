"""Tables and queries of the qualification service (schema ``qualification``).

Aggregates (``domain.Establishment`` with its memberships, ``domain.Application``) are
loaded and saved by the repositories below; the database guards the rules that span rows
(DESIGN: digitalmarketplace-api):

- one open (draft or submitted) application per establishment and category, and one
  current (admitted or suspended) membership per establishment and category: partial
  unique indexes;
- history is append-only: milestones, inspections, prices (RULES §7.2) and competency
  moves (§4.5, §7.4) are only ever inserted;
- commands lock the establishment row (``FOR UPDATE``), so one establishment's
  memberships change one command at a time; timers skip locked rows (DESIGN rule 4).

Eligibility (RULES §5) has no PostGIS: memberships carry a copy of their establishment's
location, a partial B-tree index on ``(category, lat, lon)`` of admitted memberships
serves the domain's bounding box, and the exact great-circle check is the domain's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common import money
from services.common.tables import common_tables
from services.qualification import domain as d
from services.qualification import messages as m

metadata = MetaData(schema="qualification")
TABLES = common_tables(metadata)

OPEN_STATES = ("draft", "submitted")
CURRENT_STATES = ("admitted", "suspended")

providers = Table(
    "providers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("companies_house_number", String(8)),
    Column("contact_email", String(320), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --- the DPS and its categories (§2, §3) ---------------------------------------------------

dps_settings = Table(
    "dps_settings",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("entry_open", Boolean, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", JSONB),
    CheckConstraint("valid_to >= valid_from", name="dps_settings_period"),
)
"""Every version of the DPS settings (RULES §3); the highest is in force."""

category_configs = Table(
    "category_configs",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("config", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", JSONB),
)
"""Every version of every category's configuration (RULES §2); an application keeps the
version in force when it was submitted."""


def _child(name: str, *columns: Column, parent: str = "memberships", **kw) -> Table:
    """A table of ``parent``'s rows (``<parent>_id`` in its primary key, deleted with it)."""
    key = f"{parent.removesuffix('s')}_id"
    return Table(
        name,
        metadata,
        Column(
            key,
            String(36),
            ForeignKey(f"qualification.{parent}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        *columns,
        **kw,
    )


# --- establishments (§4) ----------------------------------------------------------------------

establishments = Table(
    "establishments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("provider_id", String(64), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("urn", String(10)),
    Column("address", Text, nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("categories", ARRAY(String(40)), nullable=False),
    Column("capacity", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="est_location"),
    Index("ix_establishments_lat_lon", "lat", "lon"),
)

establishment_contacts = _child(
    "establishment_contacts",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("name", String(300), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(30)),
    Column("sms_opt_in", Boolean, nullable=False),
    parent="establishments",
)

inspections = _child(
    "inspections",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("body", String(10), nullable=False),
    Column("grade", String(30), nullable=False),
    Column("date", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    parent="establishments",
)
"""Regulator judgements in the order recorded (RULES §4.1); append-only."""

# --- applications (§4.3) ---------------------------------------------------------------------

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "establishment_id",
        String(36),
        ForeignKey("qualification.establishments.id"),
        nullable=False,
    ),
    Column("provider_id", String(64), nullable=False),
    Column("category", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("content", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("copied_from", String(36)),
    Column("config_version", Integer),
    Column("submitted_at", DateTime(timezone=True)),
    Column("due_on", Date),
    Column("extension_reason", Text),
    Column("decision", JSONB),
    Column("decided_at", DateTime(timezone=True)),
    CheckConstraint(
        "status IN ('draft', 'submitted', 'admitted', 'rejected')", name="application_status"
    ),
    Index(
        "uq_applications_open",
        "establishment_id",
        "category",
        unique=True,
        postgresql_where=text("status IN ('draft', 'submitted')"),
    ),
    Index("ix_applications_provider", "provider_id", "created_at"),
    Index("ix_applications_due", "due_on", postgresql_where=text("status = 'submitted'")),
)

# --- memberships (§4.5) ----------------------------------------------------------------------

memberships = Table(
    "memberships",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "establishment_id",
        String(36),
        ForeignKey("qualification.establishments.id"),
        nullable=False,
        index=True,
    ),
    Column("category", String(40), nullable=False),
    Column(
        "application_id",
        String(36),
        ForeignKey("qualification.applications.id"),
        nullable=False,
    ),
    Column("state", String(20), nullable=False),
    Column("admitted_on", Date, nullable=False),
    Column("competency", Numeric(5, 2), nullable=False),
    Column("scores", JSONB, nullable=False),
    Column("reverification_due_on", Date, nullable=False),
    Column("reverification_flagged", Date),
    Column("cohort_discounts", JSONB, nullable=False),
    Column("additional_services", JSONB, nullable=False),
    Column("reminded", JSONB, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("next_check", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("state IN ('admitted', 'suspended', 'removed')", name="membership_state"),
    CheckConstraint("competency BETWEEN 0 AND 100", name="membership_competency"),
    Index(
        "uq_memberships_current",
        "establishment_id",
        "category",
        unique=True,
        postgresql_where=text("state IN ('admitted', 'suspended')"),
    ),
    Index(
        "ix_memberships_eligible",
        "category",
        "lat",
        "lon",
        postgresql_where=text("state = 'admitted'"),
    ),
    Index(
        "ix_memberships_next_check",
        "next_check",
        postgresql_where=text("state IN ('admitted', 'suspended')"),
    ),
)
"""One row per membership; ``lat``/``lon`` copy the establishment's location (fixed after
registration) for the eligibility index; ``next_check`` drives the evidence timer."""


membership_evidence = _child(
    "membership_evidence",
    Column("criterion", String(40), primary_key=True),
    Column("answer", JSONB, nullable=False),
    Column("expires_on", Date, index=True),
)
"""The evidence in force per criterion (RULES §4.1, §4.5), with its expiry."""

membership_milestones = _child(
    "membership_milestones",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(30), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by", String(20), nullable=False),
    Column("criterion", String(40)),
    Column("reason", Text),
    Column("answer", JSONB),
)
"""A membership's dated history (RULES §4.5); append-only."""

membership_costs = _child(
    "membership_costs",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("head", String(60), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("uplift_id", String(100)),
    CheckConstraint("amount >= 0", name="membership_cost_amount"),
)
"""Price history of the qualified core costs (RULES §4.4, §7.2); append-only."""

competency_moves = _child(
    "competency_moves",
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("performance_index", Numeric(6, 2), nullable=False),
    Column("reviews_count", Integer, nullable=False),
    Column("old", Numeric(5, 2), nullable=False),
    Column("new", Numeric(5, 2), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
"""Every move of the core competency score with its reason (RULES §4.5, §7.4)."""

uplifts = Table(
    "uplifts",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("category", String(40), nullable=False),
    Column("cost_head", String(64), nullable=False),
    Column("percent", Numeric(7, 3), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("applied", JSONB, nullable=False),
    Column("skipped", JSONB, nullable=False),
)
"""Uplifts applied (RULES §7.2), by the contracts service's uplift id: applied once."""


# --- codecs: domain values ↔ JSON ----------------------------------------------------------


def answer_json(a: d.CriterionAnswer) -> dict:
    return m.PassFailAnswer.model_validate(asdict(a)).model_dump(mode="json")


def answer_from(data: dict) -> d.CriterionAnswer:
    return d.CriterionAnswer.from_message(m.PassFailAnswer.model_validate(data))


def content_json(c: d.ApplicationContent) -> dict:
    return {
        "pass_fail": {k: answer_json(a) for k, a in c.pass_fail.items()},
        "method_statements": dict(c.method_statements),
        "core_costs": {h: money.fmt(a) for h, a in c.core_costs.items()},
        "additional_services": [_service_json(s) for s in c.additional_services],
        "cohort_discounts": [_tier_json(t) for t in c.cohort_discounts],
    }


def content_from(data: dict) -> d.ApplicationContent:
    return d.ApplicationContent.from_message(m.ApplicationUpdate.model_validate(data))


def _service_json(s: d.AdditionalService) -> dict:
    return {
        "name": s.name,
        "unit": s.unit,
        "unit_price": money.fmt(s.unit_price),
        "weekly_price": money.fmt(s.weekly_price),
    }


def _service_from(data: dict) -> d.AdditionalService:
    return d.AdditionalService(
        data["name"], data["unit"], Decimal(data["unit_price"]), Decimal(data["weekly_price"])
    )


def _tier_json(t: d.CohortTier) -> dict:
    return {"min_children": t.min_children, "percent": str(t.percent)}


def _tier_from(data: dict) -> d.CohortTier:
    return d.CohortTier(int(data["min_children"]), Decimal(str(data["percent"])))


def decision_json(o: d.DecisionOutcome) -> dict:
    return {
        "status": o.status,
        "results": {c: {"result": r.result, "reason": r.reason} for c, r in o.results.items()},
        "scores": dict(o.scores),
        "competency": str(o.competency),
        "failures": o.failure_list(),
        "decided_at": o.decided_at.isoformat(),
    }


def decision_from(data: dict) -> d.DecisionOutcome:
    return d.DecisionOutcome(
        status=data["status"],
        results={
            c: d.CriterionResult(r["result"], r.get("reason")) for c, r in data["results"].items()
        },
        scores=dict(data["scores"]),
        competency=Decimal(data["competency"]),
        failures={f["criterion"]: f["reason"] for f in data["failures"]},
        decided_at=datetime.fromisoformat(data["decided_at"]),
    )


def config_json(c: d.CategoryConfig) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "pass_fail_criteria": list(c.pass_fail_criteria),
        "cost_heads": list(c.cost_heads),
        "optional_cost_heads": list(c.optional_cost_heads),
        "version": c.version,
        "weighted_criteria_weights": dict(c.weighted_criteria_weights),
        "insurance_minimums": {k: money.fmt(v) for k, v in c.insurance_minimums.items()},
        "min_tender_period_hours": c.min_tender_period_hours,
        "min_invited": c.min_invited,
        "affordability_cap": None
        if c.affordability_cap is None
        else money.fmt(c.affordability_cap),
        "authority_caps": {k: money.fmt(v) for k, v in c.authority_caps.items()},
        "competency_period_months": c.competency_period_months,
        "referral_weights": dict(c.referral_weights),
    }


def config_from(data: dict) -> d.CategoryConfig:
    cap = data.get("affordability_cap")
    return d.CategoryConfig(
        code=data["code"],
        name=data["name"],
        pass_fail_criteria=tuple(data["pass_fail_criteria"]),
        cost_heads=tuple(data["cost_heads"]),
        optional_cost_heads=tuple(data.get("optional_cost_heads", ())),
        version=data["version"],
        weighted_criteria_weights=dict(data["weighted_criteria_weights"]),
        insurance_minimums={k: Decimal(v) for k, v in data["insurance_minimums"].items()},
        min_tender_period_hours=data["min_tender_period_hours"],
        min_invited=data["min_invited"],
        affordability_cap=None if cap is None else Decimal(cap),
        authority_caps={k: Decimal(v) for k, v in data.get("authority_caps", {}).items()},
        competency_period_months=data.get("competency_period_months", 6),
        referral_weights=dict(data.get("referral_weights", d.DEFAULT_REFERRAL_WEIGHTS)),
    )


# --- settings and configuration --------------------------------------------------------------

DEFAULT_DPS = d.DpsSettings(date(2025, 4, 1), date(2035, 3, 31), entry_open=True)
"""Version 1 of the DPS settings, used until the lead changes them (RULES §3)."""


def dps(session: Session) -> d.DpsSettings:
    row = session.execute(
        select(dps_settings).order_by(dps_settings.c.version.desc()).limit(1)
    ).first()
    if row is None:
        return DEFAULT_DPS
    return d.DpsSettings(row.valid_from, row.valid_to, row.entry_open)


def lock_dps(session: Session) -> None:
    """Serialise changes of the settings: take this before reading what to change."""
    session.execute(text("LOCK TABLE qualification.dps_settings IN EXCLUSIVE MODE"))


def save_dps(session: Session, settings: d.DpsSettings, at: datetime, by: dict | None) -> int:
    """A new version of the settings (call ``lock_dps`` first)."""
    current = session.execute(select(func.max(dps_settings.c.version))).scalar_one()
    if current is None:  # version 1 is the default in force until now
        _insert_dps(session, 1, DEFAULT_DPS, at, None)
        current = 1
    _insert_dps(session, current + 1, settings, at, by)
    return current + 1


def _insert_dps(
    session: Session, version: int, settings: d.DpsSettings, at: datetime, by: dict | None
) -> None:
    session.execute(
        insert(dps_settings).values(
            version=version,
            valid_from=settings.valid_from,
            valid_to=settings.valid_to,
            entry_open=settings.entry_open,
            changed_at=at,
            changed_by=by,
        )
    )


def ensure_categories(session: Session, at: datetime) -> None:
    """Seed version 1 of each category from the domain's defaults on first use (§2)."""
    present = set(session.execute(select(category_configs.c.code).distinct()).scalars())
    missing = [c for code, c in d.default_category_configs().items() if code not in present]
    if missing:
        session.execute(
            pg_insert(category_configs)
            .values(
                [
                    {
                        "code": c.code,
                        "version": c.version,
                        "config": config_json(c),
                        "created_at": at,
                        "created_by": None,
                    }
                    for c in missing
                ]
            )
            .on_conflict_do_nothing()
        )


def current_configs(session: Session, at: datetime) -> dict[str, d.CategoryConfig]:
    """The configuration in force of every category, by code (seeded if needed)."""
    rows = (
        session.execute(
            select(category_configs.c.config)
            .ext(distinct_on(category_configs.c.code))
            .order_by(category_configs.c.code, category_configs.c.version.desc())
        )
        .scalars()
        .all()
    )
    if len(rows) < len(d.CATEGORIES):
        ensure_categories(session, at)
        return current_configs(session, at)
    configs = {c.code: c for c in map(config_from, rows)}
    return {code: configs[code] for code in d.CATEGORIES if code in configs}


def config_version(session: Session, code: str, version: int) -> d.CategoryConfig | None:
    row = session.execute(
        select(category_configs.c.config).where(
            category_configs.c.code == code, category_configs.c.version == version
        )
    ).scalar_one_or_none()
    return None if row is None else config_from(row)


def add_config(session: Session, config: d.CategoryConfig, at: datetime, by: dict | None) -> None:
    """A new version; the primary key refuses a concurrent change to the same version."""
    session.execute(
        insert(category_configs).values(
            code=config.code,
            version=config.version,
            config=config_json(config),
            created_at=at,
            created_by=by,
        )
    )


def lock_category(session: Session, code: str) -> None:
    """Serialise configuration changes of one category (transaction-scoped)."""
    _advisory_lock(session, f"qualification:category:{code}")


def _advisory_lock(session: Session, key: str) -> None:
    """A transaction-scoped lock on ``key`` (released at commit or rollback)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


# --- establishments: the repository ----------------------------------------------------------


class _Loaded:
    """What was read, so that ``save`` writes only what changed (history is appended)."""

    def __init__(self, est: d.Establishment):
        self.contacts = est.contacts
        self.inspections = len(est.inspections)
        self.memberships = {
            ms.id: (len(ms.milestones), len(ms.costs), len(ms.competency_moves))
            for ms in est.memberships
        }


class Establishments:
    """Repository of ``Establishment`` aggregates (cosmicpython ``repository.py``)."""

    def __init__(self, session: Session):
        self.session = session
        self._loaded: dict[str, _Loaded] = {}

    # -- reading ------------------------------------------------------------------------
    def get(self, establishment_id: str, *, lock: bool = False) -> d.Establishment | None:
        return self.get_many([establishment_id], lock=lock).get(establishment_id)

    def get_many(
        self, ids: Iterable[str], *, lock: bool = False, light: bool = False
    ) -> dict[str, d.Establishment]:
        """Whole aggregates by id. ``lock`` takes their rows ``FOR UPDATE`` (in id order);
        ``light`` skips history (milestones, moves, evidence, inspections): read-only."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        q = select(establishments).where(establishments.c.id.in_(ids)).order_by(establishments.c.id)
        if lock:
            q = q.with_for_update()
        rows = self.session.execute(q).all()
        return self._build(rows, light=light)

    def _build(self, rows: Sequence[Any], *, light: bool) -> dict[str, d.Establishment]:
        s = self.session
        ids = [r.id for r in rows]
        if not ids:
            return {}
        contacts: dict[str, list] = {i: [] for i in ids}
        for c in _in_order(s, establishment_contacts, "establishment_id", ids):
            contacts[c.establishment_id].append(d.Contact(c.name, c.email, c.phone, c.sms_opt_in))
        judgements: dict[str, list] = {i: [] for i in ids}
        if not light:
            for j in _in_order(s, inspections, "establishment_id", ids):
                judgements[j.establishment_id].append(
                    d.InspectionJudgement(j.body, j.grade, j.date)
                )
        ms_rows = s.execute(
            select(memberships)
            .where(memberships.c.establishment_id.in_(ids))
            .order_by(memberships.c.establishment_id, memberships.c.created_at, memberships.c.id)
        ).all()
        ms_ids = [r.id for r in ms_rows]
        children = _membership_children(s, ms_ids, light=light)
        by_est: dict[str, list[d.Membership]] = {i: [] for i in ids}
        for r in ms_rows:
            by_est[r.establishment_id].append(_membership(r, children))
        result = {}
        for r in rows:
            est = d.Establishment(
                id=r.id,
                provider_id=r.provider_id,
                name=r.name,
                address=r.address,
                postcode=r.postcode,
                location=d.GeoPoint(r.lat, r.lon),
                categories=tuple(r.categories),
                contacts=tuple(contacts[r.id]),
                urn=r.urn,
                capacity=r.capacity,
                inspections=judgements[r.id],
                memberships=by_est[r.id],
            )
            if not light:
                self._loaded[r.id] = _Loaded(est)
            result[r.id] = est
        return result

    # -- writing ------------------------------------------------------------------------
    def add(self, est: d.Establishment, at: datetime) -> None:
        self.session.execute(
            insert(establishments).values(
                id=est.id,
                provider_id=est.provider_id,
                name=est.name,
                urn=est.urn,
                address=est.address,
                postcode=est.postcode,
                lat=est.location.lat,
                lon=est.location.lon,
                categories=list(est.categories),
                capacity=est.capacity,
                created_at=at,
                updated_at=at,
            )
        )
        self._write_contacts(est)
        self._loaded[est.id] = _Loaded(est)
        self._loaded[est.id].inspections = 0
        self._loaded[est.id].memberships = {}
        self.save(est, at)

    def save(self, est: d.Establishment, at: datetime) -> None:
        """Write what changed since ``get``/``add``: the row, new history, memberships."""
        loaded = self._loaded.get(est.id)
        if loaded is None:
            raise RuntimeError("save() needs an establishment read whole by this repository")
        s = self.session
        s.execute(
            update(establishments)
            .where(establishments.c.id == est.id)
            .values(name=est.name, address=est.address, capacity=est.capacity, updated_at=at)
        )
        if est.contacts != loaded.contacts:
            s.execute(
                delete(establishment_contacts).where(
                    establishment_contacts.c.establishment_id == est.id
                )
            )
            self._write_contacts(est)
        _append(
            s,
            inspections,
            {"establishment_id": est.id},
            loaded.inspections,
            est.inspections,
            lambda j: {"body": j.body, "grade": j.grade, "date": j.date, "recorded_at": at},
        )
        for ms in est.memberships:
            self._save_membership(est, ms, loaded.memberships.get(ms.id), at)
        self._loaded[est.id] = _Loaded(est)

    def _write_contacts(self, est: d.Establishment) -> None:
        _append(
            self.session,
            establishment_contacts,
            {"establishment_id": est.id},
            0,
            est.contacts,
            asdict,
        )

    def _save_membership(
        self,
        est: d.Establishment,
        ms: d.Membership,
        counts: tuple[int, int, int] | None,
        at: datetime,
    ) -> None:
        s = self.session
        values = {
            "state": ms.state,
            "competency": ms.competency,
            "scores": dict(ms.scores),
            "reverification_due_on": ms.reverification_due_on,
            "reverification_flagged": ms.reverification_flagged,
            "cohort_discounts": [_tier_json(t) for t in ms.cohort_discounts],
            "additional_services": [_service_json(x) for x in ms.additional_services],
            "reminded": {c: day.isoformat() for c, day in ms.reminded.items()},
            "next_check": ms.next_check(),
            "updated_at": at,
        }
        if counts is None:
            s.execute(
                insert(memberships).values(
                    id=ms.id,
                    establishment_id=est.id,
                    category=ms.category,
                    application_id=ms.application_id,
                    admitted_on=ms.admitted_on,
                    lat=est.location.lat,
                    lon=est.location.lon,
                    created_at=at,
                    **values,
                )
            )
            counts = (0, 0, 0)
        else:
            s.execute(update(memberships).where(memberships.c.id == ms.id).values(**values))
        # evidence in force: small, rewritten whole
        s.execute(delete(membership_evidence).where(membership_evidence.c.membership_id == ms.id))
        if ms.evidence:
            s.execute(
                insert(membership_evidence),
                [
                    {
                        "membership_id": ms.id,
                        "criterion": c,
                        "answer": answer_json(a),
                        "expires_on": a.expires_on,
                    }
                    for c, a in ms.evidence.items()
                ],
            )
        n_steps, n_costs, n_moves = counts
        owner = {"membership_id": ms.id}
        _append(
            s,
            membership_milestones,
            owner,
            n_steps,
            ms.milestones,
            lambda st: {
                "kind": st.kind,
                "at": st.at,
                "by": st.by,
                "criterion": st.criterion,
                "reason": st.reason,
                "answer": None if st.answer is None else answer_json(st.answer),
            },
        )
        _append(s, membership_costs, owner, n_costs, ms.costs, asdict)
        _append(s, competency_moves, owner, n_moves, ms.competency_moves, asdict)

    # -- queries ------------------------------------------------------------------------
    def list_ids(
        self,
        *,
        provider_id: str | None = None,
        category: str | None = None,
        status: str | None = None,
        admitted_only: bool = False,
        near: tuple[float, float] | None = None,
        radius_miles: float | None = None,
        reverification_due: date | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[str]:
        """Establishment ids matching the filters of ``GET /establishments``, by id."""
        e, ms = establishments, memberships
        q = select(e.c.id).order_by(e.c.id).limit(limit)
        if after:
            q = q.where(e.c.id > after)
        if provider_id is not None:
            q = q.where(e.c.provider_id == provider_id)
        if category is not None:
            q = q.where(e.c.categories.contains([category]))
        conditions = []
        if status is not None:
            conditions.append(ms.c.state == status)
        if admitted_only:
            conditions.append(ms.c.state == "admitted")
        if reverification_due is not None:
            conditions += [
                ms.c.state.in_(CURRENT_STATES),
                ms.c.reverification_due_on <= reverification_due,
            ]
        if conditions:
            if category is not None:
                conditions.append(ms.c.category == category)
            q = q.where(exists().where(ms.c.establishment_id == e.c.id, *conditions))
        if near is not None:
            point = d.GeoPoint(*near)
            min_lat, max_lat, min_lon, max_lon = d.bounding_box(point, radius_miles)
            q = q.where(
                e.c.lat.between(min_lat, max_lat),
                e.c.lon.between(min_lon, max_lon),
                _haversine_sql(e.c.lat, e.c.lon, point) <= radius_miles,
            )
        return list(self.session.execute(q).scalars())

    def admitted_ids(self, category: str | None = None) -> list[str]:
        """Establishments with an admitted membership (in ``category``), for export."""
        q = select(memberships.c.establishment_id).where(memberships.c.state == "admitted")
        if category is not None:
            q = q.where(memberships.c.category == category)
        return sorted(set(self.session.execute(q).scalars()))

    def current_ids(self, category: str) -> list[str]:
        """Establishments with a current (admitted or suspended) membership in ``category``."""
        return list(
            self.session.execute(
                select(memberships.c.establishment_id)
                .where(memberships.c.category == category, memberships.c.state.in_(CURRENT_STATES))
                .order_by(memberships.c.establishment_id)
            ).scalars()
        )

    def lock_next_due(self, today: date, exclude: Iterable[str] = ()) -> d.Establishment | None:
        """One establishment with a membership due for the evidence timer, locked; others
        running the timer skip it (``FOR UPDATE SKIP LOCKED``, DESIGN rule 4). ``exclude``:
        those this pass has already handled."""
        e, ms = establishments, memberships
        due = select(ms.c.establishment_id).where(
            ms.c.state.in_(CURRENT_STATES), ms.c.next_check <= today
        )
        q = select(e).where(e.c.id.in_(due)).order_by(e.c.id).limit(1)
        exclude = list(exclude)
        if exclude:
            q = q.where(e.c.id.not_in(exclude))
        row = self.session.execute(q.with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        return self._build([row], light=False)[row.id]


def _append(
    s: Session,
    table: Table,
    owner: dict,
    start: int,
    items: Sequence,
    row: Callable[[Any], dict],
) -> None:
    """Insert ``items[start:]``, numbered on from ``start`` (``seq``): append-only history."""
    if items[start:]:
        s.execute(
            insert(table),
            [{**owner, "seq": start + i, **row(x)} for i, x in enumerate(items[start:])],
        )


def _in_order(s: Session, table: Table, key: str, ids: list[str]):
    """The rows of ``table`` belonging to ``ids`` (its ``key``), in ``seq`` order."""
    return s.execute(select(table).where(table.c[key].in_(ids)).order_by(table.c[key], table.c.seq))


def _membership_children(s: Session, ids: list[str], *, light: bool) -> dict[str, dict]:
    out: dict[str, dict] = {
        i: {"evidence": {}, "milestones": [], "costs": [], "moves": []} for i in ids
    }
    if not ids:
        return out
    for c in _in_order(s, membership_costs, "membership_id", ids):
        out[c.membership_id]["costs"].append(
            d.CostEntry(c.head, c.amount, c.effective_from, c.reason, c.uplift_id)
        )
    if light:
        return out
    for ev in s.execute(
        select(membership_evidence).where(membership_evidence.c.membership_id.in_(ids))
    ):
        out[ev.membership_id]["evidence"][ev.criterion] = answer_from(ev.answer)
    for st in _in_order(s, membership_milestones, "membership_id", ids):
        out[st.membership_id]["milestones"].append(
            d.Milestone(
                st.kind,
                st.at,
                st.by,
                st.criterion,
                st.reason,
                None if st.answer is None else answer_from(st.answer),
            )
        )
    for mv in _in_order(s, competency_moves, "membership_id", ids):
        out[mv.membership_id]["moves"].append(
            d.CompetencyMove(
                mv.period_start,
                mv.period_end,
                mv.performance_index,
                mv.reviews_count,
                mv.old,
                mv.new,
                mv.at,
            )
        )
    return out


def _membership(r: Any, children: dict[str, dict]) -> d.Membership:
    c = children[r.id]
    return d.Membership(
        id=r.id,
        category=r.category,
        application_id=r.application_id,
        admitted_on=r.admitted_on,
        competency=r.competency,
        scores=dict(r.scores),
        evidence=c["evidence"],
        costs=c["costs"],
        reverification_due_on=r.reverification_due_on,
        cohort_discounts=tuple(_tier_from(t) for t in r.cohort_discounts),
        additional_services=tuple(_service_from(x) for x in r.additional_services),
        state=r.state,
        milestones=c["milestones"],
        competency_moves=c["moves"],
        reminded={k: date.fromisoformat(v) for k, v in r.reminded.items()},
        reverification_flagged=r.reverification_flagged,
    )


def _haversine_sql(lat_col, lon_col, point: d.GeoPoint):
    """The domain's great-circle distance in miles, as SQL (for filtering lists)."""
    lat1, lon1 = func.radians(lat_col), func.radians(lon_col)
    lat2, lon2 = func.radians(point.lat), func.radians(point.lon)
    h = func.power(func.sin((lat2 - lat1) / 2), 2) + func.cos(lat1) * func.cos(lat2) * func.power(
        func.sin((lon2 - lon1) / 2), 2
    )
    return 2 * d.EARTH_RADIUS_MILES * func.asin(func.least(literal_column("1.0"), func.sqrt(h)))


# --- eligibility (§5) ----------------------------------------------------------------------


_ELIGIBLE = text("""
SELECT ms.establishment_id, ms.id AS membership_id, ms.lat, ms.lon, ms.competency,
       ms.cohort_discounts, ms.application_id, ms.admitted_on, ms.reverification_due_on,
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
            cohort_discounts=tuple(_tier_from(t) for t in r.cohort_discounts),
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


def standings(session: Session, category: str, ids: Iterable[str]) -> dict[str, m.Standing]:
    """RULES §6.2, §6.3: each establishment's latest membership in ``category``."""
    ids = list(dict.fromkeys(ids))
    found = {}
    if ids:
        rows = session.execute(
            select(memberships.c.establishment_id, memberships.c.state, memberships.c.competency)
            .where(memberships.c.category == category, memberships.c.establishment_id.in_(ids))
            .order_by(memberships.c.establishment_id, memberships.c.created_at)
        ).all()
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


# --- applications: the repository -------------------------------------------------------------


class Applications:
    def __init__(self, session: Session):
        self.session = session

    def get(self, application_id: str, *, lock: bool = False) -> d.Application | None:
        q = select(applications).where(applications.c.id == application_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).first()
        return None if row is None else _application(row)

    def for_establishments(self, ids: Iterable[str]) -> dict[str, list[d.Application]]:
        ids = list(ids)
        out: dict[str, list[d.Application]] = {i: [] for i in ids}
        if ids:
            for row in self.session.execute(
                select(applications).where(applications.c.establishment_id.in_(ids))
            ):
                out[row.establishment_id].append(_application(row))
        return out

    def add(self, app: d.Application, at: datetime) -> None:
        self.session.execute(
            insert(applications).values(
                id=app.id,
                establishment_id=app.establishment_id,
                provider_id=app.provider_id,
                category=app.category,
                created_at=app.created_at,
                **_application_values(app, at),
            )
        )

    def save(self, app: d.Application, at: datetime) -> None:
        self.session.execute(
            update(applications)
            .where(applications.c.id == app.id)
            .values(**_application_values(app, at))
        )

    def list(
        self,
        *,
        provider_id: str | None = None,
        status: str | None = None,
        overdue: bool | None = None,
        today: date | None = None,
        category: str | None = None,
        establishment_id: str | None = None,
        after: list | None = None,
        limit: int = 50,
    ) -> list[d.Application]:
        a = applications
        q = select(a).order_by(a.c.created_at, a.c.id).limit(limit)
        if provider_id is not None:
            q = q.where(a.c.provider_id == provider_id)
        if status is not None:
            q = q.where(a.c.status == status)
        if overdue is not None:  # §4.3: undecided after the due date
            late = and_(a.c.status == "submitted", a.c.due_on < today)
            q = q.where(late if overdue else ~late)
        if category is not None:
            q = q.where(a.c.category == category)
        if establishment_id is not None:
            q = q.where(a.c.establishment_id == establishment_id)
        if after:
            at, last_id = datetime.fromisoformat(after[0]), after[1]
            q = q.where(or_(a.c.created_at > at, and_(a.c.created_at == at, a.c.id > last_id)))
        return [_application(r) for r in self.session.execute(q)]


def _application_values(app: d.Application, at: datetime) -> dict:
    return {
        "status": app.status,
        "content": content_json(app.content),
        "updated_at": at,
        "copied_from": app.copied_from,
        "config_version": app.config_version,
        "submitted_at": app.submitted_at,
        "due_on": app.due_on,
        "extension_reason": app.extension_reason,
        "decision": None if app.decision is None else decision_json(app.decision),
        "decided_at": None if app.decision is None else app.decision.decided_at,
    }


def _application(r: Any) -> d.Application:
    return d.Application(
        id=r.id,
        establishment_id=r.establishment_id,
        provider_id=r.provider_id,
        category=r.category,
        content=content_from(r.content),
        created_at=r.created_at,
        status=r.status,
        copied_from=r.copied_from,
        config_version=r.config_version,
        submitted_at=r.submitted_at,
        due_on=r.due_on,
        extension_reason=r.extension_reason,
        decision=None if r.decision is None else decision_from(r.decision),
    )


# --- uplifts (§7.2) -----------------------------------------------------------------------------


def uplift_applied(session: Session, uplift_id: str) -> dict | None:
    row = session.execute(select(uplifts).where(uplifts.c.id == uplift_id)).first()
    return None if row is None else dict(row._mapping)


def record_uplift(
    session: Session, req: m.UpliftRequest, at: datetime, applied: list[str], skipped: list[dict]
) -> None:
    session.execute(
        insert(uplifts).values(
            id=req.uplift_id,
            category=req.category,
            cost_head=req.cost_head,
            percent=req.percent,
            effective_from=req.effective_from,
            applied_at=at,
            applied=applied,
            skipped=skipped,
        )
    )


def lock_uplift(session: Session, uplift_id: str) -> None:
    _advisory_lock(session, f"qualification:uplift:{uplift_id}")
