"""The §5 lifecycle of a referral: one enum of states and one transitions table, checked
in one place (``services.common.states.StateMachine``).

``draft → published → closed → evaluated → [parent_choice] → awarded``, ``closed →
unsuccessful`` (no compliant bid, §6.4), and ``→ cancelled`` from any state before award.
A child placed into a free block place (§7.3) awards the referral to that placement from
any state before award (``Referral.place_in_block``).
"""

from __future__ import annotations

from enum import StrEnum

from services.common.states import StateMachine


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    PARENT_CHOICE = "parent_choice"
    AWARDED = "awarded"
    UNSUCCESSFUL = "unsuccessful"
    CANCELLED = "cancelled"


MACHINE: StateMachine[Status] = StateMachine(
    "referral",
    {
        Status.DRAFT: {Status.PUBLISHED, Status.CANCELLED, Status.AWARDED},
        Status.PUBLISHED: {Status.CLOSED, Status.CANCELLED, Status.AWARDED},
        Status.CLOSED: {
            Status.EVALUATED,
            Status.PARENT_CHOICE,
            Status.UNSUCCESSFUL,
            Status.CANCELLED,
            Status.AWARDED,
        },
        Status.EVALUATED: {Status.AWARDED, Status.CANCELLED},
        Status.PARENT_CHOICE: {Status.AWARDED, Status.CANCELLED},
        Status.AWARDED: set(),
        Status.UNSUCCESSFUL: set(),
        Status.CANCELLED: set(),
    },
)


def transition(current: Status, target: Status) -> Status:
    """The §5 lifecycle, checked in one place; anything else is a ``Conflict``."""
    return MACHINE.check(current, target, f"a {current} referral cannot become {target}")
