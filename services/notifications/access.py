"""RULES §10 for the notifications service's objects, as pure functions.

Deliveries are "seen by the sender's owner" (RULES §8): a provider lists the deliveries
sent to it (``provider_id``); a commissioner, and the lead as WSCC's commissioner, those
of its own authority (``authority``, only kept where ``domain.SPECS`` lets the authority
see the message type: sealed bids, RULES §5, and qualification affairs, RULES §4, stay
hidden). Nobody else lists deliveries (``403``: contract managers and auditors have no
column for them in the §10 matrix). Another owner's delivery is never shown, so its
existence does not leak.

GOV.UK Notify's receipts carry no principal: the gateway checks Notify's bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.common.errors import Forbidden

LISTING_ROLES = ("provider", "commissioner", "lead")


def notifications_owner(principal: Mapping) -> dict:
    """The owner filter of ``list_notifications`` for ``principal``: ``provider_id`` for a
    provider, ``authority`` for a commissioner or the lead; ``Forbidden`` (403) else."""
    role = principal.get("role")
    if role == "provider" and principal.get("provider_id"):
        return {"provider_id": principal["provider_id"]}
    if role in ("commissioner", "lead") and principal.get("authority"):
        return {"authority": principal["authority"]}
    raise Forbidden("notifications are listed for providers and commissioners")


def can_list_notifications(principal: Mapping) -> bool:
    try:
        notifications_owner(principal)
    except Forbidden:
        return False
    return True


def can_read_delivery(principal: Mapping, delivery: Mapping) -> bool:
    """Whether ``delivery`` (a row or its listing) is among the principal's own: the
    row-level rule that ``notifications_owner``'s filter applies in the query."""
    if not can_list_notifications(principal):
        return False
    return all(delivery.get(k) == v for k, v in notifications_owner(principal).items())
