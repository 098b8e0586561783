"""The DPS's settings (RULES §3): the lead extends, shortens or ends the period of
validity, closes entry to new applications and reopens it, or schedules a closure that
ends by itself (business case 7.19: closed 1 February to 1 April 2017). The page shows the
regime (§11.1): a PCR 2015 DPS's period is fixed after 23 February 2026 and ends by 23
February 2029; a change is refused by the service with its reason. Every change is
audited by the qualification service (``update_dps``); everyone signed in may read them."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request

from gateway.web.pages import REFUSED, FormInvalid, page, refusal, rpc, signed_in
from services.qualification.messages import DpsPatch

bp = Blueprint("web_dps", __name__)
MARKET_READERS = ("lead", "contract_manager", "commissioner", "provider")
"""Who may list the markets (the qualification service's readers, §10)."""
LABELS = {"valid_from": "Start of validity", "valid_to": "End of validity",
          "closed_from": "Closed from", "closed_until": "Reopens on"}
DONE = {"period": "The period of validity is changed",
        "close": "Entry to new applications is closed",
        "open": "Entry to new applications is open again",
        "schedule": "The closure of entry is scheduled",
        "unschedule": "The scheduled closure is cancelled"}


def patch_for(action: str, form) -> dict:
    """The ``update_dps`` patch a form asks for (``DpsPatch``, unset fields left out)."""
    if action == "period":
        raw = {k: form.get(k, "").strip() for k in ("valid_from", "valid_to")}
    elif action in ("close", "open"):
        raw = {"entry_open": action == "open"}
    elif action == "schedule":
        raw = {k: form.get(k, "").strip() for k in ("closed_from", "closed_until")}
    elif action == "unschedule":
        raw = {"closed_from": None, "closed_until": None}
    else:
        raise FormInvalid([{"field": None, "text": "Choose what to change"}])
    missing = [{"field": k, "text": f"{LABELS[k]}: enter a date"} for k, v in raw.items()
               if v == ""]
    if missing:
        raise FormInvalid(missing)
    return DpsPatch.model_validate(raw).model_dump(mode="json", exclude_unset=True)


@bp.get("/dps")
@signed_in()
def index(errors=None):
    """The default market's regime and latest end (§11.1), and every market, read-only."""
    return page("dps.html", title="DPS settings", dps=rpc("qualification", "get_dps"),
                markets=(rpc("qualification", "list_markets")["items"]
                         if g.user.role in MARKET_READERS else []),
                form=request.form, errors=errors or [])


@bp.post("/dps")
@signed_in("lead")
def change():
    action = request.form.get("action", "")
    try:
        rpc("qualification", "update_dps", patch_for(action, request.form))
    except REFUSED as exc:
        return index(errors=refusal(exc, LABELS))
    flash(DONE[action])
    return redirect("/dps")
