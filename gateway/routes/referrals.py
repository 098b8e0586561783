"""Referrals, bids and scoring (API.md "Referrals, bids and scoring"; RULES §5, §6, §10).

The gateway authenticates, checks the role and validates the body with the referral
service's ``messages.py`` models; per-object rules (owner, invited provider, 404 where the
referral's existence would leak) are the referral service's. ``POST /scoring/preview`` goes
straight to the category's scoring service: a what-if with no side effects.
"""

from __future__ import annotations

from typing import Annotated

from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.app import call
from gateway.auth import require
from gateway.idempotency import idempotent
from services.referral.messages import (
    AnswerCreate,
    AwardRequest,
    AwardResult,
    BidCreate,
    BidsView,
    BidView,
    CancelRequest,
    CancelResult,
    CloseResult,
    CopyRequest,
    DeadlineRequest,
    DeadlineResult,
    DeclineCreate,
    DeclineView,
    DirectPlacementCreate,
    DirectPlacementView,
    EvaluationRecord,
    EvaluationView,
    FeedbackView,
    OutcomeScoreCreate,
    OutcomeScoreView,
    ParentChoice,
    ParentChoiceView,
    ProviderReferralView,
    PublishRequest,
    PublishResult,
    QuestionCreate,
    QuestionView,
    RadiusRequest,
    RadiusResult,
    ReferralCreate,
    ReferralQuery,
    ReferralSummary,
    ReferralUpdate,
    ReferralView,
)
from services.scoring.messages import ScoringRequest, ScoringResult, scoring_service_name

bp = APIBlueprint(
    "referrals",
    __name__,
    url_prefix="/api/v1",
    abp_tags=[Tag(name="referrals", description="RULES §5, §6")],
    abp_security=[{"bearer": []}],
)

OWNER = ("commissioner", "lead")  # §10: the lead acts as a commissioner of WSCC
READERS = ("commissioner", "lead", "provider")

Id = Annotated[str, Field(min_length=1, max_length=100)]


class ReferralPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    referral_id: Id


class BidPath(ReferralPath):
    bid_id: Id


class QuestionPath(ReferralPath):
    question_id: Id


class Page(BaseModel):
    items: list[ReferralSummary] | list[ProviderReferralView]
    next_cursor: str | None


class QuestionsPage(BaseModel):
    items: list[QuestionView]
    next_cursor: str | None


class FeedbackPage(BaseModel):
    items: list[FeedbackView]
    next_cursor: str | None


class _MayBeOmitted(BaseModel):
    """A body that may be left out entirely (``publish``, ``award``)."""

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, data):
        return {} if data is None else data


class PublishBody(_MayBeOmitted, PublishRequest):
    """``{"accept_fewer": true}`` or no body at all."""


class CopyBody(_MayBeOmitted, CopyRequest):
    """``{"deadline": "…"}`` or no body at all (the original's tender period from now)."""


class AwardBody(_MayBeOmitted, AwardRequest):
    """``{"bid_id": "…"}`` or no body at all (the top bid, or the parents' choice)."""


# --------------------------------------------------------------------------- referrals


@bp.post("/referrals", responses={201: ReferralView})
@require(*OWNER)
@idempotent
def create_referral(body: ReferralCreate):
    """Create a draft referral for the caller's own authority (§5)."""
    return call("referral", "create_referral", body.model_dump(mode="json")), 201


@bp.get("/referrals", responses={200: Page})
@require(*READERS)
def list_referrals(query: ReferralQuery):
    """Own authority's referrals (commissioner, lead), or the ones a provider is invited to,
    anonymised (§10). Filters ``status``, ``category``; ``?limit=&cursor=``."""
    return call("referral", "list_referrals", query.model_dump(mode="json", exclude_none=True))


@bp.get("/referrals/<referral_id>", responses={200: ReferralView})
@require(*READERS)
def get_referral(path: ReferralPath):
    """The full record for the owner; for an invited provider the anonymised profile with
    ``distance_miles`` per invited establishment of its own, never the child reference,
    home location or names (§5, §10). Anyone else: 404."""
    return call("referral", "get_referral", path.referral_id)


@bp.patch("/referrals/<referral_id>", responses={200: ReferralView})
@require(*OWNER)
def edit_referral(path: ReferralPath, body: ReferralUpdate):
    """Edit a draft in full (§5): the fields given replace the draft's, ``null`` clears an
    optional one; 409 once published. The deadline is checked against the category's
    minimum tender period at publishing."""
    return call("referral", "edit_draft", path.referral_id,
                body.model_dump(mode="json", exclude_unset=True))


