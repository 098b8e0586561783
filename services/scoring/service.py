"""nameko entrypoints of the stateless scoring service (RULES §6).

Thin: each entrypoint validates its argument with ``messages.py`` (``parse``: a 422 naming
the fields), calls ``rules.py`` and returns a JSON-ready model dump. The entrypoints are our
``rpc`` (a request whose gateway deadline has passed is dropped, so a request answered 503
is never scored later) and every worker logs with the caller's ``request_id``
(``RequestContext``). Scoring keeps no state, writes no audit and emits no events.

**Per-category instances** (DESIGN "Scoring can be run per category"; naming in
``messages.py``). ``nameko run services.scoring.service`` hosts

- ``ScoringService`` (``scoring``): ``ping`` and ``resolve_weights``, always;
- one ``scoring_<category>`` service per category in ``SCORING_CATEGORIES`` (comma-separated
  codes, e.g. ``SEN``; unset or empty: every category), each scoring only its own category.

Callers (the referral service, the gateway's what-if preview) always send a referral's
scoring to ``scoring_service_name(category)``, so nothing but the process list changes
when ops split a category out.

How ops scale one category alone (e.g. SEN gets its own workers):

1. Run a dedicated deployment (or Procfile line) for that category, as many replicas as
   it needs::

       SCORING_CATEGORIES=SEN nameko run --config infra/nameko.yaml services.scoring.service

2. Run the general deployment with the other categories only::

       SCORING_CATEGORIES=FOSTERCARE,RESIDENTIAL,ALT_EDUCATION,SUPPORTED_ACCOMMODATION \
           nameko run --config infra/nameko.yaml services.scoring.service

   (Leaving it with every category also works: both deployments then consume SEN work,
   as competing consumers of the ``rpc-scoring_sen`` queue.)

Every process also hosts ``scoring`` (ping, weights), so health checks and referral
creation keep working whichever deployment is up. Instances of one service name are
competing consumers of its RabbitMQ queue: adding replicas adds throughput for that
category only, and a slow category cannot starve the others. ``DPS_MAX_WORKERS`` bounds
the concurrent scorings per process. An unknown code in ``SCORING_CATEGORIES`` stops the
process at start.
"""

from __future__ import annotations

import os

from structlog.contextvars import bind_contextvars

from services.common.errors import InvalidInput
from services.common.runtime import RequestContext, rpc
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


class ScoringContext(RequestContext):
    """``RequestContext`` that also names the container on each worker's log lines: one
    scoring process hosts several services (``scoring``, ``scoring_sen``, …)."""

    def worker_setup(self, worker_ctx):
        super().worker_setup(worker_ctx)
        bind_contextvars(service=self.container.service_name)


class ScoringService:
    """``scoring``: the category-free calls, hosted by every scoring process."""

    name = SERVICE_NAME
    ctx = ScoringContext()

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
        ctx = ScoringContext()

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
