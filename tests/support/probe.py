"""A small service pair on the real plumbing (schemas ``probe`` and ``probe_consumer``),
used to test the outbox, relay, idempotent handlers, retries and eventlet overlap."""

from __future__ import annotations

import uuid
from typing import ClassVar

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text

from services.common.config import get_settings
from services.common.events import EventBase
from services.common.runtime import Database, RequestContext, event_handler, rpc
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


class ProbeService:
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


class ProbeConsumer:
    name = "probe_consumer"
    ctx = RequestContext()
    db = Database(consumer_md)

    @event_handler("probe", "widget_made")
    def on_widget_made(self, payload: dict) -> None:
        if payload.get("explode"):
            raise RuntimeError("handler failure")
        with self.db.event_uow(payload, "on_widget_made") as uow:
            if uow.duplicate:
                return
            uow.session.execute(
                insert(received).values(event_id=payload["event_id"], name=payload["name"])
            )
            uow.commit()


def create_schemas() -> None:
    engine = create_engine(get_settings().database_url)
    with engine.begin() as conn:
        for md in (producer_md, consumer_md):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{md.schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{md.schema}"'))
            md.create_all(conn)
    engine.dispose()
