"""The gateway: authenticates, authorises, validates and translates (DESIGN rule 5)."""

from __future__ import annotations

import json
import re
import time
import uuid

from flask import current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_openapi3 import Info, OpenAPI
from prometheus_client import Counter, Histogram
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from gateway import inputs, problems, web
from gateway.auth import Unauthenticated, check_access
from gateway.rpc import RpcPool, ServiceUnavailable
from services.common.config import Settings, get_settings, nameko_config
from services.common.errors import DomainError
from services.common.logging import bind_request, clear_contextvars, configure, get_logger
from services.common.runtime import make_engine

log = get_logger(__name__)

HTTP_REQUESTS = Counter("dps_http_requests_total", "HTTP requests",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("dps_http_request_seconds", "HTTP request latency",
                         ["method", "route"])
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://",
                  headers_enabled=True)


def create_app(settings: Settings | None = None, engine: Engine | None = None,
               rpc_pool: RpcPool | None = None) -> OpenAPI:
    settings = settings or get_settings()
    configure("gateway", settings.log_level)
    app = OpenAPI(
        __name__,
        info=Info(title="DPS platform gateway", version="1.0.0",
                  description="Dynamic Purchasing System for children's placements. "
                              "See API.md; rules cite RULES.md §. Every POST that creates "
                              "something accepts an `Idempotency-Key` header: a repeat with "
                              "the same key returns the first result and creates nothing. "
                              "After a 503 whose outcome is unknown (the service got the "
                              "request but did not answer in time) a repeat gets 409: check "
                              "whether it was done before sending it with a new key."),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
        validation_error_status=422,
        validation_error_callback=problems.from_validation,
        doc_ui=False,
    )
    app.config["JSON_SORT_KEYS"] = False
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    app.extensions["dps.settings"] = settings
    app.extensions["dps.engine"] = engine or make_engine(settings.database_url, pool_size=10)
    app.extensions["dps.rpc"] = rpc_pool or RpcPool(settings, nameko_config(settings))
    limiter.init_app(app)

    @app.before_request
    def _before():
        g.started = time.monotonic()
        rid = request.headers.get("X-Request-ID", "")
        g.request_id = rid if REQUEST_ID.match(rid) else str(uuid.uuid4())
        bind_request(g.request_id)
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        if view is not None and request.path.startswith("/api/"):
            if any(inputs.bad_path_value(v) for v in (request.view_args or {}).values()):
                return problems.problem(404, "no such object")
            check_access(app.extensions["dps.engine"], view)
            if getattr(view, "__dps_upload__", None):  # a file body (issue 12), not JSON
                request.max_content_length = view.__dps_upload__
                return None
            return _refuse_bad_input()
        return None

    @app.after_request
    def _after(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        route = request.url_rule.rule if request.url_rule else "unmatched"
        HTTP_REQUESTS.labels(request.method, route, response.status_code).inc()
        HTTP_LATENCY.labels(request.method, route).observe(
            time.monotonic() - g.get("started", time.monotonic()))
        log.info("request", method=request.method, path=request.path,
                 status=response.status_code)
        return response

    @app.teardown_request
    def _teardown(_exc):
        clear_contextvars()

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        if web.is_page_request():
            return web.error_page(exc.status, exc.detail)
        return problems.from_domain(exc)

    @app.errorhandler(Unauthenticated)
    def _unauth(exc):
        response = problems.problem(401, str(exc))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.errorhandler(ServiceUnavailable)
    def _unavailable(exc: ServiceUnavailable):
        log.warning("service unavailable", service=exc.service, error=str(exc))
        if web.is_page_request():
            return web.error_page(503, f"{exc}. Try again in a few minutes.")
        return problems.problem(503, str(exc), service=exc.service)

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        log.warning("database unavailable", error=str(exc.orig)[:200])
        return problems.problem(503, "the database did not answer; try again shortly",
                                service="database")

    @app.errorhandler(RateLimitExceeded)
    def _limited(exc):
        return problems.problem(429, f"rate limit exceeded: {exc.description}")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if web.is_page_request():
            detail = ("The form had expired or did not come from this site: go back and try "
                      "again." if isinstance(exc, web.CSRFError) else "")
            return web.error_page(exc.code or 500, detail)
        return problems.problem(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _crash(exc):
        log.exception("unhandled error")
        if web.is_page_request():
            return web.error_page(500, f"Quote reference {g.get('request_id')} to support.")
        return problems.problem(500, "internal error; quote the X-Request-ID to support")

    from gateway.routes import register_all

    register_all(app)
    web.register(app)  # the web portal (RULES §12)
    return app


def _refuse_bad_input():
    """Bodies and query strings no model may see (``gateway.inputs``): too deep → 400,
    characters no field can hold → 422 naming each field; ``None`` when all is well."""
    locs = [["query", name] for name, value in request.args.items(multi=True)
            if inputs.forbidden_chars(value)]
    if request.method in ("POST", "PUT", "PATCH") and request.get_data():
        if inputs.nesting_depth(request.get_data()) > inputs.MAX_DEPTH:
            return problems.problem(
                400, f"the body nests deeper than {inputs.MAX_DEPTH} levels",
                [{"loc": ["body"], "msg": "too deeply nested"}])
        body = request.get_json(silent=True)
        if body is None:
            return problems.problem(400, "the body is not valid JSON",
                                    [{"loc": ["body"], "msg": "not valid JSON"}])
        locs += list(inputs.bad_text(body))  # body fields are named as validation names them
    if locs:
        names = ", ".join(".".join(str(p) for p in loc) for loc in locs)
        return problems.problem(422, f"invalid content: {names}",
                                [{"loc": loc, "msg": inputs.TEXT_ERROR} for loc in locs])
    return None


def call(service: str, method: str, *args, timeout: float | None = None, **kwargs):
    """Call a service by RPC on behalf of the current request (principal, request id)."""
    principal = g.get("principal")
    context = {"request_id": g.get("request_id")}
    if principal is not None:
        context["principal"] = json.dumps(principal.as_context())
    return current_app.extensions["dps.rpc"].call(service, method, *args, context=context,
                                                  timeout=timeout, **kwargs)