@bp.post("/referrals/<referral_id>/deadline", responses={200: DeadlineResult})
@require(*OWNER)
@idempotent
def extend_deadline(path: ReferralPath, body: DeadlineRequest):
    """Move the deadline later (never earlier, never after it passed); every invited
    establishment is told (§5, §8)."""
    return call("referral", "extend_deadline", path.referral_id, body.model_dump(mode="json"))


@bp.post("/referrals/<referral_id>/copy", responses={201: ReferralView})
@require(*OWNER)
@idempotent
def copy_referral(path: ReferralPath, body: CopyBody):
    """Re-run: a new draft from an unsuccessful or cancelled referral (§5)."""
    return call("referral", "copy_referral", path.referral_id,
                body.model_dump(mode="json")), 201


@bp.post("/referrals/<referral_id>/publish", responses={200: PublishResult})
@require(*OWNER)
@idempotent
def publish(path: ReferralPath, body: PublishBody):
    """Invite every eligible establishment (§5) → ``{status, invited}``; 409 with
    ``invited`` (and ``min_invited``) below the minimum unless ``{"accept_fewer": true}``."""
    return call("referral", "publish", path.referral_id, body.model_dump(mode="json"))


@bp.post("/referrals/<referral_id>/radius", responses={200: RadiusResult})
@require(*OWNER)
@idempotent
def widen_radius(path: ReferralPath, body: RadiusRequest):
    """Widen the radius (only wider once published) → ``{invited_total, newly_invited,
    deadline, deadline_moved, note}``: the deadline moves out where a newcomer would get
    less than the minimum tender period (§5)."""
    return call("referral", "widen_radius", path.referral_id, body.model_dump(mode="json"))


@bp.post("/referrals/<referral_id>/close", responses={200: CloseResult})
@require(*OWNER)
@idempotent
def close(path: ReferralPath):
    """Close early, only when every invited establishment has bid or declined (§5)."""
    return call("referral", "close", path.referral_id)


@bp.post("/referrals/<referral_id>/cancel", responses={200: CancelResult})
@require(*OWNER)
@idempotent
def cancel(path: ReferralPath, body: CancelRequest):
    """Cancel before award, with a reason (§5)."""
    return call("referral", "cancel", path.referral_id, body.model_dump(mode="json"))


# --------------------------------------------------------------------------- bids


@bp.post("/referrals/<referral_id>/bids", responses={201: BidView})
@require("provider")
@idempotent
def submit_bid(path: ReferralPath, body: BidCreate):
    """A sealed bid for an invited establishment (§5): 422 naming a core head above the
    qualified amount; 409 after the deadline."""
    return call("referral", "submit_bid", path.referral_id, body.model_dump(mode="json")), 201


@bp.put("/referrals/<referral_id>/bids/<bid_id>", responses={200: BidView})
@require("provider")
def replace_bid(path: BidPath, body: BidCreate):
    """Replace the bidder's own bid before the deadline (§5)."""
    return call(
        "referral", "replace_bid", path.referral_id, path.bid_id, body.model_dump(mode="json")
    )


@bp.delete("/referrals/<referral_id>/bids/<bid_id>", responses={200: BidView})
@require("provider")
def withdraw_bid(path: BidPath):
    """Withdraw the bidder's own bid before the deadline (§5)."""
    return call("referral", "withdraw_bid", path.referral_id, path.bid_id)


@bp.get("/referrals/<referral_id>/bids", responses={200: BidsView})
@require(*READERS)
def list_bids(path: ReferralPath):
    """Owner: ``{count}`` only before the deadline, every live bid after it; provider: its
    own bids only (§5 sealed bids, §10)."""
    return call("referral", "list_bids", path.referral_id)


@bp.post("/referrals/<referral_id>/bids/<bid_id>/outcome-scores", responses={201: OutcomeScoreView})
@require(*OWNER)
@idempotent
def score_outcomes(path: BidPath, body: OutcomeScoreCreate):
    """An evaluator's score 0–100 of a compliant bid's outcomes statement (§5)."""
    return call(
        "referral", "score_outcomes", path.referral_id, path.bid_id, body.model_dump(mode="json")
    ), 201


# --------------------------------------------------------------------------- clarifications


