"""contracts service: thin nameko entrypoints (DESIGN: inside a service; RULES §7, §9, §10).

Every state change writes its audit record (§9) and its outbox rows in the same
transaction. Access (§10) is decided here from the caller's principal:

- placements: a commissioner (and the lead, as commissioner of its authority) sees its own
  authority's, a provider its own without child details, the contract manager all; any
  other placement is ``NotFound`` (404: admitting it exists would leak). Acting on one
  (start, end, vary, review) is for its owning authority only: a provider or the contract
  manager who may read it gets ``Forbidden``.
- block contracts: the owning authority and the contract manager.
- publication (§7.5): anyone authenticated. Benchmarks (§7.6): commissioners (own
  authority named, others under stable anonymous labels), the lead and the contract manager
  (names). Cost shares (§7.7): the contract manager and the lead. Uplifts (§7.2): the
  contract manager.

Consumed events (idempotent: ``event_uow`` claims the event id, and the placement's UNIQUE
``source_key`` stops a copy under another event id):

- referral: ``referral_awarded`` → placement (§7.1); ``direct_placement_recorded`` →
  placement flagged direct (§5); ``referral_published`` / ``_closed`` / ``_unsuccessful`` /
  ``_cancelled`` and ``invitation_declined`` → benchmarking records (§7.6).
- qualification: ``provider_registered`` → provider names (publication, §7.5); membership
  events → who runs an establishment (block contracts, §7.3).

Emitted events: ``uplift_set`` (qualification uplifts admitted establishments' qualified core
costs, §7.2) and ``performance_reviewed`` (§7.4 → §4.5 competency move).

Timers (DESIGN rule 4; ``DPS_CONTRACTS_TIMER_SECONDS``, default 5):

- **performance**: once a reporting period has ended (``domain.reporting_period``: 6 months
  from 1 January, ``DPS_PERFORMANCE_PERIOD_MONTHS``), one ``performance_reviewed`` per
  establishment and category with reviews in it. Chosen over "on each review" because
  qualification moves a competency at most once per period (§4.5): an event per review
  would move it on the first review of the period alone. The claim is a row in
  ``performance_reports`` (primary key), safe with several instances.
- **publication**: every ended quarter holding an award is frozen (§7.5): its OCDS package
  and CSV are rendered once and stored as bytes; re-reading returns those bytes. Freezing
  waits ``DPS_PUBLICATION_FREEZE_AFTER_HOURS`` (default 24) after the quarter's end, so that
  an award made on its last day whose event is still on its way is included; until then a
  read is rendered live. A read of a freezable quarter that the timer has not reached yet
  freezes it on the spot (same code). A quarter without any award is never frozen (OCDS
  needs a release): its package is 404 and its CSV the header alone.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from nameko.timer import timer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import text

from services.common import paging
from services.common.config import get_settings
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.common.logging import get_logger
from services.common.runtime import AuditRpc, Database, RequestContext, event_handler, rpc
from services.common.validation import parse
from services.contracts import domain, ocds, store
from services.contracts.messages import (
    BenchmarkQuery,
    BlockContractCreate,
    BlockPlaceCreate,
    BlockQuery,
    CostShareQuery,
    DirectPlacementRecorded,
    InvitationDeclinedFeed,
    MembershipFeed,
    OverdueQuery,
    PerformanceQuery,
    PerformanceReviewed,
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
    UpliftSet,
    VariationCreate,
)

log = get_logger(__name__)

OWNER_ROLES = ("commissioner", "lead")
"""Roles acting for one authority (the lead acts as commissioner of the lead authority)."""


class ContractsSettings(BaseSettings):
    """The contracts service's own settings (environment, ``DPS_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="DPS_", extra="ignore")

    contracts_timer_seconds: float = Field(5.0, gt=0)
    # §7.5 publication: the publisher's registered OCDS prefix (with its separator)
    ocds_ocid_prefix: str = "ocds-dpsse1-"
    ocds_dps_ocid: str | None = None
    ocds_publisher_name: str = "West Sussex County Council"
    ocds_base_uri: str = "https://dps.example.gov.uk"
    # §7.6 anonymous labels: HMAC secret; default a random one stored in the database
    benchmark_secret: str | None = None
    # §7.7 cost sharing (business case Appendix A)
    cost_share_running_cost: Decimal = Decimal("40000.00")
    cost_share_setup_cost: Decimal = Decimal("0.00")
    transaction_fee_percent: Decimal = domain.DEFAULT_FEE_PERCENT
    # §4.5 / §7.4 reporting period of the performance index, in months (divides 12)
    performance_period_months: int = 6
    # §7.5 a quarter is frozen this long after it ends (late award events still count)
    publication_freeze_after_hours: float = Field(24.0, ge=0)

    def publication(self) -> ocds.PublicationConfig:
        prefix = self.ocds_ocid_prefix
        return ocds.PublicationConfig(
            ocid_prefix=prefix,
            dps_ocid=self.ocds_dps_ocid or f"{prefix}dps",
            publisher_name=self.ocds_publisher_name,
            base_uri=self.ocds_base_uri.rstrip("/"),
            authority_names=get_settings().authorities,
        )


