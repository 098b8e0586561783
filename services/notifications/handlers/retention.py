"""Retention of what messages hold (RULES §13): the rendered bodies of a delivery are
dropped a number of days after it reached its final state (delivered or failed for good);
the record stays (who, when, which message) for the sender's owner and the audit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from services.common.errors import Forbidden


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


def child_export(referral_ids: list[str], uow, principal: Mapping) -> dict:
    """§13 subject access: the owning authority's deliveries about the child's referrals
    (who was told what and when; bodies hold no child data and go after 30 days)."""
    if principal.get("role") not in ("commissioner", "lead") or not principal.get("authority"):
        raise Forbidden("only the owning authority exports a child's data")
    items = uow.store.deliveries_of_referrals(principal["authority"], referral_ids)
    if items:
        uow.audit("child_data.exported", "delivery", "*", None,
                  {"referrals": referral_ids, "deliveries": len(items)})
    uow.commit()
    return {"deliveries": items}
