"""Parent choice, award and feedback (RULES §5, §6.4): the winner gets the full referral
and contracts the placement; every other bidder gets its own feedback."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.common.errors import Conflict, InvalidInput, NotFound
from services.referral import access
from services.referral.domain.lifecycle import Status, transition
from services.referral.domain.parts import (
    new_id,
    whole_miles,
)
from services.referral.domain.procurement import standstill_ends_on
from services.referral.messages import (
    AwardRequest,
    AwardResult,
    BidFeedback,
    FeedbackView,
    ParentChoice,
    ReferralAwarded,
)
from services.scoring.messages import (
    RankedBidMsg,
    ScoreInputsMsg,
)

LOWEST_PRICE = re.compile(r"lowest [£\d,.]+")
InsuranceCheck = Callable[[str], Any]
"""establishment id → its insurance status (``current``, ``reason``) at award (§11.2)."""


class Awarding:
    """Award of the ``Referral`` aggregate (a mixin of ``referral.Referral``)."""

    def record_parent_choice(self, principal: Mapping, request: ParentChoice) -> None:
        """§6.4: the commissioner records the parents' choice from the shortlist."""
        access.require_owner(principal, self, "record the parents' choice")
        if self.status != Status.PARENT_CHOICE:
            raise Conflict(f"no parent choice is needed; the referral is {self.status}")
        assert self.evaluation is not None
        if request.bid_id not in self.evaluation.shortlist:
            raise InvalidInput.at(["bid_id"], "must be a bid on the shortlist")
        self.parent_choice_bid_id = request.bid_id
        self.parent_choice_reason = request.reason

    def award_candidates(self, principal: Mapping) -> list[str]:
        """The establishments of the compliant bids, whose membership the service fetches
        now so that ``award`` can check the winner is still admitted (§5)."""
        access.require_owner(principal, self, "award this referral")
        if self.evaluation is None:
            return []
        return [r.establishment_id for r in self.evaluation.ranking if r.compliant]

    def _winner(
        self, request: AwardRequest, standing_now: Mapping[str, Mapping] | None
    ) -> RankedBidMsg:
        """§5, §6.4: the top-ranked bid, the parents' choice, or (``bid_id``) the next bid
        when every compliant bid ranked above it is no longer admitted."""
        if self.status == Status.PARENT_CHOICE:
            if self.parent_choice_bid_id is None:
                raise Conflict("record the parents' choice first (§6.4)")
            winner = self._ranked(self.parent_choice_bid_id)
            if request.bid_id is not None and request.bid_id != winner.bid_id:
                raise InvalidInput.at(["bid_id"], f"the award goes to bid {winner.bid_id}")
            return winner
        if self.status != Status.EVALUATED:
            raise Conflict(f"a {self.status} referral cannot be awarded")
        assert self.evaluation is not None
        compliant = [r for r in self.evaluation.ranking if r.compliant]
        if request.bid_id is None:
            return compliant[0]
        chosen = next((r for r in compliant if r.bid_id == request.bid_id), None)
        if chosen is None:
            raise InvalidInput.at(["bid_id"], "must be a compliant bid of this referral")
        for above in compliant[: compliant.index(chosen)]:
            if standing_now is None or _admitted(standing_now, above.establishment_id):
                raise InvalidInput.at(["bid_id"], f"the award goes to bid {above.bid_id}")
        return chosen

    def _refuse_if_not_admitted(
        self, winner: RankedBidMsg, standing_now: Mapping[str, Mapping]
    ) -> None:
        """§5: the winner's membership must still be admitted at the moment of award."""
        if _admitted(standing_now, winner.establishment_id):
            return
        assert self.evaluation is not None
        state = (standing_now.get(winner.establishment_id) or {}).get("status") or "not a member"
        name = self.invitations[winner.establishment_id].snapshot.name
        if self.status == Status.PARENT_CHOICE:
            then, next_bid = "record another parents' choice from the shortlist", None
        else:
            compliant = [r for r in self.evaluation.ranking if r.compliant]
            later = compliant[compliant.index(winner) + 1:]
            nxt = next((r for r in later if _admitted(standing_now, r.establishment_id)), None)
            next_bid = nxt.bid_id if nxt else None
            then = (
                f"award the next bid with bid_id {next_bid}"
                if next_bid
                else "no other compliant bid's establishment is admitted: cancel and re-run"
            )
        msg = (
            f"bid {winner.bid_id} cannot be awarded: the membership of {name} in "
            f"{self.category} is {state}, no longer admitted; {then}"
        )
        raise Conflict(
            msg,
            [{"loc": ["bid_id"], "msg": msg, "bid_id": winner.bid_id,
              "establishment_id": winner.establishment_id, "membership_status": state,
              "next_bid_id": next_bid}],
        )

    def award(
        self,
        principal: Mapping,
        request: AwardRequest,
        now: datetime,
        standing_now: Mapping[str, Mapping] | None = None,
        insurance: InsuranceCheck | None = None,
    ) -> AwardResult:
        """§5: award to the top-ranked bid, or to the parents' choice (§6.4); refused with
        the reason (409, nothing changed) when the winner's membership is no longer
        admitted, so that the next bid can be chosen. The winner gets the full referral
        (§5) and contracts the placement agreement (§7.1); every other bidder gets its
        feedback, all at this moment. ``standing_now``: each compliant bidder's membership
        now (``award_candidates``); ``None`` skips the check (tests of other rules).

        Under the Procurement Act 2023 (§11.2, s.36(2)) insurance is not a condition of
        membership but is checked here: ``insurance(establishment_id)`` tells whether the
        winner has current cover; without it the award is refused (409, the reason, the next
        bid named). A voluntary standstill (``standstill_working_days``, s.51(3)) gives
        ``standstill_ends_on``; the assessment summaries (s.50(3)) are released now."""
        access.require_owner(principal, self, "award this referral")
        winner = self._winner(request, standing_now)
        if standing_now is not None:
            self._refuse_if_not_admitted(winner, standing_now)
        regime = self.procurement.regime if self.procurement else None
        standstill = standstill_ends_on(now, request.standstill_working_days, regime or "")
        checked_at = None
        if self.procurement is not None and self.procurement.pa2023 and insurance is not None:
            self._refuse_without_insurance(winner, insurance(winner.establishment_id))
            checked_at = now
        assert self.evaluation is not None and self.published_at is not None
        self.status = transition(self.status, Status.AWARDED)
        self.awarded_at = now
        self.awarded_bid_id = winner.bid_id
        self.placement_id = new_id()
        bid = self.bids[winner.bid_id]
        snapshot = self.invitations[bid.establishment_id].snapshot
        self.events.append(
            ReferralAwarded(
                **self._head(now),
                placement_id=self.placement_id,
                bid_id=bid.bid_id,
                provider_id=bid.provider_id,
                establishment_id=bid.establishment_id,
                establishment_name=snapshot.name,
                contacts=snapshot.contacts,
                price=bid.price,
                proposed_start=bid.terms.proposed_start,
                incentive=self.spec.incentive,
                desired_outcomes=self.spec.desired_outcomes,
                published_at=self.published_at,
                awarded_at=now,
                bids_count=len(self.evaluation.ranking),
                compliant_bids_count=self._compliant_count(),
                winning_total=winner.total,
                parent_choice=self.evaluation.status == Status.PARENT_CHOICE,
                parent_choice_reason=self.parent_choice_reason,
                referral=self.anonymised_profile(),
                standstill_ends_on=standstill,
                summaries_released_at=now,
                insurance_checked_at=checked_at,
                **self._procurement_fields(),
            )
        )
        if self.procurement is not None:
            self.procurement = replace(
                self.procurement, standstill_ends_on=standstill, insurance_checked_at=checked_at,
                summaries_released_at=now)
        self._send_feedback(now)
        return AwardResult(placement_id=self.placement_id)

    def _refuse_without_insurance(self, winner: RankedBidMsg, cover) -> None:
        """§11.2, s.36(2): no award to a supplier without current insurance cover."""
        if cover.current:
            return
        assert self.evaluation is not None
        name = self.invitations[winner.establishment_id].snapshot.name
        compliant = [r for r in self.evaluation.ranking if r.compliant]
        later = compliant[compliant.index(winner) + 1:] if winner in compliant else []
        next_bid = later[0].bid_id if later and self.status != Status.PARENT_CHOICE else None
        msg = (f"bid {winner.bid_id} cannot be awarded: {name} has no current insurance cover "
               f"({cover.reason or 'none recorded'}); under the Procurement Act 2023 insurance "
               "is checked at award (s.36(2)): the provider records its cover, or "
               + (f"award the next bid with bid_id {next_bid}" if next_bid
                  else "choose another bid"))
        raise Conflict(msg, [{"loc": ["bid_id"], "msg": msg, "bid_id": winner.bid_id,
                              "establishment_id": winner.establishment_id,
                              "insurance": cover.reason, "next_bid_id": next_bid}])

    def _compliant_count(self) -> int:
        assert self.evaluation is not None
        return sum(r.compliant for r in self.evaluation.ranking)

    def _feedback(self, ranked: RankedBidMsg) -> FeedbackView:
        winner = self._ranked(self.awarded_bid_id) if self.awarded_bid_id else None
        return FeedbackView(
            bid_id=ranked.bid_id,
            establishment_id=ranked.establishment_id,
            awarded=ranked.bid_id == self.awarded_bid_id,
            compliant=ranked.compliant,
            reason=ranked.reason,
            rank=ranked.rank,
            total=ranked.total,
            subscores=ranked.subscores,
            weekly_price=ranked.weekly_price,
            compliant_bids_count=self._compliant_count(),
            winning_total=winner.total if winner else None,
            total_exact=ranked.total_exact,
            formula_version=self.evaluation.formula_version if self.evaluation else None,
            weights=self.evaluation.weights if self.evaluation else None,
            inputs=_provider_inputs(ranked.inputs),
            explanation=_provider_explanation(ranked),
            winning_subscores=winner.subscores if winner else None,
            released_at=self.awarded_at or self.evaluated_at,
        )

    def _send_feedback(self, now: datetime) -> None:
        """One ``bid_feedback`` event per bidder other than the winner (§5, §8)."""
        assert self.evaluation is not None
        for ranked in self.evaluation.ranking:
            if ranked.bid_id == self.awarded_bid_id:
                continue
            bid = self.bids[ranked.bid_id]
            self.events.append(
                BidFeedback(
                    **self._head(now),
                    provider_id=bid.provider_id,
                    contacts=self.invitations[bid.establishment_id].snapshot.contacts,
                    feedback=self._feedback(ranked),
                )
            )

    def feedback_for(self, principal: Mapping) -> list[FeedbackView]:
        """``GET /referrals/{id}/feedback`` (§5, §10): a bidder's own feedback only, once
        the referral is awarded or unsuccessful."""
        own = {i.establishment_id for i in access.invitations_of(principal, self)}
        if not own:
            raise access.refusal(principal, self, "read feedback")
        if self.status not in (Status.AWARDED, Status.UNSUCCESSFUL):
            raise Conflict(f"feedback is given after the award; the referral is {self.status}")
        assert self.evaluation is not None
        items = [self._feedback(r) for r in self.evaluation.ranking if r.establishment_id in own]
        if not items:
            raise NotFound("no feedback: none of your establishments bid")
        return items


