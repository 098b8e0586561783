"""A small service pair on the real plumbing (schemas ``probe`` and ``probe_consumer``),
used to test the outbox, relay, idempotent handlers, retries and eventlet overlap."""

from __future__ import annotations

import uuid
from typing import ClassVar

from nameko.extensions import DependencyProvider
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text

from services.common.audit_rpc import AuditRpc
from services.common.config import get_settings
from services.common.events import EventBase
from services.common.runtime import Database, RequestContext, consumes, rpc
from services.common.tables import common_tables

producer_md = MetaData(schema="probe")
common_tables(producer_md)
widgets = Table(
    "widgets",
    producer_md,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
)

consumer_md = MetaData(schema="probe_consumer")
common_tables(consumer_md)
received = Table(
    "received",
    consumer_md,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("name", String(100), nullable=False),
)


class WidgetMade(EventBase):
    event_type: ClassVar[str] = "widget_made"
    widget_id: str
    name: str
    explode: bool = False


class ProbeService(AuditRpc):
    name = "probe"
    ctx = RequestContext()
    db = Database(producer_md)

    @rpc
    def ping(self):
        return "ok"

    @rpc
    def slow(self, seconds: float) -> list[str]:
        with self.db.uow() as uow:
            row = uow.session.execute(
                text("SELECT clock_timestamp() AS a, pg_sleep(:s), clock_timestamp() AS b"),
                {"s": seconds},
            ).one()
        return [row.a.isoformat(), row.b.isoformat()]

    @rpc
    def make(self, name: str, fail: bool = False, explode: bool = False) -> str:
        return make_widget(self.db.uow(), name, fail, explode)


def make_widget(uow, name: str, fail: bool = False, explode: bool = False) -> str:
    with uow:
        widget_id = str(uuid.uuid4())
        uow.session.execute(insert(widgets).values(id=widget_id, name=name))
        uow.audit("widget.made", "widget", widget_id, None, {"name": name})
        uow.emit(WidgetMade(widget_id=widget_id, name=name, explode=explode))
        if fail:
            raise RuntimeError("boom after the writes")
        uow.commit()
    return widget_id


HANDLED: list[str] = []
"""Event ids of every delivery the consumer finished handling, duplicates included: the
positive marker a test waits for before it asserts that a duplicate had no effect."""


class DeliveryLog(DependencyProvider):
    """Appends the event id of each successfully handled delivery to ``HANDLED``."""

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if exc_info is None and worker_ctx.args and isinstance(worker_ctx.args[0], dict):
            HANDLED.append(worker_ctx.args[0].get("event_id"))


class ProbeConsumer:
    name = "probe_consumer"
    ctx = RequestContext()
    db = Database(consumer_md)
    deliveries = DeliveryLog()

    @consumes("probe", "widget_made", WidgetMade)
    def on_widget_made(self, uow, event: WidgetMade) -> None:
        if event.explode:
            raise RuntimeError("handler failure")
        uow.session.execute(insert(received).values(event_id=event.event_id, name=event.name))


def create_schemas() -> None:
    engine = create_engine(get_settings().database_url)
    with engine.begin() as conn:
        for md in (producer_md, consumer_md):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{md.schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{md.schema}"'))
            md.create_all(conn)
    engine.dispose()
