"""The event envelope every event carries (DESIGN rule 3): ``event_id``, ``occurred_at``,
``request_id``. Services' ``messages.py`` derive their event models from ``EventBase``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EventBase(BaseModel):
    """Base of every published event. ``event_type`` is the AMQP routing key."""

    model_config = ConfigDict(extra="ignore")

    event_type: ClassVar[str] = ""
    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: AwareDatetime | None = None
    request_id: str | None = None

    def stamped(self, at: datetime, request_id: str | None) -> EventBase:
        return self.model_copy(update={"occurred_at": self.occurred_at or at,
                                       "request_id": self.request_id or request_id})


def exchange_name(service: str) -> str:
    """nameko's events exchange for a service (``{service}.events``, a topic exchange)."""
    return f"{service}.events"
