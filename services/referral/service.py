"""referral service: thin nameko entrypoints for referrals, bids and awards (RULES §5, §6.4).

Each entrypoint validates its argument with ``messages.py``, opens one unit of work, loads
the ``Referral`` aggregate (its row locked ``FOR UPDATE`` when it writes), calls the domain,
saves what changed with an audit record (§9) and the domain's events in the outbox, and
commits. Per-object access (§10: owner, invited provider, 404 where existence would leak)
is the domain's; the gateway has already checked the role.

Calls to other services go through ``Remote`` (an ``RpcProxy`` under ``eventlet.Timeout``):
a service that does not answer raises ``Unavailable`` (the gateway answers 503 naming it).
Those calls are made *before* anything is written, inside the unit of work that holds the
referral's row lock, so that a failure rolls back a transaction that wrote nothing:

- **qualification**: the category's settings (referral weights template, minimum invited,
  minimum tender period), the eligible establishments when publishing or widening (§5),
  the bidders' standing at the deadline (§6.2, §6.3 C), an establishment for a direct
  placement;
- **scoring**: ``scoring.resolve_weights`` when a referral is created (§6.1) and
  ``scoring_<category>.score`` when it is evaluated (§6.3, §6.4). If scoring is down the
  evaluation is refused with 503 and nothing is written; evaluating again later succeeds.

Time-driven (DESIGN rule 4): ``close_due_referrals`` is a nameko timer
(``DPS_REFERRAL_CLOSE_INTERVAL_SECONDS``, default 2) that closes published referrals whose
deadline has passed, one per transaction, selected ``FOR UPDATE SKIP LOCKED`` so that
several instances never close one twice; closing again is a no-op.

Events consumed: qualification's ``membership_suspended`` withdraws that establishment's
open bids in its category with the reason (§4.5); ``membership_reinstated`` lets it bid
again. Both are idempotent (``event_uow``).

Audit records (§9) never hold child data (§5) nor sealed bid content (§5, §10: the lead and
auditors read the trail): a bid is recorded by its id, establishment, status and the SHA-256
of its terms, which proves what was submitted without showing it.

Settings (environment): ``DPS_REFERRAL_CLOSE_INTERVAL_SECONDS`` (timer period),
``DPS_REFERRAL_RPC_TIMEOUT_SECONDS`` (default 5: below the gateway's 10 s, so the caller
gets this service's precise 503), ``DPS_REFERRAL_CLOSE_BATCH`` (referrals closed per tick).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy, ServiceProxy
from nameko.timer import timer

from services.common import paging
from services.common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)
from services.common.logging import get_logger
from services.common.runtime import AuditRpc, Database, RequestContext, event_handler, rpc
from services.common.validation import parse
from services.qualification.messages import (
    CategoryView,
    EligibilityQuery,
    EligibleEstablishment,
    EstablishmentView,
    MembershipReinstated,
    MembershipSuspended,
)
from services.referral import store
from services.referral.domain import (
    LEAD_AUTHORITY,
    Bid,
    DirectPlacement,
    Referral,
    Status,
    transition,
)
from services.referral.messages import (
    AnswerCreate,
    AwardRequest,
    BidCreate,
    CancelRequest,
    CancelResult,
    CloseResult,
    DeclineCreate,
    DeclineView,
    DirectPlacementCreate,
    DirectPlacementView,
    EstablishmentSnapshot,
    OutcomeScoreCreate,
    OutcomeScoreView,
    ParentChoice,
    ParentChoiceView,
    PublishRequest,
    QuestionCreate,
    RadiusRequest,
    ReferralCreate,
    ReferralQuery,
    ReferralSummary,
    Standing,
)
from services.scoring.messages import (
    SERVICE_NAME,
    ScoringResult,
    WeightsMsg,
    scoring_service_name,
)

log = get_logger(__name__)

CLOSE_INTERVAL_SECONDS = float(os.getenv("DPS_REFERRAL_CLOSE_INTERVAL_SECONDS", "2"))
RPC_TIMEOUT_SECONDS = float(os.getenv("DPS_REFERRAL_RPC_TIMEOUT_SECONDS", "5"))
CLOSE_BATCH = int(os.getenv("DPS_REFERRAL_CLOSE_BATCH", "20"))


# --------------------------------------------------------------------------- remote calls


class ScoringProxies(RpcProxy):
    """``self.scoring(category)``: a proxy of ``scoring_<category>`` (per-category scoring
    instances, ``services.scoring.messages``); ``self.scoring()``: ``scoring``."""

    def __init__(
        self, general: str = SERVICE_NAME, name_for: Callable[[str], str] = scoring_service_name
    ):
        super().__init__(general)
        self.name_for = name_for

    def get_dependency(self, worker_ctx):
        def proxy(category: str | None = None) -> ServiceProxy:
            name = self.name_for(category) if category else self.target_service
            return ServiceProxy(worker_ctx, name, self.rpc_reply_listener, **self.options)

        return proxy


def remote(service: str, call: Callable[[], Any], timeout: float | None = None) -> Any:
    """Run an RPC with a timeout (DESIGN: in-service RPC has none); a service that does not
    answer becomes ``Unavailable`` naming it (→ 503). Typed domain errors pass through."""
    seconds = timeout or RPC_TIMEOUT_SECONDS
    try:
        with eventlet.Timeout(seconds):
            return call()
    except eventlet.Timeout:
        log.warning("rpc timed out", target=service, seconds=seconds)
        raise Unavailable(
            f"the {service} service did not answer within {seconds:g}s", [{"service": service}]
        ) from None
    except UnknownService:
        raise Unavailable(f"the {service} service is not running", [{"service": service}]) from None


def _snapshot(e: EligibleEstablishment) -> EstablishmentSnapshot:
    """What referral keeps of an invited establishment (§5, DESIGN rule 1)."""
    dump = e.model_dump(mode="json")
    return EstablishmentSnapshot.model_validate(
        {
            "establishment_id": e.establishment_id,
            "provider_id": e.provider_id,
            "name": e.name,
            "distance_miles": Decimal(repr(e.distance_miles)),
            "core_costs": dump["core_costs"],
            "cohort_discounts": [
                {"min_children": t.min_children, "percent": t.percent} for t in e.cohort_discounts
            ],
            "competency": e.competency,
            "contacts": dump["contacts"],
        }
    )


# --------------------------------------------------------------------------- audit views


def _sha256(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def audit_referral(r: Referral) -> dict:
    """The referral's state for the audit trail: no child data (§5)."""
    return {
        "status": str(r.status),
        "authority": r.authority,
        "category": r.category,
        "radius_miles": r.spec.radius_miles,
        "deadline": r.deadline,
        "weights": r.weights.model_dump(),
        "min_invited": r.min_invited,
        "invited": len(r.invitations),
        "live_bids": len(r.live_bidders()),
        "declines": len(r.declines),
        "questions": len(r.questions),
        "parent_choice_bid_id": r.parent_choice_bid_id,
        "awarded_bid_id": r.awarded_bid_id,
        "placement_id": r.placement_id,
        "cancel_reason": r.cancel_reason,
    }


