"""Unit of work: one database transaction that carries the business change, its audit
records (RULES §9) and its outbox rows (DESIGN rule 3), all committed together."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text
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
        """Write this transaction's audit records (RULES §9), in the order recorded.

        They are written *unsealed* (no ``seq`` or hash yet): no lock is taken here, so
        concurrent writers of one service never queue behind each other. The sealer
        (``seal_audit``, a timer in every service) links them into the hash chain in
        insertion order shortly after they commit.
        """
        if not self.audits:
            return
        self.session.execute(insert(self.tables["audit_log"]), list(self.audits))
        self.audits.clear()


def seal_audit(session: Session, tables: dict, schema: str, *, wait: bool = False,
               batch: int = 1000) -> int:
    """Link the unsealed audit rows of ``schema`` into its hash chain, oldest first
    (RULES §9); returns how many were sealed. The caller commits.

    One sealer at a time per schema (a transaction-scoped advisory lock): with
    ``wait=False`` (the timers of several instances) a sealer that finds the lock taken
    does nothing; with ``wait=True`` (verification) it waits for it.
    """
    lock = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    got = session.execute(text(f"SELECT {lock}(hashtext(:k))"), {"k": f"audit:{schema}"})
    if not wait and not got.scalar():
        return 0
    table = tables["audit_log"]
    pending = session.execute(select(table).where(table.c.seq.is_(None))
                              .order_by(table.c.id).limit(batch)).all()
    if not pending:
        return 0
    last = session.execute(select(table.c.seq, table.c.hash).where(table.c.seq.is_not(None))
                           .order_by(table.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq, last.hash) if last else (0, audit.GENESIS)
    sealed = []
    for row in pending:
        seq += 1
        fields = {**{k: getattr(row, k) for k in audit.HASHED_FIELDS if k != "seq"},
                  "seq": seq}
        prev_hash, prev = prev, audit.record_hash(prev, fields)
        sealed.append((row.id, seq, prev_hash, prev))
    ids, seqs, prevs, hashes = (list(column) for column in zip(*sealed, strict=True))
    # one statement for the whole batch (an executemany is a statement per row, and
    # under load it was most of the sealer's time)
    session.execute(text(
        f"UPDATE {table.fullname} AS a SET seq = u.seq, prev_hash = u.prev, hash = u.hash "
        "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), "
        "CAST(:prevs AS varchar[]), CAST(:hashes AS varchar[])) AS u(id, seq, prev, hash) "
        "WHERE a.id = u.id"), {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes})
    return len(pending)


def seal_pending(session: Session, tables: dict) -> None:
    """Seal every record written so far (waiting for a sealer at work), and commit: what a
    reader of the trail calls first, so that every record it reads has its place in the
    chain."""
    schema = tables["audit_log"].schema
    while seal_audit(session, tables, schema, wait=True):
        session.commit()
    session.commit()


def unsealed_count(session: Session, tables: dict) -> int:
    table = tables["audit_log"]
    return session.execute(select(func.count()).select_from(table)
                           .where(table.c.seq.is_(None))).scalar_one()


def audit_rows(session: Session, tables: dict, entity_type=None, entity_id=None,
               start=None, end=None, limit: int = 100, after_seq: int = 0) -> list[dict]:
    """Audit records in chain order, after sealing what is pending (``seal_pending``)."""
    seal_pending(session, tables)
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


def verify_audit(session: Session, tables: dict, batch: int = 5000,
                 seal: bool = True) -> audit.VerifyResult:
    """Walk the whole chain in batches (RULES §9). With ``seal`` the rows still waiting
    for the sealer are sealed first (and committed), so the answer covers every record
    written before the call; rows committed meanwhile are reported as ``unsealed``."""
    table = tables["audit_log"]
    if seal:
        seal_pending(session, tables)

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

    total = session.execute(select(func.count()).select_from(table)
                            .where(table.c.seq.is_not(None))).scalar_one()
    result = audit.verify(rows())
    if result.ok and result.checked != total:
        result = audit.VerifyResult(False, result.checked, None, "row count does not match")
    return replace(result, unsealed=unsealed_count(session, tables))


def actor_from_context(data: dict) -> tuple[dict | None, str | None]:
    """(principal, request_id) from nameko context data set by the gateway."""
    principal = data.get("principal")
    if isinstance(principal, str):
        principal = json.loads(principal)
    return principal, data.get("request_id")


__all__ = ["UnitOfWork", "common_tables", "audit_rows", "verify_audit", "seal_audit",
           "actor_from_context"]


def purge_outbox(uow: UnitOfWork, days: int) -> int:
    """RULES §13: outbox rows relayed more than ``days`` ago are deleted (their payloads may
    hold sealed personal data; nothing needs them once published); audited, committed."""
    table = uow.tables["outbox"]
    cutoff = uow.now() - timedelta(days=days)
    deleted = uow.session.execute(
        delete(table).where(table.c.sent_at.is_not(None), table.c.sent_at <= cutoff)
    ).rowcount
    if deleted:
        uow.audit("outbox.purged", "outbox", uow.schema, None,
                  {"deleted": deleted, "sent_before": cutoff.isoformat()})
    uow.commit()
    return deleted
