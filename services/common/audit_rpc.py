"""The audit trail's entrypoints, shared by every service (RULES §9, §13): the RPCs the
gateway uses to read and verify a service's trail, the timer that seals new records into
its hash chain, and the one that purges relayed outbox rows."""

from __future__ import annotations

from datetime import datetime

from services.common.config import Settings, get_settings
from services.common.runtime import rpc, timer_from
from services.common.uow import audit_rows, purge_outbox, seal_audit, verify_audit


class AuditRpc:
    """Mixin giving a service the RPCs the gateway uses to read and verify its audit
    trail (RULES §9), and the timer that seals newly written records into its hash chain
    (safe with several instances: one sealer at a time, the others skip the tick).
    Needs ``db`` (a ``Database``) on the service."""

    @timer_from(Settings, "audit_seal_seconds")
    def seal_audit_chain(self) -> None:
        with self.db.uow() as uow:
            while seal_audit(uow.session, uow.tables, uow.schema):
                uow.session.commit()

    @timer_from(Settings, "outbox_purge_seconds")
    def purge_relayed_outbox(self) -> None:
        """§13: relayed outbox rows older than ``DPS_OUTBOX_RETENTION_DAYS`` are deleted."""
        with self.db.uow() as uow:
            purge_outbox(uow, get_settings().outbox_retention_days)

    @rpc
    def audit_records(self, filters: dict) -> list[dict]:
        filters = {**filters, **{k: _instant(filters.get(k)) for k in ("start", "end")}}
        with self.db.uow() as uow:
            rows = audit_rows(uow.session, uow.tables, **filters)
        return [audit_json(r) for r in rows]

    @rpc
    def audit_verify(self) -> dict:
        with self.db.uow() as uow:
            return verify_audit(uow.session, uow.tables).as_dict()


def _instant(value: str | None) -> datetime | None:
    """An ISO 8601 instant sent over RPC as text (the column is timestamptz: comparing it
    with a text parameter fails in PostgreSQL)."""
    return datetime.fromisoformat(value) if value else None


def audit_json(row: dict) -> dict:
    return {**row, "occurred_at": row["occurred_at"].isoformat()}
