"""referral service: thin nameko entrypoints (DESIGN: inside a service)."""

from __future__ import annotations

from services.common.runtime import AuditRpc, Database, RequestContext, rpc
from services.referral import store


class ReferralService(AuditRpc):
    name = "referral"

    ctx = RequestContext()
    db = Database(store.metadata)

    @rpc
    def ping(self) -> str:
        return "ok"
