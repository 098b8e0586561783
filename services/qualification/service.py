"""qualification service: thin nameko entrypoints (DESIGN: inside a service).

Just over 400 lines because it lists every entrypoint of the service, a few lines each,
and nothing else: splitting it would split one nameko service class in two.

Each entrypoint parses its message with ``messages``, calls one handler (``handlers/``,
the use cases: access by RULES §10 in ``access.py``, the rules in ``domain/``, audit §9
and outbox in one unit of work) and returns the handler's dump.

RPCs for other services (no principal needed): ``eligible_establishments`` (referral,
§5), ``standings`` (referral at the deadline, §6.2), ``get_category`` (tender period and
minimum invited), ``apply_uplift`` (contracts, §7.2).

Consumed events: ``contracts.performance_reviewed`` (§4.5/§7.4 bounded move, once per
configured period) and ``contracts.uplift_set`` (§7.2, once per uplift id; a refusal is
logged and acknowledged). Both are idempotent by event id as well (``@consumes``).

Timer (DESIGN rule 4; ``DPS_QUALIFICATION_TIMER_SECONDS``, default 10; at most
``DPS_QUALIFICATION_TIMER_BATCH`` establishments a pass): ``handlers.evidence``.
``check_evidence`` runs one pass on demand (operations, tests).
"""

from __future__ import annotations

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
from services.qualification import messages as m
from services.qualification.config import QualificationConfig
from services.qualification.handlers import (
    applications,
    categories,
    digest,
    eligibility,
    establishments,
    evidence,
    evidence_files,
    markets,
    memberships,
    providers,
    reviews,
    uplifts,
)
from services.qualification.store import Store, metadata

log = get_logger(__name__)