SETTINGS = ContractsSettings()


def _today(uow) -> date:
    return uow.now().astimezone(UTC).date()


def _freeze_day(uow) -> date:
    """Quarters that ended before this day are frozen (§7.5): today, less the grace period
    for award events still on their way."""
    grace = timedelta(hours=SETTINGS.publication_freeze_after_hours)
    return (uow.now() - grace).astimezone(UTC).date()


def _lock(uow, key: str) -> None:
    """A transaction-scoped advisory lock serialising work on ``key`` across instances."""
    uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def _apply_uplift(uow, p: domain.Placement, uplift: domain.Uplift) -> domain.Variation | None:
    """The uplift's dated variation of ``p``, stored, when the uplift applies to it (§7.2)."""
    v = domain.apply_uplift(p, uplift, variation_id=str(uuid.uuid4()), recorded_at=uow.now())
    if v is not None:
        store.insert_variation(uow.session, p.placement_id, v)
    return v


def _bad_cursor() -> InvalidInput:
    return InvalidInput.at(["query", "cursor"], "not a cursor from this API")


def _principal(ctx) -> dict:
    return ctx.require_principal()


# --- access (RULES §10) --------------------------------------------------------------------


def _can_read(p: domain.Placement | domain.BlockContract, principal: dict) -> bool:
    role = principal.get("role")
    if role == "contract_manager":
        return True
    if role in OWNER_ROLES:
        return bool(principal.get("authority")) and p.authority == principal["authority"]
    if role == "provider" and isinstance(p, domain.Placement):
        return bool(principal.get("provider_id")) and p.provider_id == principal["provider_id"]
    return False


def _is_owner(p: domain.Placement | domain.BlockContract, principal: dict) -> bool:
    return principal.get("role") in OWNER_ROLES and p.authority == principal.get("authority")


def _child_details(principal: dict) -> bool:
    """§10: providers see their placements without child details."""
    return principal.get("role") in OWNER_ROLES


def _review_view(r: domain.Review, *, views: bool) -> dict[str, Any]:
    out = {
        "id": r.review_id,
        "placement_id": r.placement_id,
        "establishment_id": r.establishment_id,
        "category": r.category,
        "date": r.date.isoformat(),
        "scores": dict(r.scores),
        "score": _two_places(r.score),
        "recorded_at": r.recorded_at.isoformat(),
    }
    if views:  # the child's and parents' views are child data (§5, §10)
        out["child_view"] = r.child_view
        out["parent_view"] = r.parent_view
    return out


