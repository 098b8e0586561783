"""GET /health, GET /metrics, GET /openapi.json and GET /docs (API.md "Operations")."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Response, current_app, jsonify
from flask_openapi3 import APIBlueprint, Tag
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from gateway.auth import require
from gateway.rpc import ServiceUnavailable
from services.common.config import SERVICES

bp = APIBlueprint("system", __name__, abp_tags=[Tag(name="operations")])
_pool = ThreadPoolExecutor(max_workers=len(SERVICES), thread_name_prefix="health")


def _ping(service: str) -> str:
    pool = current_app.extensions["dps.rpc"]
    timeout = current_app.extensions["dps.settings"].health_timeout_seconds
    try:
        return "ok" if pool.call(service, "ping", timeout=timeout) == "ok" else "failing"
    except ServiceUnavailable as exc:
        return str(exc)


class Health(BaseModel):
    """Every service's answer to a ping; ``failing`` names those that did not answer."""

    status: str
    services: dict[str, str]
    failing: list[str] | None = None


@bp.get("/health", responses={200: Health, 503: Health})
@require(public=True)
def health():
    """Pings every service; 503 names the failing ones."""
    app = current_app._get_current_object()

    def ping(service):
        with app.app_context():
            return _ping(service)

    results = dict(zip(SERVICES, _pool.map(ping, SERVICES), strict=True))
    failing = {k: v for k, v in results.items() if v != "ok"}
    body = {"status": "ok" if not failing else "unavailable", "services": results}
    if failing:
        body["failing"] = sorted(failing)
    return jsonify(body), 503 if failing else 200


@bp.get("/metrics", responses={200: {"description": "Prometheus text exposition",
                                    "content": {"text/plain": {"schema": {"type": "string"}}}}})
@require(public=True)
def metrics():
    """Prometheus text: request counts and latencies per route, RPC latencies."""
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def register(app) -> None:
    from gateway import openapi

    app.register_api(bp)
    openapi.register(app)