class QualificationService(AuditRpc):
    name = "qualification"

    ctx = RequestContext()
    config = Config(QualificationConfig)
    db = Database(metadata, store=Store)

    @rpc
    def ping(self) -> str:
        return "ok"

    # ==== providers (§3 registration) =====================================================

    @rpc
    def create_provider(self, body: dict) -> dict:
        """Open registration of a provider organisation (RULES §3: no limit, no charge)."""
        return providers.create_provider(parse(m.ProviderCreate, body), self.db.uow())

    @rpc
    def get_provider(self, provider_id: str) -> dict | None:
        return providers.get_provider(provider_id, self.db.uow())

    @rpc
    def update_provider(self, provider_id: str, body: dict) -> dict:
        """§11.2: the PPON and Companies House number."""
        return providers.update_provider(parse(m.ProviderPatch, body), self.db.uow(),
                                         self.ctx.principal, provider_id=provider_id)

    # ==== markets (§11.1) ====================================================================

    @rpc
    def list_markets(self) -> dict:
        return markets.list_markets(None, self.db.uow(), self.ctx.principal)

    @rpc
    def get_market(self, dps_id: str) -> dict:
        return markets.get_market(dps_id, self.db.uow(), self.ctx.principal)

    @rpc
    def create_market(self, body: dict) -> dict:
        """§11.1: a dynamic market, or the record of a PCR DPS established before 24/2/2025."""
        return markets.create_market(parse(m.MarketCreate, body), self.db.uow(),
                                     self.ctx.principal,
                                     lead_authority=self.config.lead_authority)

    @rpc
    def update_market(self, dps_id: str, body: dict) -> dict:
        return markets.update_market(parse(m.MarketPatch, body), self.db.uow(),
                                     self.ctx.principal, dps_id=dps_id)

    @rpc
    def establish_market(self, dps_id: str) -> dict:
        """s.39(3)."""
        return markets.establish_market(dps_id, self.db.uow(), self.ctx.principal)

    @rpc
    def end_market(self, dps_id: str, body: dict) -> dict:
        """s.39(5)."""
        return markets.end_market(parse(m.MarketEnd, body), self.db.uow(), self.ctx.principal,
                                  dps_id=dps_id)

    @rpc
    def migrate_market(self, dps_id: str, body: dict) -> dict:
        """§11.1: a dynamic market from a PCR DPS; its members invited, applications pre-filled."""
        return markets.migrate_market(parse(m.MarketMigrate, body), self.db.uow(),
                                      self.ctx.principal, dps_id=dps_id,
                                      lead_authority=self.config.lead_authority)

    @rpc
    def insurance_status(self, query: dict) -> dict:
        """§11.2, s.36(2): current insurance cover of a membership, checked at award."""
        return memberships.insurance_status(parse(m.InsuranceQuery, query), self.db.uow())

    # ==== the DPS (§3) and categories (§2) =================================================

    @rpc
    def get_dps(self) -> dict:
        return categories.get_dps(None, self.db.uow())

    @rpc
    def update_dps(self, body: dict) -> dict:
        """§3: extend, shorten or end the period of validity; open or close entry."""
        return categories.update_dps(parse(m.DpsPatch, body), self.db.uow(), self.ctx.principal)

    @rpc
    def list_categories(self) -> dict:
        return categories.list_categories(None, self.db.uow())

    @rpc
    def get_category(self, code: str, version: int | None = None) -> dict:
        """The configuration in force (or one version) of a category (§2)."""
        return categories.get_category(code, self.db.uow(), version=version)

    @rpc
    def update_category(self, code: str, body: dict) -> dict:
        """§2: a settings change makes the next version."""
        return categories.update_category(
            parse(m.CategoryPatch, body), self.db.uow(), self.ctx.principal, code=code,
            authorities=self.config.authorities,
        )

    # ==== establishments (§4) ================================================================

    @rpc
    def create_establishment(self, body: dict) -> dict:
        return establishments.create_establishment(
            parse(m.EstablishmentCreate, body), self.db.uow(), self.ctx.principal
        )

    @rpc
    def update_establishment(self, establishment_id: str, body: dict) -> dict:
        """Name, address, capacity or contacts (§4, §8): the provider or the lead."""
        return establishments.update_establishment(
            parse(m.EstablishmentUpdate, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id,
        )

    @rpc
    def get_establishment(self, establishment_id: str) -> dict:
        return establishments.get_establishment(
            establishment_id, self.db.uow(), self.ctx.principal
        )

    @rpc
    def list_establishments(self, query: dict) -> dict:
        """GET /establishments (§10 scoping, then the filters; pages by id)."""
        return establishments.list_establishments(
            parse(m.EstablishmentQuery, query), self.db.uow(), self.ctx.principal
        )

    @rpc
    def export_establishments(self, query: dict) -> dict:
        """Admitted establishments with their admitted memberships (business case 7.16)."""
        return establishments.export_establishments(
            parse(m.ExportQuery, query), self.db.uow(), self.ctx.principal
        )

    @rpc
    def record_inspection(self, establishment_id: str, body: dict) -> dict:
        """§4.1, §4.5: a new judgement; a latest INADEQUATE suspends at once."""
        return establishments.record_inspection(
            parse(m.InspectionCreate, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id,
        )

    # ==== eligibility and standings (§5, §6) — for the referral service ======================

    @rpc
    def eligible_establishments(self, query: dict) -> list[dict]:
        """§5: admitted, non-suspended establishments within the radius, under the cap."""
        return eligibility.eligible_establishments(
            parse(m.EligibilityQuery, query), self.db.uow()
        )

    @rpc
    def list_eligible(self, query: dict) -> dict:
        """GET /establishments/eligible: the same list for the caller's own authority."""
        return eligibility.list_eligible(
            parse(m.EligibleQuery, query), self.db.uow(), self.ctx.principal
        )

    @rpc
    def standings(self, category: str, establishment_ids: list[str],
                  dps_id: str | None = None) -> dict:
        """§6.2, §6.3: admitted, status and competency now (referral at the deadline), in
        the market ``dps_id`` when given (§11.3)."""
        q = parse(m.StandingsQuery, {"category": category, "establishment_ids": establishment_ids,
                                     "dps_id": dps_id})
        return eligibility.standings(q, self.db.uow())

    # ==== applications (§4, §4.3) ============================================================

    @rpc
    def create_application(self, body: dict) -> dict:
        return applications.create_application(
            parse(m.ApplicationCreate, body), self.db.uow(), self.ctx.principal
        )

    @rpc
    def update_application(self, application_id: str, body: dict) -> dict:
        """Replace a draft's content (§4), e.g. a copy's establishment-level answers."""
        return applications.update_application(
            parse(m.ApplicationUpdate, body), self.db.uow(), self.ctx.principal,
            application_id=application_id,
        )

    @rpc
    def add_evidence(self, application_id: str, body: dict) -> dict:
        return evidence_files.upload(application_id, parse(m.EvidenceUpload, body),
                                     self.db.uow(), self.ctx.principal)

    @rpc
    def list_evidence(self, application_id: str) -> dict:
        return evidence_files.list_evidence(application_id, self.db.uow(), self.ctx.principal)

    @rpc
    def get_evidence(self, application_id: str, document_id: str) -> dict:
        return evidence_files.download(application_id, document_id, self.db.uow(),
                                       self.ctx.principal)

    @rpc
    def get_application(self, application_id: str) -> dict:
        return applications.get_application(application_id, self.db.uow(), self.ctx.principal)

    @rpc
    def list_applications(self, query: dict) -> dict:
        return applications.list_applications(
            parse(m.ApplicationQuery, query), self.db.uow(), self.ctx.principal
        )

    @rpc
    def copy_application(self, application_id: str, body: dict) -> dict:
        """§4: drafts for the provider's other establishments in one call; all or nothing."""
        return applications.copy_application(
            parse(m.ApplicationCopy, body), self.db.uow(), self.ctx.principal,
            application_id=application_id,
        )

    @rpc
    def submit_application(self, application_id: str) -> dict:
        """§3, §4.3: Conflict (409) while entry is closed or when incomplete."""
        return applications.submit_application(
            application_id, self.db.uow(), self.ctx.principal
        )

    @rpc
    def record_exclusion_check(self, application_id: str, body: dict) -> dict:
        """§11.2, ss.57, 62: the debarment-list and exclusion check before admission."""
        return applications.record_exclusion_check(
            parse(m.ExclusionCheck, body), self.db.uow(), self.ctx.principal,
            application_id=application_id,
        )

    @rpc
    def extend_evaluation(self, application_id: str, body: dict) -> dict:
        """§4.3: once, to 15 working days, with the reason recorded."""
        return applications.extend_evaluation(
            parse(m.EvaluationExtension, body), self.db.uow(), self.ctx.principal,
            application_id=application_id,
        )

    @rpc
    def decide_application(self, application_id: str, body: dict) -> dict:
        """§4.2, §4.3: admitted or rejected, against the version in force at submission."""
        return applications.decide_application(
            parse(m.Decision, body), self.db.uow(), self.ctx.principal,
            application_id=application_id,
        )

    # ==== memberships (§4.5) =================================================================

    @rpc
    def suspend_membership(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: only for a pass/fail criterion that no longer holds; all authorities."""
        return memberships.suspend_membership(
            parse(m.SuspendRequest, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id, category=category,
        )

    @rpc
    def resubmit_evidence(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: the provider resubmits the failed criterion's evidence only."""
        return memberships.resubmit_evidence(
            parse(m.Resubmission, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id, category=category,
        )

    @rpc
    def reinstate_membership(self, establishment_id: str, category: str) -> dict:
        """§4.5: the lead accepts the resubmission; admitted again, history kept."""
        return memberships.reinstate_membership(
            None, self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id, category=category,
        )

    @rpc
    def renew_evidence(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: new evidence before the old expires (keeps the membership admitted)."""
        return memberships.renew_evidence(
            parse(m.Resubmission, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id, category=category,
        )

    @rpc
    def reverify_membership(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: the yearly re-verification; a failed criterion suspends."""
        return memberships.reverify_membership(
            parse(m.Reverification, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id, category=category,
        )

    @rpc
    def remove_membership(self, establishment_id: str, category: str, body: dict) -> dict:
        """§4.5: the end of a membership; the establishment may apply again."""
        return memberships.remove_membership(
            parse(m.MembershipRemoval, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id, category=category,
        )

    @rpc
    def notify_removal(self, establishment_id: str, category: str, body: dict) -> dict:
        """§11.2, s.37(4): the decision to remove and its reasons, told first; suspended."""
        return memberships.notify_removal(
            parse(m.RemovalNotice, body), self.db.uow(), self.ctx.principal,
            establishment_id=establishment_id, category=category,
        )

    # ==== uplifts (§7.2) =====================================================================

    @rpc
    def apply_uplift(self, body: dict) -> dict:
        """§7.2: one cost head of the category's current memberships, idempotent by id."""
        return uplifts.apply_uplift(
            parse(m.UpliftRequest, body), self.db.uow(), self.ctx.principal
        )

    # ==== consumed events ====================================================================

    @consumes("contracts", "uplift_set", m.UpliftSet)
    def on_uplift_set(self, uow, event: m.UpliftSet) -> None:
        """§7.2 from contracts; a refusal (unknown category or head) is logged and acked."""
        uplifts.on_uplift_set(event, uow)

    @consumes("contracts", "performance_reviewed", m.PerformanceReviewed)
    def on_performance_reviewed(self, uow, event: m.PerformanceReviewed) -> None:
        """§4.5, §7.4: a bounded competency move, once per configured period."""
        reviews.on_performance_reviewed(event, uow)

    # ==== timer (§4.5, DESIGN rule 4) ==========================================================

    @timer_from(QualificationConfig, "qualification_timer_seconds")
    def evidence_timer(self) -> None:
        counts = evidence.check_evidence(self.db.uow, self.config.qualification_timer_batch)
        if any(counts.values()):
            log.info("evidence timer", **counts)

    @timer_from(QualificationConfig, "qualification_timer_seconds")
    def digest_timer(self) -> None:
        """§8: the lead's daily digest, once a day whatever the instances."""
        if digest.send_daily_digest(self.db.uow, self.config.lead_digest_hour_utc):
            log.info("lead digest sent")

    @timer_from(QualificationConfig, "qualification_timer_seconds")
    def entry_timer(self) -> None:
        """§3: a scheduled closure of entry that has ended is recorded as reopened."""
        if categories.reopen_entry_when_due(self.db.uow):
            log.info("entry to the DPS reopened by its schedule")

    @rpc
    def check_evidence(self) -> dict:
        """One pass of the evidence timer now (operations, tests)."""
        return evidence.check_evidence(self.db.uow, self.config.qualification_timer_batch)
