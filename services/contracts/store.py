"""Tables and queries of the contracts service (schema ``contracts``, RULES §7).

Database constraints guard the rules that span rows (DESIGN, digitalmarketplace-api):

- ``placements.source_key`` is UNIQUE: a redelivered ``referral_awarded`` or
  ``direct_placement_recorded`` event (even under another event id) creates nothing (§7.1).
- ``variations (placement_id, uplift_id)`` is UNIQUE: an uplift is applied to a placement at
  most once (§7.2); ``uplifts (category, cost_head, effective_from)`` is UNIQUE too.
- ``publications (quarter, format)`` is the frozen package of an ended quarter (§7.5): stored
  as bytes and never rewritten, so a re-read returns the same bytes.
- ``performance_reports (establishment_id, category, period_start)`` is the claim of one
  ``performance_reviewed`` event per establishment, category and period (§7.4, §4.5).

Copies of other services' facts (DESIGN rule 1), fed by their events: ``providers`` (names
for publication), ``memberships`` (who runs an establishment, for block contracts),
``referral_records`` and ``declines`` (benchmarking, §7.6).

Queries are functions taking a SQLAlchemy session; rows map to and from ``domain`` objects.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common.tables import common_tables
from services.contracts import domain

metadata = MetaData(schema="contracts")
TABLES = common_tables(metadata)

ID = 100  # ids are opaque strings (UUIDs from our services; up to 100 characters)
MONEY = Numeric(14, 2)

placements = Table(
    "placements",
    metadata,
    Column("placement_id", String(ID), primary_key=True),
    Column("source_key", String(250), nullable=False, unique=True),
    Column("source", String(30), nullable=False),
    Column("source_ref", String(220), nullable=False),
    Column("authority", String(64), nullable=False),
    Column("provider_id", String(ID), nullable=False),
    Column("provider_name", String(300), nullable=False, server_default=""),
    Column("establishment_id", String(ID), nullable=False),
    Column("establishment_name", String(300), nullable=False, server_default=""),
    Column("category", String(64), nullable=False),
    Column("child_reference", String(200), nullable=False),
    Column("agreed_at", DateTime(timezone=True), nullable=False),
    Column("price", JSONB, nullable=False),
    Column("awarded_weekly_price", MONEY, nullable=False),
    Column("reason_code", String(64)),
    Column("justification", Text),
    Column("block_id", String(ID), ForeignKey("contracts.block_contracts.block_id")),
    Column("bids_count", Integer),
    Column("incentive", JSONB),
    Column("desired_outcomes", JSONB, nullable=False),
    Column("monitored_components", JSONB, nullable=False),
    Column("review_interval_months", Integer, nullable=False),
    Column("start_date", Date),
    Column("status", String(20), nullable=False),
    Column("ended_on", Date),
    Column("end_reason", String(30)),
    Column("end_note", Text),
    Column("next_review_due", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_placements_authority_agreed", "authority", "agreed_at", "placement_id"),
    Index("ix_placements_provider_agreed", "provider_id", "agreed_at", "placement_id"),
    Index("ix_placements_agreed", "agreed_at", "placement_id"),
    Index("ix_placements_category_agreed", "category", "agreed_at"),
    Index("ix_placements_block", "block_id"),
    Index("ix_placements_review_due", "status", "next_review_due"),
)


def _placement_ref() -> Column:
    """The placement a row belongs to (indexed foreign key)."""
    return Column(
        "placement_id",
        String(ID),
        ForeignKey("contracts.placements.placement_id"),
        nullable=False,
        index=True,
    )


variations = Table(
    "variations",
    metadata,
    Column("variation_id", String(ID), primary_key=True),
    _placement_ref(),
    Column("effective_from", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("uplift_id", String(ID)),
    Column("data", JSONB, nullable=False),
    UniqueConstraint("placement_id", "uplift_id", name="uq_variations_placement_uplift"),
)

uplifts = Table(
    "uplifts",
    metadata,
    Column("uplift_id", String(ID), primary_key=True),
    Column("category", String(64), nullable=False),
    Column("cost_head", String(64), nullable=False),
    Column("percent", Numeric(7, 2), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("placements_uplifted", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", JSONB),
    UniqueConstraint(
        "category", "cost_head", "effective_from", name="uq_uplifts_category_head_date"
    ),
)

block_contracts = Table(
    "block_contracts",
    metadata,
    Column("block_id", String(ID), primary_key=True),
    Column("authority", String(64), nullable=False, index=True),
    Column("provider_id", String(ID), nullable=False),
    Column("provider_name", String(300), nullable=False, server_default=""),
    Column("establishment_id", String(ID), nullable=False),
    Column("establishment_name", String(300), nullable=False, server_default=""),
    Column("category", String(64), nullable=False),
    Column("places", Integer, nullable=False),
    Column("weekly_price_per_place", MONEY, nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(ID), primary_key=True),
    _placement_ref(),
    Column("authority", String(64), nullable=False),
    Column("establishment_id", String(ID), nullable=False),
    Column("category", String(64), nullable=False),
    Column("date", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("scores", JSONB, nullable=False),
    Column("child_view", Text),
    Column("parent_view", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_reviews_establishment_date", "establishment_id", "category", "date"),
    Index("ix_reviews_category_date", "category", "date"),
    Index("ix_reviews_period", "period_start"),
)

performance_reports = Table(
    "performance_reports",
    metadata,
    Column("establishment_id", String(ID), primary_key=True),
    Column("category", String(64), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, nullable=False),
    Column("performance_index", Numeric(5, 2), nullable=False),
    Column("reviews_count", Integer, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)

publications = Table(
    "publications",
    metadata,
    Column("quarter", String(7), primary_key=True),
    Column("format", String(10), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("awards_count", Integer, nullable=False),
    Column("frozen_at", DateTime(timezone=True), nullable=False),
)

providers = Table(
    "providers",
    metadata,
    Column("provider_id", String(ID), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("establishment_id", String(ID), primary_key=True),
    Column("category", String(64), primary_key=True),
    Column("provider_id", String(ID), nullable=False),
    Column("establishment_name", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

referral_records = Table(
    "referral_records",
    metadata,
    Column("referral_id", String(ID), primary_key=True),
    Column("authority", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("needs", JSONB),
    Column("bids_count", Integer),
    Column("compliant_bids_count", Integer),
    Column("awarded_at", DateTime(timezone=True)),
    Column("status", String(20)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_referral_records_category_published", "category", "published_at"),
)

declines = Table(
    "declines",
    metadata,
    Column("referral_id", String(ID), primary_key=True),
    Column("establishment_id", String(ID), primary_key=True),
    Column("authority", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("declined_at", DateTime(timezone=True), nullable=False),
)

anonymisation_keys = Table(
    "anonymisation_keys",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("secret", String(128), nullable=False),
)

# --- helpers -------------------------------------------------------------------------------


def _where_equal(query: Any, table: Table, **values: Any) -> Any:
    """``query`` narrowed to the rows whose columns equal the given values; a ``None`` value
    is no filter."""
    for name, value in values.items():
        if value is not None:
            query = query.where(table.c[name] == value)
    return query


def _insert_new(session: Session, table: Table, **values: Any) -> bool:
    """Insert a row unless its key is taken; ``False`` (and nothing written) when it is."""
    inserted = session.execute(
        pg_insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key)
    ).first()
    return inserted is not None


def _upsert(
    session: Session, table: Table, values: dict[str, Any], update: Iterable[str] | None = None
) -> None:
    """Insert a row or, when its key is taken, overwrite the columns named in ``update``
    (default: every column given that is not part of the key)."""
    key = table.primary_key.columns
    names = [n for n in values if n not in key] if update is None else update
    session.execute(
        pg_insert(table)
        .values(**values)
        .on_conflict_do_update(
            index_elements=list(key), set_={name: values[name] for name in names}
        )
    )


def _dataclass_values(obj: Any, table: Table) -> dict[str, Any]:
    """The fields of a domain dataclass that are columns of ``table`` (same names)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name in table.c}


