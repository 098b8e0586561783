"""referral service: nameko entrypoints for referrals, bids and awards (RULES §5, §6.4).

Entrypoints only: each parses its argument with ``messages.py``, opens a unit of work
(``uow.store`` is ``store.Store``), calls the use case in ``handlers/`` with the caller's
principal (the gateway has already checked the role; per-object access, §10, is
``access.py``'s) and returns the dump. Calls to qualification and scoring go through
``peers.Peers`` (timeouts become 503 naming the service).

Time-driven (DESIGN rule 4): ``close_due_referrals`` is a nameko timer
(``DPS_REFERRAL_CLOSE_INTERVAL_SECONDS``, default 2) that closes published referrals whose
deadline has passed, one per transaction, ``DPS_REFERRAL_CLOSE_BATCH`` per tick.

Events consumed (``@consumes``: parse, claim once, commit): qualification's
``membership_suspended`` withdraws that establishment's open bids in its category with the
reason (§4.5); ``membership_reinstated`` lets it bid again.

Settings: ``config.ReferralConfig``.
"""

from __future__ import annotations

from nameko.rpc import RpcProxy
from pydantic import BaseModel

from services.common.runtime import (
    AuditRpc,
    Config,
    Database,
    RequestContext,
    consumes,
    rpc,
    timer_from,
)
from services.common.validation import parse
from services.qualification.messages import MembershipReinstated, MembershipSuspended
from services.referral import store
from services.referral.config import ReferralConfig
from services.referral.handlers import (
    bids,
    clarifications,
    direct_placements,
    evaluation,
    membership,
    referrals,
)
from services.referral.messages import (
    AnswerCreate,
    AwardRequest,
    BidCreate,
    CancelRequest,
    DeclineCreate,
    DirectPlacementCreate,
    OutcomeScoreCreate,
    ParentChoice,
    PublishRequest,
    QuestionCreate,
    RadiusRequest,
    ReferralCreate,
    ReferralQuery,
)
from services.referral.peers import Peers, ScoringProxies


def dump(result) -> dict:
    return result.model_dump(mode="json") if isinstance(result, BaseModel) else result


class ReferralService(AuditRpc):
    name = "referral"

    ctx = RequestContext()
    config = Config(ReferralConfig)
    db = Database(store.metadata, store=store.Store)
    qualification = RpcProxy("qualification")
    scoring = ScoringProxies()

    def _peers(self) -> Peers:
        return Peers(self.qualification, self.scoring, self.config.referral_rpc_timeout_seconds)

    @rpc
    def ping(self) -> str:
        return "ok"

    # ----------------------------------------------------------------- referrals (§5)

    @rpc
    def create_referral(self, body: dict) -> dict:
        spec = parse(ReferralCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(referrals.create_referral(spec, uow, principal, self._peers()))

    @rpc
    def get_referral(self, referral_id: str) -> dict:
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(referrals.get_referral(referral_id, uow, principal))

    @rpc
    def list_referrals(self, query: dict | None = None) -> dict:
        q = parse(ReferralQuery, query or {})
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return referrals.list_referrals(q, uow, principal)

    @rpc
    def publish(self, referral_id: str, body: dict | None = None) -> dict:
        request = parse(PublishRequest, body or {})
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(referrals.publish(referral_id, request, uow, principal, self._peers()))

    @rpc
    def widen_radius(self, referral_id: str, body: dict) -> dict:
        request = parse(RadiusRequest, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            result = referrals.widen_radius(referral_id, request, uow, principal, self._peers())
        return dump(result)

    @rpc
    def close(self, referral_id: str) -> dict:
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(referrals.close(referral_id, uow, principal, self._peers()))

    @timer_from(ReferralConfig, "referral_close_interval_seconds")
    def close_due_referrals(self) -> None:
        referrals.close_due_referrals(self.db.uow, self._peers(), self.config.referral_close_batch)

    @rpc
    def cancel(self, referral_id: str, body: dict) -> dict:
        request = parse(CancelRequest, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(referrals.cancel(referral_id, request, uow, principal))

    # ----------------------------------------------------------------- bids (§5)

    @rpc
    def submit_bid(self, referral_id: str, body: dict) -> dict:
        terms = parse(BidCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(bids.submit_bid(referral_id, terms, uow, principal))

    @rpc
    def replace_bid(self, referral_id: str, bid_id: str, body: dict) -> dict:
        terms = parse(BidCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(bids.replace_bid(referral_id, bid_id, terms, uow, principal))

    @rpc
    def withdraw_bid(self, referral_id: str, bid_id: str) -> dict:
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(bids.withdraw_bid(referral_id, bid_id, uow, principal))

    @rpc
    def list_bids(self, referral_id: str) -> dict:
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return bids.list_bids(referral_id, uow, principal)

    # ----------------------------------------------------------------- clarifications (§5)

    @rpc
    def ask_question(self, referral_id: str, body: dict) -> dict:
        request = parse(QuestionCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(clarifications.ask_question(referral_id, request, uow, principal))

    @rpc
    def answer_question(self, referral_id: str, question_id: str, body: dict) -> dict:
        request = parse(AnswerCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            result = clarifications.answer_question(
                referral_id, question_id, request, uow, principal
            )
        return dump(result)

    @rpc
    def list_questions(self, referral_id: str) -> dict:
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return clarifications.list_questions(referral_id, uow, principal)

    @rpc
    def decline(self, referral_id: str, body: dict) -> dict:
        request = parse(DeclineCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(clarifications.decline(referral_id, request, uow, principal))

    # ----------------------------------------------------------------- evaluation (§5, §6)

    @rpc
    def score_outcomes(self, referral_id: str, bid_id: str, body: dict) -> dict:
        request = parse(OutcomeScoreCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            result = evaluation.score_outcomes(referral_id, bid_id, request, uow, principal)
        return dump(result)

    @rpc
    def evaluate(self, referral_id: str) -> dict:
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(evaluation.evaluate(referral_id, uow, principal, self._peers()))

    @rpc
    def record_parent_choice(self, referral_id: str, body: dict) -> dict:
        request = parse(ParentChoice, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(evaluation.record_parent_choice(referral_id, request, uow, principal))

    @rpc
    def award(self, referral_id: str, body: dict | None = None) -> dict:
        request = parse(AwardRequest, body or {})
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return dump(evaluation.award(referral_id, request, uow, principal))

    @rpc
    def feedback(self, referral_id: str) -> dict:
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            return evaluation.feedback(referral_id, uow, principal)

    # ----------------------------------------------------------------- direct placement (§5)

    @rpc
    def record_direct_placement(self, body: dict) -> dict:
        request = parse(DirectPlacementCreate, body)
        principal = self.ctx.require_principal()
        with self.db.uow() as uow:
            result = direct_placements.record_direct_placement(
                request, uow, principal, self._peers()
            )
        return dump(result)

    # ----------------------------------------------------------------- events (§4.5)

    @consumes("qualification", "membership_suspended", MembershipSuspended)
    def on_membership_suspended(self, uow, event: MembershipSuspended) -> None:
        membership.membership_suspended(event, uow)

    @consumes("qualification", "membership_reinstated", MembershipReinstated)
    def on_membership_reinstated(self, uow, event: MembershipReinstated) -> None:
        membership.membership_reinstated(event, uow)
