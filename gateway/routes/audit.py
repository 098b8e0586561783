"""Audit trail (RULES §9): read and verify every service's hash chain."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gateway.app import call
from gateway.auth import require
from services.common.config import AUDITED_SERVICES
from services.common.errors import InvalidInput

bp = APIBlueprint("audit", __name__, url_prefix="/api/v1", abp_tags=[Tag(name="audit")],
                  abp_security=[{"bearer": []}])


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str | None = Field(None, description="one service; default all")
    entity_type: str | None = None
    entity_id: str | None = None
    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None
    limit: int = Field(100, ge=1, le=1000)


class AuditRecord(BaseModel):
    """One hash-chained audit record (RULES §9)."""

    model_config = ConfigDict(extra="allow")
    service: str
    seq: int | None
    occurred_at: str
    actor: dict
    action: str
    entity_type: str
    entity_id: str
    before: object = None
    after: object = None
    request_id: str | None
    prev_hash: str | None
    hash: str | None


class AuditPage(BaseModel):
    items: list[AuditRecord]
    next_cursor: str | None


class ChainResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    ok: bool
    checked: int


class VerifyReply(BaseModel):
    """``first_bad`` names the first broken record; ``unsealed`` counts records written
    during the check and not yet in the chain."""

    model_config = ConfigDict(extra="allow")
    ok: bool
    checked: int
    services: dict[str, ChainResult]


def _services(name: str | None) -> tuple[str, ...]:
    if name is None:
        return AUDITED_SERVICES
    if name not in AUDITED_SERVICES:
        raise InvalidInput.at(["query", "service"], f"one of {', '.join(AUDITED_SERVICES)}")
    return (name,)


@bp.get("/audit", responses={200: AuditPage})
@require("lead", "auditor")
def records(query: AuditQuery):
    """Audit records of every service, newest last within each service."""
    filters = {"entity_type": query.entity_type, "entity_id": query.entity_id,
               "start": query.from_.isoformat() if query.from_ else None,
               "end": query.to.isoformat() if query.to else None, "limit": query.limit}
    items = []
    for service in _services(query.service):
        items += [{"service": service, **r} for r in call(service, "audit_records", filters)]
    items.sort(key=lambda r: r["occurred_at"])
    return {"items": items[: query.limit], "next_cursor": None}


@bp.get("/audit/verify", responses={200: VerifyReply})
@require("lead", "auditor")
def verify():
    """Verify every service's chain: ``{ok, checked, first_bad?, services}``."""
    results = {s: call(s, "audit_verify") for s in AUDITED_SERVICES}
    bad = [s for s, r in results.items() if not r["ok"]]
    body = {"ok": not bad, "checked": sum(r["checked"] for r in results.values()),
            "services": results}
    if bad:
        body["first_bad"] = {"service": bad[0], "seq": results[bad[0]].get("first_bad")}
    return body



