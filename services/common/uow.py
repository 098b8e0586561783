"""Unit of work: one database transaction that carries the business change, its audit
records (RULES §9) and its outbox rows (DESIGN rule 3), all committed together."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.common import audit
from services.common.clock import Clock
from services.common.events import EventBase
from services.common.logging import get_logger
from services.common.tables import common_tables

log = get_logger(__name__)


class UnitOfWork:
    def __init__(self, session: Session, tables: dict, schema: str, clock: Clock,
                 actor: dict | None = None, request_id: str | None = None):
        self.session = session
        self.tables = tables
        self.schema = schema
        self.clock = clock
        self.actor = actor or {"role": "system"}
        self.request_id = request_id
        self.events: list[EventBase] = []
        self.audits: list[dict] = []
        self.duplicate = False

    # -- context management ------------------------------------------------------
    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self._write_audits()
        self.session.commit()
        for event in self.events:
            log.info("event recorded", event_type=event.event_type, event_id=event.event_id)

    def rollback(self) -> None:
        self.audits.clear()
        self.session.rollback()

    def now(self):
        return self.clock.now()

    # -- outbox ------------------------------------------------------------------
    def emit(self, event: EventBase) -> EventBase:
        """Write an outbox row in this transaction; the relay publishes it after commit."""
        if not event.event_type:
            raise ValueError(f"{type(event).__name__} has no event_type")
        event = event.stamped(self.now(), self.request_id)
        self.session.execute(insert(self.tables["outbox"]).values(
            event_id=event.event_id, event_type=event.event_type,
            payload=event.model_dump(mode="json"), request_id=event.request_id,
            occurred_at=event.occurred_at,
        ))
        self.session.execute(text("SELECT pg_notify(:channel, '')"),
                             {"channel": f"{self.schema}_outbox"})
        self.events.append(event)
        return event

    # -- idempotent handlers -------------------------------------------------------
    def claim_event(self, event_id: str, handler: str) -> bool:
        """Record that ``handler`` processed ``event_id``, in this transaction.

        Returns False when it was processed before: the caller must then do nothing.
        Two concurrent deliveries serialise on the primary key; the loser sees a conflict.
        """
        table = self.tables["processed_events"]
        claimed = self.session.execute(
            pg_insert(table)
            .values(event_id=event_id, handler=handler, processed_at=self.now())
            .on_conflict_do_nothing()
            .returning(table.c.event_id)
        ).first()
        self.duplicate = claimed is None
        return not self.duplicate

    # -- audit ---------------------------------------------------------------------
    def audit(self, action: str, entity_type: str, entity_id: Any,
              before: Any = None, after: Any = None) -> None:
        """Record a hash-chained audit record (RULES §9); written by ``commit`` in this
        transaction."""
        self.audits.append({
            "occurred_at": self.now(),
            "actor": audit.canonical(self.actor),
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "before": audit.canonical(before),
            "after": audit.canonical(after),
            "request_id": self.request_id,
        })

    def _write_audits(self) -> None:
        """Append this transaction's audit records to the schema's chain.

        A transaction-scoped advisory lock serialises writers of the chain; taking it just
        before commit keeps the time other writers wait for it short.
        """
        if not self.audits:
            return
        table = self.tables["audit_log"]
        self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                             {"k": f"audit:{self.schema}"})
        last = self.session.execute(
            select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
        ).first()
        seq, prev = (last.seq, last.hash) if last else (0, audit.GENESIS)
        for record in self.audits:
            seq += 1
            fields = {"seq": seq, **record}
            prev_hash, prev = prev, audit.record_hash(prev, fields)
            self.session.execute(insert(table).values(**fields, prev_hash=prev_hash,
                                                      hash=prev))
        self.audits.clear()


def audit_rows(session: Session, tables: dict, entity_type=None, entity_id=None,
               start=None, end=None, limit: int = 100, after_seq: int = 0) -> list[dict]:
    table = tables["audit_log"]
    q = select(table).where(table.c.seq > after_seq).order_by(table.c.seq).limit(limit)
    if entity_type:
        q = q.where(table.c.entity_type == entity_type)
    if entity_id:
        q = q.where(table.c.entity_id == str(entity_id))
    if start:
        q = q.where(table.c.occurred_at >= start)
    if end:
        q = q.where(table.c.occurred_at < end)
    return [dict(r._mapping) for r in session.execute(q)]


def verify_audit(session: Session, tables: dict, batch: int = 5000) -> audit.VerifyResult:
    """Walk the whole chain in batches (RULES §9)."""
    table = tables["audit_log"]

    def rows():
        after = 0
        while True:
            chunk = session.execute(
                select(table).where(table.c.seq > after).order_by(table.c.seq).limit(batch)
            ).all()
            if not chunk:
                return
            for r in chunk:
                yield dict(r._mapping)
            after = chunk[-1].seq

    total = session.execute(select(func.count()).select_from(table)).scalar_one()
    result = audit.verify(rows())
    if result.ok and result.checked != total:
        return audit.VerifyResult(False, result.checked, None, "row count does not match")
    return result


def actor_from_context(data: dict) -> tuple[dict | None, str | None]:
    """(principal, request_id) from nameko context data set by the gateway."""
    principal = data.get("principal")
    if isinstance(principal, str):
        principal = json.loads(principal)
    return principal, data.get("request_id")


__all__ = ["UnitOfWork", "common_tables", "audit_rows", "verify_audit", "actor_from_context"]
