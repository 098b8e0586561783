"""nameko entrypoints of the stateless scoring service (RULES §6).

Thin: each entrypoint validates its argument with ``messages.py``, calls ``rules.py`` and
returns a JSON-ready model dump. Invalid input raises ``InvalidInput`` naming the fields.

Per-category instances (DESIGN "Scoring can be run per category"; naming in
``messages.py``): ``nameko run services.scoring.service`` hosts

- ``ScoringService`` (``scoring``): ``ping`` and ``resolve_weights``, always;
- one ``scoring_<category>`` service per category in ``SCORING_CATEGORIES`` (comma-separated
  codes, e.g. ``SEN``; unset or empty: every category), each scoring only its own category.
"""

from __future__ import annotations

import os

from nameko.rpc import rpc

from services.common.errors import InvalidInput
from services.common.validation import parse
from services.scoring import rules
from services.scoring.messages import (
    CATEGORIES,
    SERVICE_NAME,
    BidMsg,
    RankedBidMsg,
    ResolveWeightsRequest,
    ScoringRequest,
    ScoringResult,
    SubscoresMsg,
    WeightsMsg,
    scoring_service_name,
)

CATEGORIES_ENV = "SCORING_CATEGORIES"


def _weights(msg: WeightsMsg | None) -> rules.Weights | None:
    return None if msg is None else rules.Weights(**msg.model_dump())


def _bid(msg: BidMsg) -> rules.Bid:
    if msg.costs is not None:
        price = rules.weekly_price(
            msg.costs.core_costs.values(),
            (v.weekly for v in msg.costs.variable_costs),
            msg.costs.discount_percent,
        )
    else:
        assert msg.weekly_price is not None
        price = msg.weekly_price
    return rules.Bid(
        bid_id=msg.bid_id,
        establishment_id=msg.establishment_id,
        weekly_price=price,
        competency=msg.competency,
        distance_miles=msg.distance_miles,
        submitted_at=msg.submitted_at,
        admitted_at_deadline=msg.admitted_at_deadline,
        outcome_scores=tuple(msg.outcome_scores),
        needs_met=frozenset(msg.needs_met),
        features_met=frozenset(msg.features_met),
    )


def _ranked(s: rules.ScoredBid) -> RankedBidMsg:
    sub = s.subscores
    return RankedBidMsg(
        bid_id=s.bid.bid_id,
        establishment_id=s.bid.establishment_id,
        compliant=s.compliant,
        reason="; ".join(s.reasons) or None,
        rank=s.rank,
        total=None if sub is None else rules.display(sub.total),
        total_exact=None if sub is None else str(sub.total),
        quality_total=None if sub is None else rules.display(sub.quality),
        subscores=None
        if sub is None
        else SubscoresMsg(**{c: rules.display(v) for c, v in sub.as_dict().items()}),
        explanation=dict(s.explanation),
        weekly_price=s.bid.weekly_price,
    )


def score_referral(request: object, category: str) -> dict:
    """Score a referral's bids (§6); ``category`` is the one this service instance serves."""
    req = parse(ScoringRequest, request)
    if req.category != category:
        raise InvalidInput.at(["category"], f"this service scores {category} referrals only")
    evaluation = rules.evaluate(
        [rules.Need(code=n.code, marks=n.marks, label=n.label) for n in req.needs],
        [
            rules.Feature(code=f.code, must_have=f.must_have, marks=f.marks, label=f.label)
            for f in req.features
        ],
        [_bid(b) for b in req.bids],
        weights=_weights(req.weights),
        price_weight=req.price_weight,
        template=_weights(req.template) or rules.DEFAULT_WEIGHTS,
    )
    return ScoringResult(
        status=evaluation.status,
        weights=WeightsMsg(**evaluation.weights.as_dict()),
        lowest_price=evaluation.lowest_price,
        ranking=[_ranked(s) for s in evaluation.ranking],
        shortlist=list(evaluation.shortlist),
    ).model_dump(mode="json")


def resolve_referral_weights(request: object) -> dict:
    """Check and complete a referral's weights (§6.1)."""
    req = parse(ResolveWeightsRequest, request)
    weights = rules.resolve_weights(
        _weights(req.weights),
        req.price_weight,
        has_needs=req.has_needs,
        has_desirable=req.has_desirable,
        template=_weights(req.template) or rules.DEFAULT_WEIGHTS,
    )
    return WeightsMsg(**weights.as_dict()).model_dump(mode="json")


class ScoringService:
    """``scoring``: the category-free calls, hosted by every scoring process."""

    name = SERVICE_NAME

    @rpc
    def ping(self) -> str:
        return "ok"

    @rpc
    def resolve_weights(self, request: dict) -> dict:
        return resolve_referral_weights(request)


def category_service(category: str) -> type:
    """The ``scoring_<category>`` service class: scores ``category``'s referrals only."""
    service_name = scoring_service_name(category)

    class CategoryScoringService:
        name = service_name

        @rpc
        def ping(self) -> str:
            return "ok"

        @rpc
        def score(self, request: dict) -> dict:
            return score_referral(request, category)

    title = "".join(part.title() for part in category.split("_"))
    CategoryScoringService.__name__ = CategoryScoringService.__qualname__ = f"Scoring{title}Service"
    return CategoryScoringService


def hosted_categories(value: str | None) -> tuple[str, ...]:
    """Parse ``SCORING_CATEGORIES``: unset or empty means every category."""
    codes = tuple(dict.fromkeys(c.strip().upper() for c in (value or "").split(",") if c.strip()))
    unknown = [c for c in codes if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"{CATEGORIES_ENV}: unknown categories {', '.join(unknown)}")
    return codes or CATEGORIES


# nameko run finds service classes among the module's top-level names.
CATEGORY_SERVICES = [category_service(c) for c in hosted_categories(os.getenv(CATEGORIES_ENV))]
globals().update({cls.__name__: cls for cls in CATEGORY_SERVICES})
