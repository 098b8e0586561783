"""RULES §13 retention of copies on PostgreSQL: relayed outbox rows older than 30 days are
deleted (unsent and newer ones stay), delivery bodies are dropped 30 days after their final
state; each purge is audited and the audit chain still verifies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import sessionmaker

from services.common.clock import FixedClock
from services.common.runtime import make_engine
from services.common.uow import UnitOfWork, purge_outbox, verify_audit
from services.notifications import store as notifications_store
from services.notifications.handlers.retention import drop_old_bodies
from services.referral import store as referral_store

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine():
    from tests.support.infra import bootstrap_once

    bootstrap_once()
    eng = make_engine(pool_size=2)
    yield eng
    eng.dispose()


def uow_of(engine, store_module, schema):
    def new_uow():
        uow = UnitOfWork(sessionmaker(engine)(), store_module.TABLES, schema, FixedClock(NOW),
                         actor={"role": "system", "service": schema})
        uow.store = store_module.Store(uow.session)
        return uow
    return new_uow


def test_relayed_outbox_rows_older_than_30_days_are_deleted(engine):
    outbox = referral_store.TABLES["outbox"]
    rows = {
        "old": NOW - timedelta(days=31),
        "recent": NOW - timedelta(days=29),
        "unsent": None,
    }
    ids = {k: str(uuid.uuid4()) for k in rows}
    with engine.begin() as c:
        for k, sent in rows.items():
            c.execute(insert(outbox).values(
                event_id=ids[k], event_type="test_event", payload={"k": k},
                occurred_at=NOW - timedelta(days=60), sent_at=sent))
    with uow_of(engine, referral_store, "referral")() as uow:
        assert purge_outbox(uow, 30) >= 1
    with engine.connect() as c:
        left = set(c.execute(select(outbox.c.event_id).where(
            outbox.c.event_id.in_(ids.values()))).scalars())
        audited = c.execute(text(
            "SELECT count(*) FROM referral.audit_log WHERE action = 'outbox.purged'")).scalar()
    assert left == {ids["recent"], ids["unsent"]}
    assert audited >= 1
    with uow_of(engine, referral_store, "referral")() as uow:
        assert verify_audit(uow.session, uow.tables).ok


def test_delivery_bodies_are_dropped_30_days_after_their_final_state(engine):
    t = notifications_store.tables.deliveries
    base = {"message_type": "award_winner", "channel": "email", "gateway": "smtp",
            "recipient": "head@example.org", "created_at": NOW - timedelta(days=40),
            "subject": "Placement awarded", "body_text": "text", "body_html": "<p>html</p>"}
    ids = {k: str(uuid.uuid4()) for k in ("old", "recent", "pending")}
    with engine.begin() as c:
        c.execute(insert(t).values(id=ids["old"], event_id=ids["old"], status="delivered",
                                   updated_at=NOW - timedelta(days=31), **base))
        c.execute(insert(t).values(id=ids["recent"], event_id=ids["recent"], status="delivered",
                                   updated_at=NOW - timedelta(days=2), **base))
        c.execute(insert(t).values(id=ids["pending"], event_id=ids["pending"], status="pending",
                                   updated_at=NOW - timedelta(days=90), **base))
    assert drop_old_bodies(uow_of(engine, notifications_store, "notifications"), 30) >= 1
    with engine.connect() as c:
        rows = {r.id: r for r in c.execute(select(t).where(t.c.id.in_(ids.values())))}
    assert (rows[ids["old"]].body_text, rows[ids["old"]].body_html) == (None, None)
    assert rows[ids["old"]].subject == "Placement awarded"  # the record stays
    assert rows[ids["recent"]].body_text == "text" and rows[ids["pending"]].body_text == "text"