def _from_row(cls: Any, row: Any) -> Any:
    """A domain dataclass from a row holding a column for each field (same names)."""
    m = row._mapping
    return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls) if f.name in m})


# --- placements ----------------------------------------------------------------------------


def _placement_values(p: domain.Placement) -> dict[str, Any]:
    return {
        "placement_id": p.placement_id,
        "source_key": p.source_key,
        "source": p.source.value,
        "source_ref": p.source_ref,
        "authority": p.authority,
        "provider_id": p.provider_id,
        "provider_name": p.provider_name,
        "establishment_id": p.establishment_id,
        "establishment_name": p.establishment_name,
        "category": p.category,
        "child_reference": p.child_reference,
        "agreed_at": p.agreed_at,
        "price": p.price.to_dict(),
        "awarded_weekly_price": p.awarded_weekly_price,
        "reason_code": p.reason_code,
        "justification": p.justification,
        "block_id": p.block_id,
        "bids_count": p.bids_count,
        "incentive": p.incentive.to_dict() if p.incentive else None,
        "desired_outcomes": list(p.desired_outcomes),
        "monitored_components": list(p.monitored_components),
        "review_interval_months": p.review_interval_months,
        "start_date": p.start_date,
        "status": p.status.value,
        "ended_on": p.ended_on,
        "end_reason": p.end_reason.value if p.end_reason else None,
        "end_note": p.end_note,
    }


