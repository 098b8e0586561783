"""Direct placements (RULES §5, business case 8.10): a placement without a competition, at an
establishment admitted (not suspended) in the category, reported separately."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.events import EventBase
from services.qualification.messages import EstablishmentView
from services.referral import access
from services.referral.domain.parts import OTHER, check_reason, new_id
from services.referral.domain.procurement import Procurement
from services.referral.messages import DirectPlacementCreate, DirectPlacementRecorded

USER_CHOICE = "user_choice"
"""Schedule 5 paras 15–17 of the Procurement Act 2023: the user's choice (RULES §11.3)."""

DIRECT_PLACEMENT_REASONS = (  # §5, business case 8.10; configurable
    "emergency",
    "court_direction",
    "continuity_of_care",
    "sibling_group",
    "unique_provision",
    "no_compliant_bid",
    USER_CHOICE,
    OTHER,
)


def require_admitted(establishment: EstablishmentView | None, category: str,
                     dps_id: str | None = None) -> EstablishmentView:
    """§4.5, §5: the establishment exists and is admitted (not suspended) in the category
    (in the market ``dps_id`` when given, §11.3)."""
    if establishment is None:
        raise NotFound("establishment not found")
    if not any(
        m.category == category and m.status == "admitted" and dps_id in (None, m.dps_id)
        for m in establishment.memberships
    ):
        where = f" of the market {dps_id}" if dps_id else ""
        raise Conflict(f"the establishment is not admitted in {category}{where} (§4.5, §5)")
    return establishment


def check_user_choice(request: DirectPlacementCreate) -> None:
    """§11.3, Schedule 5 paras 15–17: a ``user_choice`` direct award records the
    preference the child or the parents or carers expressed, and why a competitive award
    is not in the child's best interests."""
    if request.reason_code != USER_CHOICE:
        return
    problems = [
        {"loc": [key], "msg": msg, "type": "missing"}
        for key, msg in (
            ("expressed_preference", "a user_choice placement records the preference "
             "expressed (Schedule 5 para 15)"),
            ("best_interests_reason", "a user_choice placement records why a competition "
             "is not in the child's best interests (Schedule 5 para 15)"),
        )
        if not getattr(request, key)
    ]
    if problems:
        raise InvalidInput("the user's choice is not recorded", problems)


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
    procurement: dict | None = None  # market and regime, user choice (§11.1, §11.3)
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
        procurement: Procurement | None = None,
    ) -> DirectPlacement:
        """§5, §11.3: recorded under the market and regime ``procurement`` (a user choice
        under Schedule 5 paras 15–17 with its preference and reason)."""
        authority = access.require_commissioner(principal, "records direct placements")
        check_reason(request.reason_code, reasons)
        check_user_choice(request)
        fields = procurement.event_fields() if procurement else {}
        placement = cls(
            direct_placement_id=new_id(),
            placement_id=new_id(),
            authority=authority,
            provider_id=provider_id,
            request=request,
            recorded_at=now,
            procurement=None if procurement is None else {
                **procurement.to_row(), "reason": request.reason_code,
                "expressed_preference": request.expressed_preference,
                "best_interests_reason": request.best_interests_reason},
        )
        placement.events.append(
            DirectPlacementRecorded(
                occurred_at=now,
                direct_placement_id=placement.direct_placement_id,
                placement_id=placement.placement_id,
                authority=authority,
                provider_id=provider_id,
                establishment_name=establishment_name,
                reason=request.reason_code,
                **{**request.model_dump(exclude={"child_reference"}), **fields},
            )
        )
        return placement
