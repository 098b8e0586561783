"""notifications service: thin nameko entrypoints (DESIGN: inside a service)."""

from __future__ import annotations

from services.common.runtime import AuditRpc, Database, RequestContext, rpc
from services.notifications import store


class NotificationsService(AuditRpc):
    name = "notifications"

    ctx = RequestContext()
    db = Database(store.metadata)

    @rpc
    def ping(self) -> str:
        return "ok"
