"""The shared plumbing on real RabbitMQ and PostgreSQL: eventlet overlap, outbox,
relay, idempotent handlers, delayed retry and dead-lettering, audit tamper detection."""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import datetime

import kombu
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import MetaData, create_engine, func, select, text, update
from sqlalchemy.orm import Session

from services.common.config import get_settings
from services.common.relay import Relay
from services.common.runtime import make_engine
from services.common.tables import common_tables
from services.common.uow import verify_audit
from tests.support import probe
from tests.support.infra import wait_for


@pytest.fixture
def engine():
    probe.create_schemas()
    eng = make_engine(pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture
def relay():
    stop = threading.Event()
    worker = threading.Thread(target=Relay(["probe"], stop).run, daemon=True)
    worker.start()
    yield
    stop.set()
    worker.join(10)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _one(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(table)).one()


def test_concurrent_queries_in_one_service_overlap_under_eventlet(container_factory, config,
                                                                   engine):
    """DESIGN pitfall: psycopg blocks the hub unless PSYCOPG_WAIT_FUNC=wait_selector."""
    container_factory(probe.ProbeService).start()
    with ClusterRpcProxy(config) as proxy:
        replies = [proxy.probe.slow.call_async(0.5) for _ in range(8)]
        spans = [[datetime.fromisoformat(t) for t in r.result()] for r in replies]
    # every query started before any of them finished: they all ran at once
    assert max(start for start, _ in spans) < min(end for _, end in spans)


def test_outbox_row_and_audit_commit_with_the_change_or_not_at_all(container_factory, config,
                                                                    engine):
    container_factory(probe.ProbeService).start()
    outbox = probe.producer_md.tables["probe.outbox"]
    with ClusterRpcProxy(config) as proxy:
        proxy.probe.make("kept")
        with pytest.raises(Exception, match="boom"):
            proxy.probe.make("lost", fail=True)
    assert _count(engine, probe.widgets) == 1
    assert _count(engine, outbox) == 1
    assert _count(engine, probe.producer_md.tables["probe.audit_log"]) == 1


def test_event_reaches_its_handler_exactly_once_even_when_published_twice(
        container_factory, config, engine, relay):
    container_factory(probe.ProbeConsumer).start()
    container_factory(probe.ProbeService).start()
    with ClusterRpcProxy(config) as proxy:
        proxy.probe.make("w1")
    wait_for(lambda: _count(engine, probe.received) == 1, 15, "the event")
    # the relay crashed after publishing but before marking the row sent: it republishes
    outbox = probe.producer_md.tables["probe.outbox"]
    with engine.begin() as conn:
        conn.execute(update(outbox).values(sent_at=None))
        conn.execute(text("SELECT pg_notify('probe_outbox', '')"))
    wait_for(lambda: _count(engine, outbox.select().where(outbox.c.sent_at.is_(None))
                            .subquery()) == 0, 15, "the republish")
    processed = probe.consumer_md.tables["probe_consumer.processed_events"]
    wait_for(lambda: _count(engine, processed) == 1, 5, "the handler's record")
    # positive marker: the republished copy itself has been handled (and skipped)
    event_id = _one(engine, probe.received).event_id
    wait_for(lambda: probe.HANDLED.count(event_id) == 2, 15, "the duplicate's handling")
    assert _count(engine, probe.received) == 1


def test_failing_handler_is_retried_with_delay_then_dead_lettered(
        container_factory, config, engine, relay, monkeypatch):
    monkeypatch.setenv("DPS_HANDLER_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("DPS_HANDLER_RETRY_BASE_SECONDS", "0.2")
    get_settings.cache_clear()
    try:
        queue = "evt-probe-widget_made--probe_consumer.on_widget_made"
        with kombu.Connection(get_settings().amqp_uri) as conn:
            for name in (f"{queue}.dlq", f"{queue}.retry"):
                with suppress(Exception):
                    conn.default_channel.queue_purge(name)
        consumer = container_factory(probe.ProbeConsumer)
        consumer.start()
        container_factory(probe.ProbeService).start()
        with ClusterRpcProxy(config) as proxy:
            proxy.probe.make("bad", explode=True)

        def dead_lettered():
            with kombu.Connection(get_settings().amqp_uri) as conn:
                dlq = kombu.Queue(f"{queue}.dlq", durable=True)(conn.default_channel)
                dlq.declare()  # the same arguments as the handler's, so this is harmless
                return dlq.get(no_ack=True)

        message = wait_for(dead_lettered, 20, "the dead-lettered event")
        assert message.headers["x-dps-attempts"] == 3
        assert message.payload["name"] == "bad"
        assert _count(engine, probe.received) == 0
    finally:
        get_settings.cache_clear()


def test_tampering_with_a_stored_audit_row_is_detected(engine):
    from services.common.clock import Clock
    from services.common.uow import UnitOfWork
    from tests.support.probe import make_widget

    tables = common_tables(MetaData(schema="probe"))
    tables_all = {**tables, "widgets": probe.widgets}
    sm = lambda: Session(engine)  # noqa: E731
    for name in ("a", "b", "c"):
        make_widget(UnitOfWork(sm(), tables_all, "probe", Clock(),
                               actor={"role": "lead"}), name)
    with Session(engine) as s:
        assert verify_audit(s, tables).as_dict() == {"ok": True, "checked": 3}
    with engine.begin() as conn:
        conn.execute(text("UPDATE probe.audit_log SET after = '{\"name\": \"z\"}' "
                          "WHERE seq = 2"))
    with Session(engine) as s:
        result = verify_audit(s, tables)
    assert (result.ok, result.first_bad) == (False, 2)


def test_concurrent_writers_take_no_chain_lock_and_the_sealer_chains_every_record(
        container_factory, config, engine):
    """RULES §9, issue 10: 8 writers at once each commit their audit record unsealed; the
    service's seal timer links all of them into one chain that verifies."""
    from services.common.uow import seal_audit

    container_factory(probe.ProbeService).start()
    log = probe.producer_md.tables["probe.audit_log"]
    before = _count(engine, log)
    with ClusterRpcProxy(config) as proxy:
        calls = [proxy.probe.make.call_async(f"w{i}") for i in range(24)]
        assert all(c.result() for c in calls)
    assert _count(engine, log) == before + 24
    unsealed = log.select().where(log.c.seq.is_(None)).subquery()
    wait_for(lambda: _count(engine, unsealed) == 0, 15, "the sealer")
    with Session(engine) as s:
        tables = common_tables(MetaData(schema="probe"))
        assert seal_audit(s, tables, "probe") == 0  # nothing left
        result = verify_audit(s, tables)
    assert result.ok and result.checked == before + 24 and result.unsealed == 0
    with engine.connect() as conn:
        order = conn.execute(select(log.c.id, log.c.seq).order_by(log.c.seq)).all()
    assert [r.seq for r in order] == list(range(1, len(order) + 1))


_ = create_engine
