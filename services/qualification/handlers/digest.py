"""The lead's daily digest (RULES §4.3, §4.5, §8, issue 13): once a London day, from the
configured hour (UTC), the applications overdue for decision, the memberships due for
re-verification and the 6- and 3-month warnings of a PCR DPS's expiry (§11.1), as one
``lead_digest`` event for notifications to mail to the lead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from services.qualification import domain as d
from services.qualification import messages as m
from services.qualification.handlers import markets


def send_daily_digest(new_uow: Callable, hour_utc: int) -> bool:
    """True when today's digest was sent by this call. The day is claimed in the same
    transaction as the event is put in the outbox, so several instances send it once; a
    day with nothing overdue or due is claimed and sends nothing."""
    with new_uow() as uow:
        now = uow.now().astimezone(UTC)
        today = d.london_date(now)
        if now.hour < hour_utc or not uow.store.claim_digest_day(today, now):
            return False
        overdue = uow.store.overdue_applications(today)
        due = uow.store.reverifications_due(today)
        warnings = markets.expiry_warnings(uow, today)
        if overdue or due or warnings:
            uow.emit(m.LeadDigest(day=today, overdue_applications=overdue,
                                  reverifications_due=due, market_warnings=warnings))
        uow.audit("lead_digest.sent", "lead_digest", today.isoformat(), None,
                  {"overdue_applications": len(overdue), "reverifications_due": len(due),
                   "market_warnings": len(warnings)})
        uow.commit()
        return bool(overdue or due or warnings)
