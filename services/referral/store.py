"""Tables and queries of the referral service (schema ``referral``).

The ``Referral`` aggregate (``domain.py``) is stored across one row per referral and one row
per part: invitations with their snapshot, bids, outcome scores, questions, declines, the
evaluation result, the parents' choice and the award. ``Referrals`` is the repository of a
unit of work: ``get`` assembles an aggregate (locking its row ``FOR UPDATE`` when asked),
``save`` writes back only the rows that changed since they were loaded (so publishing to
1,000 establishments inserts 1,000 invitations once, and a bid touches one row).

Database constraints guard the rules that span rows (DESIGN "digitalmarketplace-api"):

- one invitation per establishment and referral (primary key);
- **one live bid per establishment** and referral (partial unique index on
  ``status = 'submitted'``), a bid only from an invited establishment (foreign key);
- one decline per establishment and referral; one score per evaluator and bid;
- one evaluation, one parents' choice and one award per referral; a placement id is
  used once (awards and direct placements).

Child data (RULES §5) is in ``referrals.spec`` only (the owner's full record); nothing a
provider reads is built from it except through ``Referral.anonymised_profile``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.tables import common_tables
from services.referral.domain import (
    Bid,
    Decline,
    DirectPlacement,
    Invitation,
    Question,
    Referral,
    Status,
)
from services.referral.messages import (
    BidCreate,
    EstablishmentSnapshot,
    EvaluationView,
    PriceBreakdown,
    ReferralCreate,
    Standing,
)
from services.scoring.messages import WeightsMsg

metadata = MetaData(schema="referral")
TABLES = common_tables(metadata)

ID = String(36)

referrals = Table(
    "referrals",
    metadata,
    Column("id", ID, primary_key=True),
    Column("authority", String(20), nullable=False),
    Column("category", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("spec", JSONB, nullable=False, comment="full record incl. child data (§5)"),
    Column("weights", JSONB, nullable=False),
    Column("min_invited", Integer, nullable=False),
    Column("radius_miles", Float, nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("evaluated_at", DateTime(timezone=True)),
    Column("awarded_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancel_reason", Text),
    Index("ix_referrals_authority_created", "authority", "created_at", "id"),
    # the deadline timer's scan (§5): published referrals by deadline
    Index(
        "ix_referrals_due",
        "deadline",
        postgresql_where=text("status = 'published'"),
    ),
)

invitations = Table(
    "invitations",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("establishment_id", ID, primary_key=True),
    Column("provider_id", ID, nullable=False),
    Column("name", String(300), nullable=False),
    # the snapshot taken at invitation (§5, DESIGN rule 1)
    Column("distance_miles", Numeric, nullable=False),
    Column("competency", Numeric, nullable=False),
    Column("core_costs", JSONB, nullable=False),
    Column("cohort_discounts", JSONB, nullable=False),
    Column("contacts", JSONB, nullable=False),
    Column("invited_at", DateTime(timezone=True), nullable=False),
    Column("suspended_reason", Text),
    Index("ix_invitations_provider", "provider_id", "referral_id"),
    Index("ix_invitations_establishment", "establishment_id"),
)

bids = Table(
    "bids",
    metadata,
    Column("id", ID, primary_key=True),
    Column("referral_id", ID, nullable=False),
    Column("establishment_id", ID, nullable=False),
    Column("provider_id", ID, nullable=False),
    Column("status", String(20), nullable=False),
    Column("terms", JSONB, nullable=False),
    Column("price", JSONB, nullable=False),
    Column("weekly_price", Numeric(12, 2), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_reason", Text),
    # the establishment's membership at the deadline (§6.2, §6.3 C), recorded at close
    Column("standing_admitted", Boolean),
    Column("standing_competency", Numeric),
    ForeignKeyConstraint(
        ["referral_id", "establishment_id"],
        ["referral.invitations.referral_id", "referral.invitations.establishment_id"],
    ),
    Index("ix_bids_referral", "referral_id"),
    # §5: one live bid per establishment and referral
    Index(
        "uq_bids_one_live",
        "referral_id",
        "establishment_id",
        unique=True,
        postgresql_where=text("status = 'submitted'"),
    ),
)

outcome_scores = Table(
    "outcome_scores",
    metadata,
    Column("bid_id", ID, ForeignKey("referral.bids.id"), primary_key=True),
    Column("evaluator", String(200), primary_key=True),
    Column("referral_id", ID, nullable=False, index=True),
    Column("score", Integer, nullable=False),
)

questions = Table(
    "questions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("referral_id", ID, nullable=False, index=True),
    Column("establishment_id", ID, nullable=False),
    Column("provider_id", ID, nullable=False),
    Column("text", Text, nullable=False),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("answer", Text),
    Column("published_text", Text),
    Column("answered_at", DateTime(timezone=True)),
    ForeignKeyConstraint(
        ["referral_id", "establishment_id"],
        ["referral.invitations.referral_id", "referral.invitations.establishment_id"],
    ),
)

declines = Table(
    "declines",
    metadata,
    Column("referral_id", ID, primary_key=True),
    Column("establishment_id", ID, primary_key=True),
    Column("provider_id", ID, nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("note", Text),
    Column("declined_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["referral_id", "establishment_id"],
        ["referral.invitations.referral_id", "referral.invitations.establishment_id"],
    ),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("ranking", JSONB, nullable=False),
    Column("shortlist", JSONB, nullable=False),
    Column("evaluated_at", DateTime(timezone=True), nullable=False),
)

parent_choices = Table(
    "parent_choices",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("bid_id", ID, ForeignKey("referral.bids.id"), nullable=False),
    Column("reason", Text),
)

awards = Table(
    "awards",
    metadata,
    Column("referral_id", ID, ForeignKey("referral.referrals.id"), primary_key=True),
    Column("bid_id", ID, ForeignKey("referral.bids.id"), nullable=False, unique=True),
    Column("placement_id", ID, nullable=False, unique=True),
    Column("awarded_at", DateTime(timezone=True), nullable=False),
)

direct_placements = Table(
    "direct_placements",
    metadata,
    Column("id", ID, primary_key=True),
    Column("placement_id", ID, nullable=False, unique=True),
    Column("authority", String(20), nullable=False),
    Column("category", String(40), nullable=False),
    Column("establishment_id", ID, nullable=False),
    Column("provider_id", ID, nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("justification", Text, nullable=False),
    Column("weekly_price", Numeric(12, 2), nullable=False),
    Column("child_reference", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_direct_placements_authority", "authority", "recorded_at"),
)

PARTS = (
    invitations,
    bids,
    outcome_scores,
    questions,
    declines,
    evaluations,
    parent_choices,
    awards,
)
"""The aggregate's tables other than ``referrals``, in foreign-key order."""


