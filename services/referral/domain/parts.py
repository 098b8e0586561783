"""The parts of a referral (RULES §5): invitations with their snapshot, bids, clarification
questions and declines, and small helpers the aggregate's modules share.

Pure: plain dataclasses, no I/O.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from services.common.errors import InvalidInput
from services.referral.messages import (
    BidCreate,
    EstablishmentSnapshot,
    InvitationNotice,
    PriceBreakdown,
    QuestionView,
    Standing,
)

DEFAULT_MIN_INVITED = 3  # §5
DEFAULT_MIN_TENDER_PERIOD_HOURS = 24  # §5
OTHER = "other"
DECLINE_REASONS = ("no_capacity", "cannot_meet_needs", "location", OTHER)  # §5
SUBMITTED, WITHDRAWN = "submitted", "withdrawn"


def whole_miles(distance: Decimal) -> int:
    """Distance shown to providers (§5): rounded down, so it lies in the scored §6.3 band."""
    return math.floor(distance)


def new_id() -> str:
    return str(uuid.uuid4())


def raise_all(errors: list[dict]) -> None:
    """One ``InvalidInput`` naming every faulty field."""
    if errors:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
        raise InvalidInput(detail, errors)


def code_errors(field_name: str, given: Sequence[str], known: set[str]) -> list[dict]:
    errors, seen = [], set()
    for i, code in enumerate(given):
        if code not in known:
            errors.append({"loc": [field_name, i], "msg": f"{code!r} is not in the referral"})
        elif code in seen:
            errors.append({"loc": [field_name, i], "msg": f"{code!r} is given twice"})
        seen.add(code)
    return errors


def check_reason(code: str, reasons: Sequence[str]) -> None:
    if code not in reasons:
        raise InvalidInput.at(["reason_code"], f"must be one of {', '.join(reasons)}")


@dataclass
class Invitation:
    """An invited establishment (§5) with the snapshot scoring needs, taken at invitation."""

    snapshot: EstablishmentSnapshot
    invited_at: datetime
    suspended_reason: str | None = None

    @property
    def establishment_id(self) -> str:
        return self.snapshot.establishment_id

    @property
    def provider_id(self) -> str:
        return self.snapshot.provider_id

    def notice(self) -> InvitationNotice:
        s = self.snapshot
        return InvitationNotice(
            establishment_id=s.establishment_id,
            provider_id=s.provider_id,
            name=s.name,
            distance_miles=whole_miles(s.distance_miles),
            contacts=s.contacts,
        )


@dataclass
class Bid:
    """One establishment's bid (§5). ``submitted_at`` is the final submission (§6.3 ties);
    ``outcome_scores`` maps evaluator → 0–100; ``standing`` is recorded at close."""

    bid_id: str
    provider_id: str
    terms: BidCreate
    price: PriceBreakdown
    submitted_at: datetime
    status: str = SUBMITTED
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = None
    outcome_scores: dict[str, int] = field(default_factory=dict)
    standing: Standing | None = None

    @property
    def establishment_id(self) -> str:
        return self.terms.establishment_id

    @property
    def live(self) -> bool:
        return self.status == SUBMITTED


@dataclass
class Question:
    """A clarification (§5). ``published_text`` is the anonymised wording, set on answer."""

    question_id: str
    establishment_id: str
    provider_id: str
    text: str
    asked_at: datetime
    answer: str | None = None
    published_text: str | None = None
    answered_at: datetime | None = None

    def view(self, show_asker: bool) -> QuestionView:
        return QuestionView(
            question_id=self.question_id,
            question=self.published_text or self.text,
            answer=self.answer,
            asked_at=self.asked_at,
            answered_at=self.answered_at,
            establishment_id=self.establishment_id if show_asker else None,
        )


@dataclass
class Decline:
    """A declined invitation (§5), kept for benchmarking of market capacity (§7.6)."""

    establishment_id: str
    provider_id: str
    reason_code: str
    note: str | None
    declined_at: datetime