def audit_bid(b: Bid | None) -> dict | None:
    """A bid for the audit trail: sealed (§5), so its terms only as a SHA-256."""
    if b is None:
        return None
    return {
        "bid_id": b.bid_id,
        "establishment_id": b.establishment_id,
        "provider_id": b.provider_id,
        "status": b.status,
        "submitted_at": b.submitted_at,
        "terms_sha256": _sha256(b.terms.model_dump(mode="json")),
        "withdrawn_reason": b.withdrawn_reason,
    }


def _audit_change(uow, action: str, referral: Referral, before: dict | None, **extra) -> None:
    """§9: a change of the referral, its state before and after (plus ``extra``)."""
    uow.audit(
        action, "referral", referral.referral_id, before, {**audit_referral(referral), **extra}
    )


# --------------------------------------------------------------------------- the service


class ReferralService(AuditRpc):
    name = "referral"

    ctx = RequestContext()
    db = Database(store.metadata)
    qualification = RpcProxy("qualification")
    scoring = ScoringProxies()

    @rpc
    def ping(self) -> str:
        return "ok"

    # ----------------------------------------------------------------- helpers

    def _principal(self) -> dict:
        return self.ctx.require_principal()

    @staticmethod
    def _get(repo: store.Referrals, referral_id: str, lock: bool = False) -> Referral:
        referral = repo.get(str(referral_id), lock=lock)
        if referral is None:
            raise NotFound("referral not found")
        return referral

    @staticmethod
    def _save(uow, referral: Referral, repo: store.Referrals) -> None:
        """Write what changed and put the domain's events in the outbox (not committed)."""
        repo.save(referral)
        for event in referral.events:
            uow.emit(event)
        referral.events.clear()

    @contextmanager
    def _changing(self, referral_id: str) -> Iterator[tuple[Any, Referral]]:
        """One unit of work on the referral, its row locked ``FOR UPDATE``; leaving the
        block without an error saves it with its events and commits."""
        with self.db.uow() as uow:
            repo = store.Referrals(uow.session)
            referral = self._get(repo, referral_id, lock=True)
            yield uow, referral
            self._save(uow, referral, repo)
            uow.commit()

    def _read(self, referral_id: str) -> Referral:
        """The referral, read without a lock."""
        with self.db.uow() as uow:
            return self._get(store.Referrals(uow.session), referral_id)

    def _category(self, code: str) -> CategoryView:
        """The category's settings (§2) from qualification: its referral weights template,
        minimum invited and minimum tender period. An unknown code is a 422 on ``category``."""
        try:
            reply = remote("qualification", lambda: self.qualification.get_category(code))
        except NotFound:
            reply = None
        if reply is None:
            raise InvalidInput.at(["category"], f"unknown category {code!r}")
        return CategoryView.model_validate(reply)

    def _eligible(self, referral: Referral, radius_miles: float) -> list[EstablishmentSnapshot]:
        """§5: every establishment admitted (not suspended) in the category, within the
        radius and not above the authority's own cap: qualification decides."""
        spec = referral.spec
        query = EligibilityQuery(
            category=referral.category,
            lat=spec.home_location.lat,
            lon=spec.home_location.lon,
            radius_miles=radius_miles,
            authority=referral.authority,
        )
        reply = remote(
            "qualification",
            lambda: self.qualification.eligible_establishments(query.model_dump(mode="json")),
        )
        return [_snapshot(EligibleEstablishment.model_validate(e)) for e in reply]

    def _standings(self, referral: Referral) -> dict[str, Standing]:
        """§6.2, §6.3 C: each live bidder's membership at the deadline."""
        ids = referral.live_bidders()
        if not ids:
            return {}
        reply = remote(
            "qualification", lambda: self.qualification.standings(referral.category, ids)
        )
        out = {}
        for eid in ids:
            s = reply.get(eid)
            if s is None:  # unknown to qualification: not admitted
                snapshot = referral.invitations[eid].snapshot
                out[eid] = Standing(admitted=False, competency=snapshot.competency)
            else:
                out[eid] = Standing(admitted=s["admitted"], competency=s["competency"])
        return out

    # ----------------------------------------------------------------- referrals (§5)

    @rpc
    def create_referral(self, body: dict) -> dict:
        """``POST /referrals``: a draft owned by the caller's authority (§5), its weights
        resolved by scoring against the category's template (§6.1)."""
        spec = parse(ReferralCreate, body)
        principal = self._principal()
        category = self._category(spec.category)
        request = {
            "weights": spec.weights.model_dump() if spec.weights else None,
            "price_weight": spec.price_weight,
            "template": dict(category.referral_weights) or None,
            "has_needs": bool(spec.needs),
            "has_desirable": any(not f.must_have for f in spec.features),
        }
        weights = WeightsMsg.model_validate(
            remote("scoring", lambda: self.scoring().resolve_weights(request))
        )
        with self.db.uow() as uow:
            referral = Referral.create(
                principal, spec, weights, uow.now(), category_min_invited=category.min_invited
            )
            repo = store.Referrals(uow.session)
            repo.add(referral)
            _audit_change(uow, "referral.created", referral, None)
            self._save(uow, referral, repo)
            uow.commit()
        return referral.view_for(principal).model_dump(mode="json")

    @rpc
    def get_referral(self, referral_id: str) -> dict:
        """``GET /referrals/{id}``: the full record for the owner, the anonymised profile
        with its own invitations for an invited provider (§5, §10)."""
        principal = self._principal()
        return self._read(referral_id).view_for(principal).model_dump(mode="json")

    @rpc
    def list_referrals(self, query: dict | None = None) -> dict:
        """``GET /referrals``: the owner's authority's referrals, or a provider's invited
        ones, anonymised (§10); newest first, paged."""
        q = parse(ReferralQuery, query or {})
        principal = self._principal()
        role = principal.get("role")
        cursor = self._cursor(q.cursor)
        f = store.ListFilter(status=q.status, category=q.category)
        with self.db.uow() as uow:
            if role in ("commissioner", "lead"):
                authority = principal.get("authority") or LEAD_AUTHORITY
                rows = store.authority_page(uow.session, authority, f, cursor, q.limit)
                keyed = [((r["created_at"], r["id"]), self._summary(r)) for r in rows]
            elif role == "provider":
                referrals = store.provider_page(
                    uow.session, principal["provider_id"], f, cursor, q.limit
                )
                keyed = [
                    ((r.created_at, r.referral_id), r.view_for(principal).model_dump(mode="json"))
                    for r in referrals
                ]
            else:
                raise Forbidden(f"the {role} role does not read referrals")
        more = len(keyed) > q.limit
        keyed = keyed[: q.limit]
        last = keyed[-1][0] if more else None
        return {
            "items": [item for _, item in keyed],
            "next_cursor": paging.encode([last[0].isoformat(), last[1]]) if last else None,
        }

    @staticmethod
    def _cursor(value: str | None) -> tuple[datetime, str] | None:
        """The last item's ``[created_at, id]`` from a cursor this service issued."""
        key = paging.decode(value)
        if key is None:
            return None
        try:
            return datetime.fromisoformat(key[0]), str(key[1])
        except (TypeError, ValueError, IndexError, KeyError):
            raise InvalidInput.at(["query", "cursor"], "not a cursor from this API") from None

    @staticmethod
    def _summary(row: Mapping) -> dict:
        spec = row["spec"]
        return ReferralSummary(
            referral_id=row["id"],
            authority=row["authority"],
            category=row["category"],
            status=row["status"],
            child_reference=spec["child_reference"],
            radius_miles=row["radius_miles"],
            deadline=row["deadline"],
            created_at=row["created_at"],
            published_at=row["published_at"],
            closed_at=row["closed_at"],
            invited_count=row["invited_count"],
            bids_count=row["bids_count"],
            declines_count=row["declines_count"],
        ).model_dump(mode="json")

    @rpc
    def publish(self, referral_id: str, body: dict | None = None) -> dict:
        """``POST /referrals/{id}/publish`` (§5): invite every eligible establishment and
        snapshot what scoring needs; 409 with ``invited`` below the minimum."""
        request = parse(PublishRequest, body or {})
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            referral.authorise_owner(principal, "publish this referral")
            transition(referral.status, Status.PUBLISHED)  # a Conflict before asking anyone
            category = self._category(referral.category)
            eligible = self._eligible(referral, referral.spec.radius_miles)
            before = audit_referral(referral)
            result = referral.publish(
                principal,
                request,
                eligible,
                uow.now(),
                min_tender_period_hours=category.min_tender_period_hours,
            )
            _audit_change(
                uow,
                "referral.published",
                referral,
                before,
                invited_establishments=sorted(referral.invitations),
            )
        log.info("referral published", referral_id=referral.referral_id, invited=result.invited)
        return result.model_dump(mode="json")

    @rpc
    def widen_radius(self, referral_id: str, body: dict) -> dict:
        """``POST /referrals/{id}/radius`` (§5 widening): only wider after publishing;
        only the newcomers are invited and alerted."""
        request = parse(RadiusRequest, body)
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            eligible: list[EstablishmentSnapshot] = []
            if referral.check_widening(principal, request, uow.now()):
                eligible = self._eligible(referral, request.radius_miles)
            before = audit_referral(referral)
            known = set(referral.invitations)
            result = referral.widen_radius(principal, request, eligible, uow.now())
            _audit_change(
                uow,
                "referral.radius_changed",
                referral,
                before,
                newly_invited=sorted(set(referral.invitations) - known),
            )
        return result.model_dump(mode="json")

    @rpc
    def close(self, referral_id: str) -> dict:
        """``POST /referrals/{id}/close``: early only when every invited establishment has
        bid or declined; after the deadline at any time (§5)."""
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            now = uow.now()
            early = referral.check_closable(principal, now)
            before = audit_referral(referral)
            referral.close_early(principal, now, self._standings(referral))
            _audit_change(uow, "referral.closed", referral, before, early=early)
        assert referral.closed_at is not None
        return CloseResult(
            status=referral.status,
            closed_at=referral.closed_at,
            bids_count=len(referral.live_bidders()),
            early=early,
        ).model_dump(mode="json")

    @timer(interval=CLOSE_INTERVAL_SECONDS)
    def close_due_referrals(self) -> None:
        """§5 deadline, DESIGN rule 4: close published referrals whose deadline passed.
        One per transaction, ``FOR UPDATE SKIP LOCKED``; safe with several instances."""
        for _ in range(CLOSE_BATCH):
            try:
                if not self._close_one_due():
                    return
            except DomainError as exc:  # e.g. qualification down: try again next tick
                log.warning("closing a due referral failed; retrying later", error=str(exc))
                return

    def _close_one_due(self) -> bool:
        with self.db.uow() as uow:
            ids = store.due_referral_ids(uow.session, uow.now(), 1)
            if not ids:
                return False
            repo = store.Referrals(uow.session)
            referral = self._get(repo, ids[0])  # its row is locked by the query above
            before = audit_referral(referral)
            if referral.close_due(uow.now(), self._standings(referral)):
                _audit_change(uow, "referral.closed", referral, before, early=False, by="deadline")
                self._save(uow, referral, repo)
                uow.commit()
                log.info(
                    "referral closed at its deadline",
                    referral_id=referral.referral_id,
                    bids=len(referral.live_bidders()),
                )
        return True

    @rpc
    def cancel(self, referral_id: str, body: dict) -> dict:
        """``POST /referrals/{id}/cancel`` (§5): any time before award, with a reason."""
        request = parse(CancelRequest, body)
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            before = audit_referral(referral)
            referral.cancel(principal, request, uow.now())
            _audit_change(uow, "referral.cancelled", referral, before)
        assert referral.cancelled_at is not None
        return CancelResult(
            status=referral.status, reason=request.reason, cancelled_at=referral.cancelled_at
        ).model_dump(mode="json")

    # ----------------------------------------------------------------- bids (§5)

    def _bid_change(
        self, referral_id: str, bid_id: str | None, action: str, change: Callable
    ) -> dict:
        """A bid submitted, replaced or withdrawn by ``change(referral, principal, now)``,
        audited sealed (§5: its terms only as a SHA-256) as ``bid.<action>``."""
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            before = audit_bid(referral.bids.get(bid_id)) if bid_id else None
            bid = change(referral, principal, uow.now())
            uow.audit(
                f"bid.{action}",
                "bid",
                bid.bid_id,
                before,
                {"referral_id": referral.referral_id, **audit_bid(bid)},
            )
        return referral.bid_view(bid).model_dump(mode="json")

    @rpc
    def submit_bid(self, referral_id: str, body: dict) -> dict:
        """``POST /referrals/{id}/bids``: sealed; checked against the invitation's snapshot
        (a core head above the qualified amount → 422 naming it)."""
        terms = parse(BidCreate, body)
        return self._bid_change(
            referral_id, None, "submitted", lambda r, who, now: r.submit_bid(who, terms, now)
        )

    @rpc
    def replace_bid(self, referral_id: str, bid_id: str, body: dict) -> dict:
        """``PUT /referrals/{id}/bids/{bid_id}``: the bidder replaces it before the deadline."""
        terms = parse(BidCreate, body)
        return self._bid_change(
            referral_id,
            bid_id,
            "replaced",
            lambda r, who, now: r.replace_bid(who, bid_id, terms, now),
        )

    @rpc
    def withdraw_bid(self, referral_id: str, bid_id: str) -> dict:
        """``DELETE /referrals/{id}/bids/{bid_id}``: withdrawn before the deadline."""
        return self._bid_change(
            referral_id, bid_id, "withdrawn", lambda r, who, now: r.withdraw_bid(who, bid_id, now)
        )

    @rpc
    def list_bids(self, referral_id: str) -> dict:
        """``GET /referrals/{id}/bids``: the owner sees only ``count`` until the deadline,
        then every live bid; a provider its own bids only (§5 sealed, §10)."""
        principal = self._principal()
        with self.db.uow() as uow:
            referral = self._get(store.Referrals(uow.session), referral_id)
            view = referral.visible_bids(principal, uow.now())
        # sealed (§5): before the deadline the owner gets {count} only, a provider {items}
        return {k: v for k, v in view.model_dump(mode="json").items() if v is not None}

    # ----------------------------------------------------------------- clarifications (§5)

    @rpc
    def ask_question(self, referral_id: str, body: dict) -> dict:
        request = parse(QuestionCreate, body)
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            question = referral.ask_question(principal, request, uow.now())
            uow.audit(
                "question.asked",
                "question",
                question.question_id,
                None,
                {
                    "referral_id": referral.referral_id,
                    "establishment_id": question.establishment_id,
                },
            )
        return question.view(show_asker=True).model_dump(mode="json")

    @rpc
    def answer_question(self, referral_id: str, question_id: str, body: dict) -> dict:
        """§5: answered once; published to every invited establishment, asker hidden."""
        request = parse(AnswerCreate, body)
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            question = referral.answer_question(principal, question_id, request, uow.now())
            uow.audit(
                "question.answered",
                "question",
                question.question_id,
                {"answered": False},
                {
                    "referral_id": referral.referral_id,
                    "answered": True,
                    "recipients": len(referral.invitations),
                },
            )
        return question.view(show_asker=True).model_dump(mode="json")

    @rpc
    def list_questions(self, referral_id: str) -> dict:
        principal = self._principal()
        items = [
            q.model_dump(mode="json") for q in self._read(referral_id).questions_for(principal)
        ]
        return {"items": items, "next_cursor": None}

    # ----------------------------------------------------------------- declines (§5)

    @rpc
    def decline(self, referral_id: str, body: dict) -> dict:
        request = parse(DeclineCreate, body)
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            d = referral.decline(principal, request, uow.now())
            uow.audit(
                "invitation.declined",
                "referral",
                referral.referral_id,
                None,
                {
                    "establishment_id": d.establishment_id,
                    "reason_code": d.reason_code,
                    "note": d.note,
                },
            )
        return DeclineView(
            establishment_id=d.establishment_id,
            reason_code=d.reason_code,
            note=d.note,
            declined_at=d.declined_at,
        ).model_dump(mode="json")

    # ----------------------------------------------------------------- evaluation (§5, §6)

    @rpc
    def score_outcomes(self, referral_id: str, bid_id: str, body: dict) -> dict:
        """``POST …/bids/{bid_id}/outcome-scores``: an evaluator's 0–100 (§5)."""
        request = parse(OutcomeScoreCreate, body)
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            before = dict(referral.bids[bid_id].outcome_scores) if bid_id in referral.bids else None
            bid = referral.score_outcomes(principal, bid_id, request)
            uow.audit(
                "bid.outcome_scored",
                "bid",
                bid.bid_id,
                {"outcome_scores": before},
                {"referral_id": referral.referral_id, "outcome_scores": dict(bid.outcome_scores)},
            )
        scores = dict(bid.outcome_scores)
        mean = Decimal(sum(scores.values())) / len(scores)
        return OutcomeScoreView(
            bid_id=bid.bid_id, outcome_scores=scores, mean=round(mean, 2)
        ).model_dump(mode="json")

    @rpc
    def evaluate(self, referral_id: str) -> dict:
        """``POST /referrals/{id}/evaluate``: the scoring service ranks the bids (§6); the
        referral becomes evaluated, parent_choice or unsuccessful. Nothing is written
        unless scoring answers (503 otherwise; evaluating again later succeeds)."""
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            request = referral.scoring_request(principal)
            reply = remote(
                "scoring",
                lambda: self.scoring(referral.category).score(request.model_dump(mode="json")),
            )
            before = audit_referral(referral)
            evaluation = referral.apply_scoring(ScoringResult.model_validate(reply), uow.now())
            _audit_change(
                uow,
                "referral.evaluated",
                referral,
                before,
                shortlist=evaluation.shortlist,
                ranking=[
                    {
                        "bid_id": r.bid_id,
                        "compliant": r.compliant,
                        "total": r.total_exact,
                        "rank": r.rank,
                    }
                    for r in evaluation.ranking
                ],
            )
        return evaluation.model_dump(mode="json")

    @rpc
    def record_parent_choice(self, referral_id: str, body: dict) -> dict:
        """``POST /referrals/{id}/parent-choice`` (§6.4): a bid on the shortlist."""
        request = parse(ParentChoice, body)
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            before = audit_referral(referral)
            referral.record_parent_choice(principal, request)
            _audit_change(uow, "referral.parent_choice", referral, before, reason=request.reason)
        return ParentChoiceView(
            status=referral.status, bid_id=request.bid_id, reason=request.reason
        ).model_dump(mode="json")

    @rpc
    def award(self, referral_id: str, body: dict | None = None) -> dict:
        """``POST /referrals/{id}/award`` (§5, §6.4): to the top bid or the parents' choice;
        contracts creates the placement agreement under the returned ``placement_id``."""
        request = parse(AwardRequest, body or {})
        principal = self._principal()
        with self._changing(referral_id) as (uow, referral):
            before = audit_referral(referral)
            result = referral.award(principal, request, uow.now())
            _audit_change(uow, "referral.awarded", referral, before)
        return result.model_dump(mode="json")

    @rpc
    def feedback(self, referral_id: str) -> dict:
        """``GET /referrals/{id}/feedback``: a bidder's own feedback only (§5, §10)."""
        principal = self._principal()
        items = [f.model_dump(mode="json") for f in self._read(referral_id).feedback_for(principal)]
        return {"items": items, "next_cursor": None}

    # ----------------------------------------------------------------- direct placement (§5)

    @rpc
    def record_direct_placement(self, body: dict) -> dict:
        """``POST /direct-placements`` (§5, business case 8.10): a placement without a
        competition, at an establishment admitted in the category."""
        request = parse(DirectPlacementCreate, body)
        principal = self._principal()
        establishment = self._admitted_establishment(request.establishment_id, request.category)
        with self.db.uow() as uow:
            placement = DirectPlacement.record(
                principal,
                request,
                establishment.provider_id,
                uow.now(),
                establishment_name=establishment.name,
            )
            store.add_direct_placement(uow.session, placement)
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
                },
            )
            for event in placement.events:
                uow.emit(event)
            uow.commit()
        return DirectPlacementView(
            **request.model_dump(),
            direct_placement_id=placement.direct_placement_id,
            placement_id=placement.placement_id,
            authority=placement.authority,
            provider_id=placement.provider_id,
            establishment_name=establishment.name,
            recorded_at=placement.recorded_at,
        ).model_dump(mode="json")

    def _admitted_establishment(self, establishment_id: str, category: str) -> EstablishmentView:
        """The establishment, if admitted (not suspended) in the category (§4.5, §5)."""
        reply = remote(
            "qualification", lambda: self.qualification.get_establishment(establishment_id)
        )
        if reply is None:
            raise NotFound("establishment not found")
        establishment = EstablishmentView.model_validate(reply)
        if not any(
            m.category == category and m.status == "admitted" for m in establishment.memberships
        ):
            raise Conflict(f"the establishment is not admitted in {category} (§4.5, §5)")
        return establishment

    # ----------------------------------------------------------------- events (§4.5)

    @event_handler("qualification", "membership_suspended")
    def on_membership_suspended(self, payload: dict) -> None:
        """§4.5: a suspended membership's open bids are withdrawn, with the reason, and
        it may not bid again until reinstated (every authority's referrals)."""
        event = parse(MembershipSuspended, payload)
        reason = f"{event.criterion}: {event.reason}"
        with self.db.event_uow(payload, "on_membership_suspended") as uow:
            if uow.duplicate:
                return
            repo = store.Referrals(uow.session)
            for referral_id in store.open_referral_ids_inviting(
                uow.session, event.establishment_id, event.category
            ):
                referral = self._get(repo, referral_id, lock=True)
                live = {b.bid_id: audit_bid(b) for b in referral.bids.values() if b.live}
                withdrawn = referral.apply_suspension(
                    event.establishment_id, event.category, reason, uow.now()
                )
                uow.audit(
                    "invitation.suspended",
                    "referral",
                    referral_id,
                    {
                        "establishment_id": event.establishment_id,
                        "bids": [live[b] for b in withdrawn],
                    },
                    {
                        "establishment_id": event.establishment_id,
                        "reason": reason,
                        "withdrawn_bids": withdrawn,
                    },
                )
                self._save(uow, referral, repo)
                if withdrawn:
                    log.info(
                        "bids withdrawn on suspension", referral_id=referral_id, bids=withdrawn
                    )
            uow.commit()

    @event_handler("qualification", "membership_reinstated")
    def on_membership_reinstated(self, payload: dict) -> None:
        """§4.5: a reinstated membership may bid again on referrals still open."""
        event = parse(MembershipReinstated, payload)
        with self.db.event_uow(payload, "on_membership_reinstated") as uow:
            if uow.duplicate:
                return
            repo = store.Referrals(uow.session)
            for referral_id in store.open_referral_ids_inviting(
                uow.session, event.establishment_id, event.category
            ):
                referral = self._get(repo, referral_id, lock=True)
                referral.apply_reinstatement(event.establishment_id, event.category)
                uow.audit(
                    "invitation.reinstated",
                    "referral",
                    referral_id,
                    None,
                    {"establishment_id": event.establishment_id},
                )
                repo.save(referral)
            uow.commit()
