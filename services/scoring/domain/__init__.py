"""Scoring's pure rules (RULES §6): no I/O, no clock, no nameko, SQLAlchemy or store.

Everything is computed in exact arithmetic (``fractions.Fraction``); only ``display`` rounds,
and only for presentation (§6.3: "round it only for display (2 decimals)").

- ``weights``: the six component weights, their constraints and the rescale (§6.1);
- ``pricing``: a bid's weekly price after the cohort discount (§4.4) and display rounding;
- ``model``: the inputs (needs, features, bids) and results (sub-scores, ranking);
- ``evaluation``: compliance (§6.2), exact sub-scores and ranking (§6.3), shortlist (§6.4);
- ``replay``: a stored evaluation recomputed from its recorded inputs (issue 15);
- ``errors``: one ``InvalidInput`` naming every faulty field.

Each module's docstring lists the decisions it makes where RULES is silent (each is tested).
"""

from services.scoring.domain.evaluation import (
    EVALUATED,
    FORMULA_VERSION,
    PARENT_CHOICE,
    UNSUCCESSFUL,
    evaluate,
    shortlist_of,
)
from services.scoring.domain.model import (
    Bid,
    Evaluation,
    Feature,
    Inputs,
    Need,
    ScoredBid,
    Subscores,
)
from services.scoring.domain.pricing import display, weekly_price
from services.scoring.domain.replay import RecordedBid, Replay, ReplayedBid, replay
from services.scoring.domain.weights import (
    COMPETENCY_MAX,
    COMPONENTS,
    DEFAULT_WEIGHTS,
    PRICE_MAX,
    PRICE_MIN,
    SHARED,
    TOTAL_POINTS,
    Weights,
    check_weights,
    resolve_weights,
)

__all__ = [
    "COMPETENCY_MAX",
    "COMPONENTS",
    "DEFAULT_WEIGHTS",
    "EVALUATED",
    "FORMULA_VERSION",
    "PARENT_CHOICE",
    "PRICE_MAX",
    "PRICE_MIN",
    "SHARED",
    "TOTAL_POINTS",
    "UNSUCCESSFUL",
    "Bid",
    "Inputs",
    "RecordedBid",
    "Replay",
    "ReplayedBid",
    "replay",
    "Evaluation",
    "Feature",
    "Need",
    "ScoredBid",
    "Subscores",
    "Weights",
    "check_weights",
    "display",
    "evaluate",
    "resolve_weights",
    "shortlist_of",
    "weekly_price",
]