def _pk(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


# --------------------------------------------------------------------------- mapping


def _json(model) -> Any:
    return model.model_dump(mode="json")


def rows_of(r: Referral) -> dict[str, dict[tuple, dict]]:
    """The aggregate as rows: ``{table name: {primary key: row}}``."""
    out: dict[str, dict[tuple, dict]] = {t.name: {} for t in (referrals, *PARTS)}

    def put(table: Table, row: dict) -> None:
        out[table.name][tuple(row[c] for c in _pk(table))] = row

    put(
        referrals,
        {
            "id": r.referral_id,
            "authority": r.authority,
            "category": r.category,
            "status": str(r.status),
            "spec": _json(r.spec),
            "weights": _json(r.weights),
            "min_invited": r.min_invited,
            "radius_miles": r.spec.radius_miles,
            "deadline": r.deadline,
            "created_at": r.created_at,
            "published_at": r.published_at,
            "closed_at": r.closed_at,
            "evaluated_at": r.evaluated_at,
            "awarded_at": r.awarded_at,
            "cancelled_at": r.cancelled_at,
            "cancel_reason": r.cancel_reason,
        },
    )
    for i in r.invitations.values():
        s, dump = i.snapshot, _json(i.snapshot)
        put(
            invitations,
            {
                "referral_id": r.referral_id,
                "establishment_id": s.establishment_id,
                "provider_id": s.provider_id,
                "name": s.name,
                "distance_miles": s.distance_miles,
                "competency": s.competency,
                "core_costs": dump["core_costs"],
                "cohort_discounts": dump["cohort_discounts"],
                "contacts": dump["contacts"],
                "invited_at": i.invited_at,
                "suspended_reason": i.suspended_reason,
            },
        )
    for b in r.bids.values():
        put(
            bids,
            {
                "id": b.bid_id,
                "referral_id": r.referral_id,
                "establishment_id": b.establishment_id,
                "provider_id": b.provider_id,
                "status": b.status,
                "terms": _json(b.terms),
                "price": _json(b.price),
                "weekly_price": b.price.weekly_price,
                "submitted_at": b.submitted_at,
                "withdrawn_at": b.withdrawn_at,
                "withdrawn_reason": b.withdrawn_reason,
                "standing_admitted": b.standing.admitted if b.standing else None,
                "standing_competency": b.standing.competency if b.standing else None,
            },
        )
        for evaluator, score in b.outcome_scores.items():
            put(
                outcome_scores,
                {
                    "bid_id": b.bid_id,
                    "evaluator": evaluator,
                    "referral_id": r.referral_id,
                    "score": score,
                },
            )
    for q in r.questions.values():
        put(
            questions,
            {
                "id": q.question_id,
                "referral_id": r.referral_id,
                "establishment_id": q.establishment_id,
                "provider_id": q.provider_id,
                "text": q.text,
                "asked_at": q.asked_at,
                "answer": q.answer,
                "published_text": q.published_text,
                "answered_at": q.answered_at,
            },
        )
    for d in r.declines.values():
        put(
            declines,
            {
                "referral_id": r.referral_id,
                "establishment_id": d.establishment_id,
                "provider_id": d.provider_id,
                "reason_code": d.reason_code,
                "note": d.note,
                "declined_at": d.declined_at,
            },
        )
    if r.evaluation is not None:
        put(
            evaluations,
            {
                "referral_id": r.referral_id,
                "status": r.evaluation.status,
                "ranking": [_json(x) for x in r.evaluation.ranking],
                "shortlist": list(r.evaluation.shortlist),
                "evaluated_at": r.evaluated_at,
            },
        )
    if r.parent_choice_bid_id is not None:
        put(
            parent_choices,
            {
                "referral_id": r.referral_id,
                "bid_id": r.parent_choice_bid_id,
                "reason": r.parent_choice_reason,
            },
        )
    if r.awarded_bid_id is not None:
        put(
            awards,
            {
                "referral_id": r.referral_id,
                "bid_id": r.awarded_bid_id,
                "placement_id": r.placement_id,
                "awarded_at": r.awarded_at,
            },
        )
    return out


def _snapshot(row) -> EstablishmentSnapshot:
    return EstablishmentSnapshot.model_validate(
        {
            "establishment_id": row.establishment_id,
            "provider_id": row.provider_id,
            "name": row.name,
            "distance_miles": row.distance_miles,
            "competency": row.competency,
            "core_costs": row.core_costs,
            "cohort_discounts": row.cohort_discounts,
            "contacts": row.contacts,
        }
    )


def _referral(row, parts: dict[str, list]) -> Referral:
    referral = Referral(
        referral_id=row.id,
        authority=row.authority,
        spec=ReferralCreate.model_validate(row.spec),
        weights=WeightsMsg.model_validate(row.weights),
        min_invited=row.min_invited,
        created_at=row.created_at,
        status=Status(row.status),
        published_at=row.published_at,
        closed_at=row.closed_at,
        evaluated_at=row.evaluated_at,
        awarded_at=row.awarded_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
    )
    for i in parts["invitations"]:
        referral.invitations[i.establishment_id] = Invitation(
            snapshot=_snapshot(i), invited_at=i.invited_at, suspended_reason=i.suspended_reason
        )
    scores: dict[str, dict[str, int]] = {}
    for s in parts["outcome_scores"]:
        scores.setdefault(s.bid_id, {})[s.evaluator] = s.score
    for b in parts["bids"]:
        standing = (
            None
            if b.standing_admitted is None
            else Standing(admitted=b.standing_admitted, competency=b.standing_competency)
        )
        referral.bids[b.id] = Bid(
            bid_id=b.id,
            provider_id=b.provider_id,
            terms=BidCreate.model_validate(b.terms),
            price=PriceBreakdown.model_validate(b.price),
            submitted_at=b.submitted_at,
            status=b.status,
            withdrawn_at=b.withdrawn_at,
            withdrawn_reason=b.withdrawn_reason,
            outcome_scores=scores.get(b.id, {}),
            standing=standing,
        )
    for q in parts["questions"]:
        referral.questions[q.id] = Question(
            question_id=q.id,
            establishment_id=q.establishment_id,
            provider_id=q.provider_id,
            text=q.text,
            asked_at=q.asked_at,
            answer=q.answer,
            published_text=q.published_text,
            answered_at=q.answered_at,
        )
    for d in parts["declines"]:
        referral.declines[d.establishment_id] = Decline(
            establishment_id=d.establishment_id,
            provider_id=d.provider_id,
            reason_code=d.reason_code,
            note=d.note,
            declined_at=d.declined_at,
        )
    for e in parts["evaluations"]:
        referral.evaluation = EvaluationView.model_validate(
            {"status": e.status, "ranking": e.ranking, "shortlist": e.shortlist}
        )
    for p in parts["parent_choices"]:
        referral.parent_choice_bid_id, referral.parent_choice_reason = p.bid_id, p.reason
    for a in parts["awards"]:
        referral.awarded_bid_id, referral.placement_id = a.bid_id, a.placement_id
    return referral


ORDER = {
    "invitations": (invitations.c.invited_at, invitations.c.establishment_id),
    "bids": (bids.c.submitted_at, bids.c.id),
    "outcome_scores": (outcome_scores.c.bid_id, outcome_scores.c.evaluator),
    "questions": (questions.c.asked_at, questions.c.id),
    "declines": (declines.c.declined_at, declines.c.establishment_id),
    "evaluations": (evaluations.c.referral_id,),
    "parent_choices": (parent_choices.c.referral_id,),
    "awards": (awards.c.referral_id,),
}


# --------------------------------------------------------------------------- repository


class Referrals:
    """Repository of one unit of work: loads aggregates and writes back what changed."""

    def __init__(self, session: Session):
        self.session = session
        self._baseline: dict[str, dict[str, dict[tuple, dict]]] = {}

    def get(self, referral_id: str, lock: bool = False) -> Referral | None:
        """The referral, or None. ``lock`` takes its row ``FOR UPDATE`` (writers of one
        referral serialise on it); readers take no lock."""
        q = select(referrals).where(referrals.c.id == referral_id)
        if lock:
            q = q.with_for_update()
        row = self.session.execute(q).first()
        if row is None:
            return None
        parts = {
            t.name: self.session.execute(
                select(t).where(t.c.referral_id == referral_id).order_by(*ORDER[t.name])
            ).all()
            for t in PARTS
        }
        referral = _referral(row, parts)
        self._baseline[referral.referral_id] = rows_of(referral)
        return referral

    def add(self, referral: Referral) -> None:
        self._baseline[referral.referral_id] = {}

    def save(self, referral: Referral) -> None:
        """Upsert every row that differs from what was loaded (nothing is ever deleted:
        withdrawn bids, answered questions and declines are kept, RULES §9)."""
        before = self._baseline.get(referral.referral_id, {})
        now = rows_of(referral)
        for table in (referrals, *PARTS):
            old = before.get(table.name, {})
            changed = [row for key, row in now[table.name].items() if old.get(key) != row]
            if changed:
                self._upsert(table, changed)
        self._baseline[referral.referral_id] = now

    def _upsert(self, table: Table, rows: list[dict]) -> None:
        """One ``INSERT … ON CONFLICT DO UPDATE`` executed for many rows: SQLAlchemy batches
        it into multi-row ``VALUES`` with one compiled statement (insertmanyvalues)."""
        pk = _pk(table)
        stmt = pg_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(pk),
            set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in pk},
        )
        self.session.execute(stmt, rows)


