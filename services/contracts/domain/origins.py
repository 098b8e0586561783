"""How placements come to be from the referral service's events (RULES §5 award and
direct placement, §7.1 placement agreement)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.common.errors import InvalidInput
from services.contracts.domain.calendar import award_day
from services.contracts.domain.placements import (
    DEFAULT_FRAMEWORK,
    DEFAULT_REVIEW_INTERVAL_MONTHS,
    SINGLE_PRICE_HEAD,
    IncentiveTerms,
    OutcomesFramework,
    Placement,
    PlacementSource,
)
from services.contracts.domain.values import _text
from services.contracts.domain.variations import PriceBreakdown, VariableItem
from services.contracts.messages import DirectPlacementRecorded, ReferralAwarded

DEFAULT_DIRECT_REASON_CODES = (
    "emergency",
    "court_direction",
    "continuity_of_care",
    "sibling_group",
    "unique_provision",
    "no_compliant_bid",
    "other",
)
"""§5 direct placement: the configured list of reasons (business case 8.10), the same as the
referral service's, which records direct placements and checks the reason first."""


def _parties(event: ReferralAwarded | DirectPlacementRecorded, child_reference: str
             ) -> dict[str, Any]:
    """What both placement events tell of a placement's parties and child (§7.1); the
    child reference as opened from the event's sealed ``child_data`` (§13)."""
    return {
        "placement_id": event.placement_id,
        "authority": event.authority,
        "provider_id": event.provider_id,
        "provider_name": event.provider_name or "",
        "establishment_id": event.establishment_id,
        "establishment_name": event.establishment_name or "",
        "category": event.category,
        "child_reference": child_reference,
        "child_key_id": event.child_data.key_id if event.child_data else None,
        # §11 (ISSUE14 event contract): absent on events of the PCR 2015 DPS
        "dps_id": event.dps_id,
        "regime": event.regime,
        "estimated_value": event.estimated_value,
        "above_threshold": event.above_threshold,
    }


def placement_from_award(
    event: ReferralAwarded,
    *,
    framework: OutcomesFramework = DEFAULT_FRAMEWORK,
    monitored: Sequence[str] | None = None,
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS,
    child_reference: str = "erased",
) -> Placement:
    """The IPA created from an award (§5 award, §7.1) under the event's ``placement_id``.
    Idempotency: the caller first looks for ``source_key(REFERRAL_AWARD, event.referral_id)``
    and the store keeps that key unique, so a redelivered event creates nothing.
    ``provider_name`` may be missing from the event; the service then fills it in from its
    copy of provider organisations (publication names the supplier, §7.5)."""
    incentive = event.incentive
    return Placement(
        **_parties(event, child_reference),
        source=PlacementSource.REFERRAL_AWARD,
        source_ref=event.referral_id,
        agreed_at=event.awarded_at,
        price=PriceBreakdown(
            core_costs=event.price.core_costs,
            variable_costs=tuple(
                VariableItem(v.label, v.weekly) for v in event.price.variable_costs
            ),
            discount_percent=event.price.discount_percent,
            children=event.price.children,
        ),
        awarded_weekly_price=event.price.weekly_price,
        bids_count=event.bids_count,
        incentive=None
        if incentive is None
        else IncentiveTerms(
            incentive.description, incentive.kind, incentive.premium, incentive.within_weeks
        ),
        desired_outcomes=tuple(event.desired_outcomes),
        monitored_components=framework.monitored(monitored),
        review_interval_months=review_interval_months,
        start_date=event.proposed_start,
        standstill_ends_on=event.standstill_ends_on,
        # s.53: the IPA is entered at award, unless a voluntary standstill must end first
        # (then it is entered when the placement starts, §11.4)
        entered_on=None if event.standstill_ends_on else award_day(event.awarded_at),
    )


def placement_from_direct(
    event: DirectPlacementRecorded,
    *,
    framework: OutcomesFramework = DEFAULT_FRAMEWORK,
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS,
    child_reference: str = "erased",
) -> Placement:
    """A direct placement without a competition (§5, business case 8.10) under the event's
    ``placement_id``, idempotent by ``source_key(DIRECT_PLACEMENT, direct_placement_id)``.
    The recording service has checked the reason code; it is not re-checked here, where a
    refusal would only dead-letter the event. The price was agreed when it was recorded."""
    return Placement(
        **_parties(event, child_reference),
        source=PlacementSource.DIRECT_PLACEMENT,
        source_ref=event.direct_placement_id,
        agreed_at=event.occurred_at,
        price=PriceBreakdown(core_costs={SINGLE_PRICE_HEAD: event.weekly_price}),
        reason_code=event.direct_reason,
        justification=_text(event.justification, ["justification"]),
        monitored_components=framework.components,
        review_interval_months=review_interval_months,
        start_date=event.start_date,
        entered_on=award_day(event.occurred_at),  # s.53: agreed when recorded
    )


def check_direct_reason(
    reason_code: str, reason_codes: Sequence[str] = DEFAULT_DIRECT_REASON_CODES
) -> None:
    """§5: a direct placement's reason comes from the configured list (for a
    ``messages.DirectPlacementCreate`` handled here rather than by the referral service)."""
    if reason_code not in reason_codes:
        raise InvalidInput.at(["reason_code"], f"must be one of {', '.join(reason_codes)}")
