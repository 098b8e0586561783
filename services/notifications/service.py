"""notifications service: thin nameko entrypoints (DESIGN: inside a service), RULES §8.

- **Consumed events** (``@consumes``: parse, claim the event once, commit) keep the
  recipients in sync (qualification) and the referrals and invitations the reminders need
  (referral), and *record* deliveries (``handlers.recipients``, ``handlers.referrals``).
  Nothing is sent by an event handler.
- **The sender timer** ``send_due`` (``handlers.sending``) and **the reminder timer**
  ``remind`` (``handlers.reminders``).
- **RPC**: ``list_notifications`` (provider own, commissioner own) and ``record_receipt``
  (GOV.UK Notify delivery receipts, through the gateway), ``handlers.queries``.
"""

from __future__ import annotations

import eventlet

from services.common.audit_rpc import AuditRpc
from services.common.runtime import (
    Config,
    Database,
    RequestContext,
    consumes,
    rpc,
    timer_from,
)
from services.common.validation import parse
from services.notifications.channels.provider import Leases, Senders
from services.notifications.config import NotificationsConfig
from services.notifications.handlers import (
    queries,
    recipients,
    referrals,
    reminders,
    retention,
    sending,
)
from services.notifications.messages import NotificationsQuery, NotifyCallback
from services.notifications.store import Store, metadata
from services.qualification import messages as qm
from services.referral import messages as rm