# --------------------------------------------------------------------------- queries


def due_referral_ids(session: Session, now: datetime, limit: int) -> list[str]:
    """Published referrals whose deadline has passed (§5), locked ``FOR UPDATE SKIP
    LOCKED`` so that several instances' timers never close the same one twice."""
    return list(
        session.execute(
            select(referrals.c.id)
            .where(referrals.c.status == Status.PUBLISHED, referrals.c.deadline <= now)
            .order_by(referrals.c.deadline, referrals.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )


def open_referral_ids_inviting(session: Session, establishment_id: str, category: str) -> list[str]:
    """Published referrals of ``category`` that invited the establishment (§4.5)."""
    return list(
        session.execute(
            select(referrals.c.id)
            .join(invitations, invitations.c.referral_id == referrals.c.id)
            .where(
                invitations.c.establishment_id == establishment_id,
                referrals.c.category == category,
                referrals.c.status == Status.PUBLISHED,
            )
            .order_by(referrals.c.id)
        ).scalars()
    )


@dataclass(frozen=True)
class ListFilter:
    status: str | None = None
    category: str | None = None


def _filtered(q, f: ListFilter):
    if f.status:
        q = q.where(referrals.c.status == f.status)
    if f.category:
        q = q.where(referrals.c.category == f.category)
    return q


def _after(q, cursor: tuple[datetime, str] | None):
    """Newest first; the cursor is the last item's ``(created_at, id)``."""
    if cursor:
        at, last_id = cursor
        q = q.where(
            or_(
                referrals.c.created_at < at,
                and_(referrals.c.created_at == at, referrals.c.id < last_id),
            )
        )
    return q.order_by(referrals.c.created_at.desc(), referrals.c.id.desc())


def authority_page(
    session: Session, authority: str, f: ListFilter, cursor: tuple[datetime, str] | None, limit: int
) -> list[dict]:
    """The owner's list (§10): its authority's referrals with counts (bids only as a count,
    §5 sealed). Fetches ``limit + 1`` rows for paging."""

    def count(table: Table, *where) -> Any:
        return (
            select(func.count())
            .select_from(table)
            .where(table.c.referral_id == referrals.c.id, *where)
            .scalar_subquery()
        )

    q = select(
        referrals,
        count(invitations).label("invited_count"),
        count(bids, bids.c.status == "submitted").label("bids_count"),
        count(declines).label("declines_count"),
    ).where(referrals.c.authority == authority)
    q = _after(_filtered(q, f), cursor).limit(limit + 1)
    return [dict(r._mapping) for r in session.execute(q)]


def provider_page(
    session: Session,
    provider_id: str,
    f: ListFilter,
    cursor: tuple[datetime, str] | None,
    limit: int,
) -> list[Referral]:
    """An invited provider's list (§10): partial aggregates holding the referral and only
    that provider's invitations, enough for ``Referral.view_for``."""
    mine = select(invitations.c.referral_id).where(invitations.c.provider_id == provider_id)
    q = select(referrals).where(referrals.c.id.in_(mine))
    rows = session.execute(_after(_filtered(q, f), cursor).limit(limit + 1)).all()
    if not rows:
        return []
    own = session.execute(
        select(invitations)
        .where(
            invitations.c.provider_id == provider_id,
            invitations.c.referral_id.in_([r.id for r in rows]),
        )
        .order_by(*ORDER["invitations"])
    ).all()
    empty = {t.name: [] for t in PARTS}
    out = []
    for row in rows:
        parts = {**empty, "invitations": [i for i in own if i.referral_id == row.id]}
        out.append(_referral(row, parts))
    return out


def add_direct_placement(session: Session, placement: DirectPlacement) -> None:
    req = placement.request
    session.execute(
        pg_insert(direct_placements).values(
            id=placement.direct_placement_id,
            placement_id=placement.placement_id,
            authority=placement.authority,
            category=req.category,
            establishment_id=req.establishment_id,
            provider_id=placement.provider_id,
            reason_code=req.reason_code,
            justification=req.justification,
            weekly_price=req.weekly_price,
            child_reference=req.child_reference,
            recorded_at=placement.recorded_at,
        )
    )
