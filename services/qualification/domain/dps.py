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
    """Period of validity (inclusive) and whether entry is open (§3)."""

    valid_from: date
    valid_to: date
    entry_open: bool = True

    def status(self, today: date) -> str:
        if today < self.valid_from:
            return "not_started"
        if today > self.valid_to:
            return "expired"
        return "open" if self.entry_open else "entry_closed"

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
        )


def apply_dps_change(settings: DpsSettings, patch: Mapping[str, Any]) -> DpsSettings:
    """§3: extend, shorten or end the period of validity; open or close entry."""
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
        else:
            problems.add([key], "not a setting that can be changed")
    problems.raise_if_any()
    changed = replace(settings, **patch)
    if changed.valid_to < changed.valid_from:
        raise InvalidInput.at(["valid_to"], "must not be before valid_from")
    return changed


# --- application content (§4.1, §4.2, §4.4) ----------------------------------------------------

