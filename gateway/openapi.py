"""The served OpenAPI document (API.md "Operations": ``GET /openapi.json``) and the
interactive API reference for partner developers (``GET /docs``).

flask-openapi3 generates each operation from the request and reply models; this module
adds what every operation shares: the RFC 9457 problem+json body of each error status the
gateway can answer (issue 10), so clients and contract tests can rely on the document.
The reference page is Swagger UI with its assets served by the gateway (no CDN).
"""

from __future__ import annotations

import copy

from flask import redirect
from flask_openapi3_swagger.plugins import RegisterPlugin as SwaggerUI

from gateway.problems import PROBLEM, TITLES

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details. `errors` names each offending field.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "service": {"type": "string", "description": "the service that did not answer"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["msg"],
            "properties": {"loc": {"type": "array", "items": {
                "anyOf": [{"type": "string"}, {"type": "integer"}]}},
                "msg": {"type": "string"}}}},
    },
    "additionalProperties": True,
}

ALWAYS = (400, 404, 422, 429, 503)
"""Any operation: bad JSON or query, an unknown object (in the path or the query), invalid
content, rate limit, a service down."""
AUTHENTICATED = (401, 403)
WRITES = (409,)


def _error_codes(path: str, method: str, operation: dict) -> list[int]:
    codes = list(ALWAYS)
    if operation.get("security"):  # public operations declare none
        codes += AUTHENTICATED
    if method in ("post", "put", "patch", "delete"):
        codes += WRITES
        codes.append(413)
    return codes


def complete(doc: dict) -> dict:
    """A copy of ``doc`` where every operation documents its problem+json errors."""
    doc = copy.deepcopy(doc)
    doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in _error_codes(path, method, operation):
                if str(code) in responses and code != 422:  # the route's own answer stands
                    continue
                responses[str(code)] = {"description": TITLES.get(code, "Error"),
                                        "content": {PROBLEM: {"schema": ref}}}
    return doc


def register(app) -> None:
    """``/openapi.json`` (the document) and ``/docs`` (the interactive reference)."""
    cache: dict[str, dict] = {}

    @app.get("/openapi.json", responses={200: {
        "description": "This document", "content": {"application/json": {"schema": {
            "type": "object"}}}}})
    def openapi():
        """OpenAPI 3 document generated from the request models."""
        if "doc" not in cache:
            cache["doc"] = complete(app.api_doc)
        return cache["doc"]

    app.register_blueprint(SwaggerUI.register("/openapi.json"), url_prefix="/docs")

    app.add_url_rule("/docs", "docs", lambda: redirect("/docs/swagger"))
