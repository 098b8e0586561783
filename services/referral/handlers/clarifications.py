"""Clarification and decline use cases (RULES §5): ask, answer once to everyone with the
asker hidden, read the questions; decline an invitation with a reason."""

from __future__ import annotations

from collections.abc import Mapping

from services.referral.handlers.shared import commit, load
from services.referral.messages import (
    AnswerCreate,
    DeclineCreate,
    DeclineView,
    QuestionCreate,
    QuestionView,
)


def ask_question(
    referral_id: str, request: QuestionCreate, uow, principal: Mapping
) -> QuestionView:
    """§5: an invited provider asks before the deadline."""
    referral = load(uow, referral_id, lock=True)
    question = referral.ask_question(principal, request, uow.now())
    uow.audit(
        "question.asked",
        "question",
        question.question_id,
        None,
        {"referral_id": referral.referral_id, "establishment_id": question.establishment_id},
    )
    commit(uow, referral)
    return question.view(show_asker=True)


def answer_question(
    referral_id: str, question_id: str, request: AnswerCreate, uow, principal: Mapping
) -> QuestionView:
    """§5: answered once; published to every invited establishment, asker hidden."""
    referral = load(uow, referral_id, lock=True)
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
    commit(uow, referral)
    return question.view(show_asker=True)


def list_questions(referral_id: str, uow, principal: Mapping) -> dict:
    """§5, §10: the owner sees every question; an invited provider the answered ones."""
    items = [q.model_dump(mode="json") for q in load(uow, referral_id).questions_for(principal)]
    return {"items": items, "next_cursor": None}


def decline(referral_id: str, request: DeclineCreate, uow, principal: Mapping) -> DeclineView:
    """§5: an invited establishment declines with a configured reason."""
    referral = load(uow, referral_id, lock=True)
    d = referral.decline(principal, request, uow.now())
    uow.audit(
        "invitation.declined",
        "referral",
        referral.referral_id,
        None,
        {"establishment_id": d.establishment_id, "reason_code": d.reason_code, "note": d.note},
    )
    commit(uow, referral)
    return DeclineView(
        establishment_id=d.establishment_id,
        reason_code=d.reason_code,
        note=d.note,
        declined_at=d.declined_at,
    )
