"""problem+json (RFC 9457) responses and the mapping from errors to statuses
(the ``mapped_errors`` idea of nameko-examples)."""

from __future__ import annotations

from flask import Response, json
from pydantic import ValidationError

from services.common.errors import DomainError

PROBLEM = "application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
          422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error",
          503: "Service Unavailable"}


def body(status: int, detail: str, errors: list[dict] | None = None, **extra) -> dict:
    """A problem+json body (RFC 9457)."""
    out = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
           "detail": detail, **extra}
    if errors:
        out["errors"] = errors
    return out


def problem(status: int, detail: str, errors: list[dict] | None = None, **extra) -> Response:
    return Response(json.dumps(body(status, detail, errors, **extra)), status=status,
                    mimetype=PROBLEM)


def _number(value):
    """nameko stringifies exception arguments across RPC: numbers come back as "0"."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _loc(loc: list) -> list:
    return [_number(p) for p in loc]


def from_domain(exc: DomainError) -> Response:
    """An error's ``errors`` entries name fields (``loc``, ``msg``); any other keys are facts
    for the caller and go to the top of the body, e.g. ``invited`` when publishing is
    refused below the minimum (API.md)."""
    errors, facts = [], {}
    for e in exc.errors:
        facts.update({k: _number(v) for k, v in e.items() if k not in ("loc", "msg")})
        if "loc" in e:
            errors.append({"loc": _loc(e["loc"]), "msg": e.get("msg", "")})
    return problem(exc.status, exc.detail or TITLES.get(exc.status, ""), errors or None,
                   **facts)


def from_validation(exc: ValidationError) -> Response:
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    names = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in errors)
    return problem(422, f"invalid content: {names}", errors)
