"""In-memory stand-ins for the notifications handlers' unit tests: ``FakeStore`` has the
methods of ``services.notifications.store.Store`` over dicts (with the same "newest wins"
and uniqueness rules as its SQL), ``FakeSender`` a gateway that records what it was given,
and ``uows`` opens fake units of work over one store for the timers' handlers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from services.common.clock import FixedClock
from services.notifications.channels import PermanentFailure, TemporaryFailure
from services.notifications.domain import (
    REMINDER_BEFORE_DEADLINE,
    WAITING,
    Delivery,
    Envelope,
    RateWindow,
)
from services.notifications.messages import Channel, Contact, DeliveryStatus, Gateway
from services.notifications.rendering import Rendered
from services.notifications.store import codecs
from tests.support.fake_uow import FakeUnitOfWork


class FakeStore:
    def __init__(self):
        self.providers_by_id: dict[str, dict] = {}
        self.establishments: dict[str, dict] = {}
        self.referrals: dict[str, dict] = {}
        self.invitations: dict[tuple[str, str], dict] = {}
        self.deliveries: dict[str, tuple[Delivery, Envelope]] = {}
        self.rate_windows: dict[Gateway, RateWindow | None] = {}

    def savepoint(self):
        return contextlib.nullcontext()

    # -- recipients ------------------------------------------------------------------------
    def upsert_provider(self, provider_id, name, contact_email, as_of) -> bool:
        old = self.providers_by_id.get(provider_id)
        if old and old["as_of"] > as_of:
            return False
        self.providers_by_id[provider_id] = {
            "id": provider_id, "name": name, "contact_email": contact_email, "as_of": as_of,
        }  # fmt: skip
        return True

    def get_provider(self, provider_id):
        return self.providers_by_id.get(provider_id)

    def providers(self, ids: Iterable[str]) -> dict[str, dict]:
        return {i: self.providers_by_id[i] for i in sorted(set(ids)) if i in self.providers_by_id}

    def upsert_establishment(self, establishment_id, provider_id, name, contacts, as_of):
        return self._put(establishment_id, provider_id, name, contacts, as_of, keep_name=False)

    def upsert_contacts(self, establishment_id, provider_id, contacts, as_of):
        return self._put(
            establishment_id, provider_id, establishment_id, contacts, as_of, keep_name=True
        )

    def _put(self, establishment_id, provider_id, name, contacts, as_of, keep_name) -> bool:
        old = self.establishments.get(establishment_id)
        if old and old["contacts_as_of"] > as_of:
            return False
        self.establishments[establishment_id] = {
            "id": establishment_id,
            "provider_id": provider_id,
            "name": old["name"] if old and keep_name else name,
            "contacts": codecs.contacts_to_row(contacts),
            "contacts_as_of": as_of,
        }
        return True

    def get_establishment(self, establishment_id):
        return self.establishments.get(establishment_id)

    def fresher_contacts(self, establishment_ids, referral_id=None, snapshot_at=None):
        fresher: dict[str, list[Contact]] = {}
        for i in sorted(set(establishment_ids)):
            row = self.establishments.get(i)
            if not row:
                continue
            invitation = self.invitations.get((referral_id or "", i))
            snapshot = snapshot_at or (invitation["invited_at"] if invitation else None)
            if row["contacts"] and (snapshot is None or row["contacts_as_of"] > snapshot):
                fresher[i] = codecs.contacts_from_row(row["contacts"])
        return fresher

    # -- referrals and invitations ------------------------------------------------------------
    def upsert_referral(self, referral_id, authority, category, deadline, profile, as_of):
        old = self.referrals.get(referral_id)
        if old:
            old.update(deadline=deadline, profile=profile)
            return
        self.referrals[referral_id] = {
            "id": referral_id, "authority": authority, "category": category,
            "deadline": deadline, "profile": profile, "status": "open", "status_as_of": as_of,
        }  # fmt: skip

    def get_referral(self, referral_id):
        return self.referrals.get(referral_id)

    def set_deadline(self, referral_id, deadline):
        row = self.referrals.get(referral_id)
        if row and row["deadline"] < deadline:
            row["deadline"] = deadline

    def set_referral_status(self, referral_id, status, as_of):
        row = self.referrals.get(referral_id)
        if row and row["status_as_of"] <= as_of:
            row.update(status=status, status_as_of=as_of)

    def add_invitations(self, referral_id, rows, invited_at):
        for r in rows:
            self.invitations.setdefault(
                (referral_id, r["establishment_id"]),
                {"referral_id": referral_id, "invited_at": invited_at, "has_bid": False,
                 "bid_as_of": None, "declined": False, "reminded_at": None, **r},
            )  # fmt: skip

    def get_invitation(self, referral_id, establishment_id):
        return self.invitations.get((referral_id, establishment_id))

    def set_has_bid(self, referral_id, establishment_id, has_bid, as_of):
        row = self.invitations.get((referral_id, establishment_id))
        if row and (row["bid_as_of"] is None or row["bid_as_of"] <= as_of):
            row.update(has_bid=has_bid, bid_as_of=as_of)

    def set_declined(self, referral_id, establishment_id):
        row = self.invitations.get((referral_id, establishment_id))
        if row:
            row["declined"] = True

    def claim_due_reminders(self, now: datetime, limit: int) -> list[dict]:
        due = []
        for (referral_id, _), inv in self.invitations.items():
            ref = self.referrals[referral_id]
            remind_at = ref["deadline"] - REMINDER_BEFORE_DEADLINE
            if (ref["status"] == "open" and inv["reminded_at"] is None and not inv["has_bid"]
                    and not inv["declined"] and remind_at <= now < ref["deadline"]
                    and inv["invited_at"] < remind_at):  # fmt: skip
                keep = ("authority", "category", "deadline", "profile")
                due.append({**inv, **{k: ref[k] for k in keep}})
        return sorted(due, key=lambda r: r["deadline"])[:limit]

    def mark_reminded(self, referral_id, establishment_id, now):
        self.invitations[(referral_id, establishment_id)]["reminded_at"] = now

    # -- deliveries ----------------------------------------------------------------------------
    def insert_deliveries(self, new: list[tuple[Delivery, Envelope]]) -> int:
        keys = {d.key for d, _ in self.deliveries.values()}
        inserted = 0
        for d, envelope in new:
            if d.key in keys:
                continue
            keys.add(d.key)
            self.deliveries[d.id] = (replace(d), envelope)
            inserted += 1
        return inserted

    def save_delivery(self, d: Delivery) -> None:
        _, envelope = self.deliveries[d.id]
        self.deliveries[d.id] = (replace(d), envelope)

    def lock_delivery(self, delivery_id):
        found = self.deliveries.get(delivery_id)
        return replace(found[0]) if found else None

    def extend_leases(self, attempts, until) -> int:
        renewed = 0
        for i, n in attempts.items():
            d, e = self.deliveries[i]
            if d.status is DeliveryStatus.SENDING and d.attempts == n:
                self.deliveries[i] = (replace(d, next_attempt_at=until), e)
                renewed += 1
        return renewed

    def lock_deliveries(self, ids):
        return {i: replace(self.deliveries[i][0]) for i in sorted(ids) if i in self.deliveries}

    def claim_due(self, gateway, now, limit) -> list[tuple[Delivery, Rendered]]:
        if limit <= 0:
            return []
        due = [
            (d, e) for d, e in self.deliveries.values()
            if d.gateway is gateway and (d.status in WAITING or d.status is DeliveryStatus.SENDING)
            and d.next_attempt_at <= now
        ]  # fmt: skip
        due.sort(key=lambda de: (de[0].next_attempt_at, de[0].created_at, de[0].id))
        return [
            (replace(d), codecs.message_from_row(codecs.envelope_to_row(e))) for d, e in due[:limit]
        ]

    def lock_rate_window(self, gateway):
        return self.rate_windows.setdefault(gateway, None)

    def save_rate_window(self, gateway, window):
        self.rate_windows[gateway] = window

    def list_deliveries(self, *, provider_id=None, authority=None, status=None,
                        message_type=None, referral_id=None, after=None, limit=50):  # fmt: skip
        rows = [self.row(i) for i in self.deliveries]
        rows = [
            r for r in rows
            if (provider_id is None or r["provider_id"] == provider_id)
            and (authority is None or r["authority"] == authority)
            and (not status or r["status"] == status)
            and (not message_type or r["message_type"] == message_type)
            and (not referral_id or r["referral_id"] == referral_id)
            and (after is None or (r["created_at"], r["id"]) < after)
        ]  # fmt: skip
        rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return rows[:limit]

    # -- for assertions ----------------------------------------------------------------------
    def row(self, delivery_id: str) -> dict:
        d, e = self.deliveries[delivery_id]
        return {**codecs.delivery_to_row(d), **codecs.envelope_to_row(e)}

    def all(self, **where) -> list[Delivery]:
        return [
            d for d, _ in self.deliveries.values()
            if all(str(getattr(d, k)) == str(v) for k, v in where.items())
        ]  # fmt: skip


class FakeSender:
    """A gateway that accepts every message, or fails those to ``refuse`` (temporarily
    unless ``permanent``); ``sent`` is what it accepted."""

    def __init__(self, gateway: Gateway, refuse: Iterable[str] = (), permanent=False):
        self.gateway = gateway
        self.refuse = set(refuse)
        self.permanent = permanent
        self.sent: list[tuple[Channel, str, Rendered, str]] = []

    def send(self, channel, to, message, reference) -> str:
        if to in self.refuse:
            raise (PermanentFailure if self.permanent else TemporaryFailure)(f"refused {to}")
        self.sent.append((channel, to, message, reference))
        return f"{self.gateway}-{reference}"


class Uows:
    """``uows()`` for the timers' handlers: a new fake unit of work over one store and one
    clock each time; ``opened`` keeps them for assertions."""

    def __init__(self, store: FakeStore, clock: FixedClock):
        self.store = store
        self.clock = clock
        self.opened: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(store=self.store, clock=self.clock)
        self.opened.append(uow)
        return uow

    def audits(self) -> list[dict]:
        return [a for u in self.opened for a in u.audits]


def serial_imap(fn, items):
    return map(fn, items)
