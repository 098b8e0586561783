"""The reminder timer (RULES §8): 24 h before the deadline → invited establishments that
have not bid (``domain.reminder_due``, ``Store.claim_due_reminders``)."""

from __future__ import annotations

from collections.abc import Callable

from services.common.logging import get_logger
from services.notifications import domain
from services.notifications.config import NotificationsConfig
from services.notifications.handlers.recording import record

log = get_logger(__name__)

REMINDER_BATCH = 200


def remind(uows: Callable, config: NotificationsConfig) -> int:
    """Record the due reminders, a batch per transaction; returns how many invitations.

    Each invitation is reminded once (``reminded_at`` and the delivery key
    ``reminder:<referral>/<establishment>``), whichever instance gets it first.
    """
    total = 0
    while True:
        with uows() as uow:
            done = remind_batch(uow, config)
        if not done:
            return total
        total += done


def remind_batch(uow, config: NotificationsConfig) -> int:
    """One batch of due invitations, locked (``SKIP LOCKED``), reminded and committed."""
    store, now = uow.store, uow.now()
    due = store.claim_due_reminders(now, REMINDER_BATCH)
    if not due:
        return 0
    recorded = 0
    for r in due:
        referral = {"authority": r["authority"], "profile": r["profile"]}
        try:
            with store.savepoint():  # one bad row must not block all
                fresher = store.fresher_contacts([r["establishment_id"]], r["referral_id"])
                recorded += record(uow, [domain.plan_reminder(r, referral, fresher)], config)
        except Exception:
            log.exception(
                "reminder not recorded",
                referral_id=r["referral_id"],
                establishment_id=r["establishment_id"],
            )
        store.mark_reminded(r["referral_id"], r["establishment_id"], now)
    uow.audit(
        "reminders.recorded",
        "referral",
        ",".join(sorted({r["referral_id"] for r in due}))[:100],
        None,
        {"invitations": len(due), "deliveries": recorded},
    )
    uow.commit()
    return len(due)