def insert_placement(session: Session, p: domain.Placement, now: datetime) -> bool:
    """Insert a new placement; ``False`` (and nothing written) when its source key or id is
    already there (§7.1 idempotent creation)."""
    return _insert_new(
        session,
        placements,
        **_placement_values(p),
        created_at=now,
        updated_at=now,
        next_review_due=domain.next_review_due(p, ()),
    )


def update_placement(
    session: Session, p: domain.Placement, now: datetime, next_review: date | None
) -> None:
    """Save a placement's state (status, dates, end reason) and its review schedule."""
    session.execute(
        placements.update()
        .where(placements.c.placement_id == p.placement_id)
        .values(
            start_date=p.start_date,
            status=p.status.value,
            ended_on=p.ended_on,
            end_reason=p.end_reason.value if p.end_reason else None,
            end_note=p.end_note,
            next_review_due=next_review,
            provider_name=p.provider_name,
            updated_at=now,
        )
    )


def _placement(row: Any, variations_: Sequence[domain.Variation] = ()) -> domain.Placement:
    m = row._mapping
    return domain.Placement(
        placement_id=m["placement_id"],
        authority=m["authority"],
        provider_id=m["provider_id"],
        provider_name=m["provider_name"],
        establishment_id=m["establishment_id"],
        establishment_name=m["establishment_name"],
        category=m["category"],
        child_reference=m["child_reference"],
        source=domain.PlacementSource(m["source"]),
        source_ref=m["source_ref"],
        agreed_at=m["agreed_at"],
        price=domain.PriceBreakdown.from_dict(m["price"]),
        awarded_weekly_price=m["awarded_weekly_price"],
        reason_code=m["reason_code"],
        justification=m["justification"],
        block_id=m["block_id"],
        bids_count=m["bids_count"],
        incentive=domain.IncentiveTerms.from_dict(m["incentive"]) if m["incentive"] else None,
        desired_outcomes=tuple(m["desired_outcomes"] or ()),
        monitored_components=tuple(m["monitored_components"]),
        review_interval_months=m["review_interval_months"],
        start_date=m["start_date"],
        status=domain.PlacementStatus(m["status"]),
        ended_on=m["ended_on"],
        end_reason=domain.EndReason(m["end_reason"]) if m["end_reason"] else None,
        end_note=m["end_note"],
        variations=list(variations_),
    )


def _variations_of(session: Session, ids: Sequence[str]) -> dict[str, list[domain.Variation]]:
    out: dict[str, list[domain.Variation]] = defaultdict(list)
    if not ids:
        return out
    rows = session.execute(
        select(variations.c.placement_id, variations.c.data).where(
            variations.c.placement_id.in_(list(ids))
        )
    )
    for placement_id, data in rows:
        out[placement_id].append(domain.Variation.from_dict(data))
    return out


