"""Notifications (API.md "Notifications and audit", RULES §8, §10).

- ``GET /api/v1/notifications``: the caller's own deliveries with their status: a
  provider's messages, or those of a commissioner's authority (the lead: WSCC's), including
  permanent failures and their last error.
- ``POST /api/v1/notify/callbacks``: GOV.UK Notify delivery receipts. Public with respect
  to API keys: Notify authenticates with the bearer token configured in Notify's callback
  settings and here as ``DPS_NOTIFY_CALLBACK_TOKEN``, compared in constant time before the
  body is looked at. With no token configured every callback is refused.
"""

from __future__ import annotations

import hmac

from flask import current_app, request
from flask_openapi3 import APIBlueprint, Tag

from gateway.app import call
from gateway.auth import Unauthenticated, require
from services.notifications.messages import (
    NotificationsPage,
    NotificationsQuery,
    NotifyCallback,
)

bp = APIBlueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[Tag(name="notifications")],
    abp_security=[{"bearer": []}],
)



def callback_token_ok(header: str | None, expected: str | None) -> bool:
    """``Authorization: Bearer <token>`` against the configured token, in constant time."""
    if not expected or not header or not header.startswith("Bearer "):
        return False
    given = header[len("Bearer ") :].strip()
    return hmac.compare_digest(given.encode(), expected.encode())


@bp.before_request
def _check_callback_token():
    """Runs before the body is validated, so a caller without the token learns nothing."""
    if request.endpoint == f"{bp.name}.notify_callback" and not callback_token_ok(
        request.headers.get("Authorization"),
        current_app.extensions["dps.settings"].notify_callback_token
    ):
        raise Unauthenticated("send Authorization: Bearer <the callback token>")


@bp.get("/notifications", responses={200: NotificationsPage})
@require("provider", "commissioner", "lead")
def list_notifications(query: NotificationsQuery):
    """Messages sent to (provider) or about (commissioner) the caller and their delivery
    status, newest first (RULES §8: permanent failures are visible to their owner)."""
    return call(
        "notifications", "list_notifications", query.model_dump(mode="json", exclude_none=True)
    )


@bp.post("/notify/callbacks", responses={204: None})
@require(public=True)
def notify_callback(body: NotifyCallback):
    """A GOV.UK Notify delivery receipt (its documented callback body). Authenticated by
    the callback bearer token, not an API key."""
    call("notifications", "record_receipt", body.model_dump(mode="json"))
    return "", 204
