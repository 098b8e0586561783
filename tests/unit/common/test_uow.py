"""The unit of work without a database (DESIGN rule 3, RULES §9): what it writes in the
business transaction — outbox rows, the processed-event claim, chained audit records —
and that nothing is written when the work fails. (tests/integration/common runs the same
code on PostgreSQL and RabbitMQ.)"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar

import pytest
from sqlalchemy import MetaData
from sqlalchemy.sql.dml import Insert

from services.common.clock import FixedClock
from services.common.events import EventBase
from services.common.tables import common_tables
from services.common.uow import UnitOfWork

AT = datetime(2026, 4, 1, 9, 30, tzinfo=timezone.utc)


class Happened(EventBase):
    event_type: ClassVar[str] = "thing_happened"
    thing_id: str


class _Result:
    def __init__(self, row):
        self.row = row

    def first(self):
        return self.row


class FakeSession:
    """Records statements; ``claimed`` says whether the processed-event insert wins."""

    def __init__(self, claimed: bool = True):
        self.claimed = claimed
        self.statements: list = []
        self.params: list = []
        self.committed = self.rolled_back = self.closed = False

    def execute(self, statement, params=None):
        self.statements.append(statement)
        self.params.append(params)
        if isinstance(statement, Insert) and statement.table.name == "processed_events":
            return _Result(("e1",) if self.claimed else None)
        return _Result(None)

    def inserts(self, table: str) -> list[dict]:
        rows = []
        for statement, params in zip(self.statements, self.params, strict=True):
            if isinstance(statement, Insert) and statement.table.name == table:
                rows += params if isinstance(params, list) else [statement.compile().params]
        return rows

    def commit(self):
        self.committed = True

    def rollback(self):
        self.rolled_back = True

    def close(self):
        self.closed = True


def _uow(session: FakeSession) -> UnitOfWork:
    return UnitOfWork(session, common_tables(MetaData(schema="probe")), "probe",
                      FixedClock(AT), actor={"role": "lead", "authority": "WSCC"},
                      request_id="req-1")


def test_emit_writes_an_outbox_row_stamped_with_time_and_request_id():
    session = FakeSession()
    with _uow(session) as uow:
        event = uow.emit(Happened(thing_id="t1"))
        uow.commit()
    [row] = session.inserts("outbox")
    assert row["event_id"] == event.event_id
    assert row["event_type"] == "thing_happened"
    assert row["request_id"] == "req-1"
    assert row["occurred_at"] == AT
    assert row["payload"]["thing_id"] == "t1"
    assert row["payload"]["request_id"] == "req-1"
    assert session.committed and session.closed


def test_an_event_without_a_type_is_refused():
    class Untyped(EventBase):
        pass

    with pytest.raises(ValueError, match="event_type"), _uow(FakeSession()) as uow:
        uow.emit(Untyped())


def test_a_failure_rolls_back_the_whole_transaction_and_writes_no_audit():
    session = FakeSession()
    with pytest.raises(RuntimeError), _uow(session) as uow:
        uow.emit(Happened(thing_id="t1"))
        uow.audit("thing.made", "thing", "t1", None, {"ok": True})
        raise RuntimeError("boom")
    assert session.rolled_back and not session.committed
    assert session.inserts("audit_log") == []


@pytest.mark.parametrize("claimed", [True, False])
def test_an_event_is_claimed_once_per_handler(claimed):
    uow = _uow(FakeSession(claimed=claimed))
    assert uow.claim_event("e1", "svc.handler") is claimed
    assert uow.duplicate is not claimed


def test_audit_records_are_written_at_commit_in_the_order_recorded_for_the_sealer():
    """RULES §9 and issue 10: the business transaction writes its records, in order, and
    takes no chain lock; ``seal_audit`` chains them after commit (tested on PostgreSQL in
    tests/integration/common/test_plumbing.py)."""
    session = FakeSession()
    with _uow(session) as uow:
        uow.audit("thing.made", "thing", "t1", None, {"n": 1})
        uow.audit("thing.changed", "thing", "t1", {"n": 1}, {"n": 2})
        assert session.inserts("audit_log") == []  # nothing until commit
        uow.commit()
    rows = session.inserts("audit_log")
    assert [r["action"] for r in rows] == ["thing.made", "thing.changed"]
    assert all("seq" not in r and "hash" not in r for r in rows)
    assert rows[0]["actor"] == {"role": "lead", "authority": "WSCC"}
    assert not any("advisory" in str(st) for st in session.statements)