def _admitted(standing_now: Mapping[str, Mapping], establishment_id: str) -> bool:
    standing = standing_now.get(establishment_id)
    return bool(standing and standing.get("admitted"))


def _provider_explanation(ranked: RankedBidMsg) -> dict[str, str]:
    """The bid's own explanation as recorded at evaluation (issue 15), its location line
    with the distance in whole miles, as every distance a provider sees, and its price line
    without the lowest compliant price, which may be the winner's (§5: never the winner's
    prices)."""
    explanation = dict(ranked.explanation)
    if "P" in explanation:
        explanation["P"] = LOWEST_PRICE.sub("the lowest compliant price", explanation["P"])
    if ranked.inputs is not None and "L" in explanation:
        exact = f"{ranked.inputs.distance_miles} miles"
        whole = f"{whole_miles(ranked.inputs.distance_miles)} whole miles"
        explanation["L"] = explanation["L"].replace(exact, whole)
    return explanation


def _provider_inputs(inputs: ScoreInputsMsg | None) -> ScoreInputsMsg | None:
    """A bidder's own inputs (issue 15) with the distance in whole miles, as every figure a
    provider sees (``domain`` docstring): the same §6.3 band, so the same location points,
    without narrowing down where the child lives."""
    if inputs is None:
        return None
    return inputs.model_copy(update={"distance_miles": Decimal(whole_miles(inputs.distance_miles))})
