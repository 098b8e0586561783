"""contracts service: thin nameko entrypoints (DESIGN: inside a service; RULES §7, §9, §10).

Each entrypoint parses its message (``messages.py``), calls a handler (``handlers/``) with a
unit of work and the caller's principal, and returns the handler's JSON-ready result. Access
(§10) is in ``access.py``, the rules in ``domain/``, the queries in ``store/``.

Consumed events (``@consumes``: parse, claim the event id once, commit): see
``handlers/feeds.py``; under a Procurement Act dynamic market they raise the §11.4 notices
(``handlers/notices.py``), read by ``list_notices``. Emitted events: ``uplift_set`` (§7.2)
and ``performance_reviewed`` (§7.4 → §4.5 competency move).

Timer (DESIGN rule 4; ``DPS_CONTRACTS_TIMER_SECONDS``, default 5): the performance reports
(``handlers/reviews.py``) and the freezing of ended quarters (``handlers/publication.py``).
"""

from __future__ import annotations

from nameko.rpc import RpcProxy

from services.common.audit_rpc import AuditRpc
from services.common.logging import get_logger
from services.common.runtime import (
    Config,
    Database,
    RequestContext,
    consumes,
    rpc,
    timer_from,
)
from services.common.validation import parse
from services.contracts import store
from services.contracts.config import ContractsConfig
from services.contracts.handlers import (
    blocks,
    feeds,
    notices,
    placements,
    publication,
    reporting,
    reviews,
    uplifts,
)
from services.contracts.messages import (
    BenchmarkQuery,
    BlockContractCreate,
    BlockPlaceCreate,
    BlockQuery,
    CostShareQuery,
    DirectPlacementRecorded,
    InvitationDeclinedFeed,
    MarketEndedFeed,
    MarketEstablishedFeed,
    MarketFeed,
    MembershipFeed,
    NoticeMarkPublished,
    NoticesQuery,
    OverdueQuery,
    PerformanceQuery,
    PlacementEnd,
    PlacementQuery,
    PlacementsQuery,
    PlacementStart,
    ProviderRegisteredFeed,
    PublicationQuery,
    ReferralAwarded,
    ReferralCancelledFeed,
    ReferralClosedFeed,
    ReferralPublishedFeed,
    ReferralUnsuccessfulFeed,
    ReviewCreate,
    UpliftCreate,
    UpliftsQuery,
    VariationCreate,
)
from services.contracts.peers import Peers

log = get_logger(__name__)


PUBLIC = {"role": "public"}
"""Who reads published award notices (RULES §10): anyone, without a key."""