def get_placement(
    session: Session, placement_id: str, *, for_update: bool = False
) -> domain.Placement | None:
    query = select(placements).where(placements.c.placement_id == placement_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        return None
    return _placement(row, _variations_of(session, [placement_id])[placement_id])


def placement_by_source_key(session: Session, key: str) -> str | None:
    return session.execute(
        select(placements.c.placement_id).where(placements.c.source_key == key)
    ).scalar()


def list_placements(
    session: Session,
    *,
    authority: str | None = None,
    provider_id: str | None = None,
    status: str | None = None,
    category: str | None = None,
    establishment_id: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> list[tuple[domain.Placement, date | None]]:
    """Placements in agreement order (agreed_at, placement_id), after a cursor key, each
    with its next review date (the schedule kept on the row)."""
    query = _where_equal(
        select(placements).order_by(placements.c.agreed_at, placements.c.placement_id),
        placements,
        authority=authority,
        provider_id=provider_id,
        status=status,
        category=category,
        establishment_id=establishment_id,
    )
    if after is not None:
        query = query.where(
            tuple_(placements.c.agreed_at, placements.c.placement_id) > tuple_(*after)
        )
    rows = session.execute(query.limit(limit)).all()
    by_id = _variations_of(session, [r.placement_id for r in rows])
    return [(_placement(r, by_id[r.placement_id]), r.next_review_due) for r in rows]


def placements_for_uplift(
    session: Session, category: str, cost_head: str, effective_from: date
) -> list[domain.Placement]:
    """Placements an uplift may apply to (§7.2), locked: same category, agreed before the
    effective date, not ended by then; ``domain.Uplift.applies_to`` decides the rest."""
    rows = session.execute(
        select(placements)
        .where(
            placements.c.category == category,
            placements.c.agreed_at < _utc_midnight(effective_from),
            or_(placements.c.ended_on.is_(None), placements.c.ended_on > effective_from),
        )
        .order_by(placements.c.placement_id)
        .with_for_update()
    ).all()
    by_id = _variations_of(session, [r.placement_id for r in rows])
    return [_placement(r, by_id[r.placement_id]) for r in rows]


def insert_variation(session: Session, placement_id: str, v: domain.Variation) -> None:
    session.execute(
        variations.insert().values(
            variation_id=v.variation_id,
            placement_id=placement_id,
            effective_from=v.effective_from,
            recorded_at=v.recorded_at,
            uplift_id=v.uplift.uplift_id if v.uplift else None,
            data=v.to_dict(),
        )
    )


_NO_PRICE = domain.PriceBreakdown(core_costs={})


def placement_summaries(
    session: Session,
    *,
    category: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[domain.Placement]:
    """Light placements for benchmarks and cost shares (§7.6, §7.7): agreed between ``start``
    and ``end`` (UTC days, both included); the price breakdown, child details and variations
    are not loaded (``awarded_weekly_price`` is what these figures use)."""
    cols = (
        placements.c.placement_id,
        placements.c.authority,
        placements.c.provider_id,
        placements.c.provider_name,
        placements.c.establishment_id,
        placements.c.category,
        placements.c.source,
        placements.c.source_ref,
        placements.c.agreed_at,
        placements.c.awarded_weekly_price,
        placements.c.reason_code,
        placements.c.block_id,
        placements.c.bids_count,
    )
    query = _where_equal(select(*cols), placements, category=category)
    if start is not None:
        query = query.where(placements.c.agreed_at >= _utc_midnight(start))
    if end is not None:
        query = query.where(placements.c.agreed_at < _utc_midnight(end, plus_days=1))
    out = []
    for r in session.execute(query):
        out.append(
            domain.Placement(
                placement_id=r.placement_id,
                authority=r.authority,
                provider_id=r.provider_id,
                provider_name=r.provider_name,
                establishment_id=r.establishment_id,
                category=r.category,
                child_reference="-",
                source=domain.PlacementSource(r.source),
                source_ref=r.source_ref,
                agreed_at=r.agreed_at,
                price=_NO_PRICE,
                awarded_weekly_price=r.awarded_weekly_price,
                reason_code=r.reason_code,
                block_id=r.block_id,
                bids_count=r.bids_count,
            )
        )
    return out


def _utc_midnight(day: date, plus_days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=plus_days), datetime.min.time(), UTC)


def authorities_with_placements(session: Session) -> list[str]:
    return list(session.execute(select(placements.c.authority).distinct()).scalars())


def overdue(
    session: Session,
    as_of: date,
    *,
    authority: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Active placements whose next review was due before ``as_of`` (§7.1, §7.4), most
    overdue first (keyset: next_review_due, placement_id)."""
    query = (
        select(
            placements.c.placement_id,
            placements.c.authority,
            placements.c.establishment_id,
            placements.c.establishment_name,
            placements.c.category,
            placements.c.next_review_due,
        )
        .where(
            placements.c.status == domain.PlacementStatus.ACTIVE.value,
            placements.c.next_review_due < as_of,
        )
        .order_by(placements.c.next_review_due, placements.c.placement_id)
        .limit(limit)
    )
    query = _where_equal(query, placements, authority=authority)
    if after is not None:
        query = query.where(
            tuple_(placements.c.next_review_due, placements.c.placement_id)
            > tuple_(date.fromisoformat(after[0]), after[1])
        )
    return [
        {
            "placement_id": r.placement_id,
            "authority": r.authority,
            "establishment_id": r.establishment_id,
            "establishment_name": r.establishment_name,
            "category": r.category,
            "due": r.next_review_due.isoformat(),
            "days_overdue": (as_of - r.next_review_due).days,
        }
        for r in session.execute(query)
    ]


# --- uplifts -------------------------------------------------------------------------------


def uplift_exists(session: Session, category: str, cost_head: str, effective_from: date) -> bool:
    return (
        session.execute(
            select(uplifts.c.uplift_id).where(
                uplifts.c.category == category,
                uplifts.c.cost_head == cost_head,
                uplifts.c.effective_from == effective_from,
            )
        ).first()
        is not None
    )


def insert_uplift(
    session: Session, u: domain.Uplift, count: int, now: datetime, by: dict | None
) -> None:
    session.execute(
        uplifts.insert().values(
            uplift_id=u.uplift_id,
            category=u.category,
            cost_head=u.cost_head,
            percent=u.percent,
            effective_from=u.effective_from,
            placements_uplifted=count,
            created_at=now,
            created_by=by,
        )
    )


def uplifts_for(session: Session, category: str) -> list[domain.Uplift]:
    rows = session.execute(
        select(uplifts).where(uplifts.c.category == category).order_by(uplifts.c.effective_from)
    ).all()
    return [
        domain.Uplift(r.uplift_id, r.category, r.cost_head, r.percent, r.effective_from)
        for r in rows
    ]


def uplift_view(u: domain.Uplift, count: int, created_at: datetime) -> dict[str, Any]:
    return {
        "id": u.uplift_id,
        "category": u.category,
        "cost_head": u.cost_head,
        "percent": format(u.percent.normalize(), "f"),
        "effective_from": u.effective_from.isoformat(),
        "placements_uplifted": count,
        "created_at": created_at.isoformat(),
    }


# --- block contracts ---------------------------------------------------------------------


def insert_block(session: Session, b: domain.BlockContract, now: datetime) -> None:
    session.execute(
        block_contracts.insert().values(**_dataclass_values(b, block_contracts), created_at=now)
    )


def get_block(
    session: Session, block_id: str, *, for_update: bool = False
) -> domain.BlockContract | None:
    query = select(block_contracts).where(block_contracts.c.block_id == block_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).first()
    return None if row is None else _from_row(domain.BlockContract, row)


def block_placements(session: Session, block_id: str) -> list[domain.Placement]:
    rows = session.execute(
        select(placements)
        .where(placements.c.block_id == block_id)
        .order_by(placements.c.start_date, placements.c.placement_id)
    ).all()
    return [_placement(r) for r in rows]


# --- reviews -------------------------------------------------------------------------------


def insert_review(session: Session, r: domain.Review, period_start: date) -> None:
    values = {**_dataclass_values(r, reviews), "scores": dict(r.scores)}
    session.execute(reviews.insert().values(**values, period_start=period_start))


def _review(row: Any) -> domain.Review:
    return _from_row(domain.Review, row)


def reviews_of(session: Session, placement_id: str) -> list[domain.Review]:
    rows = session.execute(
        select(reviews)
        .where(reviews.c.placement_id == placement_id)
        .order_by(reviews.c.date, reviews.c.recorded_at)
    ).all()
    return [_review(r) for r in rows]


def reviews_between(
    session: Session,
    start: date,
    end: date,
    *,
    category: str | None = None,
    establishment_id: str | None = None,
) -> list[domain.Review]:
    query = _where_equal(
        select(reviews).where(reviews.c.date >= start, reviews.c.date <= end),
        reviews,
        category=category,
        establishment_id=establishment_id,
    )
    return [_review(r) for r in session.execute(query)]


def due_performance_reports(
    session: Session, before: date, limit: int = 100
) -> list[tuple[str, str, date]]:
    """(establishment, category, period_start) with reviews in a period that started before
    ``before`` (the current period's start) and no report yet (§7.4)."""
    reported = select(performance_reports.c.establishment_id).where(
        performance_reports.c.establishment_id == reviews.c.establishment_id,
        performance_reports.c.category == reviews.c.category,
        performance_reports.c.period_start == reviews.c.period_start,
    )
    rows = session.execute(
        select(reviews.c.establishment_id, reviews.c.category, reviews.c.period_start)
        .where(reviews.c.period_start < before, ~reported.exists())
        .group_by(reviews.c.establishment_id, reviews.c.category, reviews.c.period_start)
        .order_by(reviews.c.period_start, reviews.c.establishment_id, reviews.c.category)
        .limit(limit)
    ).all()
    return [(r.establishment_id, r.category, r.period_start) for r in rows]


def claim_performance_report(
    session: Session,
    perf: domain.EstablishmentPerformance,
    event_id: str,
    now: datetime,
) -> bool:
    """Claim the one report of (establishment, category, period); ``False`` if another
    timer instance has it (the primary key serialises them)."""
    return _insert_new(
        session,
        performance_reports,
        establishment_id=perf.establishment_id,
        category=perf.category,
        period_start=perf.period_start,
        period_end=perf.period_end,
        performance_index=perf.performance_index,
        reviews_count=perf.reviews_count,
        event_id=event_id,
        reported_at=now,
    )


def performance_reports_of(
    session: Session, establishment_id: str, category: str | None = None
) -> list[dict[str, Any]]:
    query = _where_equal(
        select(performance_reports)
        .where(performance_reports.c.establishment_id == establishment_id)
        .order_by(performance_reports.c.period_start),
        performance_reports,
        category=category,
    )
    return [
        {
            "category": r.category,
            "period_start": r.period_start.isoformat(),
            "period_end": r.period_end.isoformat(),
            "performance_index": f"{r.performance_index:.2f}",
            "reviews_count": r.reviews_count,
            "reported_at": r.reported_at.isoformat(),
        }
        for r in session.execute(query)
    ]


# --- publications --------------------------------------------------------------------------


def frozen_publication(session: Session, quarter: str, fmt: str) -> Any:
    return session.execute(
        select(publications).where(publications.c.quarter == quarter, publications.c.format == fmt)
    ).first()


def freeze_publication(
    session: Session, quarter: str, fmt: str, content: bytes, sha: str, count: int, now: datetime
) -> bool:
    """Store a quarter's package once; ``False`` when it was frozen already."""
    return _insert_new(
        session,
        publications,
        quarter=quarter,
        format=fmt,
        content=content,
        sha256=sha,
        awards_count=count,
        frozen_at=now,
    )


def award_placements(session: Session, start: date, end: date) -> list[domain.Placement]:
    """Placements that are awards (§7.5: referral awards and direct placements, not block
    places) agreed between ``start`` and ``end`` (UTC days, both included)."""
    return [
        p
        for p in placement_summaries(session, start=start, end=end)
        if p.source is not domain.PlacementSource.BLOCK_PLACE
    ]


def award_quarters_before(session: Session, before: date) -> list[date]:
    """The first day of every calendar quarter before ``before`` holding an award."""
    quarter = func.date_trunc("quarter", func.timezone("UTC", placements.c.agreed_at))
    rows = session.execute(
        select(quarter.label("q"))
        .where(
            placements.c.source != domain.PlacementSource.BLOCK_PLACE.value,
            placements.c.agreed_at < _utc_midnight(before),
        )
        .group_by(quarter)
        .order_by(quarter)
    ).all()
    return [r.q.date() for r in rows]


def frozen_quarters(session: Session, fmt: str) -> set[str]:
    return set(
        session.execute(
            select(publications.c.quarter).where(publications.c.format == fmt)
        ).scalars()
    )


# --- copies of other services' facts -------------------------------------------------------


def upsert_provider(session: Session, provider_id: str, name: str, now: datetime) -> None:
    _upsert(session, providers, {"provider_id": provider_id, "name": name, "updated_at": now})
    # placements that had no name for their provider get it (publication names it, §7.5)
    session.execute(
        placements.update()
        .where(placements.c.provider_id == provider_id, placements.c.provider_name == "")
        .values(provider_name=name)
    )
    session.execute(
        block_contracts.update()
        .where(block_contracts.c.provider_id == provider_id, block_contracts.c.provider_name == "")
        .values(provider_name=name)
    )


def provider_names(session: Session, ids: Iterable[str] | None = None) -> dict[str, str]:
    query = select(providers.c.provider_id, providers.c.name)
    if ids is not None:
        query = query.where(providers.c.provider_id.in_(list(set(ids))))
    return dict(session.execute(query).all())


def provider_name(session: Session, provider_id: str) -> str:
    """A provider's name from the copy of provider organisations; ``""`` when unknown."""
    return provider_names(session, [provider_id]).get(provider_id, "")


def upsert_membership(
    session: Session,
    *,
    establishment_id: str,
    category: str,
    provider_id: str,
    name: str,
    status: str,
    now: datetime,
) -> None:
    _upsert(
        session,
        memberships,
        {
            "establishment_id": establishment_id,
            "category": category,
            "provider_id": provider_id,
            "establishment_name": name,
            "status": status,
            "updated_at": now,
        },
    )


def memberships_of(session: Session, establishment_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(memberships)
        .where(memberships.c.establishment_id == establishment_id)
        .order_by(memberships.c.category)
    ).all()
    return [dict(r._mapping) for r in rows]


def upsert_referral_record(session: Session, referral_id: str, now: datetime, **fields) -> None:
    """Merge what one referral event tells about a referral (events arrive in any order:
    each fills in its own fields and never blanks another's)."""
    values = {"referral_id": referral_id, "updated_at": now, **fields}
    table = referral_records
    statement = pg_insert(table).values(**values)
    update = {
        name: func.coalesce(statement.excluded[name], table.c[name])
        for name in fields
        if name not in ("authority", "category")
    }
    update["updated_at"] = now
    session.execute(
        statement.on_conflict_do_update(index_elements=[table.c.referral_id], set_=update)
    )


def insert_decline(
    session: Session,
    *,
    referral_id: str,
    establishment_id: str,
    authority: str,
    category: str,
    reason_code: str,
    at: datetime,
) -> None:
    _upsert(
        session,
        declines,
        {
            "referral_id": referral_id,
            "establishment_id": establishment_id,
            "authority": authority,
            "category": category,
            "reason_code": reason_code,
            "declined_at": at,
        },
        update=("reason_code", "declined_at"),
    )


def referral_records_between(
    session: Session, category: str, start: date, end: date
) -> list[domain.ReferralRecord]:
    """Referrals of a category published between ``start`` and ``end`` (UTC days), with
    the reason of every decline (§5 declines, §7.6)."""
    rows = session.execute(
        select(referral_records).where(
            referral_records.c.category == category,
            referral_records.c.published_at >= _utc_midnight(start),
            referral_records.c.published_at < _utc_midnight(end, plus_days=1),
        )
    ).all()
    reasons: dict[str, list[str]] = defaultdict(list)
    if rows:
        ids = [r.referral_id for r in rows]
        for referral_id, code in session.execute(
            select(declines.c.referral_id, declines.c.reason_code)
            .where(declines.c.referral_id.in_(ids))
            .order_by(declines.c.referral_id, declines.c.establishment_id)
        ):
            reasons[referral_id].append(code)
    return [
        domain.ReferralRecord(
            referral_id=r.referral_id,
            authority=r.authority,
            category=r.category,
            published_at=r.published_at,
            needs=tuple(r.needs or ()),
            bids_count=r.bids_count,
            compliant_bids_count=r.compliant_bids_count,
            awarded_at=r.awarded_at,
            decline_reasons=tuple(reasons[r.referral_id]),
        )
        for r in rows
    ]


def anonymisation_secret(session: Session, name: str = "benchmarks") -> str | None:
    return session.execute(
        select(anonymisation_keys.c.secret).where(anonymisation_keys.c.name == name)
    ).scalar()


def ensure_anonymisation_secret(session: Session, secret: str, name: str = "benchmarks") -> str:
    """The stored secret, creating it with ``secret`` the first time (race-safe)."""
    session.execute(
        pg_insert(anonymisation_keys).values(name=name, secret=secret).on_conflict_do_nothing()
    )
    return anonymisation_secret(session, name) or secret
