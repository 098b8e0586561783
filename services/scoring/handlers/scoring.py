"""Scoring a referral's bids (§6.2–§6.4) and resolving its weights (§6.1).

``score_referral`` and ``resolve_referral_weights`` are the entrypoints' whole job (JSON in:
``parse``, a 422 naming the fields; handler; JSON-ready dump out) for callers that score in
process without a container (the entrypoints, benchmarks, tests).
"""

from __future__ import annotations

from collections.abc import Mapping

from services.common.errors import InvalidInput
from services.common.validation import parse
from services.scoring import access, domain
from services.scoring.handlers.translate import (
    bid_in,
    feature_in,
    need_in,
    replay_in,
    replay_out,
    result_out,
    weights_in,
    weights_out,
)
from services.scoring.messages import (
    ReplayRequest,
    ReplayResult,
    ResolveWeightsRequest,
    ScoringRequest,
    ScoringResult,
    WeightsMsg,
)


def score(
    command: ScoringRequest, category: str, principal: Mapping | None = None
) -> ScoringResult:
    """Score and rank a referral's bids (§6); ``category`` is the one this service instance
    serves (a request for another category is a 422 on ``category``)."""
    access.check_preview_scoring(principal)
    if command.category != category:
        raise InvalidInput.at(["category"], f"this service scores {category} referrals only")
    evaluation = domain.evaluate(
        [need_in(n) for n in command.needs],
        [feature_in(f) for f in command.features],
        [bid_in(b) for b in command.bids],
        weights=weights_in(command.weights),
        price_weight=command.price_weight,
        template=weights_in(command.template) or domain.DEFAULT_WEIGHTS,
    )
    return result_out(evaluation)


def resolve_weights(
    command: ResolveWeightsRequest, principal: Mapping | None = None
) -> WeightsMsg:
    """Check and complete a referral's weights when it is created (§6.1)."""
    weights = domain.resolve_weights(
        weights_in(command.weights),
        command.price_weight,
        has_needs=command.has_needs,
        has_desirable=command.has_desirable,
        template=weights_in(command.template) or domain.DEFAULT_WEIGHTS,
    )
    return weights_out(weights)


def replay(command: ReplayRequest, principal: Mapping | None = None) -> ReplayResult:
    """Recompute a stored evaluation from its recorded inputs (§6.3–§6.4, issue 15): a pure
    calculation over the data given, nothing read or kept; anyone who may call scoring."""
    return replay_out(domain.replay(*replay_in(command)))


def score_referral(request: object, category: str, principal: Mapping | None = None) -> dict:
    """``scoring_<category>.score`` in process: parse, ``score``, JSON-ready dump."""
    return score(parse(ScoringRequest, request), category, principal).model_dump(mode="json")


def resolve_referral_weights(request: object, principal: Mapping | None = None) -> dict:
    """``scoring.resolve_weights`` in process: parse, ``resolve_weights``, JSON-ready dump."""
    command = parse(ResolveWeightsRequest, request)
    return resolve_weights(command, principal).model_dump(mode="json")


def replay_evaluation(request: object, principal: Mapping | None = None) -> dict:
    """``scoring.replay`` in process: parse, ``replay``, JSON-ready dump."""
    return replay(parse(ReplayRequest, request), principal).model_dump(mode="json")
