"""What goes to whom (RULES §8 table): the audience of each message type, whether it also
goes by SMS, whether the owning authority may list its deliveries, and when the 24-hour
deadline reminder is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.notifications.messages import MessageType


class Audience(StrEnum):
    PROVIDER = "provider"
    COMMISSIONER = "commissioner"
    LEAD = "lead"  # the DPS lead's own address (DPS_LEAD_EMAIL)


class SmsPolicy(StrEnum):
    """Whether a message also goes by SMS to a contact who has a phone number."""

    NEVER = "never"
    OPT_IN = "opt_in"  # only contacts with ``sms_opt_in`` ("SMS where opted in")
    ALWAYS = "always"  # "email and SMS"


@dataclass(frozen=True)
class MessageSpec:
    audience: Audience
    sms: SmsPolicy = SmsPolicy.NEVER
    # The owning authority may list this delivery. False where that would reveal, before
    # the deadline, who has or has not bid (sealed bids, RULES §5), or a provider's
    # qualification affairs, which are the lead's business (RULES §4, §10).
    authority_sees: bool = False
    # Carries the full referral (child reference, name, …). Only the award to the winner
    # does (RULES §5 child data minimisation).
    full_referral: bool = False


SPECS: Mapping[MessageType, MessageSpec] = {
    # referral published or widened → contacts of each newly invited establishment
    MessageType.REFERRAL_INVITATION: MessageSpec(
        Audience.PROVIDER, SmsPolicy.OPT_IN, authority_sees=True
    ),
    # 24 h before the deadline → invited establishments that have not bid
    MessageType.DEADLINE_REMINDER: MessageSpec(Audience.PROVIDER),
    # clarification answered → every invited establishment
    MessageType.CLARIFICATION_ANSWERED: MessageSpec(Audience.PROVIDER, authority_sees=True),
    # bid submitted, changed or withdrawn → the bidder
    MessageType.BID_RECEIPT: MessageSpec(Audience.PROVIDER),
    # referral closed → owning commissioner, with the count of bids
    MessageType.REFERRAL_CLOSED: MessageSpec(Audience.COMMISSIONER, authority_sees=True),
    # parent choice needed → owning commissioner
    MessageType.PARENT_CHOICE_REQUIRED: MessageSpec(Audience.COMMISSIONER, authority_sees=True),
    # award → winner: award and full referral
    MessageType.AWARD_WINNER: MessageSpec(
        Audience.PROVIDER, authority_sees=True, full_referral=True
    ),
    # award → each other bidder: its feedback (RULES §5)
    MessageType.AWARD_FEEDBACK: MessageSpec(Audience.PROVIDER, authority_sees=True),
    # application decided, suspension, reinstatement → provider
    MessageType.APPLICATION_DECIDED: MessageSpec(Audience.PROVIDER),
    MessageType.MEMBERSHIP_SUSPENDED: MessageSpec(Audience.PROVIDER),
    MessageType.MEMBERSHIP_REINSTATED: MessageSpec(Audience.PROVIDER),
    # evidence expiring in 30 days → provider, email and SMS
    MessageType.EVIDENCE_EXPIRING: MessageSpec(Audience.PROVIDER, SmsPolicy.ALWAYS),
    # referral cancelled or deadline extended → every invited establishment
    MessageType.REFERRAL_CANCELLED: MessageSpec(Audience.PROVIDER, authority_sees=True),
    MessageType.DEADLINE_EXTENDED: MessageSpec(Audience.PROVIDER, authority_sees=True),
    # applications overdue for decision, re-verifications due → the lead, a daily digest
    MessageType.LEAD_DIGEST: MessageSpec(Audience.LEAD),
    # a PCR DPS migrated (§11.1) → each admitted establishment, to its pre-filled application
    MessageType.MARKET_INVITATION: MessageSpec(Audience.PROVIDER),
}

REMINDER_BEFORE_DEADLINE = timedelta(hours=24)


def reminder_due(deadline: datetime, invited_at: datetime, now: datetime) -> bool:
    """Whether an invited establishment that has not bid gets its reminder now (RULES §8).

    Due from 24 h before the deadline until the deadline, and only for establishments
    invited before that point: one invited within the last 24 h has just been alerted.
    """
    remind_at = deadline - REMINDER_BEFORE_DEADLINE
    return invited_at < remind_at <= now < deadline


def scoped_event_id(event_id: str, scope: str) -> str:
    """The delivery ``event_id`` for one part of an event that alerts several parties.

    A publication inviting two establishments that share a contact sends that contact
    two different invitations (distances differ), so each establishment's deliveries are
    keyed ``"<event_id>/<establishment_id>"``.
    """
    return f"{event_id}/{scope}"
