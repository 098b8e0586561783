"""Evaluation (RULES §5, §6): outcome scores, what the scoring service is asked, and the
ranking and shortlist it returns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.common.errors import Conflict, NotFound
from services.referral import access
from services.referral.domain.lifecycle import Status, transition
from services.referral.domain.parts import (
    Bid,
)
from services.referral.messages import (
    EvaluationRecord,
    EvaluationView,
    OutcomeScoreCreate,
    ParentChoiceRequired,
    ReferralUnsuccessful,
    ShortlistEntry,
    Standing,
)
from services.scoring.messages import (
    BidMsg,
    FeatureMsg,
    NeedMsg,
    RankedBidMsg,
    ScoringRequest,
    ScoringResult,
)


class Evaluation:
    """Evaluation of the ``Referral`` aggregate (a mixin of ``referral.Referral``)."""

    def _exclusions(self, bid: Bid) -> list[str]:
        """§6.2 non-compliance, known once closed: a missing must-have, or not admitted at
        the deadline. Scoring decides it again; here it only says which bids need scores."""
        met = set(bid.terms.features_met)
        reasons = [
            f"does not offer must-have feature {f.code}"
            for f in self.spec.features
            if f.must_have and f.code not in met
        ]
        if bid.standing is not None and not bid.standing.admitted:
            reasons.append("establishment not admitted in the category at the deadline")
        return reasons

    def score_outcomes(self, principal: Mapping, bid_id: str, request: OutcomeScoreCreate) -> Bid:
        """§5: an evaluator of the owning authority scores a compliant bid's outcomes
        statement 0–100 after the deadline; scoring again replaces its score."""
        access.require_owner(principal, self, "score bids")
        if self.status != Status.CLOSED:
            raise Conflict(
                f"outcome statements are scored while closed; the referral is {self.status}"
            )
        bid = self.bids.get(bid_id)
        if bid is None or not bid.live:
            raise NotFound("bid not found")
        reasons = self._exclusions(bid)
        if reasons:
            raise Conflict(f"a non-compliant bid is not scored: {'; '.join(reasons)}")
        bid.outcome_scores[request.evaluator] = request.score
        return bid

    def scoring_request(self, principal: Mapping) -> ScoringRequest:
        """§6: what the scoring service needs, for the owner's ``evaluate``. Every compliant
        bid needs an outcome score first, unless the outcomes weight is 0."""
        access.require_owner(principal, self, "evaluate this referral")
        if self.status != Status.CLOSED:
            raise Conflict(f"only a closed referral is evaluated; it is {self.status}")
        live = self._live_bids()
        if self.weights.O:
            unscored = [b.bid_id for b in live if not b.outcome_scores and not self._exclusions(b)]
            if unscored:
                raise Conflict(f"outcome statements not scored yet: bids {', '.join(unscored)}")
        return ScoringRequest(
            category=self.category,
            weights=self.weights,
            needs=[NeedMsg(**n.model_dump()) for n in self.spec.needs],
            features=[FeatureMsg(**f.model_dump()) for f in self.spec.features],
            bids=[self._scoring_bid(b) for b in live],
        )

    def _scoring_bid(self, bid: Bid) -> BidMsg:
        assert bid.standing is not None  # recorded at close
        return BidMsg(
            bid_id=bid.bid_id,
            establishment_id=bid.establishment_id,
            weekly_price=bid.price.weekly_price,
            competency=bid.standing.competency,
            distance_miles=self.invitations[bid.establishment_id].snapshot.distance_miles,
            outcome_scores=list(bid.outcome_scores.values()),
            needs_met=bid.terms.needs_met,
            features_met=bid.terms.features_met,
            admitted_at_deadline=bid.standing.admitted,
            submitted_at=bid.submitted_at,
        )

    def apply_scoring(self, result: ScoringResult, now: datetime) -> EvaluationView:
        """§6.3–§6.4: keep the ranking and shortlist; the referral becomes evaluated,
        parent_choice (shortlist of 2 or more) or unsuccessful (no compliant bid)."""
        if {r.bid_id for r in result.ranking} != {b.bid_id for b in self._live_bids()}:
            raise ValueError("the scoring result does not cover exactly the referral's bids")
        self.status = transition(self.status, Status(result.status))
        self.evaluated_at = now
        self.evaluation = EvaluationView(
            status=result.status,
            ranking=list(result.ranking),
            shortlist=list(result.shortlist),
            formula_version=result.formula_version,
            weights=result.weights,
            lowest_compliant_weekly_price=result.lowest_price,
        )
        if self.status == Status.PARENT_CHOICE:
            shortlist = [self._ranked(b) for b in result.shortlist]
            self.events.append(
                ParentChoiceRequired(
                    **self._head(now),
                    shortlist=[
                        ShortlistEntry(
                            bid_id=r.bid_id,
                            establishment_id=r.establishment_id,
                            name=self.invitations[r.establishment_id].snapshot.name,
                            total=r.total,
                            weekly_price=r.weekly_price,
                        )
                        for r in shortlist
                    ],
                )
            )
        elif self.status == Status.UNSUCCESSFUL:
            self.events.append(
                ReferralUnsuccessful(**self._head(now), bids_count=len(result.ranking),
                                     **self._procurement_fields())
            )
            self._send_feedback(now)
        return self.evaluation

    def evaluation_record(self, principal: Mapping) -> EvaluationRecord:
        """``GET /referrals/{id}/evaluation`` (§6, issue 15): the evaluation exactly as
        recorded, inputs included, for the owner or an auditor (§9)."""
        access.require_evaluation_reader(principal, self)
        e = self.evaluation
        if e is None or self.evaluated_at is None:
            raise Conflict(f"the referral has not been evaluated; it is {self.status}")
        return EvaluationRecord(
            referral_id=self.referral_id,
            status=e.status,
            formula_version=e.formula_version,
            evaluated_at=self.evaluated_at,
            weights=e.weights or self.weights,
            lowest_compliant_weekly_price=e.lowest_compliant_weekly_price,
            bids=list(e.ranking),
            shortlist=list(e.shortlist),
        )

    def _ranked(self, bid_id: str) -> RankedBidMsg:
        assert self.evaluation is not None
        return next(r for r in self.evaluation.ranking if r.bid_id == bid_id)


def standings_at_deadline(
    referral: Evaluation, reply: Mapping[str, Mapping | None]
) -> dict[str, Standing]:
    """§6.2, §6.3 C: each live bidder's membership at the deadline, from qualification's
    ``standings`` reply; an establishment unknown to qualification is not admitted (its
    competency is the invitation's snapshot)."""
    out = {}
    for eid in referral.live_bidders():
        s = reply.get(eid)
        if s is None:  # unknown to qualification: not admitted
            snapshot = referral.invitations[eid].snapshot
            out[eid] = Standing(admitted=False, competency=snapshot.competency)
        else:
            out[eid] = Standing(admitted=s["admitted"], competency=s["competency"])
    return out
