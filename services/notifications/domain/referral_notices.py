"""Referral cancelled or deadline extended → every invited establishment (RULES §5, §8,
issue 13). Anonymised like every provider message: the reference, authority, category and
deadline, never child data."""

from __future__ import annotations

from collections.abc import Mapping

from services.notifications.domain.recipients import Fresher, Outgoing
from services.notifications.domain.referral_messages import _to_each_invited, ref_from_event
from services.notifications.messages import MessageType
from services.referral import messages as rm


def plan_cancellation(
    event: rm.ReferralCancelled, providers: Mapping[str, Mapping], fresher: Fresher | None = None
) -> list[Outgoing]:
    """Referral cancelled → every invited establishment, with the reason (RULES §5, §8).
    A draft has nobody invited, so nobody is told."""
    deadline = event.occurred_at
    return _to_each_invited(
        event,
        event.invited,
        MessageType.REFERRAL_CANCELLED,
        lambda invited: {
            "referral": ref_from_event(event, deadline),
            "establishment_name": invited.name,
            "reason": event.reason,
        },
        providers,
        fresher,
    )


def plan_deadline_extended(
    event: rm.ReferralDeadlineExtended,
    providers: Mapping[str, Mapping],
    fresher: Fresher | None = None,
) -> list[Outgoing]:
    """Deadline extended (or moved out by a widening) → every invited establishment
    (RULES §5, §8)."""
    return _to_each_invited(
        event,
        event.invited,
        MessageType.DEADLINE_EXTENDED,
        lambda invited: {
            "referral": ref_from_event(event, event.deadline),
            "establishment_name": invited.name,
            "previous_deadline": event.previous_deadline.isoformat(),
            "widened": event.cause == "widened",
        },
        providers,
        fresher,
    )
