"""The DPS itself: period of validity and entry (RULES §3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from services.common.errors import Conflict, InvalidInput
from services.qualification import messages as m
from services.qualification.domain.problems import _Problems

_DPS_REFUSALS = {
    "not_started": "the DPS has not started yet",
    "expired": "the DPS has ended",
    "entry_closed": "entry to the DPS is closed",
}


@dataclass(frozen=True)
class DpsSettings:
    """Period of validity (inclusive), whether entry is open, and a scheduled closure
    (§3, business case 7.19: closed 1 Feb–1 Apr 2017): entry is closed on the days
    ``closed_from <= day < closed_until`` (London dates) and reopens on ``closed_until``
    by itself. The qualification timer then clears the window (``window_over``)."""

    valid_from: date
    valid_to: date
    entry_open: bool = True
    closed_from: date | None = None
    closed_until: date | None = None

    def in_closure(self, today: date) -> bool:
        return (
            self.closed_from is not None
            and self.closed_until is not None
            and self.closed_from <= today < self.closed_until
        )

    def window_over(self, today: date) -> bool:
        """A scheduled closure that has ended: the timer clears it."""
        return self.closed_until is not None and today >= self.closed_until

    def status(self, today: date) -> str:
        if today < self.valid_from:
            return "not_started"
        if today > self.valid_to:
            return "expired"
        return "open" if self.entry_open and not self.in_closure(today) else "entry_closed"

    def ensure_accepting_applications(self, today: date) -> None:
        """§3: applications are submitted only within validity while entry is open."""
        status = self.status(today)
        if status != "open":
            raise Conflict(f"{_DPS_REFUSALS[status]}: no application can be submitted")

    def to_view(self, today: date) -> m.DpsView:
        return m.DpsView(
            status=self.status(today),
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            entry_open=self.entry_open,
            closed_from=self.closed_from,
            closed_until=self.closed_until,
        )


def apply_dps_change(
    settings: DpsSettings, patch: Mapping[str, Any], today: date | None = None
) -> DpsSettings:
    """§3: extend, shorten or end the period of validity; open or close entry; schedule
    a closure of entry (``closed_from``, ``closed_until``: both, or both ``null`` to
    cancel it; it must end after ``today``)."""
    if not patch:
        raise InvalidInput("the change is empty", [{"loc": [], "msg": "nothing to change"}])
    problems = _Problems()
    for key, value in patch.items():
        if key in ("valid_from", "valid_to"):
            if not isinstance(value, date) or isinstance(value, datetime):
                problems.add([key], "must be a date")
        elif key == "entry_open":
            if not isinstance(value, bool):
                problems.add([key], "must be true or false")
        elif key in ("closed_from", "closed_until"):
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                problems.add([key], "must be a date or null")
        else:
            problems.add([key], "not a setting that can be changed")
    problems.raise_if_any()
    changed = replace(settings, **patch)
    if changed.valid_to < changed.valid_from:
        raise InvalidInput.at(["valid_to"], "must not be before valid_from")
    start, end = changed.closed_from, changed.closed_until
    if (start is None) != (end is None):
        missing = "closed_until" if end is None else "closed_from"
        raise InvalidInput.at([missing], "a closure gives both closed_from and closed_until")
    if start is not None and end is not None:
        if end <= start:
            raise InvalidInput.at(["closed_until"], "must be after closed_from")
        if today is not None and end <= today:
            raise InvalidInput.at(["closed_until"], "must be after today: entry reopens then")
    return changed


# --- application content (§4.1, §4.2, §4.4) ----------------------------------------------------