@bp.post("/referrals/<referral_id>/questions", responses={201: QuestionView})
@require("provider")
@idempotent
def ask_question(path: ReferralPath, body: QuestionCreate):
    """An invited provider asks before the deadline (§5)."""
    return call("referral", "ask_question", path.referral_id, body.model_dump(mode="json")), 201


@bp.post("/referrals/<referral_id>/questions/<question_id>/answer", responses={200: QuestionView})
@require(*OWNER)
@idempotent
def answer_question(path: QuestionPath, body: AnswerCreate):
    """Answered once and published to every invited establishment, asker anonymised (§5)."""
    return call(
        "referral",
        "answer_question",
        path.referral_id,
        path.question_id,
        body.model_dump(mode="json"),
    )


@bp.get("/referrals/<referral_id>/questions", responses={200: QuestionsPage})
@require(*READERS)
def list_questions(path: ReferralPath):
    """Every answered question (and a provider's own unanswered ones) (§5)."""
    return call("referral", "list_questions", path.referral_id)


@bp.post("/referrals/<referral_id>/declines", responses={201: DeclineView})
@require("provider")
@idempotent
def decline(path: ReferralPath, body: DeclineCreate):
    """Decline an invitation with a reason from the configured list (§5)."""
    return call("referral", "decline", path.referral_id, body.model_dump(mode="json")), 201


# --------------------------------------------------------------------------- evaluation, award


@bp.post("/referrals/<referral_id>/evaluate", responses={200: EvaluationView})
@require(*OWNER)
@idempotent
def evaluate(path: ReferralPath):
    """Score and rank the bids (§6) → ``{status, ranking, shortlist}``; 503 (and nothing
    recorded) while the scoring service is down."""
    return call("referral", "evaluate", path.referral_id)


@bp.get("/referrals/<referral_id>/evaluation", responses={200: EvaluationRecord})
@require(*OWNER, "auditor")
def evaluation(path: ReferralPath):
    """The stored evaluation with every bid's inputs as data (§6, issue 15): the weights,
    the lowest compliant weekly price and, per bid, its weekly price after the discount,
    competency at the deadline, exact distance, evaluator scores, marks of needs and
    desirable features met out of all, final submission time, sub-scores, ``total_exact``
    (an exact fraction) and rank; the shortlist and the formula version. Exactly what was
    applied, never recomputed. Owner commissioner, lead (for WSCC) and auditor (any
    authority); `409` before evaluation. `dps evaluation replay ID` recomputes it."""
    return call("referral", "evaluation", path.referral_id)


@bp.post("/referrals/<referral_id>/parent-choice", responses={200: ParentChoiceView})
@require(*OWNER)
@idempotent
def parent_choice(path: ReferralPath, body: ParentChoice):
    """Record the parents' choice from the shortlist (§6.4)."""
    return call("referral", "record_parent_choice", path.referral_id, body.model_dump(mode="json"))


@bp.post("/referrals/<referral_id>/award", responses={200: AwardResult})
@require(*OWNER)
@idempotent
def award(path: ReferralPath, body: AwardBody):
    """Award to the top bid or the parents' choice (§5, §6.4) → ``{placement_id}``. A
    winner whose membership is no longer admitted is refused (409 naming the reason and
    ``next_bid_id``, nothing changed); then ``{"bid_id": next}`` awards the next bid."""
    return call("referral", "award", path.referral_id, body.model_dump(mode="json"))


@bp.get("/referrals/<referral_id>/feedback", responses={200: FeedbackPage})
@require("provider")
def feedback(path: ReferralPath):
    """A bidder's assessment summary (§5, §11.3): its own sub-scores with explanations,
    its rank, the number of compliant bids and the winning bid's total and sub-scores
    (never its prices or statements); all released at the award."""
    return call("referral", "feedback", path.referral_id)


@bp.post("/scoring/preview", responses={200: ScoringResult})
@require(*OWNER)
def scoring_preview(body: ScoringRequest):
    """What-if scoring of a hypothetical set of bids for a referral spec (§6); nothing is
    recorded."""
    return call(scoring_service_name(body.category), "score", body.model_dump(mode="json"))


@bp.post("/direct-placements", responses={201: DirectPlacementView})
@require(*OWNER)
@idempotent
def direct_placement(body: DirectPlacementCreate):
    """Record a placement without a competition, with a reason from the configured list
    (§5, business case 8.10); contracts creates the placement agreement."""
    return call("referral", "record_direct_placement", body.model_dump(mode="json")), 201
