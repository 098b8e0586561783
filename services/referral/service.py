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

from services.common.audit_rpc import AuditRpc
from services.common.runtime import (
    Config,
    Database,
    RequestContext,
    consumes,
    rpc,
    timer_from,
)
from services.common.validation import parse
from services.contracts.messages import PlacementEnded, ReferralPlacedInBlock
from services.qualification.messages import MembershipReinstated, MembershipSuspended
from services.referral import store
from services.referral.config import ReferralConfig
from services.referral.handlers import (
    attachments,
    bids,
    clarifications,
    direct_placements,
    editing,
    evaluation,
    membership,
    personal_data,
    referrals,
)
from services.referral.messages import (
    AnswerCreate,
    AttachmentUpload,
    AwardRequest,
    BidCreate,
    CancelRequest,
    ChildReferenceRequest,
    CopyRequest,
    DeadlineRequest,
    DeclineCreate,
    DirectPlacementCreate,
    ErasureRequest,
    LegalHoldRequest,
    OutcomeScoreCreate,
    ParentChoice,
    PublishRequest,
    QuestionCreate,
    RadiusRequest,
    ReferralCreate,
    ReferralQuery,
    ReferralUpdate,
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
        return dump(self.db.run(
            referrals.create_referral, parse(ReferralCreate, body), also=(self._peers(),)
        ))

    @rpc
    def get_referral(self, referral_id: str) -> dict:
        return dump(self.db.run(referrals.get_referral, referral_id))

    @rpc
    def list_referrals(self, query: dict | None = None) -> dict:
        return self.db.run(referrals.list_referrals, parse(ReferralQuery, query or {}))

    @rpc
    def publish(self, referral_id: str, body: dict | None = None) -> dict:
        return dump(self.db.run(
            referrals.publish, referral_id, parse(PublishRequest, body or {}), also=(self._peers(),)
        ))

    @rpc
    def widen_radius(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(
            referrals.widen_radius, referral_id, parse(RadiusRequest, body), also=(self._peers(),)
        ))

    @rpc
    def close(self, referral_id: str) -> dict:
        return dump(self.db.run(referrals.close, referral_id, also=(self._peers(),)))

    @timer_from(ReferralConfig, "referral_close_interval_seconds")
    def close_due_referrals(self) -> None:
        referrals.close_due_referrals(self.db.uow, self._peers(), self.config.referral_close_batch)

    @rpc
    def edit_draft(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(
            editing.edit_draft, referral_id, parse(ReferralUpdate, body), also=(self._peers(),)
        ))

    @rpc
    def extend_deadline(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(
            editing.extend_deadline, referral_id, parse(DeadlineRequest, body)
        ))

    @rpc
    def copy_referral(self, referral_id: str, body: dict | None = None) -> dict:
        return dump(self.db.run(
            editing.copy_referral, referral_id, parse(CopyRequest, body or {})
        ))

    @rpc
    def cancel(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(referrals.cancel, referral_id, parse(CancelRequest, body)))

    # ----------------------------------------------------------------- bids (§5)

    @rpc
    def submit_bid(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(bids.submit_bid, referral_id, parse(BidCreate, body)))

    @rpc
    def replace_bid(self, referral_id: str, bid_id: str, body: dict) -> dict:
        return dump(self.db.run(bids.replace_bid, referral_id, bid_id, parse(BidCreate, body)))

    @rpc
    def withdraw_bid(self, referral_id: str, bid_id: str) -> dict:
        return dump(self.db.run(bids.withdraw_bid, referral_id, bid_id))

    @rpc
    def list_bids(self, referral_id: str) -> dict:
        return self.db.run(bids.list_bids, referral_id)

    # ----------------------------------------------------------------- clarifications (§5)

    @rpc
    def ask_question(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(
            clarifications.ask_question, referral_id, parse(QuestionCreate, body)
        ))

    @rpc
    def answer_question(self, referral_id: str, question_id: str, body: dict) -> dict:
        return dump(self.db.run(
            clarifications.answer_question, referral_id, question_id, parse(AnswerCreate, body)
        ))

    @rpc
    def list_questions(self, referral_id: str) -> dict:
        return self.db.run(clarifications.list_questions, referral_id)

    @rpc
    def decline(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(clarifications.decline, referral_id, parse(DeclineCreate, body)))

    # ----------------------------------------------------------------- evaluation (§5, §6)

    @rpc
    def score_outcomes(self, referral_id: str, bid_id: str, body: dict) -> dict:
        return dump(self.db.run(
            evaluation.score_outcomes, referral_id, bid_id, parse(OutcomeScoreCreate, body)
        ))

    @rpc
    def evaluate(self, referral_id: str) -> dict:
        return dump(self.db.run(evaluation.evaluate, referral_id, also=(self._peers(),)))

    @rpc
    def evaluation(self, referral_id: str) -> dict:
        return dump(self.db.run(evaluation.evaluation_record, referral_id))

    @rpc
    def record_parent_choice(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(
            evaluation.record_parent_choice, referral_id, parse(ParentChoice, body)
        ))

    @rpc
    def award(self, referral_id: str, body: dict | None = None) -> dict:
        return dump(self.db.run(
            evaluation.award, referral_id, parse(AwardRequest, body or {}), also=(self._peers(),)
        ))

    @rpc
    def feedback(self, referral_id: str) -> dict:
        return self.db.run(evaluation.feedback, referral_id)

    # ----------------------------------------------------------------- personal data (§13)

    @rpc
    def child_data(self, referral_id: str) -> dict:
        return dump(self.db.run(personal_data.child_data, referral_id))

    @rpc
    def erase_child_data(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(personal_data.erase, referral_id, parse(ErasureRequest, body)))

    @rpc
    def add_attachment(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(attachments.upload, referral_id, parse(AttachmentUpload, body)))

    @rpc
    def list_attachments(self, referral_id: str) -> dict:
        return dump(self.db.run(attachments.list_attachments, referral_id))

    @rpc
    def get_attachment(self, referral_id: str, attachment_id: str) -> dict:
        return dump(self.db.run(attachments.download, referral_id, attachment_id))

    @rpc
    def export_child(self, body: dict) -> dict:
        return dump(self.db.run(personal_data.export_child, parse(ChildReferenceRequest, body)))

    @rpc
    def erase_child(self, body: dict) -> dict:
        return dump(self.db.run(personal_data.erase_child, parse(ChildReferenceRequest, body)))

    @timer_from(ReferralConfig, "retention_interval_seconds")
    def erase_expired_child_data(self) -> None:
        personal_data.erase_expired(self.db.uow, self.config, self.config.authorities)

    @rpc
    def place_legal_hold(self, referral_id: str, body: dict) -> dict:
        return dump(self.db.run(
            personal_data.place_legal_hold, referral_id, parse(LegalHoldRequest, body)
        ))

    @rpc
    def lift_legal_hold(self, referral_id: str) -> dict:
        return dump(self.db.run(personal_data.lift_legal_hold, referral_id))

    @rpc
    def direct_placement_child(self, direct_placement_id: str) -> dict:
        return dump(self.db.run(personal_data.direct_placement_child, direct_placement_id))

    @rpc
    def place_direct_placement_hold(self, direct_placement_id: str, body: dict) -> dict:
        return dump(self.db.run(
            personal_data.place_direct_placement_hold, direct_placement_id,
            parse(LegalHoldRequest, body),
        ))

    @rpc
    def lift_direct_placement_hold(self, direct_placement_id: str) -> dict:
        return dump(self.db.run(personal_data.lift_direct_placement_hold, direct_placement_id))

    # ----------------------------------------------------------------- direct placement (§5)

    @rpc
    def record_direct_placement(self, body: dict) -> dict:
        request = parse(DirectPlacementCreate, body)
        return dump(self.db.run(
            direct_placements.record_direct_placement, request, also=(self._peers(),)
        ))

    # ----------------------------------------------------------------- events (§4.5)

    @consumes("qualification", "membership_suspended", MembershipSuspended)
    def on_membership_suspended(self, uow, event: MembershipSuspended) -> None:
        membership.membership_suspended(event, uow)

    @consumes("qualification", "membership_reinstated", MembershipReinstated)
    def on_membership_reinstated(self, uow, event: MembershipReinstated) -> None:
        membership.membership_reinstated(event, uow)

    @consumes("contracts", "placement_ended", PlacementEnded)
    def on_placement_ended(self, uow, event: PlacementEnded) -> None:
        personal_data.placement_ended(event, uow)

    @consumes("contracts", "referral_placed_in_block", ReferralPlacedInBlock)
    def on_placed_in_block(self, uow, event: ReferralPlacedInBlock) -> None:
        membership.placed_in_block(event, uow)
