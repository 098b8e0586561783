"""Notification rules (RULES §8), pure: no network, no database, no clock (``now`` is
always an argument). One module per concept:

- ``specs``: what goes to whom (the §8 table as :data:`SPECS`), the 24-hour reminder.
- ``routing``: which gateway carries each channel (:class:`ChannelConfig`) and
  :func:`route`, the deliveries of one message to one party.
- ``deliveries``: the :class:`Delivery` aggregate and its state machine (:data:`MACHINE`),
  unique per ``(event_id, recipient, channel, message_type)`` so that a redelivered event
  never sends twice; the retry backoff; GOV.UK Notify receipts.
- ``rate``: the shared send-rate limit per gateway (:func:`take`).
- ``recipients``: contacts and :class:`Outgoing`, one message to one party before
  routing and rendering.
- ``referral_messages`` and ``membership_messages``: each consumed event → its
  :class:`Outgoing` messages (RULES §4.3, §4.5, §5, §8).

Rendering (``services.notifications.rendering``) is outside: it reads the templates.
"""

from services.notifications.domain.deliveries import (
    FINAL,
    MACHINE,
    MAX_ERROR_LENGTH,
    NOTIFY_STATUSES,
    TRANSITIONS,
    WAITING,
    Delivery,
    Envelope,
    RetryPolicy,
    next_attempt_at,
    outcome,
    receipt_status,
)
from services.notifications.domain.membership_messages import (
    plan_application_decided,
    plan_evidence_expiring,
    plan_lead_digest,
    plan_market_invitation,
    plan_reinstated,
    plan_suspended,
)
from services.notifications.domain.rate import EPOCH, Permit, RateLimit, RateWindow, take
from services.notifications.domain.recipients import (
    Fresher,
    NotReady,
    Outgoing,
    commissioner_contacts,
    contacts_of,
    establishment_contacts,
    names_of,
    or_provider,
    unaddressed,
    with_provider,
)
from services.notifications.domain.referral_messages import (
    NOT_STATED,
    SUBSCORE_LABELS,
    awarded_referral_of,
    invitation_rows,
    plan_award_winner,
    plan_bid_receipt,
    plan_clarification,
    plan_feedback,
    plan_invitations,
    plan_parent_choice,
    plan_referral_closed,
    plan_reminder,
    profile_of,
    ref_from_event,
    ref_of,
)
from services.notifications.domain.referral_notices import (
    plan_cancellation,
    plan_deadline_extended,
)
from services.notifications.domain.routing import DEFAULT_GATEWAYS, ChannelConfig, Route, route
from services.notifications.domain.specs import (
    REMINDER_BEFORE_DEADLINE,
    SPECS,
    Audience,
    MessageSpec,
    SmsPolicy,
    reminder_due,
    scoped_event_id,
)

__all__ = [
    "DEFAULT_GATEWAYS",
    "EPOCH",
    "FINAL",
    "MACHINE",
    "MAX_ERROR_LENGTH",
    "NOTIFY_STATUSES",
    "NOT_STATED",
    "REMINDER_BEFORE_DEADLINE",
    "SPECS",
    "SUBSCORE_LABELS",
    "TRANSITIONS",
    "WAITING",
    "Audience",
    "ChannelConfig",
    "Delivery",
    "Envelope",
    "Fresher",
    "MessageSpec",
    "NotReady",
    "Outgoing",
    "Permit",
    "RateLimit",
    "RateWindow",
    "RetryPolicy",
    "Route",
    "SmsPolicy",
    "commissioner_contacts",
    "contacts_of",
    "establishment_contacts",
    "awarded_referral_of",
    "invitation_rows",
    "names_of",
    "next_attempt_at",
    "or_provider",
    "outcome",
    "plan_application_decided",
    "plan_award_winner",
    "plan_bid_receipt",
    "plan_cancellation",
    "plan_clarification",
    "plan_deadline_extended",
    "plan_evidence_expiring",
    "plan_market_invitation",
    "plan_lead_digest",
    "plan_feedback",
    "plan_invitations",
    "plan_parent_choice",
    "plan_referral_closed",
    "plan_reinstated",
    "plan_reminder",
    "plan_suspended",
    "profile_of",
    "receipt_status",
    "ref_from_event",
    "ref_of",
    "reminder_due",
    "route",
    "scoped_event_id",
    "take",
    "unaddressed",
    "with_provider",
]
