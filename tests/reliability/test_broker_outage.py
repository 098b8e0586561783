"""Issue "Foundation" reliability: with RabbitMQ stopped, a state change that emits an
event still commits; once RabbitMQ is back the event reaches its handler exactly once
(DESIGN rule 3: transactional outbox + idempotent handlers)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.clock import Clock
from services.common.relay import Relay
from services.common.runtime import Database, make_engine
from services.common.uow import UnitOfWork
from tests.support import probe
from tests.support.infra import rabbit, wait_for


@pytest.fixture
def engine():
    probe.create_schemas()
    eng = make_engine(pool_size=2)
    yield eng
    eng.dispose()


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_event_committed_during_broker_outage_is_delivered_once_after_restart(
        engine, config):
    from nameko.containers import ServiceContainer

    consumer = ServiceContainer(probe.ProbeConsumer, config)
    consumer.start()
    stop = threading.Event()
    relayer = Relay(["probe"], stop)
    relay = threading.Thread(target=relayer.run, daemon=True)
    relay.start()
    outbox = probe.producer_md.tables["probe.outbox"]
    try:
        rabbit("stop_app")
        try:
            tables = Database(probe.producer_md).tables
            widget_id = probe.make_widget(
                UnitOfWork(Session(engine), tables, "probe", Clock(),
                           actor={"role": "lead"}), "during outage")
            assert widget_id
            assert _count(engine, probe.widgets) == 1  # the state change committed
            # positive marker: the relay has tried, and failed, twice meanwhile
            tried = relayer.interruptions
            wait_for(lambda: relayer.interruptions >= tried + 2, 60, "the relay's attempts")
            unsent = outbox.select().where(outbox.c.sent_at.is_(None)).subquery()
            assert _count(engine, unsent) == 1
            assert _count(engine, probe.received) == 0
        finally:
            rabbit("start_app")
        wait_for(lambda: _count(engine, probe.received) == 1, 90, "delivery after restart")
        # positive marker: the row is marked sent (no later republish), and a sentinel event
        # published after it has been handled, so any copy published before it was too
        wait_for(lambda: _count(engine, unsent) == 0, 30, "the row marked sent")
        probe.make_widget(UnitOfWork(Session(engine), tables, "probe", Clock(),
                                     actor={"role": "lead"}), "sentinel")
        wait_for(lambda: _count(engine, probe.received) == 2, 30, "the sentinel")
        assert _count(engine, probe.received.select().where(
            probe.received.c.name == "during outage").subquery()) == 1
    finally:
        stop.set()
        relay.join(15)
        consumer.kill()
