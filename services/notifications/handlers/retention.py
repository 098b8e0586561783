"""Retention of what messages hold (RULES §13): the rendered bodies of a delivery are
dropped a number of days after it reached its final state (delivered or failed for good);
the record stays (who, when, which message) for the sender's owner and the audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta


def drop_old_bodies(new_uow: Callable, days: int) -> int:
    """Blank the bodies of deliveries final more than ``days`` ago; audited when any."""
    with new_uow() as uow:
        cutoff = uow.now() - timedelta(days=days)
        dropped = uow.store.drop_bodies(cutoff)
        if dropped:
            uow.audit("deliveries.bodies_dropped", "delivery", "*", None,
                      {"deliveries": dropped, "final_before": cutoff.isoformat()})
        uow.commit()
        return dropped
