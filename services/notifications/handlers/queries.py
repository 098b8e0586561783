"""The gateway's calls (RULES §8, §10): the caller's own deliveries, and GOV.UK Notify's
delivery receipts."""

from __future__ import annotations

from datetime import datetime

from services.common import paging
from services.common.errors import InvalidInput, NotFound
from services.notifications import access
from services.notifications.config import NotificationsConfig
from services.notifications.domain import outcome
from services.notifications.messages import (
    Gateway,
    NotificationListItem,
    NotificationsQuery,
    NotifyCallback,
)


def list_notifications(q: NotificationsQuery, uow, principal: dict) -> dict:
    """``GET /api/v1/notifications`` (RULES §8, §10): a provider's own deliveries, or
    those of a commissioner's (or the lead's) authority, newest first, with status,
    attempts and the last error of failures."""
    owner = access.notifications_owner(principal)
    after = paging.decode(q.cursor)
    if after is not None:
        try:
            after = (datetime.fromisoformat(after[0]), str(after[1]))
        except (ValueError, TypeError, IndexError):
            raise InvalidInput.at(["query", "cursor"], "not a cursor from this API") from None
    limit = paging.check_limit(q.limit)
    rows = uow.store.list_deliveries(
        **owner,
        status=q.status,
        message_type=q.message_type,
        referral_id=q.referral_id,
        after=after,
        limit=limit + 1,
    )
    items = [NotificationListItem.model_validate(r).model_dump(mode="json") for r in rows]
    return paging.page(items, limit, lambda item: [item["created_at"], item["id"]])


def record_receipt(receipt: NotifyCallback, uow, config: NotificationsConfig) -> dict:
    """A GOV.UK Notify delivery receipt (``POST /api/v1/notify/callbacks``).

    ``reference`` is our delivery id. Receipts of an earlier attempt, interim and
    repeated receipts change nothing; one arriving while its attempt is still being
    recorded is a 409, so Notify sends it again.
    """
    if not receipt.reference:
        raise NotFound("receipt without our reference")
    d = uow.store.lock_delivery(receipt.reference)
    if d is None or d.gateway != Gateway.NOTIFY:
        raise NotFound(f"no Notify delivery {receipt.reference}")
    before = outcome(d)
    changed = d.apply_receipt(receipt.status, receipt.id, uow.now(), config.retry())
    if changed:
        uow.store.save_delivery(d)
        uow.audit(
            f"delivery.{d.status}",
            "delivery",
            d.id,
            before,
            {**outcome(d), "receipt": receipt.status},
        )
        uow.commit()
    return {"id": d.id, "status": str(d.status), "changed": changed}
