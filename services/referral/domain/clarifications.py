"""Clarification questions (RULES §5): asked by an invited provider before the deadline,
answered once by the owner, published to every invited establishment with the asker hidden."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.common.errors import Conflict, NotFound
from services.referral import access
from services.referral.domain.parts import (
    Question,
    new_id,
)
from services.referral.messages import (
    AnswerCreate,
    QuestionAnswered,
    QuestionCreate,
    QuestionView,
)


class Clarifications:
    """Clarifications on the ``Referral`` aggregate (a mixin of ``referral.Referral``)."""

    def ask_question(self, principal: Mapping, request: QuestionCreate, now: datetime) -> Question:
        """§5: an invited provider asks before the deadline."""
        invitation = access.require_invited(principal, self, request.establishment_id, "ask")
        self._require_open(now)
        question = Question(
            question_id=new_id(),
            establishment_id=invitation.establishment_id,
            provider_id=invitation.provider_id,
            text=request.question,
            asked_at=now,
        )
        self.questions[question.question_id] = question
        return question

    def answer_question(
        self, principal: Mapping, question_id: str, request: AnswerCreate, now: datetime
    ) -> Question:
        """§5: the owner answers once; the answer goes to every invited establishment with
        the question anonymised (optionally reworded by the owner)."""
        access.require_owner(principal, self, "answer questions")
        question = self.questions.get(question_id)
        if question is None:
            raise NotFound("question not found")
        self._require_open(now)
        if question.answer is not None:
            raise Conflict("the question has already been answered")
        question.answer = request.answer
        question.published_text = request.question or question.text
        question.answered_at = now
        self.events.append(
            QuestionAnswered(
                **self._head(now),
                question_id=question_id,
                question=question.published_text,
                answer=question.answer,
                recipients=self._notices(),
            )
        )
        return question

    def questions_for(self, principal: Mapping) -> list[QuestionView]:
        """§5: the owner sees every question and its asker; an invited provider sees every
        answered question (asker hidden unless itself) and its own unanswered ones."""
        if access.is_owner(principal, self):
            return [q.view(show_asker=True) for q in self.questions.values()]
        own = {i.establishment_id for i in access.invitations_of(principal, self)}
        if not own:
            raise access.refusal(principal, self, "read the questions")
        return [
            q.view(show_asker=q.establishment_id in own)
            for q in self.questions.values()
            if q.answer is not None or q.establishment_id in own
        ]