class NotificationsService(AuditRpc):
    name = "notifications"

    ctx = RequestContext()
    db = Database(metadata, store=Store)
    config = Config(NotificationsConfig)
    senders = Senders(NotificationsConfig)
    leases = Leases()

    @rpc
    def ping(self) -> str:
        return "ok"

    # -- recipients and membership messages (qualification's events) ---------------------
    @consumes("qualification", "provider_registered", qm.ProviderRegistered)
    def on_provider_registered(self, uow, event) -> None:
        recipients.provider_registered(event, uow)

    @consumes("qualification", "membership_admitted", qm.MembershipAdmitted)
    def on_membership_admitted(self, uow, event) -> None:
        recipients.membership_admitted(event, uow, self.config)

    @consumes("qualification", "establishment_contacts_changed", qm.EstablishmentContactsChanged)
    def on_establishment_contacts_changed(self, uow, event) -> None:
        recipients.establishment_contacts_changed(event, uow)

    @consumes("qualification", "application_decided", qm.ApplicationDecided)
    def on_application_decided(self, uow, event) -> None:
        recipients.application_decided(event, uow, self.config)

    @consumes("qualification", "membership_suspended", qm.MembershipSuspended)
    def on_membership_suspended(self, uow, event) -> None:
        recipients.membership_suspended(event, uow, self.config)

    @consumes("qualification", "membership_reinstated", qm.MembershipReinstated)
    def on_membership_reinstated(self, uow, event) -> None:
        recipients.membership_reinstated(event, uow, self.config)

    @consumes("qualification", "market_invitation", qm.MarketInvitation)
    def on_market_invitation(self, uow, event) -> None:
        recipients.market_invitation(event, uow, self.config)

    @consumes("qualification", "lead_digest", qm.LeadDigest)
    def on_lead_digest(self, uow, event) -> None:
        recipients.lead_digest(event, uow, self.config)

    @consumes("qualification", "evidence_expiring", qm.EvidenceExpiring)
    def on_evidence_expiring(self, uow, event) -> None:
        recipients.evidence_expiring(event, uow, self.config)

    # -- referral messages (referral's events) --------------------------------------------
    @consumes("referral", "referral_published", rm.ReferralPublished)
    def on_referral_published(self, uow, event) -> None:
        referrals.invitations(event, uow, self.config)

    @consumes("referral", "referral_widened", rm.ReferralWidened)
    def on_referral_widened(self, uow, event) -> None:
        referrals.invitations(event, uow, self.config)

    @consumes("referral", "question_answered", rm.QuestionAnswered)
    def on_question_answered(self, uow, event) -> None:
        referrals.question_answered(event, uow, self.config)

    @consumes("referral", "bid_received", rm.BidReceived)
    def on_bid_received(self, uow, event) -> None:
        referrals.bid_received(event, uow, self.config)

    @consumes("referral", "invitation_declined", rm.InvitationDeclined)
    def on_invitation_declined(self, uow, event) -> None:
        referrals.invitation_declined(event, uow)

    @consumes("referral", "referral_closed", rm.ReferralClosed)
    def on_referral_closed(self, uow, event) -> None:
        referrals.referral_closed(event, uow, self.config)

    @consumes("referral", "parent_choice_required", rm.ParentChoiceRequired)
    def on_parent_choice_required(self, uow, event) -> None:
        referrals.parent_choice_required(event, uow, self.config)

    @consumes("referral", "referral_awarded", rm.ReferralAwarded)
    def on_referral_awarded(self, uow, event) -> None:
        referrals.referral_awarded(event, uow, self.config)

    @consumes("referral", "bid_feedback", rm.BidFeedback)
    def on_bid_feedback(self, uow, event) -> None:
        referrals.bid_feedback(event, uow, self.config)

    @consumes("referral", "referral_unsuccessful", rm.ReferralUnsuccessful)
    def on_referral_unsuccessful(self, uow, event) -> None:
        referrals.referral_unsuccessful(event, uow)

    @consumes("referral", "referral_cancelled", rm.ReferralCancelled)
    def on_referral_cancelled(self, uow, event) -> None:
        referrals.referral_cancelled(event, uow, self.config)

    @consumes("referral", "referral_deadline_extended", rm.ReferralDeadlineExtended)
    def on_deadline_extended(self, uow, event) -> None:
        referrals.deadline_extended(event, uow, self.config)

    # -- timers ---------------------------------------------------------------------------
    @timer_from(NotificationsConfig, "notification_send_interval_seconds")
    def send_due(self) -> int:
        """Send what is due, within the shared rate limit (RULES §8)."""
        pool = eventlet.GreenPool(self.config.notification_send_concurrency)
        return sending.send_due(self.db.uow, self.config, self.senders, pool.imap,
                                self.leases)

    @timer_from(NotificationsConfig, "notification_lease_renew_seconds")
    def renew_leases(self) -> int:
        """Keep the leases of this process's attempts alive (issue 10)."""
        return sending.renew_leases(self.db.uow(), self.leases, self.config)

    @timer_from(NotificationsConfig, "delivery_body_purge_seconds")
    def drop_old_bodies(self) -> int:
        """§13: delivery bodies are dropped DPS_DELIVERY_BODY_RETENTION_DAYS after the end."""
        return retention.drop_old_bodies(self.db.uow, self.config.delivery_body_retention_days)

    @timer_from(NotificationsConfig, "notification_reminder_interval_seconds")
    def remind(self) -> int:
        """24 h before the deadline → invited establishments that have not bid (§8)."""
        return reminders.remind(self.db.uow, self.config)

    # -- RPC for the gateway --------------------------------------------------------------
    @rpc
    def child_export(self, referral_ids: list) -> dict:
        """§13 subject access: deliveries about the child's referrals."""
        return self.db.run(retention.child_export, [str(r) for r in referral_ids][:1000])

    @rpc
    def list_notifications(self, query: dict) -> dict:
        """``GET /api/v1/notifications`` (RULES §8, §10)."""
        return self.db.run(queries.list_notifications, parse(NotificationsQuery, query))

    @rpc
    def record_receipt(self, body: dict) -> dict:
        """A GOV.UK Notify delivery receipt (``POST /api/v1/notify/callbacks``)."""
        receipt = parse(NotifyCallback, body)
        with self.db.uow() as uow:
            return queries.record_receipt(receipt, uow, self.config)
