"""Replaying a stored evaluation from its inputs (RULES §6.3, §6.4; issue 15).

An evaluation records, for every bid, the inputs §6.3 read (``model.Inputs``) and whether
it was compliant (§6.2), with the weights. ``replay`` recomputes from those alone, with the
same functions ``evaluate`` uses: the lowest compliant weekly price, each compliant bid's
exact sub-scores and total, the ranking with its tie-breaks, and the shortlist. Compliance
itself is taken as recorded (it depends on features and memberships, not on the inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.scoring.domain.evaluation import (
    FORMULA_VERSION,
    rank_key,
    shortlist_from,
    subscores_of,
)
from services.scoring.domain.model import Inputs, Subscores
from services.scoring.domain.weights import Weights


@dataclass(frozen=True)
class RecordedBid:
    bid_id: str
    compliant: bool
    inputs: Inputs


@dataclass(frozen=True)
class ReplayedBid:
    bid_id: str
    compliant: bool
    subscores: Subscores | None = None
    rank: int | None = None


@dataclass(frozen=True)
class Replay:
    formula_version: str
    lowest_price: Decimal | None
    bids: tuple[ReplayedBid, ...]  # ranked compliant bids, then the excluded ones as given
    shortlist: tuple[str, ...]


def replay(weights: Weights, bids: Sequence[RecordedBid]) -> Replay:
    """§6.3–§6.4 recomputed from recorded inputs (formula ``FORMULA_VERSION``)."""
    compliant = [b for b in bids if b.compliant]
    lowest = min((b.inputs.weekly_price for b in compliant), default=None)
    scored = []
    for b in compliant:
        assert lowest is not None
        scored.append((b, subscores_of(weights, lowest, b.inputs)))
    scored.sort(key=lambda p: rank_key(p[1], p[0].inputs, p[0].bid_id))
    ranked = tuple(
        ReplayedBid(b.bid_id, True, subscores=s, rank=i)
        for i, (b, s) in enumerate(scored, start=1)
    )
    excluded = tuple(ReplayedBid(b.bid_id, False) for b in bids if not b.compliant)
    shortlist = shortlist_from([(r.bid_id, r.subscores.total) for r in ranked if r.subscores])
    return Replay(FORMULA_VERSION, lowest, (*ranked, *excluded), shortlist)
