"""Pure domain of the contracts service (RULES §7 contracts and placements, §10 anonymity).

Plain classes and functions: no nameko, no SQLAlchemy, no clock (``today``/``as_of``/``now``
are arguments). One module per aggregate or concept:

- ``placements``: the placement aggregate and its state machine (§7.1); ``origins``: placements
  from awards and direct placements (§5); ``variations``: price breakdowns and dated
  variations (§7.2); ``uplifts``: common annual uplifts (§7.2);
- ``blocks``: block contracts, occupancy and voids (§7.3); ``reviews``: outcome reviews and
  the performance index (§7.4, §4.5);
- ``publication``: the quarterly OCDS package and CSV (§7.5); ``benchmarks`` (§7.6, §10);
  ``cost_shares`` (§7.7);
- ``calendar``, ``values``: months, quarters and exact values; ``views``: JSON views.

This package re-exports their public names, so ``domain.Placement`` etc. keep working.
"""

from __future__ import annotations

from services.contracts.domain.benchmarks import (
    NAMED_ROLES as NAMED_ROLES,
)
from services.contracts.domain.benchmarks import (
    ReferralRecord as ReferralRecord,
)
from services.contracts.domain.benchmarks import (
    authority_labels as authority_labels,
)
from services.contracts.domain.benchmarks import (
    benchmark as benchmark,
)
from services.contracts.domain.benchmarks import (
    cost_distribution as cost_distribution,
)
from services.contracts.domain.benchmarks import (
    referral_record_from_award as referral_record_from_award,
)
from services.contracts.domain.blocks import (
    BlockContract as BlockContract,
)
from services.contracts.domain.blocks import (
    BlockOccupancy as BlockOccupancy,
)
from services.contracts.domain.blocks import (
    block_occupancy as block_occupancy,
)
from services.contracts.domain.blocks import (
    place_in_block as place_in_block,
)
from services.contracts.domain.calendar import (
    add_months as add_months,
)
from services.contracts.domain.calendar import (
    award_day as award_day,
)
from services.contracts.domain.calendar import (
    parse_quarter as parse_quarter,
)
from services.contracts.domain.calendar import (
    quarter_of as quarter_of,
)
from services.contracts.domain.cost_shares import (
    DEFAULT_FEE_PERCENT as DEFAULT_FEE_PERCENT,
)
from services.contracts.domain.cost_shares import (
    allocate_pence as allocate_pence,
)
from services.contracts.domain.cost_shares import (
    cost_shares as cost_shares,
)
from services.contracts.domain.cost_shares import (
    financial_year as financial_year,
)
from services.contracts.domain.cost_shares import (
    transaction_fee as transaction_fee,
)
from services.contracts.domain.origins import (
    DEFAULT_DIRECT_REASON_CODES as DEFAULT_DIRECT_REASON_CODES,
)
from services.contracts.domain.origins import (
    check_direct_reason as check_direct_reason,
)
from services.contracts.domain.origins import (
    placement_from_award as placement_from_award,
)
from services.contracts.domain.origins import (
    placement_from_direct as placement_from_direct,
)
from services.contracts.domain.placements import (
    DEFAULT_FRAMEWORK as DEFAULT_FRAMEWORK,
)
from services.contracts.domain.placements import (
    DEFAULT_REVIEW_INTERVAL_MONTHS as DEFAULT_REVIEW_INTERVAL_MONTHS,
)
from services.contracts.domain.placements import (
    ECM_COMPONENTS as ECM_COMPONENTS,
)
from services.contracts.domain.placements import (
    PLACEMENT_STATES as PLACEMENT_STATES,
)
from services.contracts.domain.placements import (
    SINGLE_PRICE_HEAD as SINGLE_PRICE_HEAD,
)
from services.contracts.domain.placements import (
    EndReason as EndReason,
)
from services.contracts.domain.placements import (
    IncentiveTerms as IncentiveTerms,
)
from services.contracts.domain.placements import (
    OutcomesFramework as OutcomesFramework,
)
from services.contracts.domain.placements import (
    Placement as Placement,
)
from services.contracts.domain.placements import (
    PlacementSource as PlacementSource,
)
from services.contracts.domain.placements import (
    PlacementStatus as PlacementStatus,
)
from services.contracts.domain.placements import (
    next_review_due as next_review_due,
)
from services.contracts.domain.placements import (
    source_key as source_key,
)
from services.contracts.domain.placements import (
    weekly_cost_on as weekly_cost_on,
)
from services.contracts.domain.publication import (
    CSV_COLUMNS as CSV_COLUMNS,
)
from services.contracts.domain.publication import (
    CURRENCY as CURRENCY,
)
from services.contracts.domain.publication import (
    OCDS_VERSION as OCDS_VERSION,
)
from services.contracts.domain.publication import (
    TECHNIQUES_EXTENSION as TECHNIQUES_EXTENSION,
)
from services.contracts.domain.publication import (
    AwardRecord as AwardRecord,
)
from services.contracts.domain.publication import (
    PublicationConfig as PublicationConfig,
)
from services.contracts.domain.publication import (
    award_record as award_record,
)
from services.contracts.domain.publication import (
    awards_in_quarter as awards_in_quarter,
)
from services.contracts.domain.publication import (
    build_package as build_package,
)
from services.contracts.domain.publication import (
    render_csv as render_csv,
)
from services.contracts.domain.publication import (
    render_package as render_package,
)
from services.contracts.domain.reviews import (
    EstablishmentPerformance as EstablishmentPerformance,
)
from services.contracts.domain.reviews import (
    OverdueReview as OverdueReview,
)
from services.contracts.domain.reviews import (
    Review as Review,
)
from services.contracts.domain.reviews import (
    establishment_performance as establishment_performance,
)
from services.contracts.domain.reviews import (
    mean_review_score as mean_review_score,
)
from services.contracts.domain.reviews import (
    overdue_reviews as overdue_reviews,
)
from services.contracts.domain.reviews import (
    performance_index as performance_index,
)
from services.contracts.domain.reviews import (
    performance_period as performance_period,
)
from services.contracts.domain.reviews import (
    record_review as record_review,
)
from services.contracts.domain.reviews import (
    reporting_period as reporting_period,
)
from services.contracts.domain.uplifts import (
    Uplift as Uplift,
)
from services.contracts.domain.uplifts import (
    apply_uplift as apply_uplift,
)
from services.contracts.domain.values import (
    CENT as CENT,
)
from services.contracts.domain.values import (
    HUNDRED as HUNDRED,
)
from services.contracts.domain.values import (
    ZERO as ZERO,
)
from services.contracts.domain.variations import (
    HeadUplift as HeadUplift,
)
from services.contracts.domain.variations import (
    PriceBreakdown as PriceBreakdown,
)
from services.contracts.domain.variations import (
    VariableItem as VariableItem,
)
from services.contracts.domain.variations import (
    Variation as Variation,
)
from services.contracts.domain.views import (
    block_view as block_view,
)
from services.contracts.domain.views import (
    placement_state as placement_state,
)
from services.contracts.domain.views import (
    placement_view as placement_view,
)
from services.contracts.domain.views import (
    review_view as review_view,
)
from services.contracts.domain.views import (
    two_places as two_places,
)
from services.contracts.domain.views import (
    uplift_view as uplift_view,
)
