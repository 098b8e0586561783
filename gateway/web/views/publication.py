"""Publication of awards (RULES §7.5): the quarter's OCDS release package and CSV."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, request
from pydantic import ValidationError

from gateway.web.pages import page, refusal, rpc, signed_in, today
from services.contracts.messages import PublicationQuery

bp = Blueprint("web_publication", __name__)


def this_quarter(today: date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


@bp.get("/publication")
@signed_in("contract_manager", "lead", "commissioner")
def index():
    return page("publication.html", title="Publication of awards",
                quarter=request.args.get("quarter") or this_quarter(today()))


@bp.get("/publication/download")
@signed_in("contract_manager", "lead", "commissioner")
def download():
    try:
        query = PublicationQuery.model_validate({"quarter": request.args.get("quarter", ""),
                                                 "format": request.args.get("format", "ocds")})
    except ValidationError as exc:
        return page("publication.html", title="Publication of awards",
                    quarter=request.args.get("quarter", ""),
                    errors=refusal(exc, {"quarter": "Quarter", "format": "Format"}))
    result = rpc("contracts", "award_publication", query.model_dump(mode="json"))
    ext = "csv" if query.format == "csv" else "json"
    return Response(result["content"].encode("utf-8"), headers={
        "Content-Type": result["media_type"],
        "Content-Disposition": f'attachment; filename="dps-awards-{query.quarter}.{ext}"'})
