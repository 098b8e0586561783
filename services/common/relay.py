"""Outbox relay (DESIGN rule 3).

Publishes each service's unsent outbox rows to its ``<service>.events`` exchange with
publisher confirms, then marks them sent in the same database transaction that locked
them (``FOR UPDATE SKIP LOCKED``, so several relays may run). A crash between publish and
commit republishes the row: handlers are idempotent, so effects happen exactly once. While
RabbitMQ is down nothing is marked sent and the rows wait. Wakes on ``NOTIFY`` from
``UnitOfWork.emit`` and polls as a fallback.
"""

from __future__ import annotations

import json
import threading

import kombu
import psycopg
from sqlalchemy.engine import make_url

from services.common.config import SERVICES, get_settings
from services.common.events import exchange_name
from services.common.logging import configure, get_logger

log = get_logger(__name__)


def libpq_url(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def relay_once(conn: psycopg.Connection, producer: kombu.Producer, schema: str,
               batch: int) -> int:
    """Publish one batch; returns how many rows were sent."""
    exchange = kombu.Exchange(exchange_name(schema), type="topic", durable=True)
    with conn.transaction():
        rows = conn.execute(
            f'SELECT id, event_type, payload, request_id FROM "{schema}".outbox '  # noqa: S608
            "WHERE sent_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (batch,)
        ).fetchall()
        for row_id, event_type, payload, request_id in rows:
            producer.publish(
                json.dumps(payload), exchange=exchange, routing_key=event_type,
                declare=[exchange], content_type="application/json",
                content_encoding="utf-8", delivery_mode=2,
                headers={"nameko.request_id": request_id} if request_id else {},
                retry=False,
            )
            log.info("event published", event_type=event_type, outbox_id=row_id,
                     event_id=payload.get("event_id"), request_id=request_id)
        if rows:
            conn.execute(
                f'UPDATE "{schema}".outbox SET sent_at = now(), attempts = attempts + 1 '  # noqa: S608
                "WHERE id = ANY(%s)", ([r[0] for r in rows],)
            )
    return len(rows)


class Relay:
    def __init__(self, schemas: list[str], stop: threading.Event | None = None):
        self.settings = get_settings()
        self.schemas = schemas
        self.stop = stop or threading.Event()
        self.interruptions = 0  # times the loop lost the broker or database (tests wait on it)

    def run(self) -> None:
        backoff = 0.5
        while not self.stop.is_set():
            try:
                self._loop()
            except Exception as exc:  # broker or database down: keep rows, retry
                self.interruptions += 1
                log.warning("relay interrupted; retrying", error=repr(exc), retry_in_s=backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10)
            else:
                backoff = 0.5

    def _loop(self) -> None:
        s = self.settings
        with psycopg.connect(libpq_url(s.database_url), autocommit=True) as listen, \
                psycopg.connect(libpq_url(s.database_url)) as work, \
                kombu.Connection(s.amqp_uri, transport_options={"confirm_publish": True},
                                 heartbeat=0) as amqp:
            for schema in self.schemas:
                listen.execute(f'LISTEN "{schema}_outbox"')
            producer = kombu.Producer(amqp.channel())
            log.info("relay connected", schemas=self.schemas)
            due = set(self.schemas)  # everything once at start: rows written while away
            while not self.stop.is_set():
                full = set()  # a schema that filled a whole batch has more rows waiting
                for schema in (x for x in self.schemas if x in due):
                    if relay_once(work, producer, schema, s.relay_batch_size) >= \
                            s.relay_batch_size:
                        full.add(schema)
                due = full or self._wait_for_rows(listen)

    def _wait_for_rows(self, listen: psycopg.Connection) -> set[str]:
        """The schemas whose outbox has new rows: those that sent a ``NOTIFY`` (waiting a
        moment after the first to gather the events committed meanwhile into one batch),
        or every schema when the poll interval passes with none (the fallback for a lost
        notification)."""
        s = self.settings
        channels = {f"{schema}_outbox": schema for schema in self.schemas}
        first = [n.channel for n in listen.notifies(timeout=s.relay_poll_seconds, stop_after=1)]
        if not first:
            return set(self.schemas)
        self.stop.wait(s.relay_gather_seconds)
        later = [n.channel for n in listen.notifies(timeout=0)]
        return {channels[c] for c in first + later if c in channels}


def main(services: list[str] | None = None) -> None:
    configure("relay", get_settings().log_level)
    Relay(services or list(SERVICES)).run()


if __name__ == "__main__":
    main()