def _two_places(value) -> str:
    """An exact fraction shown with 2 decimals, rounded half up."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{exact.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def _state(p: domain.Placement) -> dict[str, Any]:
    """The audited state of a placement (RULES §9 before/after)."""
    return {
        "status": p.status.value,
        "start_date": p.start_date.isoformat() if p.start_date else None,
        "ended_on": p.ended_on.isoformat() if p.ended_on else None,
        "end_reason": p.end_reason.value if p.end_reason else None,
        "end_note": p.end_note,
    }


class ContractsService(AuditRpc):
    name = "contracts"

    ctx = RequestContext()
    db = Database(store.metadata)

    @rpc
    def ping(self) -> str:
        return "ok"

    # ==== helpers ==========================================================================

    def _placement(self, uow, placement_id: str, principal: dict, *, for_update=False):
        p = store.get_placement(uow.session, placement_id, for_update=for_update)
        if p is None or not _can_read(p, principal):
            raise NotFound(f"no placement {placement_id}")
        return p

    def _owned_placement(self, uow, placement_id: str, principal: dict) -> domain.Placement:
        p = self._placement(uow, placement_id, principal, for_update=True)
        if not _is_owner(p, principal):
            raise Forbidden("only the owning authority's commissioner manages a placement")
        return p

    def _view(self, uow, p: domain.Placement, principal: dict, on: date | None = None) -> dict:
        reviews = store.reviews_of(uow.session, p.placement_id)
        details = _child_details(principal)
        view = domain.placement_view(
            p, on=on or _today(uow), reviews=reviews, include_child_details=details
        )
        view["on"] = (on or _today(uow)).isoformat()
        if p.provider_name == "":
            view["provider_name"] = store.provider_name(uow.session, p.provider_id)
        view["reviews"] = [_review_view(r, views=details) for r in reviews]
        return view

    def _secret(self, uow) -> bytes:
        if SETTINGS.benchmark_secret:
            return SETTINGS.benchmark_secret.encode()
        secret = store.anonymisation_secret(uow.session)
        if secret is None:
            secret = store.ensure_anonymisation_secret(uow.session, secrets.token_hex(32))
            uow.session.commit()
        return secret.encode()

    def _apply_known_uplifts(self, uow, p: domain.Placement) -> list[domain.Variation]:
        """Uplifts already set whose effective date follows the placement's agreement apply
        to it as well (§7.2): an award in March keeps the uplift from 1 April."""
        applied = (_apply_uplift(uow, p, u) for u in store.uplifts_for(uow.session, p.category))
        return [v for v in applied if v is not None]

    def _create_placement(self, uow, p: domain.Placement, action: str) -> bool:
        if not p.provider_name:
            p.provider_name = store.provider_name(uow.session, p.provider_id)
        if not store.insert_placement(uow.session, p, uow.now()):
            log.info("placement exists already", source_key=p.source_key)
            return False
        uplifted = self._apply_known_uplifts(uow, p)
        quarter = ocds.quarter_of(ocds.award_day(p.agreed_at))
        if p.source is not domain.PlacementSource.BLOCK_PLACE and store.frozen_publication(
            uow.session, quarter, "ocds"
        ):
            log.warning(
                "award recorded after its quarter was frozen; it is not published",
                placement_id=p.placement_id,
                quarter=quarter,
            )
        after = domain.placement_view(p, on=_today(uow))
        uow.audit(action, "placement", p.placement_id, None, after)
        for v in uplifted:
            uow.audit("placement.uplifted", "placement", p.placement_id, None, v.to_dict())
        return True

    # ==== consumed events ================================================================

    def _consume(self, payload: dict, model, handler: str, apply) -> None:
        """Handle a consumed event once (``event_uow`` claims its id under ``handler``):
        ``apply(uow, event)`` runs in the transaction that records the claim."""
        event = parse(model, payload)
        with self.db.event_uow(payload, handler) as uow:
            if uow.duplicate:
                return
            apply(uow, event)
            uow.commit()

    @staticmethod
    def _referral_record(uow, event, **values) -> None:
        """Merge what one referral event tells into its benchmarking record (§7.6)."""
        store.upsert_referral_record(
            uow.session,
            event.referral_id,
            uow.now(),
            authority=event.authority,
            category=event.category,
            **values,
        )

    # ---- placements (§7.1, §5) ----------------------------------------------------------

    @event_handler("referral", "referral_awarded")
    def on_referral_awarded(self, payload: dict) -> None:
        """§5 award → §7.1 placement agreement, once per referral."""
        self._consume(payload, ReferralAwarded, "on_referral_awarded", self._record_award)

    def _record_award(self, uow, event: ReferralAwarded) -> None:
        record = domain.referral_record_from_award(event)
        self._referral_record(
            uow,
            event,
            published_at=record.published_at,
            needs=list(record.needs) or None,
            bids_count=record.bids_count,
            compliant_bids_count=record.compliant_bids_count,
            awarded_at=record.awarded_at,
            status="awarded",
        )
        key = domain.source_key(domain.PlacementSource.REFERRAL_AWARD, event.referral_id)
        if store.placement_by_source_key(uow.session, key) is None:
            self._create_placement(uow, domain.placement_from_award(event), "placement.created")

    @event_handler("referral", "direct_placement_recorded")
    def on_direct_placement_recorded(self, payload: dict) -> None:
        """§5 direct placement (business case 8.10) → a placement flagged direct."""

        def record(uow, event: DirectPlacementRecorded) -> None:
            p = domain.placement_from_direct(event)
            if not p.establishment_name:
                for m in store.memberships_of(uow.session, p.establishment_id):
                    p.establishment_name = m["establishment_name"]
            self._create_placement(uow, p, "placement.created_direct")

        self._consume(payload, DirectPlacementRecorded, "on_direct_placement_recorded", record)

    # ---- benchmarking feeds (§7.6) ------------------------------------------------------

    def _referral_fact(self, payload: dict, model, handler: str, **fields) -> None:
        self._consume(
            payload,
            model,
            handler,
            lambda uow, event: self._referral_record(
                uow, event, **{key: value(event) for key, value in fields.items()}
            ),
        )

    @event_handler("referral", "referral_published")
    def on_referral_published(self, payload: dict) -> None:
        self._referral_fact(
            payload,
            ReferralPublishedFeed,
            "on_referral_published",
            published_at=lambda e: e.occurred_at,
            needs=lambda e: [n.code for n in e.profile.needs] if e.profile else None,
        )

    @event_handler("referral", "referral_closed")
    def on_referral_closed(self, payload: dict) -> None:
        self._referral_fact(
            payload,
            ReferralClosedFeed,
            "on_referral_closed",
            bids_count=lambda e: e.bids_count,
        )

    @event_handler("referral", "referral_unsuccessful")
    def on_referral_unsuccessful(self, payload: dict) -> None:
        self._referral_fact(
            payload,
            ReferralUnsuccessfulFeed,
            "on_referral_unsuccessful",
            bids_count=lambda e: e.bids_count,
            compliant_bids_count=lambda e: 0,
            status=lambda e: "unsuccessful",
        )

    @event_handler("referral", "referral_cancelled")
    def on_referral_cancelled(self, payload: dict) -> None:
        self._referral_fact(
            payload,
            ReferralCancelledFeed,
            "on_referral_cancelled",
            status=lambda e: "cancelled",
        )

    @event_handler("referral", "invitation_declined")
    def on_invitation_declined(self, payload: dict) -> None:
        """§5 declines feed benchmarking as market-capacity intelligence."""
        self._consume(
            payload,
            InvitationDeclinedFeed,
            "on_invitation_declined",
            lambda uow, event: store.insert_decline(
                uow.session,
                referral_id=event.referral_id,
                establishment_id=event.establishment_id,
                authority=event.authority,
                category=event.category,
                reason_code=event.reason_code,
                at=event.occurred_at,
            ),
        )

    # ---- names (qualification) ----------------------------------------------------------

    @event_handler("qualification", "provider_registered")
    def on_provider_registered(self, payload: dict) -> None:
        self._consume(
            payload,
            ProviderRegisteredFeed,
            "on_provider_registered",
            lambda uow, event: store.upsert_provider(
                uow.session, event.provider.id, event.provider.name, uow.now()
            ),
        )

    def _membership(self, payload: dict, handler: str, status: str) -> None:
        self._consume(
            payload,
            MembershipFeed,
            handler,
            lambda uow, event: store.upsert_membership(
                uow.session,
                establishment_id=event.establishment_id,
                category=event.category,
                provider_id=event.provider_id,
                name=event.establishment_name,
                status=status,
                now=uow.now(),
            ),
        )

    @event_handler("qualification", "membership_admitted")
    def on_membership_admitted(self, payload: dict) -> None:
        self._membership(payload, "on_membership_admitted", "admitted")

    @event_handler("qualification", "membership_reinstated")
    def on_membership_reinstated(self, payload: dict) -> None:
        self._membership(payload, "on_membership_reinstated", "admitted")

    @event_handler("qualification", "membership_suspended")
    def on_membership_suspended(self, payload: dict) -> None:
        self._membership(payload, "on_membership_suspended", "suspended")

    @event_handler("qualification", "membership_removed")
    def on_membership_removed(self, payload: dict) -> None:
        self._membership(payload, "on_membership_removed", "removed")

    # ==== placements (§7.1, §7.2, §7.4) ===================================================

    @rpc
    def list_placements(self, query: dict) -> dict:
        """``GET /placements``: own authority, own provider (no child details) or all."""
        q = parse(PlacementsQuery, query)
        principal = _principal(self.ctx)
        role = principal.get("role")
        scope: dict[str, Any] = {}
        if role in OWNER_ROLES:
            scope["authority"] = principal.get("authority") or "-"
        elif role == "provider":
            scope["provider_id"] = principal.get("provider_id") or "-"
        elif role != "contract_manager":
            raise Forbidden(f"the {role} role does not read placements")
        after = paging.decode(q.cursor)
        if after is not None:
            try:
                after = (datetime.fromisoformat(after[0]), str(after[1]))
            except (TypeError, ValueError, IndexError):
                raise _bad_cursor() from None
        with self.db.uow() as uow:
            rows = store.list_placements(
                uow.session,
                status=q.status,
                category=q.category,
                establishment_id=q.establishment_id,
                after=after,
                limit=q.limit + 1,
                **scope,
            )
            today = _today(uow)
            names = store.provider_names(
                uow.session, [p.provider_id for p, _ in rows if not p.provider_name]
            )
        details = _child_details(principal)
        items = []
        for p, next_due in rows:
            view = domain.placement_view(p, on=today, include_child_details=details)
            view["next_review_due"] = next_due.isoformat() if next_due else None
            view["provider_name"] = p.provider_name or names.get(p.provider_id, "")
            view["_key"] = [p.agreed_at.isoformat(), p.placement_id]
            items.append(view)
        result = paging.page(items, q.limit, key=lambda v: v["_key"])
        for item in result["items"]:
            item.pop("_key", None)
        return result

    @rpc
    def get_placement(self, placement_id: str, query: dict | None = None) -> dict:
        q = parse(PlacementQuery, query or {})
        principal = _principal(self.ctx)
        with self.db.uow() as uow:
            p = self._placement(uow, placement_id, principal)
            return self._view(uow, p, principal, q.on)

    @rpc
    def start_placement(self, placement_id: str, body: dict) -> dict:
        """§7.1 ``pending_start → active`` on the actual start date."""
        data = parse(PlacementStart, body)
        principal = _principal(self.ctx)
        with self.db.uow() as uow:
            p = self._owned_placement(uow, placement_id, principal)
            before = _state(p)
            p.start(data.date)
            reviews = store.reviews_of(uow.session, p.placement_id)
            store.update_placement(uow.session, p, uow.now(), domain.next_review_due(p, reviews))
            uow.audit(
                "placement.started",
                "placement",
                p.placement_id,
                before,
                {**_state(p), "reason": data.reason},
            )
            uow.commit()
            return self._view(uow, p, principal)

    @rpc
    def end_placement(self, placement_id: str, body: dict) -> dict:
        """§7.1 ``active → ended`` with an end reason."""
        data = parse(PlacementEnd, body)
        principal = _principal(self.ctx)
        with self.db.uow() as uow:
            p = self._owned_placement(uow, placement_id, principal)
            before = _state(p)
            p.end(data.date, data.reason, data.note)
            store.update_placement(uow.session, p, uow.now(), None)
            uow.audit("placement.ended", "placement", p.placement_id, before, _state(p))
            uow.commit()
            return self._view(uow, p, principal)

    @rpc
    def vary_placement(self, placement_id: str, body: dict) -> dict:
        """§7.2: every price change is a dated variation with a reason."""
        data = parse(VariationCreate, body)
        principal = _principal(self.ctx)
        changes = data.changes
        with self.db.uow() as uow:
            p = self._owned_placement(uow, placement_id, principal)
            before = p.price_on(data.effective_from).to_dict()
            v = p.vary(
                variation_id=str(uuid.uuid4()),
                effective_from=data.effective_from,
                reason=data.reason,
                recorded_at=uow.now(),
                core_costs=changes.core_costs,
                variable_costs=None
                if changes.variable_costs is None
                else [domain.VariableItem(i.label, i.weekly) for i in changes.variable_costs],
                discount_percent=changes.discount_percent,
            )
            store.insert_variation(uow.session, p.placement_id, v)
            uow.audit(
                "placement.varied",
                "placement",
                p.placement_id,
                before,
                {"variation": v.to_dict(), "price": p.price_on(data.effective_from).to_dict()},
            )
            uow.commit()
            view = self._view(uow, p, principal, data.effective_from)
        return {**view, "variation": v.to_dict()}

    @rpc
    def record_review(self, placement_id: str, body: dict) -> dict:
        """§7.4: the owning commissioner scores each monitored component 1–5."""
        data = parse(ReviewCreate, body)
        principal = _principal(self.ctx)
        with self.db.uow() as uow:
            p = self._owned_placement(uow, placement_id, principal)
            review = domain.record_review(
                p,
                review_id=str(uuid.uuid4()),
                on=data.date,
                scores=data.scores,
                recorded_at=uow.now(),
                child_view=data.child_view,
                parent_view=data.parent_view,
            )
            period_start, _ = domain.reporting_period(
                review.date, SETTINGS.performance_period_months
            )
            store.insert_review(uow.session, review, period_start)
            reviews = store.reviews_of(uow.session, p.placement_id)
            next_due = domain.next_review_due(p, reviews)
            store.update_placement(uow.session, p, uow.now(), next_due)
            view = _review_view(review, views=True)
            uow.audit("placement.reviewed", "placement", p.placement_id, None, view)
            uow.commit()
        return {**view, "next_review_due": next_due.isoformat() if next_due else None}

    @rpc
    def overdue_reviews(self, query: dict) -> dict:
        """§7.4 schedule tracking: active placements whose review is overdue."""
        q = parse(OverdueQuery, query)
        principal = _principal(self.ctx)
        role = principal.get("role")
        if role in OWNER_ROLES:
            authority = principal.get("authority") or "-"
        elif role == "contract_manager":
            authority = None
        else:
            raise Forbidden(f"the {role} role does not track reviews")
        after = paging.decode(q.cursor)
        if after is not None and (not isinstance(after, list) or len(after) != 2):
            raise _bad_cursor()
        with self.db.uow() as uow:
            as_of = q.as_of or _today(uow)
            try:
                rows = store.overdue(
                    uow.session,
                    as_of,
                    authority=authority,
                    after=tuple(after) if after else None,
                    limit=q.limit + 1,
                )
            except ValueError:
                raise _bad_cursor() from None
        page = paging.page(rows, q.limit, key=lambda r: [r["due"], r["placement_id"]])
        return {**page, "as_of": as_of.isoformat()}

    # ==== uplifts (§7.2) ==================================================================

    @rpc
    def set_uplift(self, body: dict) -> dict:
        """The contract manager's common annual uplift of one core head in one category:
        from its effective date on the same head of every placement agreed before that date
        and not ended by then (never variable costs), and — through ``uplift_set`` — on the
        qualified core costs of admitted establishments (§7.2)."""
        data = parse(UpliftCreate, body)
        principal = _principal(self.ctx)
        if principal.get("role") != "contract_manager":
            raise Forbidden("only the contract manager sets uplifts")
        uplift = domain.Uplift(
            str(uuid.uuid4()), data.category, data.cost_head, data.percent, data.effective_from
        )
        with self.db.uow() as uow:
            _lock(uow, f"uplift:{uplift.category}")
            if store.uplift_exists(
                uow.session, uplift.category, uplift.cost_head, uplift.effective_from
            ):
                raise Conflict(
                    f"an uplift of {uplift.cost_head} in {uplift.category} from "
                    f"{uplift.effective_from} is already set"
                )
            count = 0
            for p in store.placements_for_uplift(
                uow.session, uplift.category, uplift.cost_head, uplift.effective_from
            ):
                v = _apply_uplift(uow, p, uplift)
                if v is None:
                    continue
                uow.audit("placement.uplifted", "placement", p.placement_id, None, v.to_dict())
                count += 1
            store.insert_uplift(uow.session, uplift, count, uow.now(), principal)
            view = store.uplift_view(uplift, count, uow.now())
            uow.audit("uplift.set", "uplift", uplift.uplift_id, None, view)
            uow.emit(
                UpliftSet(
                    uplift_id=uplift.uplift_id,
                    category=uplift.category,
                    cost_head=uplift.cost_head,
                    percent=uplift.percent,
                    effective_from=uplift.effective_from,
                )
            )
            uow.commit()
        return view

    # ==== block contracts (§7.3) ==========================================================

    @rpc
    def create_block_contract(self, body: dict) -> dict:
        """An authority reserves places at an establishment admitted to the DPS (§7.3)."""
        data = parse(BlockContractCreate, body)
        principal = _principal(self.ctx)
        if principal.get("role") not in OWNER_ROLES or not principal.get("authority"):
            raise Forbidden("block contracts are made by an authority's commissioner")
        with self.db.uow() as uow:
            members = [
                m
                for m in store.memberships_of(uow.session, data.establishment_id)
                if m["status"] == "admitted"
            ]
            if not members:
                raise InvalidInput.at(
                    ["establishment_id"], "not an establishment admitted to the DPS"
                )
            if data.category is not None:
                members = [m for m in members if m["category"] == data.category]
                if not members:
                    raise InvalidInput.at(["category"], "the establishment is not admitted in it")
            elif len(members) > 1:
                raise InvalidInput.at(
                    ["category"],
                    "the establishment is admitted in several categories; name one "
                    f"({', '.join(m['category'] for m in members)})",
                )
            m = members[0]
            block = domain.BlockContract(
                block_id=str(uuid.uuid4()),
                authority=principal["authority"],
                provider_id=m["provider_id"],
                provider_name=store.provider_name(uow.session, m["provider_id"]),
                establishment_id=data.establishment_id,
                establishment_name=m["establishment_name"],
                category=m["category"],
                places=data.places,
                weekly_price_per_place=data.weekly_price_per_place,
                start=data.start,
                end=data.end,
            )
            store.insert_block(uow.session, block, uow.now())
            view = self._block_view(uow, block, [], principal, _today(uow))
            uow.audit(
                "block_contract.created",
                "block_contract",
                block.block_id,
                None,
                {k: v for k, v in view.items() if k not in ("occupancy", "placements")},
            )
            uow.commit()
        return view

    def _block(self, uow, block_id: str, principal: dict, *, for_update=False):
        block = store.get_block(uow.session, block_id, for_update=for_update)
        if block is None or not _can_read(block, principal):
            raise NotFound(f"no block contract {block_id}")
        return block

    def _block_view(self, uow, block, placements, principal, as_of: date) -> dict:
        details = _child_details(principal)
        occupancy = domain.block_occupancy(block, placements, as_of).to_dict()
        return {
            "id": block.block_id,
            "authority": block.authority,
            "provider_id": block.provider_id,
            "provider_name": block.provider_name,
            "establishment_id": block.establishment_id,
            "establishment_name": block.establishment_name,
            "category": block.category,
            "places": block.places,
            "weekly_price_per_place": f"{block.weekly_price_per_place:.2f}",
            "start": block.start.isoformat(),
            "end": block.end.isoformat(),
            "occupancy": occupancy,
            "placements": [
                {
                    "id": p.placement_id,
                    "status": p.status.value,
                    "start_date": p.start_date.isoformat() if p.start_date else None,
                    "ended_on": p.ended_on.isoformat() if p.ended_on else None,
                    **({"child_reference": p.child_reference} if details else {}),
                }
                for p in placements
            ],
        }

    @rpc
    def get_block_contract(self, block_id: str, query: dict | None = None) -> dict:
        """Occupancy and voids (unused place-weeks) up to ``as_of`` (§7.3)."""
        q = parse(BlockQuery, query or {})
        principal = _principal(self.ctx)
        with self.db.uow() as uow:
            block = self._block(uow, block_id, principal)
            placements = store.block_placements(uow.session, block_id)
            return self._block_view(uow, block, placements, principal, q.as_of or _today(uow))

    @rpc
    def place_in_block(self, block_id: str, body: dict) -> dict:
        """Place a child into a free block place (§7.3): recorded as a placement at the
        place price. The block row is locked, so two children never get the last place."""
        data = parse(BlockPlaceCreate, body)
        principal = _principal(self.ctx)
        with self.db.uow() as uow:
            block = self._block(uow, block_id, principal, for_update=True)
            if not _is_owner(block, principal):
                raise Forbidden("only the owning authority places children in its block")
            p = domain.place_in_block(
                block,
                store.block_placements(uow.session, block_id),
                placement_id=str(uuid.uuid4()),
                child_reference=data.child_reference,
                start_date=data.start_date,
                agreed_at=uow.now(),
                referral_id=data.referral_id,
            )
            if store.placement_by_source_key(uow.session, p.source_key) is not None:
                raise Conflict(f"referral {data.referral_id} is placed in this block already")
            self._create_placement(uow, p, "placement.created_in_block")
            uow.commit()
            return self._view(uow, p, principal)

    # ==== publication (§7.5) ==============================================================

    def _awards(self, uow, quarter: str) -> list[ocds.AwardRecord]:
        start, end = ocds.parse_quarter(quarter)
        placements = store.award_placements(uow.session, start, end)
        names = store.provider_names(
            uow.session, [p.provider_id for p in placements if not p.provider_name]
        )
        out = []
        for p in placements:
            if not p.provider_name:
                p.provider_name = names.get(p.provider_id, "")
            award = domain.award_record(p)
            if award is not None:
                out.append(award)
        return out

    @staticmethod
    def _render(awards: list[ocds.AwardRecord], quarter: str, fmt: str) -> bytes:
        config = SETTINGS.publication()
        if fmt == "csv":
            return ocds.render_csv(awards, quarter, config)
        return ocds.render_package(ocds.build_package(awards, quarter, config))

    def _freeze(self, uow, quarter: str) -> bool:
        """Freeze an ended quarter holding awards: both formats, once (§7.5)."""
        _lock(uow, f"publication:{quarter}")
        if store.frozen_publication(uow.session, quarter, "ocds") is not None:
            return False
        awards = self._awards(uow, quarter)
        if not awards:
            return False
        digests = {}
        for fmt in ("ocds", "csv"):
            content = self._render(awards, quarter, fmt)
            digests[fmt] = hashlib.sha256(content).hexdigest()
            store.freeze_publication(
                uow.session, quarter, fmt, content, digests[fmt], len(awards), uow.now()
            )
        uow.audit(
            "publication.frozen",
            "publication",
            quarter,
            None,
            {"quarter": quarter, "awards": len(awards), "sha256": digests},
        )
        return True

    @rpc
    def award_publication(self, query: dict) -> dict:
        """The quarter's awards as an OCDS 1.1 release package or CSV (§7.5). An ended quarter
        is served from its frozen bytes (frozen now if the timer has not yet done it); the
        quarter in progress shows the awards made so far."""
        q = parse(PublicationQuery, query)
        _principal(self.ctx)
        start, end = ocds.parse_quarter(q.quarter)
        media = "application/json" if q.format == "ocds" else "text/csv; charset=utf-8"
        with self.db.uow() as uow:
            row = None
            if end < _freeze_day(uow):
                row = store.frozen_publication(uow.session, q.quarter, q.format)
                if row is None:
                    if self._freeze(uow, q.quarter):
                        uow.commit()
                    else:
                        uow.rollback()
                    row = store.frozen_publication(uow.session, q.quarter, q.format)
            if row is not None:
                content, frozen = bytes(row.content), True
            else:
                content, frozen = (
                    self._render(self._awards(uow, q.quarter), q.quarter, q.format),
                    False,
                )
        return {
            "quarter": q.quarter,
            "format": q.format,
            "media_type": media,
            "frozen": frozen,
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": content.decode("utf-8"),
        }

    # ==== benchmarks (§7.6) and cost shares (§7.7) =========================================

    @rpc
    def benchmarks(self, query: dict) -> dict:
        q = parse(BenchmarkQuery, query)
        principal = _principal(self.ctx)
        role = principal.get("role")
        if role not in ("commissioner", "lead", "contract_manager"):
            raise Forbidden(f"the {role} role does not read benchmarks")
        with self.db.uow() as uow:
            to = q.to or _today(uow)
            start = q.from_ or (domain.add_months(to, -12) + timedelta(days=1))
            if to < start:
                raise InvalidInput.at(["query", "to"], "must not be before from")
            placements = store.placement_summaries(
                uow.session, category=q.category, start=start, end=to
            )
            referrals = store.referral_records_between(uow.session, q.category, start, to)
            reviews = store.reviews_between(uow.session, start, to, category=q.category)
            secret = self._secret(uow)
        return domain.benchmark(
            category=q.category,
            period_start=start,
            period_end=to,
            placements=placements,
            referrals=referrals,
            reviews=reviews,
            role=role,
            reader_authority=principal.get("authority"),
            secret=secret,
            fee_percent=SETTINGS.transaction_fee_percent,
        )

    @rpc
    def cost_shares(self, query: dict) -> dict:
        q = parse(CostShareQuery, query)
        principal = _principal(self.ctx)
        if principal.get("role") not in ("contract_manager", "lead"):
            raise Forbidden("cost shares are for the contract manager and the lead")
        basis_start, _ = domain.financial_year(q.year - 1)
        _, end = domain.financial_year(q.year)
        with self.db.uow() as uow:
            placements = store.placement_summaries(uow.session, start=basis_start, end=end)
        awards = [a for a in map(domain.award_record, placements) if a is not None]
        return domain.cost_shares(
            year=q.year,
            authorities=get_settings().authorities,
            placements=placements,
            awards=awards,
            running_cost=SETTINGS.cost_share_running_cost,
            setup_cost=SETTINGS.cost_share_setup_cost,
            fee_percent=SETTINGS.transaction_fee_percent,
        )

    # ==== performance (§7.4) ==============================================================

    @rpc
    def performance(self, query: dict) -> dict:
        """An establishment's performance index over a period and its reports so far."""
        q = parse(PerformanceQuery, query)
        principal = _principal(self.ctx)
        if principal.get("role") not in ("contract_manager", "lead"):
            raise Forbidden("performance is read by the contract manager and the lead")
        with self.db.uow() as uow:
            to = q.to or _today(uow)
            start = q.from_ or domain.add_months(to, -6)
            if to <= start:
                raise InvalidInput.at(["query", "to"], "must be after from")
            reviews = store.reviews_between(
                uow.session, start, to, category=q.category, establishment_id=q.establishment_id
            )
            reports = store.performance_reports_of(uow.session, q.establishment_id, q.category)
        rows = domain.establishment_performance(reviews, start, to)
        return {
            "establishment_id": q.establishment_id,
            "from": start.isoformat(),
            "to": to.isoformat(),
            "categories": [
                {
                    "category": r.category,
                    "performance_index": f"{r.performance_index:.2f}",
                    "reviews_count": r.reviews_count,
                }
                for r in rows
            ],
            "reports": reports,
        }

    # ==== timers (DESIGN rule 4) ==========================================================

    @timer(interval=SETTINGS.contracts_timer_seconds)
    def tick(self) -> None:
        try:
            self.report_performance()
            self.freeze_ended_quarters()
        except Exception:  # the next tick retries; never kill the timer
            log.exception("contracts timer failed")

    def report_performance(self) -> int:
        """One ``performance_reviewed`` per establishment, category and ended period (§7.4)."""
        months = SETTINGS.performance_period_months
        with self.db.uow() as uow:
            current, _ = domain.reporting_period(_today(uow), months)
            due = store.due_performance_reports(uow.session, current)
        sent = 0
        for establishment_id, category, period_start in due:
            _, period_end = domain.reporting_period(period_start, months)
            with self.db.uow() as uow:
                reviews = store.reviews_between(
                    uow.session,
                    period_start,
                    period_end,
                    category=category,
                    establishment_id=establishment_id,
                )
                for perf in domain.establishment_performance(reviews, period_start, period_end):
                    event = PerformanceReviewed(**perf.payload())
                    if store.claim_performance_report(uow.session, perf, event.event_id, uow.now()):
                        payload = event.model_dump(mode="json")
                        uow.audit(
                            "performance.reported", "establishment", establishment_id, None, payload
                        )
                        uow.emit(event)
                        sent += 1
                uow.commit()
        return sent

    def freeze_ended_quarters(self) -> int:
        """Freeze every ended quarter that holds an award and is not frozen yet (§7.5)."""
        with self.db.uow() as uow:
            current_start, _ = ocds.parse_quarter(ocds.quarter_of(_freeze_day(uow)))
            frozen = store.frozen_quarters(uow.session, "ocds")
            due = [
                ocds.quarter_of(q) for q in store.award_quarters_before(uow.session, current_start)
            ]
        count = 0
        for quarter in (q for q in due if q not in frozen):
            with self.db.uow() as uow:
                if self._freeze(uow, quarter):
                    uow.commit()
                    count += 1
                    log.info("publication frozen", quarter=quarter)
        return count
