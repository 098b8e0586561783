"""The DPS and the dynamic markets (API.md "DPS settings and qualification", RULES §3,
§11.1). ``GET /dps`` is the default market with its ``regime`` and ``dps_id``; additions to
API.md, documented in the OpenAPI document: ``GET/POST /markets``, ``GET/PATCH
/markets/{id}``, ``POST /markets/{id}/establish``, ``…/end`` and ``…/migrate``."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, Field

from gateway.auth import require
from gateway.idempotency import idempotent
from gateway.routes.qualification import ANY, READERS, _call, _patch
from services.qualification.messages import (
    DpsPatch,
    DpsView,
    MarketCreate,
    MarketEnd,
    MarketMigrate,
    MarketPatch,
    MarketView,
)

bp = APIBlueprint(
    "markets",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[Tag(name="markets", description="The DPS and the dynamic markets, each under "
                  "its procurement regime (RULES §3, §11.1)")],
)


class MarketPath(BaseModel):
    dps_id: str = Field(max_length=64)


class MarketPage(BaseModel):
    items: list[MarketView]
    next_cursor: str | None


@bp.get("/dps", responses={200: DpsView})
@require(*ANY)
def get_dps():
    """Status, period of validity and whether entry is open (§3)."""
    return _call("get_dps")


@bp.patch("/dps", responses={200: DpsView})
@require("lead")
def patch_dps(body: DpsPatch):
    """Extend, shorten or end the period of validity; open or close entry (§3). Audited."""
    return _call("update_dps", _patch(body))


@bp.get("/markets", responses={200: MarketPage})
@require(*READERS)
def list_markets():
    """Every DPS and dynamic market, with its regime, parts and period (§11.1)."""
    return _call("list_markets")


@bp.post("/markets", responses={201: MarketView})
@require("lead")
@idempotent
def create_market(body: MarketCreate):
    """A dynamic market (planned until established; UK13), or the record of a PCR 2015 DPS
    established before 24 February 2025: 409 otherwise (SI 2024/716 reg 5, §11.1)."""
    return _call("create_market", body), 201


@bp.get("/markets/<dps_id>", responses={200: MarketView})
@require(*READERS)
def get_market(path: MarketPath):
    """One market (§11.1)."""
    return _call("get_market", path.dps_id)


@bp.patch("/markets/<dps_id>", responses={200: MarketView})
@require("lead")
def patch_market(path: MarketPath, body: MarketPatch):
    """Period and entry (§3; a PCR DPS's period is fixed after 23 February 2026 and ends by
    23 February 2029, §11.1), title, fee while planned (s.38), the default market."""
    return _call("update_market", path.dps_id, _patch(body))


@bp.post("/markets/<dps_id>/establish", responses={200: MarketView})
@require("lead")
def establish_market(path: MarketPath):
    """Establish a planned dynamic market (s.39(3), UK14)."""
    return _call("establish_market", path.dps_id)


@bp.post("/markets/<dps_id>/end", responses={200: MarketView})
@require("lead")
def end_market(path: MarketPath, body: MarketEnd):
    """End a market today or on a later day of its period (s.39(5), UK16)."""
    return _call("end_market", path.dps_id, _patch(body))


@bp.post("/markets/<dps_id>/migrate", responses={201: MarketView})
@require("lead")
@idempotent
def migrate_market(path: MarketPath, body: MarketMigrate):
    """A dynamic market from a PCR DPS, the same categories as parts; every admitted
    establishment is invited with a pre-filled draft application (§11.1)."""
    return _call("migrate_market", path.dps_id, body), 201
