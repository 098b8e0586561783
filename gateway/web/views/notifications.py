"""Notifications (RULES §8, §10): what the platform sent to a provider, or about a
commissioner's authority, with each delivery's status, newest first; a permanent failure
shows its last error so its owner can act. The notifications service scopes the list."""

from __future__ import annotations

from flask import Blueprint, request

from gateway.web.pages import page, rpc, signed_in

bp = Blueprint("web_notifications", __name__)
STATUSES = [("", "Any status"), ("delivered", "Delivered"), ("sent", "Sent"),
            ("pending", "Waiting"), ("sending", "Sending"),
            ("temporary_failure", "Failed for now, to be tried again"),
            ("permanent_failure", "Failed for good")]


@bp.get("/notifications")
@signed_in("provider", "commissioner", "lead")
def index():
    query = {"limit": 100}
    status = request.args.get("status", "")
    if status in {s for s, _ in STATUSES if s}:
        query["status"] = status
    if request.args.get("cursor"):
        query["cursor"] = request.args["cursor"][:500]
    listed = rpc("notifications", "list_notifications", query)
    return page("notifications.html", title="Notifications", items=listed["items"],
                next_cursor=listed.get("next_cursor"), status=status, statuses=STATUSES)
