"""notifications service: thin nameko entrypoints (DESIGN: inside a service), RULES §8.

- **Event handlers** (by source service and event type) keep the recipients in sync
  (qualification) and the referrals and invitations the reminders need (referral), and
  *record* deliveries: ``planning`` says who gets what, ``domain.route`` on which channel
  and gateway, ``rendering.render`` the message. Recording is one transaction with the
  processed-event claim, and the deliveries' unique key (event, recipient, channel, type)
  makes a redelivered event record nothing new. Nothing is sent by a handler.
- **The sender timer** (``send_due``) claims due deliveries with ``FOR UPDATE SKIP
  LOCKED`` (several instances share the work), within the budget of the shared rate
  counter per gateway (``domain.take``: over the limit they wait, never dropped), sends
  them in parallel and records each outcome: delivered, sent (Notify, awaiting its
  receipt), temporary failure (retried with backoff) or permanent failure.
- **The reminder timer** (``remind``) records the 24-hour deadline reminder for invited
  establishments that have not bid.
- **RPC**: ``list_notifications`` (provider own, commissioner own) and ``record_receipt``
  (GOV.UK Notify delivery receipts, through the gateway).
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

import eventlet
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.common import paging
from services.common.errors import Forbidden, InvalidInput, NotFound
from services.common.logging import get_logger
from services.common.runtime import AuditRpc, Database, RequestContext, event_handler, rpc
from services.common.validation import parse
from services.notifications import planning, store
from services.notifications.channels import (
    DeliveryFailure,
    NotifyChannel,
    SmtpChannel,
)
from services.notifications.domain import (
    SPECS,
    Audience,
    Delivery,
    Route,
    route,
    take,
)
from services.notifications.messages import (
    Channel,
    Contact,
    DeliveryStatus,
    Gateway,
    NotificationListItem,
    NotificationsQuery,
    NotifyCallback,
)
from services.notifications.planning import Outgoing
from services.notifications.rendering import Rendered, render
from services.notifications.settings import load
from services.qualification import messages as qm
from services.referral import messages as rm

log = get_logger(__name__)

# Timer intervals are fixed when the class is defined, so they are read at import.
SEND_INTERVAL = float(os.environ.get("DPS_NOTIFICATION_SEND_INTERVAL_SECONDS", "0.5"))
REMINDER_INTERVAL = float(os.environ.get("DPS_NOTIFICATION_REMINDER_INTERVAL_SECONDS", "30"))
REMINDER_BATCH = 200
MAX_TICK_ROUNDS = 50  # claim-and-send rounds per sender tick before yielding to the next


class Messaging(DependencyProvider):
    """The configuration and the gateways (SMTP, GOV.UK Notify), read from the environment
    when the container starts: a bad setting stops the service at start-up."""

    def setup(self):
        s = load()
        self.settings = s
        self.channels = s.channels()
        self.commissioners = s.commissioners()
        self.rate = s.rate()
        self.retry = s.retry()
        self.base_url = s.public_base_url
        self.senders = {
            Gateway.SMTP: SmtpChannel(s.smtp()),
            Gateway.NOTIFY: NotifyChannel(s.notify()),
        }

    def get_dependency(self, worker_ctx):
        return self


class NotificationsService(AuditRpc):
    name = "notifications"

    ctx = RequestContext()
    db = Database(store.metadata)
    messaging = Messaging()

    @rpc
    def ping(self) -> str:
        return "ok"

    # ===================================================================================
    # Recipients and referral state from events (DESIGN rule 1)

    @event_handler("qualification", "provider_registered")
    def on_provider_registered(self, payload: dict) -> None:
        """A provider's registered contact address (RULES §8 "provider")."""
        event = parse(qm.ProviderRegistered, payload)
        with self.db.event_uow(payload, "on_provider_registered") as uow:
            if uow.duplicate:
                return
            p = event.provider
            if store.upsert_provider(
                uow.session, p.id, p.name, str(p.contact_email), event.occurred_at or uow.now()
            ):
                uow.audit(
                    "recipient.provider_updated",
                    "provider",
                    p.id,
                    None,
                    {"name": p.name, "contact_email": str(p.contact_email)},
                )
            uow.commit()

    @event_handler("qualification", "membership_admitted")
    def on_membership_admitted(self, payload: dict) -> None:
        self._on_membership(
            parse(qm.MembershipAdmitted, payload), payload, "on_membership_admitted"
        )

    @event_handler("qualification", "establishment_contacts_changed")
    def on_establishment_contacts_changed(self, payload: dict) -> None:
        """An establishment registered or changed its contacts (RULES §8 recipients):
        the newest event wins (``messages.EstablishmentContacts``)."""
        event = parse(qm.EstablishmentContactsChanged, payload)
        with self.db.event_uow(payload, "on_establishment_contacts_changed") as uow:
            if uow.duplicate:
                return
            contacts = _contacts_of(event)
            if store.upsert_contacts(
                uow.session,
                event.establishment_id,
                event.provider_id,
                contacts,
                event.occurred_at or uow.now(),
            ):
                _audit_contacts(uow, event.establishment_id, contacts)
            uow.commit()

    @event_handler("qualification", "application_decided")
    def on_application_decided(self, payload: dict) -> None:
        """RULES §4.3, §8: the provider hears the decision and every failed reason."""
        event = parse(qm.ApplicationDecided, payload)
        self._on_membership(
            event, payload, "on_application_decided", planning.plan_application_decided
        )

    @event_handler("qualification", "membership_suspended")
    def on_membership_suspended(self, payload: dict) -> None:
        event = parse(qm.MembershipSuspended, payload)
        self._on_membership(event, payload, "on_membership_suspended", planning.plan_suspended)

    @event_handler("qualification", "membership_reinstated")
    def on_membership_reinstated(self, payload: dict) -> None:
        event = parse(qm.MembershipReinstated, payload)
        self._on_membership(event, payload, "on_membership_reinstated", planning.plan_reinstated)

    @event_handler("qualification", "evidence_expiring")
    def on_evidence_expiring(self, payload: dict) -> None:
        """RULES §4.5, §8: evidence expiring in 30 days, email and SMS."""
        event = parse(qm.EvidenceExpiring, payload)
        self._on_membership(event, payload, "on_evidence_expiring", planning.plan_evidence_expiring)

    def _on_membership(
        self, event: qm.MembershipEvent, payload: dict, handler: str, plan=None
    ) -> None:
        """Sync the establishment from a membership event and, with ``plan``, record the
        provider's message (RULES §8 "provider")."""
        with self.db.event_uow(payload, handler) as uow:
            if uow.duplicate:
                return
            self._sync_establishment(uow, event)
            if plan is not None:
                provider = store.get_provider(uow.session, event.provider_id)
                self._record(uow, [plan(event, provider)], event)
            uow.commit()

    def _sync_establishment(self, uow, event: qm.MembershipEvent) -> None:
        """Keep the establishment's contacts and SMS opt-in as the newest event says."""
        contacts = _contacts_of(event)
        if store.upsert_establishment(
            uow.session,
            event.establishment_id,
            event.provider_id,
            event.establishment_name,
            contacts,
            event.occurred_at or uow.now(),
        ):
            _audit_contacts(uow, event.establishment_id, contacts)

    # ===================================================================================
    # Referral events (RULES §5, §8)

    @event_handler("referral", "referral_published")
    def on_referral_published(self, payload: dict) -> None:
        """Referral published → contacts of each invited establishment, email and SMS
        where opted in (RULES §8)."""
        self._on_invitations(parse(rm.ReferralPublished, payload), payload, "on_referral_published")

    @event_handler("referral", "referral_widened")
    def on_referral_widened(self, payload: dict) -> None:
        """Radius widened → only the newly invited establishments (RULES §5, §8)."""
        self._on_invitations(parse(rm.ReferralWidened, payload), payload, "on_referral_widened")

    def _on_invitations(self, event, payload: dict, handler: str) -> None:
        with self.db.event_uow(payload, handler) as uow:
            if uow.duplicate:
                return
            at = event.occurred_at or uow.now()
            store.upsert_referral(
                uow.session,
                event.referral_id,
                event.authority,
                event.category,
                event.profile.deadline,
                planning.profile_of(event),
                at,
            )
            store.add_invitations(
                uow.session, event.referral_id, planning.invitation_rows(event), at
            )
            providers = self._providers(uow, {i.provider_id for i in event.invited})
            fresher = store.fresher_contacts(
                uow.session, [i.establishment_id for i in event.invited], snapshot_at=at
            )
            self._record(uow, planning.plan_invitations(event, providers, fresher), event)
            uow.commit()

    @event_handler("referral", "question_answered")
    def on_question_answered(self, payload: dict) -> None:
        """Clarification answered → every invited establishment (RULES §5, §8)."""
        event = parse(rm.QuestionAnswered, payload)
        with self.db.event_uow(payload, "on_question_answered") as uow:
            if uow.duplicate:
                return
            referral = store.get_referral(uow.session, event.referral_id)
            providers = self._providers(uow, {i.provider_id for i in event.recipients})
            fresher = store.fresher_contacts(
                uow.session, [i.establishment_id for i in event.recipients], event.referral_id
            )
            self._record(
                uow, planning.plan_clarification(event, referral, providers, fresher), event
            )
            uow.commit()

    @event_handler("referral", "bid_received")
    def on_bid_received(self, payload: dict) -> None:
        """Bid submitted, changed or withdrawn → the bidder's receipt (RULES §8)."""
        event = parse(rm.BidReceived, payload)
        with self.db.event_uow(payload, "on_bid_received") as uow:
            if uow.duplicate:
                return
            s = uow.session
            store.set_has_bid(
                s,
                event.referral_id,
                event.establishment_id,
                event.action != "withdrawn",
                event.occurred_at or uow.now(),
            )
            referral = store.get_referral(s, event.referral_id)
            name = self._establishment_name(uow, event.referral_id, event.establishment_id)
            provider = store.get_provider(s, event.provider_id)
            fresher = store.fresher_contacts(s, [event.establishment_id], event.referral_id)
            self._record(
                uow, [planning.plan_bid_receipt(event, referral, name, provider, fresher)], event
            )
            uow.commit()

    @event_handler("referral", "invitation_declined")
    def on_invitation_declined(self, payload: dict) -> None:
        """A declined invitation gets no deadline reminder."""
        event = parse(rm.InvitationDeclined, payload)
        with self.db.event_uow(payload, "on_invitation_declined") as uow:
            if uow.duplicate:
                return
            store.set_declined(uow.session, event.referral_id, event.establishment_id)
            uow.commit()

    @event_handler("referral", "referral_closed")
    def on_referral_closed(self, payload: dict) -> None:
        """Referral closed → owning commissioner, with the count of bids (RULES §8)."""
        event = parse(rm.ReferralClosed, payload)
        with self.db.event_uow(payload, "on_referral_closed") as uow:
            if uow.duplicate:
                return
            referral = self._set_status(uow, event, "closed")
            self._record(
                uow,
                [planning.plan_referral_closed(event, referral, self.messaging.commissioners)],
                event,
            )
            uow.commit()

    @event_handler("referral", "parent_choice_required")
    def on_parent_choice_required(self, payload: dict) -> None:
        """Parent choice needed → owning commissioner (RULES §6.4, §8)."""
        event = parse(rm.ParentChoiceRequired, payload)
        with self.db.event_uow(payload, "on_parent_choice_required") as uow:
            if uow.duplicate:
                return
            referral = store.get_referral(uow.session, event.referral_id)
            self._record(
                uow,
                [planning.plan_parent_choice(event, referral, self.messaging.commissioners)],
                event,
            )
            uow.commit()

    @event_handler("referral", "referral_awarded")
    def on_referral_awarded(self, payload: dict) -> None:
        """Award → the winner gets the award and the full referral (RULES §5, §8)."""
        event = parse(rm.ReferralAwarded, payload)
        with self.db.event_uow(payload, "on_referral_awarded") as uow:
            if uow.duplicate:
                return
            self._set_status(uow, event, "awarded")
            provider = store.get_provider(uow.session, event.provider_id)
            fresher = store.fresher_contacts(
                uow.session, [event.establishment_id], event.referral_id
            )
            self._record(uow, [planning.plan_award_winner(event, provider, fresher)], event)
            uow.commit()

    @event_handler("referral", "bid_feedback")
    def on_bid_feedback(self, payload: dict) -> None:
        """Award (or no compliant bid) → each other bidder its own feedback (RULES §5)."""
        event = parse(rm.BidFeedback, payload)
        with self.db.event_uow(payload, "on_bid_feedback") as uow:
            if uow.duplicate:
                return
            referral = store.get_referral(uow.session, event.referral_id)
            name = self._establishment_name(uow, event.referral_id, event.feedback.establishment_id)
            provider = store.get_provider(uow.session, event.provider_id)
            fresher = store.fresher_contacts(
                uow.session, [event.feedback.establishment_id], event.referral_id
            )
            self._record(
                uow, [planning.plan_feedback(event, referral, name, provider, fresher)], event
            )
            uow.commit()

    @event_handler("referral", "referral_unsuccessful")
    def on_referral_unsuccessful(self, payload: dict) -> None:
        """No compliant bid: no more reminders; each bidder's reason comes as its own
        ``bid_feedback``."""
        event = parse(rm.ReferralUnsuccessful, payload)
        self._on_ended(event, payload, "on_referral_unsuccessful", "unsuccessful")

    @event_handler("referral", "referral_cancelled")
    def on_referral_cancelled(self, payload: dict) -> None:
        """Cancelled: no more reminders. (RULES §8 has no cancellation message.)"""
        event = parse(rm.ReferralCancelled, payload)
        self._on_ended(event, payload, "on_referral_cancelled", "cancelled")

    def _on_ended(self, event, payload: dict, handler: str, status: str) -> None:
        """A referral that ended without a message of its own: only its status is kept."""
        with self.db.event_uow(payload, handler) as uow:
            if uow.duplicate:
                return
            self._set_status(uow, event, status)
            uow.commit()

    def _set_status(self, uow, event, status: str) -> dict | None:
        store.set_referral_status(
            uow.session, event.referral_id, status, event.occurred_at or uow.now()
        )
        return store.get_referral(uow.session, event.referral_id)

    def _providers(self, uow, ids: set[str]) -> dict[str, dict]:
        found = (store.get_provider(uow.session, i) for i in sorted(ids))
        return {p["id"]: p for p in found if p}

    def _establishment_name(self, uow, referral_id: str, establishment_id: str) -> str | None:
        invitation = store.get_invitation(uow.session, referral_id, establishment_id)
        if invitation:
            return invitation["name"]
        establishment = store.get_establishment(uow.session, establishment_id)
        return establishment["name"] if establishment else None

    # ===================================================================================
    # Recording deliveries

    def _record(self, uow, plans: list[Outgoing], event=None) -> int:
        """Render and record the deliveries of ``plans`` in ``uow`` (not committed).

        Returns how many were new; existing (event, recipient, channel, type) keys are
        skipped, so recording an event twice records nothing the second time.
        """
        m = self.messaging
        now = uow.now()
        rows: list[dict] = []
        for plan in plans:
            for problem in plan.problems:
                log.warning("recipient problem", event_id=plan.event_id, problem=problem)
            if not plan.contacts:
                rows += self._unaddressed(plan, now)
                continue
            names: dict[str, str] = {}
            for contact in plan.contacts:
                names.setdefault(contact.email, contact.name)
                if contact.phone:
                    names.setdefault(contact.phone, contact.name)
            rendered: dict[str, Rendered] = {}
            for to in route(plan.message_type, plan.contacts, m.channels):
                name = names[to.recipient]
                if name not in rendered:
                    rendered[name] = render(
                        plan.message_type,
                        {**plan.context, "recipient_name": name},
                        base_url=m.base_url,
                    )
                delivery = Delivery.new(
                    str(uuid.uuid4()),
                    plan.event_id,
                    plan.message_type,
                    to,
                    now,
                    provider_id=plan.provider_id,
                    authority=plan.authority,
                )
                rows.append(self._row(delivery, plan, name, rendered[name]))
        inserted = store.insert_deliveries(uow.session, rows)
        if event is not None:
            uow.audit(
                "deliveries.recorded",
                "event",
                event.event_id,
                None,
                {
                    "event_type": event.event_type,
                    "deliveries": inserted,
                    "types": sorted({str(p.message_type) for p in plans}),
                },
            )
        log.info("deliveries recorded", recorded=inserted, offered=len(rows))
        return inserted

    def _unaddressed(self, plan: Outgoing, now) -> list[dict]:
        """Nobody to send to: recorded as a permanent failure, visible to its owners."""
        spec = SPECS[plan.message_type]
        if spec.audience is Audience.COMMISSIONER:
            who = f"{plan.authority} placements team"
            error = (
                f"no commissioner address configured for {plan.authority}: "
                "set DPS_COMMISSIONER_EMAILS"
            )
        else:
            who = f"establishment {plan.establishment_id or '?'}"
            error = "no contact to send to: the establishment lists none"
        log.error("message has no recipient", event_id=plan.event_id, error=error)
        delivery = Delivery.new(
            str(uuid.uuid4()),
            plan.event_id,
            plan.message_type,
            Route(who, Channel.EMAIL, Gateway.SMTP),
            now,
            provider_id=plan.provider_id,
            authority=plan.authority,
        )
        delivery.start(now, self.messaging.retry)
        delivery.failed(error, now, self.messaging.retry, permanent=True)
        return [self._row(delivery, plan, None, None)]

    @staticmethod
    def _row(d: Delivery, plan: Outgoing, name: str | None, message: Rendered | None) -> dict:
        email = d.channel is Channel.EMAIL
        return {
            **store.delivery_row(d),
            "recipient_name": name,
            "referral_id": plan.referral_id,
            "establishment_id": plan.establishment_id,
            "subject": message.subject if message else str(plan.message_type),
            "body_text": message.text if message and email else None,
            "body_html": message.html if message and email else None,
            "body_sms": message.sms if message and not email else None,
        }

    # ===================================================================================
    # Sending (timer)

    @timer(interval=SEND_INTERVAL)
    def send_due(self) -> int:
        """Send what is due, within the shared rate limit (RULES §8). Safe with several
        instances: each claims different rows (``FOR UPDATE SKIP LOCKED``)."""
        sent = 0
        gateways = [Gateway.SMTP, Gateway.NOTIFY]
        concurrency = self.messaging.settings.notification_send_concurrency
        pool = eventlet.GreenPool(concurrency)
        for _ in range(MAX_TICK_ROUNDS):
            claimed = []
            for gateway in gateways:
                claimed += self._claim(gateway)
            if not claimed:
                break
            # Outcomes are recorded a chunk at a time: one transaction per chunk, and at
            # most a chunk sent again if this instance dies before recording it.
            chunk = concurrency * 2
            for i in range(0, len(claimed), chunk):
                self._record_outcomes(list(pool.imap(self._attempt, claimed[i : i + chunk])))
            sent += len(claimed)
        return sent

    def _claim(self, gateway: Gateway) -> list[tuple[Delivery, Rendered]]:
        """Take due deliveries of ``gateway`` as far as its shared budget allows and
        mark them ``sending`` (an attempt with a lease)."""
        m = self.messaging
        with self.db.uow() as uow:
            s, now = uow.session, uow.now()
            window = store.lock_rate_window(s, gateway)
            available = take(m.rate.budget, window, now, m.rate).granted
            rows = store.claim_due(
                s, gateway, now, min(available, m.settings.notification_send_batch)
            )
            if not rows:
                uow.rollback()
                return []
            permit = take(len(rows), window, now, m.rate)
            store.save_rate_window(s, gateway, permit.window)
            claimed = []
            for row in rows:
                d = store.to_delivery(row)
                if d.status is DeliveryStatus.SENDING:  # its attempt outlived the lease
                    d.expire_lease(now, m.retry)
                    if d.status is DeliveryStatus.PERMANENT_FAILURE:
                        store.save_delivery(s, d)
                        uow.audit(
                            "delivery.permanent_failure",
                            "delivery",
                            d.id,
                            {"status": "sending"},
                            _outcome(d),
                        )
                        continue
                d.start(now, m.retry)
                store.save_delivery(s, d)
                claimed.append(
                    (
                        d,
                        Rendered(
                            row["subject"],
                            row["body_text"] or "",
                            row["body_html"] or "",
                            row["body_sms"],
                        ),
                    )
                )
            uow.audit(
                "deliveries.claimed",
                "gateway",
                str(gateway),
                None,
                {"deliveries": [d.id for d, _ in claimed]},
            )
            uow.commit()
        return claimed

    def _attempt(self, item: tuple[Delivery, Rendered]):
        """One send; returns ``(attempt, reference, failure)``."""
        attempt, message = item
        sender = self.messaging.senders[attempt.gateway]
        try:
            return (
                attempt,
                sender.send(attempt.channel, attempt.recipient, message, attempt.id),
                None,
            )
        except DeliveryFailure as exc:
            return attempt, None, exc
        except Exception as exc:  # a bug or an unexpected library error: retry later
            log.exception("unexpected error while sending", delivery_id=attempt.id)
            failure = DeliveryFailure(f"unexpected error: {type(exc).__name__}: {exc}")
            failure.permanent = False
            return attempt, None, failure

    def _record_outcomes(self, outcomes: list) -> None:
        """Delivered (SMTP), sent (Notify, awaiting its receipt), or failed: temporary
        (retried with backoff) or permanent (RULES §8). An outcome whose attempt is no
        longer the current one (its lease expired and another took over) is dropped."""
        m = self.messaging
        with self.db.uow() as uow:
            now = uow.now()
            rows = store.lock_deliveries(uow.session, [a.id for a, _, _ in outcomes])
            for attempt, reference, failure in outcomes:
                row = rows.get(attempt.id)
                d = store.to_delivery(row) if row else None
                if (
                    d is None
                    or d.status is not DeliveryStatus.SENDING
                    or d.attempts != attempt.attempts
                ):
                    log.warning("attempt outcome arrived after its lease", delivery_id=attempt.id)
                    continue
                before = _outcome(d)
                if failure is None:
                    d.accepted(reference, now)
                else:
                    d.failed(str(failure), now, m.retry, permanent=failure.permanent)
                    log.warning(
                        "delivery failed",
                        delivery_id=d.id,
                        status=str(d.status),
                        attempts=d.attempts,
                        error=d.last_error,
                    )
                store.save_delivery(uow.session, d)
                uow.audit(f"delivery.{d.status}", "delivery", d.id, before, _outcome(d))
            uow.commit()

    # ===================================================================================
    # Reminders (timer)

    @timer(interval=REMINDER_INTERVAL)
    def remind(self) -> int:
        """24 h before the deadline → invited establishments that have not bid (RULES §8).

        Each invitation is reminded once (``reminded_at`` and the delivery key
        ``reminder:<referral>/<establishment>``), whichever instance gets it first.
        """
        total = 0
        while True:
            with self.db.uow() as uow:
                now = uow.now()
                due = store.claim_due_reminders(uow.session, now, REMINDER_BATCH)
                if not due:
                    return total
                recorded = 0
                for r in due:
                    referral = {"authority": r["authority"], "profile": r["profile"]}
                    try:
                        with uow.session.begin_nested():  # one bad row must not block all
                            fresher = store.fresher_contacts(
                                uow.session, [r["establishment_id"]], r["referral_id"]
                            )
                            recorded += self._record(
                                uow, [planning.plan_reminder(r, referral, fresher)]
                            )
                    except Exception:
                        log.exception(
                            "reminder not recorded",
                            referral_id=r["referral_id"],
                            establishment_id=r["establishment_id"],
                        )
                    store.mark_reminded(uow.session, r["referral_id"], r["establishment_id"], now)
                uow.audit(
                    "reminders.recorded",
                    "referral",
                    ",".join(sorted({r["referral_id"] for r in due}))[:100],
                    None,
                    {"invitations": len(due), "deliveries": recorded},
                )
                uow.commit()
            total += len(due)

    # ===================================================================================
    # RPC for the gateway

    @rpc
    def list_notifications(self, query: dict) -> dict:
        """``GET /api/v1/notifications`` (RULES §8, §10): a provider's own deliveries, or
        those of a commissioner's (or the lead's) authority, newest first, with status,
        attempts and the last error of failures."""
        q = parse(NotificationsQuery, query)
        principal = self.ctx.require_principal()
        owner: dict = {}
        if principal.get("role") == "provider" and principal.get("provider_id"):
            owner["provider_id"] = principal["provider_id"]
        elif principal.get("role") in ("commissioner", "lead") and principal.get("authority"):
            owner["authority"] = principal["authority"]
        else:
            raise Forbidden("notifications are listed for providers and commissioners")
        after = paging.decode(q.cursor)
        if after is not None:
            try:
                after = (datetime.fromisoformat(after[0]), str(after[1]))
            except (ValueError, TypeError, IndexError):
                raise InvalidInput.at(["query", "cursor"], "not a cursor from this API") from None
        limit = paging.check_limit(q.limit)
        with self.db.uow() as uow:
            rows = store.list_deliveries(
                uow.session,
                **owner,
                status=q.status,
                message_type=q.message_type,
                referral_id=q.referral_id,
                after=after,
                limit=limit + 1,
            )
        items = [NotificationListItem.model_validate(r).model_dump(mode="json") for r in rows]
        return paging.page(items, limit, lambda item: [item["created_at"], item["id"]])

    @rpc
    def record_receipt(self, body: dict) -> dict:
        """A GOV.UK Notify delivery receipt (``POST /api/v1/notify/callbacks``).

        ``reference`` is our delivery id. Receipts of an earlier attempt, interim and
        repeated receipts change nothing; one arriving while its attempt is still being
        recorded is a 409, so Notify sends it again.
        """
        receipt = parse(NotifyCallback, body)
        if not receipt.reference:
            raise NotFound("receipt without our reference")
        m = self.messaging
        with self.db.uow() as uow:
            row = store.lock_delivery(uow.session, receipt.reference)
            if row is None or row["gateway"] != Gateway.NOTIFY:
                raise NotFound(f"no Notify delivery {receipt.reference}")
            d = store.to_delivery(row)
            before = _outcome(d)
            changed = d.apply_receipt(receipt.status, receipt.id, uow.now(), m.retry)
            if changed:
                store.save_delivery(uow.session, d)
                uow.audit(
                    f"delivery.{d.status}",
                    "delivery",
                    d.id,
                    before,
                    {**_outcome(d), "receipt": receipt.status},
                )
                uow.commit()
        return {"id": d.id, "status": str(d.status), "changed": changed}


def _contacts_of(event) -> list[Contact]:
    """The event's contacts, normalised; unreadable ones are logged and dropped."""
    problems: list[str] = []
    contacts = planning.contacts_of(event.contacts, problems)
    for problem in problems:
        log.warning("contact skipped", establishment_id=event.establishment_id, problem=problem)
    return contacts


def _audit_contacts(uow, establishment_id: str, contacts: list[Contact]) -> None:
    uow.audit(
        "recipient.contacts_updated",
        "establishment",
        establishment_id,
        None,
        {"contacts": [c.model_dump() for c in contacts]},
    )


def _outcome(d: Delivery) -> dict:
    return {
        "status": str(d.status),
        "attempts": d.attempts,
        "last_error": d.last_error,
        "reference": d.reference,
    }
