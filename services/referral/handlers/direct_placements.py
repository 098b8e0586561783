"""Direct placement use case (RULES §5, business case 8.10): a placement without a
competition, at an establishment admitted in the category."""

from __future__ import annotations

from collections.abc import Mapping

from services.common.errors import Conflict
from services.referral.domain import DirectPlacement, require_admitted
from services.referral.domain.procurement import Procurement
from services.referral.messages import (
    DirectPlacementCreate,
    DirectPlacementView,
    SealedChildData,
)


def record_direct_placement(
    request: DirectPlacementCreate, uow, principal: Mapping, peers
) -> DirectPlacementView:
    """``POST /direct-placements``: recorded, audited, and announced to contracts."""
    market = peers.market(request.dps_id)  # §11.1: under the default market if not given
    if market.status not in ("open", "entry_closed") or market.state != "established":
        raise Conflict(f"the market {market.dps_id} is {market.status}: no placement can be "
                       "made under it (RULES §11.1)")
    establishment = require_admitted(
        peers.establishment(request.establishment_id), request.category, market.dps_id
    )
    placement = DirectPlacement.record(
        principal,
        request,
        establishment.provider_id,
        uow.now(),
        establishment_name=establishment.name,
        procurement=Procurement(dps_id=market.dps_id, regime=market.regime).valued(
            request.weekly_price, None),
    )
    sealed = uow.store.add_direct_placement(placement)
    uow.audit(
        "direct_placement.recorded",
        "direct_placement",
        placement.direct_placement_id,
        None,
        {
            "placement_id": placement.placement_id,
            "authority": placement.authority,
            "category": request.category,
            "establishment_id": request.establishment_id,
            "provider_id": placement.provider_id,
            "reason_code": request.reason_code,
            "weekly_price": request.weekly_price,
            "procurement": placement.procurement,
        },
    )
    for event in placement.events:  # §13: the child reference travels sealed only
        uow.emit(event.model_copy(update={"child_data": SealedChildData(**sealed)}))
    uow.commit()
    return DirectPlacementView(
        **request.model_dump(),
        direct_placement_id=placement.direct_placement_id,
        placement_id=placement.placement_id,
        authority=placement.authority,
        provider_id=placement.provider_id,
        establishment_name=establishment.name,
        recorded_at=placement.recorded_at,
    )
