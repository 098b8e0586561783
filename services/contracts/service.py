"""contracts service: thin nameko entrypoints (DESIGN: inside a service)."""

from __future__ import annotations

from services.common.runtime import AuditRpc, Database, RequestContext, rpc
from services.contracts import store


class ContractsService(AuditRpc):
    name = "contracts"

    ctx = RequestContext()
    db = Database(store.metadata)

    @rpc
    def ping(self) -> str:
        return "ok"
