"""Which outboxes the relay reads, and when (DESIGN rule 3, issue 10): only the schemas that
sent a NOTIFY, every schema on the fallback poll, a schema again at once while it fills
whole batches, and never a backlog in one outbox holding back another's new rows."""

from __future__ import annotations

import threading
from collections import deque
from types import SimpleNamespace

from services.common.relay import Relay

SCHEMAS = ["qualification", "referral", "contracts"]


class Listener:
    """A LISTEN connection: ``arrivals`` are the NOTIFYs that arrive, one list per wait."""

    def __init__(self, *arrivals: list[str]):
        self.arrivals = deque(arrivals)
        self.waits: list[float] = []

    def notifies(self, timeout=None, stop_after=None):
        self.waits.append(timeout)
        if not self.arrivals:
            return iter([])
        return iter([SimpleNamespace(channel=f"{s}_outbox") for s in self.arrivals.popleft()])


def run(listen: Listener, backlog: dict[str, int], turns: int, batch: int = 2) -> list[str]:
    """Serve until ``turns`` batches were sent; the schemas in the order they were read."""
    stop = threading.Event()
    relay = Relay.__new__(Relay)
    relay.schemas, relay.stop = SCHEMAS, stop
    relay.settings = SimpleNamespace(relay_batch_size=batch, relay_poll_seconds=1.0,
                                     relay_gather_seconds=0)
    read: list[str] = []

    def send(schema: str) -> int:
        read.append(schema)
        sent = min(batch, backlog.get(schema, 0))
        backlog[schema] = backlog.get(schema, 0) - sent
        if len(read) >= turns:
            stop.set()
        return sent

    relay.serve(listen, send)
    return read


def test_at_start_every_schema_is_read_then_only_those_that_notify():
    listen = Listener([], ["referral"], [])  # after start: none pending, then a NOTIFY
    read = run(listen, {"referral": 1}, turns=4)
    assert read == ["qualification", "referral", "contracts", "referral"]


def test_without_any_notify_the_poll_interval_reads_every_schema():
    listen = Listener([], [])  # the drain, then a poll that times out
    read = run(listen, {}, turns=6)
    assert read == SCHEMAS * 2
    assert 1.0 in listen.waits  # it waited the poll interval, not spinning


def test_a_backlog_in_one_outbox_does_not_hold_back_another():
    # qualification has 10 rows waiting (5 batches); referral's NOTIFY arrives meanwhile
    listen = Listener(["referral"])
    read = run(listen, {"qualification": 10, "referral": 1}, turns=5)
    # the next turn reads referral beside qualification's backlog, not after it drains
    assert read == ["qualification", "referral", "contracts", "qualification", "referral"]
