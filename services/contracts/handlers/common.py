"""What several contracts handlers share: today's date on the unit of work's clock, the
publication freeze day (§7.5), placement creation with the uplifts already set (§7.1,
§7.2) and the placement view (§10)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, timedelta

from services.common.errors import InvalidInput
from services.common.logging import get_logger
from services.contracts import access, domain
from services.contracts.domain import publication

log = get_logger(__name__)


def today(uow) -> date:
    return uow.now().astimezone(UTC).date()


def freeze_day(uow, config) -> date:
    """Quarters that ended before this day are frozen (§7.5): today, less the grace period
    for award events still on their way."""
    grace = timedelta(hours=config.publication_freeze_after_hours)
    return (uow.now() - grace).astimezone(UTC).date()


def bad_cursor() -> InvalidInput:
    return InvalidInput.at(["query", "cursor"], "not a cursor from this API")


def apply_uplift(uow, p: domain.Placement, uplift: domain.Uplift) -> domain.Variation | None:
    """The uplift's dated variation of ``p``, stored, when the uplift applies to it (§7.2)."""
    v = domain.apply_uplift(p, uplift, variation_id=str(uuid.uuid4()), recorded_at=uow.now())
    if v is not None:
        uow.store.insert_variation(p.placement_id, v)
    return v


def create_placement(uow, p: domain.Placement, action: str) -> bool:
    """Store a new placement once (its UNIQUE source key, §7.1), with the uplifts already set
    whose effective date follows its agreement (§7.2: an award in March keeps the uplift from
    1 April); audited. ``False`` when it exists already."""
    if not p.provider_name:
        p.provider_name = uow.store.provider_name(p.provider_id)
    if not uow.store.insert_placement(p, uow.now()):
        log.info("placement exists already", source_key=p.source_key)
        return False
    applied = (apply_uplift(uow, p, u) for u in uow.store.uplifts_for(p.category))
    uplifted = [v for v in applied if v is not None]
    quarter = publication.quarter_of(publication.award_day(p.agreed_at))
    if p.source is not domain.PlacementSource.BLOCK_PLACE and uow.store.frozen_publication(
        quarter, "ocds"
    ):
        log.warning(
            "award recorded after its quarter was frozen; it is not published",
            placement_id=p.placement_id,
            quarter=quarter,
        )
    # §13: the audit records that the child's details were stored (sealed), never them
    after = {**domain.placement_view(p, on=today(uow), include_child_details=False),
             "child_details": "sealed" if p.child_key_id else "none"}
    uow.audit(action, "placement", p.placement_id, None, after)
    for v in uplifted:
        uow.audit("placement.uplifted", "placement", p.placement_id, None, v.to_dict())
    return True


def placement_view(uow, p: domain.Placement, principal: dict, on: date | None = None) -> dict:
    """A placement as its reader may see it on a day (§10), with its reviews."""
    reviews = uow.store.reviews_of(p.placement_id)
    details = access.sees_child_details(principal)
    day = on or today(uow)
    view = domain.placement_view(p, on=day, reviews=reviews, include_child_details=details)
    view["on"] = day.isoformat()
    if p.provider_name == "":
        view["provider_name"] = uow.store.provider_name(p.provider_id)
    view["reviews"] = [domain.review_view(r, views=details) for r in reviews]
    return view
