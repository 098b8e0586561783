"""The audit trail (RULES §9) for the lead and auditors: every service's records with
filters, the gateway's own sign-in records, and the verification of each hash chain."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request

from gateway.web import accounts
from gateway.web.pages import engine, page, rpc, signed_in
from services.common.config import AUDITED_SERVICES

bp = Blueprint("web_audit", __name__)
SOURCES = (*AUDITED_SERVICES, "gateway")


def _when(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone().isoformat()
    except ValueError:
        return None


@bp.get("/audit")
@signed_in("lead", "auditor")
def index():
    args = request.args
    chosen = args.get("service") if args.get("service") in SOURCES else ""
    filters = {"entity_type": args.get("entity_type") or None,
               "entity_id": args.get("entity_id") or None,
               "start": _when(args.get("from")), "end": _when(args.get("to")), "limit": 200}
    items = []
    for source in [chosen] if chosen else SOURCES:
        rows = (accounts.audit_records(engine(), filters) if source == "gateway"
                else rpc(source, "audit_records", filters))
        items += [{"service": source, **r} for r in rows]
    items.sort(key=lambda r: str(r["occurred_at"]), reverse=True)
    return page("audit.html", title="Audit trail", items=items[:200], sources=SOURCES,
                args=args, verified=None)


@bp.get("/audit/verify")
@signed_in("lead", "auditor")
def verify():
    results = {s: rpc(s, "audit_verify") for s in AUDITED_SERVICES}
    results["gateway"] = accounts.audit_verify(engine())
    return page("audit_verify.html", title="Verification of the audit chains", results=results)