class ContractsService(AuditRpc):
    name = "contracts"

    ctx = RequestContext()
    db = Database(store.metadata, store=store.Store)
    config = Config(ContractsConfig)
    qualification = RpcProxy("qualification")

    @rpc
    def ping(self) -> str:
        return "ok"

    # ==== consumed events ==================================================================

    @consumes("referral", "referral_awarded", ReferralAwarded)
    def on_referral_awarded(self, uow, event) -> None:
        feeds.record_award(event, uow, self.config)

    @consumes("referral", "direct_placement_recorded", DirectPlacementRecorded)
    def on_direct_placement_recorded(self, uow, event) -> None:
        feeds.record_direct_placement(event, uow, self.config)

    @consumes("referral", "referral_published", ReferralPublishedFeed)
    def on_referral_published(self, uow, event) -> None:
        feeds.record_referral_published(event, uow, self.config)

    @consumes("referral", "referral_closed", ReferralClosedFeed)
    def on_referral_closed(self, uow, event) -> None:
        feeds.record_referral_closed(event, uow)

    @consumes("referral", "referral_unsuccessful", ReferralUnsuccessfulFeed)
    def on_referral_unsuccessful(self, uow, event) -> None:
        feeds.record_referral_unsuccessful(event, uow, self.config)

    @consumes("referral", "referral_cancelled", ReferralCancelledFeed)
    def on_referral_cancelled(self, uow, event) -> None:
        feeds.record_referral_cancelled(event, uow, self.config)

    @consumes("referral", "invitation_declined", InvitationDeclinedFeed)
    def on_invitation_declined(self, uow, event) -> None:
        feeds.record_decline(event, uow)

    @consumes("qualification", "provider_registered", ProviderRegisteredFeed)
    def on_provider_registered(self, uow, event) -> None:
        feeds.record_provider(event, uow)

    @consumes("qualification", "membership_admitted", MembershipFeed)
    def on_membership_admitted(self, uow, event) -> None:
        feeds.record_membership(event, uow, "admitted", self.config, "admitted")

    @consumes("qualification", "membership_reinstated", MembershipFeed)
    def on_membership_reinstated(self, uow, event) -> None:
        feeds.record_membership(event, uow, "admitted")

    @consumes("qualification", "membership_suspended", MembershipFeed)
    def on_membership_suspended(self, uow, event) -> None:
        feeds.record_membership(event, uow, "suspended")

    @consumes("qualification", "membership_removed", MembershipFeed)
    def on_membership_removed(self, uow, event) -> None:
        feeds.record_membership(event, uow, "removed", self.config, "removed")

    @consumes("qualification", "market_created", MarketFeed)
    def on_market_created(self, uow, event) -> None:
        feeds.record_market(event, uow, self.config, "created")

    @consumes("qualification", "market_established", MarketEstablishedFeed)
    def on_market_established(self, uow, event) -> None:
        feeds.record_market(event, uow, self.config, "established")

    @consumes("qualification", "market_ended", MarketEndedFeed)
    def on_market_ended(self, uow, event) -> None:
        feeds.record_market_ended(event, uow, self.config)

    # ==== placements (§7.1, §7.2) ==========================================================

    @rpc
    def list_placements(self, query: dict) -> dict:
        return self.db.run(placements.list_placements, parse(PlacementsQuery, query))

    @rpc
    def get_placement(self, placement_id: str, query: dict | None = None) -> dict:
        return self.db.run(
            placements.get_placement, placement_id, parse(PlacementQuery, query or {})
        )

    @rpc
    def child_export(self, key_ids: list) -> dict:
        return self.db.run(placements.child_export, [str(k) for k in key_ids][:1000])

    @rpc
    def start_placement(self, placement_id: str, body: dict) -> dict:
        return self.db.run(placements.start_placement, placement_id, parse(PlacementStart, body),
                           also=(self.config,))

    @rpc
    def end_placement(self, placement_id: str, body: dict) -> dict:
        return self.db.run(placements.end_placement, placement_id, parse(PlacementEnd, body),
                           also=(self.config,))

    @rpc
    def vary_placement(self, placement_id: str, body: dict) -> dict:
        return self.db.run(placements.vary_placement, placement_id, parse(VariationCreate, body))

    # ==== reviews and performance (§7.4) ===================================================

    @rpc
    def record_review(self, placement_id: str, body: dict) -> dict:
        return self.db.run(
            reviews.record_review, placement_id, parse(ReviewCreate, body), also=(self.config,)
        )

    @rpc
    def overdue_reviews(self, query: dict) -> dict:
        return self.db.run(reviews.overdue_reviews, parse(OverdueQuery, query))

    @rpc
    def performance(self, query: dict) -> dict:
        return self.db.run(reviews.performance, parse(PerformanceQuery, query))

    # ==== uplifts (§7.2) and block contracts (§7.3) ========================================

    @rpc
    def set_uplift(self, body: dict) -> dict:
        peers = Peers(self.qualification, self.config.contracts_rpc_timeout_seconds)
        return self.db.run(uplifts.set_uplift, parse(UpliftCreate, body), also=(peers,))

    @rpc
    def list_uplifts(self, query: dict) -> dict:
        """The uplifts set (§7.2), for the portal's uplifts page."""
        return self.db.run(uplifts.list_uplifts, parse(UpliftsQuery, query))

    @rpc
    def create_block_contract(self, body: dict) -> dict:
        return self.db.run(blocks.create_block_contract, parse(BlockContractCreate, body))

    @rpc
    def get_block_contract(self, block_id: str, query: dict | None = None) -> dict:
        return self.db.run(blocks.get_block_contract, block_id, parse(BlockQuery, query or {}))

    @rpc
    def place_in_block(self, block_id: str, body: dict) -> dict:
        return self.db.run(blocks.place_in_block, block_id, parse(BlockPlaceCreate, body))

    # ==== publication (§7.5), benchmarks (§7.6) and cost shares (§7.7) =====================

    @rpc
    def award_publication(self, query: dict) -> dict:
        """Public (RULES §10): the same for every caller, with or without a principal."""
        request = parse(PublicationQuery, query)
        with self.db.uow() as uow:
            return publication.award_publication(request, uow, PUBLIC, self.config)

    @rpc
    def benchmarks(self, query: dict) -> dict:
        return self.db.run(reporting.benchmarks, parse(BenchmarkQuery, query), also=(self.config,))

    @rpc
    def cost_shares(self, query: dict) -> dict:
        return self.db.run(reporting.cost_shares, parse(CostShareQuery, query), also=(self.config,))

    # ==== Procurement Act notices (§11.4) ==================================================

    @rpc
    def list_notices(self, query: dict) -> dict:
        return self.db.run(notices.list_notices, parse(NoticesQuery, query), also=(self.config,))

    @rpc
    def get_notice(self, notice_id: str) -> dict:
        return self.db.run(notices.get_notice, str(notice_id)[:250])

    @rpc
    def mark_notice_published(self, notice_id: str, body: dict) -> dict:
        return self.db.run(notices.mark_published, str(notice_id)[:250],
                           parse(NoticeMarkPublished, body))

    # ==== timer (DESIGN rule 4) ============================================================

    @timer_from(ContractsConfig, "contracts_timer_seconds")
    def tick(self) -> dict | None:
        """Performance reports (§7.4), then ended quarters frozen (§7.5); returns the counts
        (a test runs the timer directly). A failure waits for the next tick."""
        try:
            sent = reviews.report_performance(self.db.uow, self.config)
            return {
                "performance_reported": sent,
                "quarters_frozen": publication.freeze_ended_quarters(self.db.uow, self.config),
            }
        except Exception:  # the next tick retries; never kill the timer
            log.exception("contracts timer failed")
            return None
