"""Contracts and placements (API.md "Contracts and placements", RULES §7).

The gateway authenticates, checks the role (401/403 before any validation), validates with
the contracts service's models and calls it; ownership and §10's 404-vs-403 are decided by
the service. Additions to API.md, documented in the OpenAPI document:

- ``POST /block-contracts/{id}/placements``: place a child into a free block place (§7.3).
- ``GET /reviews/overdue``: placements whose outcome review is overdue (§7.4).
- ``GET /performance``: an establishment's performance index and the reports sent to the
  qualification service (§7.4).
- ``GET /placements/{id}?on=YYYY-MM-DD``: the price in force and weekly cost on a day (§7.2).
- ``GET /block-contracts/{id}?as_of=YYYY-MM-DD``: occupancy and voids up to a day (§7.3).
- ``POST /notices/{id}/published``: a Procurement Act notice was published on Find a Tender
  under its FTS notice id; it leaves the due list (§11.4).
"""

from __future__ import annotations

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from gateway.app import call
from gateway.auth import require
from gateway.idempotency import idempotent
from services.contracts.messages import (
    PUBLICATION_RESPONSE,
    BenchmarkQuery,
    BenchmarkView,
    BlockContractCreate,
    BlockPath,
    BlockPlaceCreate,
    BlockQuery,
    BlockView,
    CostShareQuery,
    CostShareView,
    NoticeMarkPublished,
    NoticePage,
    NoticePath,
    NoticesQuery,
    NoticeView,
    OverduePage,
    OverdueQuery,
    PerformanceQuery,
    PerformanceView,
    PlacementEnd,
    PlacementPage,
    PlacementPath,
    PlacementQuery,
    PlacementsQuery,
    PlacementStart,
    PlacementView,
    PublicationQuery,
    ReviewCreate,
    ReviewReply,
    UpliftCreate,
    UpliftView,
    VariationCreate,
    VariationReply,
)

bp = APIBlueprint(
    "contracts",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[Tag(name="contracts", description="placements, uplifts, blocks, publication")],
    abp_security=[{"bearer": []}],
)

public_bp = APIBlueprint(
    "publications",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[Tag(name="contracts", description="placements, uplifts, blocks, publication")],
)
"""Operations anyone may call without a key (RULES §10: published award notices)."""


def register(app) -> None:
    app.register_api(bp)
    app.register_api(public_bp)


READERS = ("commissioner", "lead", "provider", "contract_manager")
OWNERS = ("commissioner", "lead")


def _query(model) -> dict:
    return model.model_dump(mode="json", by_alias=True)


# --- placements (§7.1, §7.2, §7.4) ----------------------------------------------------------


@bp.get("/placements", responses={200: PlacementPage})
@require(*READERS)
def list_placements(query: PlacementsQuery):
    """Placements: a commissioner its authority's, a provider its own without child details,
    the contract manager all (§10). Paged with ``limit`` and ``cursor``."""
    return call("contracts", "list_placements", _query(query))


@bp.get("/placements/<placement_id>", responses={200: PlacementView})
@require(*READERS)
def get_placement(path: PlacementPath, query: PlacementQuery):
    """One placement with its price history, weekly cost on ``on`` (default today), reviews
    and next review date. Another authority's or provider's placement is 404 (§10)."""
    return call("contracts", "get_placement", path.placement_id, _query(query))


@bp.post("/placements/<placement_id>/start", responses={200: PlacementView})
@require(*OWNERS)
def start_placement(path: PlacementPath, body: PlacementStart):
    """``pending_start → active`` on ``date`` (owner commissioner, §7.1)."""
    return call("contracts", "start_placement", path.placement_id, body.model_dump(mode="json"))


@bp.post("/placements/<placement_id>/end", responses={200: PlacementView})
@require(*OWNERS)
def end_placement(path: PlacementPath, body: PlacementEnd):
    """``active → ended`` on ``date`` with an end reason (owner commissioner, §7.1)."""
    return call("contracts", "end_placement", path.placement_id, body.model_dump(mode="json"))


@bp.post("/placements/<placement_id>/variations", responses={201: VariationReply})
@require(*OWNERS)
@idempotent
def vary_placement(path: PlacementPath, body: VariationCreate):
    """A dated price change with a reason (owner commissioner, §7.2)."""
    body_json = body.model_dump(mode="json", exclude_none=True)
    return call("contracts", "vary_placement", path.placement_id, body_json), 201


@bp.post("/placements/<placement_id>/reviews", responses={201: ReviewReply})
@require(*OWNERS)
@idempotent
def record_review(path: PlacementPath, body: ReviewCreate):
    """An outcome review: 1–5 per monitored component, the child's and parents' views
    (owner commissioner, §7.4)."""
    return call("contracts", "record_review", path.placement_id, body.model_dump(mode="json")), 201


@bp.get("/reviews/overdue", responses={200: OverduePage})
@require("commissioner", "lead", "contract_manager")
def overdue_reviews(query: OverdueQuery):
    """Active placements whose review is overdue on ``as_of`` (default today), most overdue
    first: own authority's, or all for the contract manager (§7.4)."""
    return call("contracts", "overdue_reviews", _query(query))


# --- uplifts (§7.2) -----------------------------------------------------------------------


