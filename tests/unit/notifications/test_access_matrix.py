"""RULES §10 (with §8 "seen by the sender's owner") for deliveries, walked as a table:
role × own/other authority × own/other provider × whether the message type lets its
authority see it (``domain.SPECS.authority_sees``: no for sealed-bid receipts, RULES §5).

Outcomes: ``listed`` (the caller sees the delivery), ``hidden`` (not listed: another
owner's delivery never shows, so its existence does not leak) or ``403`` (the role lists
no deliveries at all).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from services.common.errors import Forbidden
from services.notifications import access
from services.notifications.domain import Delivery, Envelope, Route
from services.notifications.handlers import queries
from services.notifications.messages import Channel, Gateway, MessageType, NotificationsQuery
from tests.support.fake_uow import FakeUnitOfWork
from tests.support.notifications_fakes import FakeStore

OWN_AUTHORITY, OTHER_AUTHORITY = "KCC", "ESCC"
OWN_PROVIDER, OTHER_PROVIDER = "P-own", "P-other"
ROLES = ("provider", "commissioner", "lead", "contract_manager", "auditor")


def principal(role: str) -> dict:
    authority = "WSCC" if role == "lead" else OWN_AUTHORITY
    p = {"role": role, "key_id": f"k-{role}"}
    if role == "provider":
        p["provider_id"] = OWN_PROVIDER
    elif role in ("commissioner", "lead"):
        p["authority"] = authority
    return p


def expected(role: str, own_authority: bool, own_provider: bool, authority_sees: bool) -> str:
    if role in ("contract_manager", "auditor"):
        return "403"
    if role == "provider":
        return "listed" if own_provider else "hidden"
    # commissioner, and the lead as the commissioner of WSCC (RULES §10)
    return "listed" if own_authority and authority_sees else "hidden"


CASES = [
    (role, own_a, own_p, sees, expected(role, own_a, own_p, sees))
    for role, own_a, own_p, sees in itertools.product(
        ROLES, (True, False), (True, False), (True, False)
    )
]


@pytest.mark.parametrize("role, own_authority, own_provider, authority_sees, outcome", CASES)
def test_delivery_access_matrix(role, own_authority, own_provider, authority_sees, outcome):
    who = principal(role)
    authority = who.get("authority", OWN_AUTHORITY) if own_authority else OTHER_AUTHORITY
    delivery = {
        "id": "D1",
        "provider_id": OWN_PROVIDER if own_provider else OTHER_PROVIDER,
        # the owning authority is only kept where the message type lets it see it
        "authority": authority if authority_sees else None,
    }
    if outcome == "403":
        assert not access.can_list_notifications(who)
        with pytest.raises(Forbidden):
            access.notifications_owner(who)
    else:
        assert access.can_read_delivery(who, delivery) is (outcome == "listed")
        # the listing's query filter (``notifications_owner``) applies the same rule
        owner = access.notifications_owner(who)
        assert all(delivery.get(k) == v for k, v in owner.items()) is (outcome == "listed")


def test_the_listing_handler_follows_the_matrix():
    """One stored delivery per (provider, authority) pair; each role lists its own."""
    store = FakeStore()
    now = datetime(2031, 3, 1, tzinfo=UTC)
    pairs = [(p, a) for p in (OWN_PROVIDER, OTHER_PROVIDER) for a in ("KCC", "ESCC", "WSCC")]
    for n, (provider_id, authority) in enumerate(pairs):
        d = Delivery.new(f"D{n}", f"E{n}", MessageType.REFERRAL_INVITATION,
                         Route(f"x{n}@example.org", Channel.EMAIL, Gateway.SMTP), now,
                         provider_id=provider_id, authority=authority)  # fmt: skip
        store.insert_deliveries([(d, Envelope(None, "R1", "E1", "subject"))])
    for role in ROLES:
        who = principal(role)
        uow = FakeUnitOfWork(store=store)
        if not access.can_list_notifications(who):
            with pytest.raises(Forbidden):
                queries.list_notifications(NotificationsQuery(), uow, who)
            continue
        items = queries.list_notifications(NotificationsQuery(), uow, who)["items"]
        mine = {r["id"] for r in map(store.row, store.deliveries)
                if access.can_read_delivery(who, r)}  # fmt: skip
        assert {i["id"] for i in items} == mine and mine
