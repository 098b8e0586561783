"""Direct placements (RULES §5, business case 8.10): a placement without a competition, at an
establishment admitted (not suspended) in the category, reported separately."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.common.errors import Conflict, NotFound
from services.common.events import EventBase
from services.qualification.messages import EstablishmentView
from services.referral import access
from services.referral.domain.parts import OTHER, check_reason, new_id
from services.referral.messages import DirectPlacementCreate, DirectPlacementRecorded

DIRECT_PLACEMENT_REASONS = (  # §5, business case 8.10; configurable
    "emergency",
    "court_direction",
    "continuity_of_care",
    "sibling_group",
    "unique_provision",
    "no_compliant_bid",
    OTHER,
)


def require_admitted(establishment: EstablishmentView | None, category: str) -> EstablishmentView:
    """§4.5, §5: the establishment exists and is admitted (not suspended) in the category."""
    if establishment is None:
        raise NotFound("establishment not found")
    if not any(
        m.category == category and m.status == "admitted" for m in establishment.memberships
    ):
        raise Conflict(f"the establishment is not admitted in {category} (§4.5, §5)")
    return establishment


@dataclass
class DirectPlacement:
    """A placement without a competition (§5, business case 8.10), reported separately.
    The service checks that the establishment is admitted in the category and passes its
    ``provider_id``."""

    direct_placement_id: str
    placement_id: str
    authority: str
    provider_id: str
    request: DirectPlacementCreate
    recorded_at: datetime
    events: list[EventBase] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def record(
        cls,
        principal: Mapping,
        request: DirectPlacementCreate,
        provider_id: str,
        now: datetime,
        reasons: Sequence[str] = DIRECT_PLACEMENT_REASONS,
        establishment_name: str | None = None,
    ) -> DirectPlacement:
        authority = access.require_commissioner(principal, "records direct placements")
        check_reason(request.reason_code, reasons)
        placement = cls(
            direct_placement_id=new_id(),
            placement_id=new_id(),
            authority=authority,
            provider_id=provider_id,
            request=request,
            recorded_at=now,
        )
        placement.events.append(
            DirectPlacementRecorded(
                occurred_at=now,
                direct_placement_id=placement.direct_placement_id,
                placement_id=placement.placement_id,
                authority=authority,
                provider_id=provider_id,
                establishment_name=establishment_name,
                **request.model_dump(exclude={"child_reference"}),
            )
        )
        return placement
