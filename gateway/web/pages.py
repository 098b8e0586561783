"""What every portal page shares: the signed-in user as its principal, role checks page by
page (RULES §10, §12), calling services like the JSON API does, and turning a model's or a
service's field errors into the GOV.UK error summary."""

from __future__ import annotations

from datetime import date
from functools import wraps
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from flask import abort, current_app, g, redirect, render_template, request
from pydantic import BaseModel, ValidationError

from gateway.app import call
from services.common.clock import utcnow
from services.common.errors import DomainError

ROLE_LABELS = {"lead": "lead authority", "commissioner": "commissioner",
               "provider": "provider", "contract_manager": "contract manager",
               "auditor": "auditor"}


def engine():
    return current_app.extensions["dps.engine"]


def config():
    return current_app.extensions["dps.portal"]


LONDON = ZoneInfo("Europe/London")


def now():
    return utcnow()


def today() -> date:
    """Today's date in the UK (a placement's start, a review, a financial year or quarter
    are UK civil dates): not the UTC date, which is yesterday's from 00:00 to 01:00 BST."""
    return now().astimezone(LONDON).date()


def safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "") if not parts.netloc else "/"


def signed_in(*roles: str):
    """A page for signed-in users of these roles (none given: any). A signed-out visitor
    goes to sign in and comes back here; another role gets 403 (§10)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.get("user") is None:
                target = request.full_path.rstrip("?") if request.method == "GET" else "/"
                ended = g.get("session_ended")  # tell the sign-in page why (§12 timeouts)
                why = f"&ended={ended['reason']}" if ended else ""
                return redirect(f"/sign-in?next={quote(target, safe='/')}{why}")
            if roles and g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def rpc(service: str, method: str, *args):
    """Call a service as the signed-in user, with a model argument as JSON."""
    return call(service, method, *(a.model_dump(mode="json") if isinstance(a, BaseModel)
                                   else a for a in args))


def every(service: str, method: str, query: dict | None = None, limit: int = 500) -> list:
    """Every item of a paged list RPC, following ``next_cursor`` (pages of ``limit``)."""
    items: list = []
    cursor = None
    while True:
        listed = rpc(service, method, {**(query or {}), "limit": limit,
                                       **({"cursor": cursor} if cursor else {})})
        items += listed["items"]
        cursor = listed.get("next_cursor")
        if not cursor:
            return items


# --- forms ------------------------------------------------------------------------------------


class FormInvalid(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__("invalid form")
        self.errors = errors


def field_id(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query")]
    return "-".join(parts)


def _message(msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    return msg[:1].upper() + msg[1:] if msg else "Check this answer"


def errors_from(exc: Exception, labels: dict | None = None) -> list[dict]:
    """``[{field, text}]`` for the error summary, naming each field (§12)."""
    labels = labels or {}
    if isinstance(exc, FormInvalid):
        return exc.errors
    items = []
    if isinstance(exc, ValidationError):
        raw = [{"loc": e["loc"], "msg": e["msg"]} for e in exc.errors()]
    elif isinstance(exc, DomainError):
        raw = [e for e in exc.errors if "loc" in e] or [{"loc": [], "msg": exc.detail}]
    else:
        raw = [{"loc": [], "msg": str(exc)}]
    for e in raw:
        fid = field_id(e["loc"])
        label = labels.get(fid) or (fid.replace("-", " ").replace("_", " ") if fid else "")
        text = _message(str(e.get("msg", "")))
        items.append({"field": fid or None, "text": f"{label}: {text}" if label else text})
    if (isinstance(exc, DomainError) and exc.detail and exc.status != 422
            and not any(i["field"] is None for i in items)):  # 422: the fields say it all
        items.insert(0, {"field": None, "text": _message(exc.detail)})
    return items


REFUSED = (ValidationError, DomainError, FormInvalid)
"""What a form's handler catches: bad input (a model's or the form's own) or a service's
refusal; ``refusal`` sorts them."""


def refusal(exc: Exception, labels: dict | None = None) -> list[dict]:
    """The error summary for a refused form, to show the page again (422): bad input or a
    service's 4xx (409 conflict, 422 invalid, 400, 413 …). A 403 or a 404 (§10: not yours,
    or not there) and a 5xx are raised again, for the error page."""
    if isinstance(exc, DomainError) and (exc.status in (403, 404) or exc.status >= 500):
        raise exc
    return errors_from(exc, labels)


def error_map(errors: list[dict]) -> dict:
    return {e["field"]: e["text"] for e in errors if e.get("field")}


def nest(form, skip=("csrf_token",)) -> dict:
    """Dotted field names → nested data: ``a.b`` → ``{"a": {"b": …}}``; a level whose keys
    are all digits becomes a list (blank rows dropped); names ending ``[]`` keep every value.
    Empty strings are left out, so optional fields stay optional."""
    data: dict = {}
    for name in form:
        if name in skip:
            continue
        many = name.endswith("[]")
        values = [v.strip() for v in form.getlist(name)]
        value = [v for v in values if v] if many else values[-1]
        if value == "":
            continue
        parts = (name[:-2] if many else name).split(".")
        here = data
        for p in parts[:-1]:
            here = here.setdefault(p, {})
        here[parts[-1]] = value
    return _lists(data)


def _lists(node):
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [v for _, v in sorted(node.items(), key=lambda kv: int(kv[0])) if v]
    return node


def page(template: str, **context):
    errors = context.get("errors") or []
    context.setdefault("err", error_map(errors))
    return render_template(template, **context), 422 if errors else 200