@bp.post("/uplifts", responses={201: UpliftView})
@require("contract_manager")
@idempotent
def set_uplift(body: UpliftCreate):
    """A common annual uplift of one core head in one category from ``effective_from``:
    applied to matching placements (never variable costs) and, through the qualification
    service, to admitted establishments' qualified core costs (§7.2)."""
    return call("contracts", "set_uplift", body.model_dump(mode="json")), 201


# --- block contracts (§7.3) -----------------------------------------------------------------


@bp.post("/block-contracts", responses={201: BlockView})
@require(*OWNERS)
@idempotent
def create_block_contract(body: BlockContractCreate):
    """Reserve ``places`` at an admitted establishment from ``start`` to ``end`` (both days
    included) at a weekly price per place (§7.3)."""
    return call("contracts", "create_block_contract", body.model_dump(mode="json")), 201


@bp.get("/block-contracts/<block_id>", responses={200: BlockView})
@require("commissioner", "lead", "contract_manager")
def get_block_contract(path: BlockPath, query: BlockQuery):
    """Occupancy and voids (unused place-weeks) up to ``as_of`` (§7.3): owner and contract
    manager."""
    return call("contracts", "get_block_contract", path.block_id, _query(query))


@bp.post("/block-contracts/<block_id>/placements", responses={201: PlacementView})
@require(*OWNERS)
@idempotent
def place_in_block(path: BlockPath, body: BlockPlaceCreate):
    """Place a child into a free place of the block from ``start_date``; recorded as a
    placement at the place price (§7.3). ``409`` when no place is free."""
    return call("contracts", "place_in_block", path.block_id, body.model_dump(mode="json")), 201


# --- publication (§7.5) -----------------------------------------------------------------------


@public_bp.get("/publications/awards", responses={200: PUBLICATION_RESPONSE})
@require(public=True)
def award_publication(query: PublicationQuery):
    """The quarter's awards as an OCDS 1.1 release package (``format=ocds``) or CSV
    (``format=csv``); public, no key needed (§10); no child data. An ended quarter is
    frozen: the same bytes every time (``X-Publication-Frozen: true``). OCDS for a quarter
    without an award is 404 (a package holds at least one release); the CSV is then the
    header alone."""
    result = call("contracts", "award_publication", _query(query))
    response = Response(result["content"].encode("utf-8"), mimetype=None)
    response.headers["Content-Type"] = result["media_type"]
    response.headers["ETag"] = f'"{result["sha256"]}"'
    response.headers["X-Publication-Frozen"] = "true" if result["frozen"] else "false"
    if query.format == "csv":
        response.headers["Content-Disposition"] = (
            f'attachment; filename="dps-awards-{query.quarter}.csv"'
        )
    return response


# --- benchmarks (§7.6), cost shares (§7.7), performance (§7.4) --------------------------------


@bp.get("/benchmarks", responses={200: BenchmarkView})
@require("commissioner", "lead", "contract_manager")
def benchmarks(query: BenchmarkQuery):
    """A category's figures over ``from``..``to`` (default the last 12 months): cost
    distribution, bids per referral, time to place, reviews, demand, declines by reason and
    transaction fees per authority and quarter. A commissioner sees its own authority by name
    and the others under stable anonymous labels (§10)."""
    return call("contracts", "benchmarks", _query(query))


@bp.get("/cost-shares", responses={200: CostShareView})
@require("contract_manager", "lead")
def cost_shares(query: CostShareQuery):
    """Financial year ``year``/``year+1``: running cost split by placements of the previous
    year, set-up cost split equally, transaction fees per authority and quarter (§7.7)."""
    return call("contracts", "cost_shares", _query(query))


@bp.get("/performance", responses={200: PerformanceView})
@require("contract_manager", "lead")
def performance(query: PerformanceQuery):
    """An establishment's performance index over a period (§7.4) and the reports sent to
    the qualification service for its competency moves (§4.5)."""
    return call("contracts", "performance", _query(query))


# --- Procurement Act notices (§11.4) ----------------------------------------------------------


@bp.get("/notices", responses={200: NoticePage})
@require("lead", "contract_manager")
def list_notices(query: NoticesQuery):
    """Procurement Act 2023 notices of the dynamic markets and their call-offs (UK4, UK6,
    UK7, UK11, UK12, UK13–UK16) as OCDS 1.1 releases with the UK profile, ready to submit to
    Find a Tender: each item's ``release`` carries ``documents[].noticeType``. Filter by
    ``type`` and by the day raised (``from``..``to``). ``due=true`` lists instead the notices
    due within 7 days or overdue that are not yet marked published, most urgent first, with
    ``due_by``, ``days_left`` and ``overdue``. None is raised under a PCR 2015 DPS, below the
    light touch threshold or for a user choice direct award; none holds child data (§13)."""
    return call("contracts", "list_notices", _query(query))


@bp.post("/notices/<notice_id>/published", responses={200: NoticeView})
@require("lead", "contract_manager")
def mark_notice_published(path: NoticePath, body: NoticeMarkPublished):
    """Mark a notice published on Find a Tender under its FTS notice id (e.g.
    ``012345-2026``) at ``published_at`` (default now): its release then carries the
    notice's url and ``datePublished``, and it leaves the due list. The same id again changes
    nothing; another id is 409 (§11.4)."""
    return call("contracts", "mark_notice_published", path.notice_id,
                body.model_dump(mode="json", exclude_none=True))
