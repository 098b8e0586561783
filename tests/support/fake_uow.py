"""A fake unit of work for handler unit tests (cosmicpython's ``FakeUnitOfWork``).

It has the surface handlers use on the real ``services.common.uow.UnitOfWork``:
``store`` (the service's in-memory fake repository), ``now()``, ``emit``, ``audit``,
``claim_event``, ``commit``, ``rollback`` and the context manager, and records what the
handler did so a test can assert on it: ``events``, ``audits``, ``committed``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.common.clock import FixedClock


class FakeUnitOfWork:
    def __init__(self, store: Any = None, clock=None, actor: dict | None = None,
                 request_id: str | None = "req-test"):
        self.store = store
        self.clock = clock or FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        self.actor = actor or {"role": "system"}
        self.request_id = request_id
        self.events: list = []
        self.audits: list[dict] = []
        self.committed = 0
        self.rolled_back = 0
        self.duplicate = False
        self._claimed: set[tuple[str, str]] = set()
        self._pending_events: list = []
        self._pending_audits: list[dict] = []
        self.session = None  # handlers must not reach for a session: use ``store``

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.rollback()

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, event):
        event = event.stamped(self.now(), self.request_id)
        self._pending_events.append(event)
        return event

    def audit(self, action: str, entity_type: str, entity_id: Any,
              before: Any = None, after: Any = None) -> None:
        self._pending_audits.append({"action": action, "entity_type": entity_type,
                                     "entity_id": str(entity_id), "before": before,
                                     "after": after})

    def claim_event(self, event_id: str, handler: str) -> bool:
        key = (event_id, handler)
        self.duplicate = key in self._claimed
        self._claimed.add(key)
        return not self.duplicate

    def commit(self) -> None:
        self.events.extend(self._pending_events)
        self.audits.extend(self._pending_audits)
        self._pending_events.clear()
        self._pending_audits.clear()
        self.committed += 1

    def rollback(self) -> None:
        self._pending_events.clear()
        self._pending_audits.clear()
        self.rolled_back += 1

    def event_types(self) -> list[str]:
        return [e.event_type for e in self.events]
