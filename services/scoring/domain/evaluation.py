"""Scoring and ranking a referral's bids (RULES §6.2–§6.4).

Decisions where RULES is silent (each is tested):

- **Outcomes with no evaluator score** count as a mean of 0, and the explanation says so.
- **Ranking** (§6.3) ends with ``bid_id`` after the earliest final submission, so it is a total
  order whatever the input order. Excluded bids follow the ranked ones, unranked, ordered by
  submission time then ``bid_id``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from services.common.errors import InvalidInput
from services.common.money import fmt
from services.scoring.domain.errors import FieldErrors, is_whole
from services.scoring.domain.model import (
    Bid,
    Evaluation,
    Feature,
    Inputs,
    Need,
    ScoredBid,
    Subscores,
)
from services.scoring.domain.pricing import display
from services.scoring.domain.weights import DEFAULT_WEIGHTS, Weights, resolve_weights

FORMULA_VERSION = "1"
"""The version of the §6.3–§6.4 formula applied (sub-scores, bands, tie-breaks, shortlist).
Recorded with every evaluation; raise it whenever a change to these rules could change a
total, a rank or a shortlist, so that a past award is replayed with the rules it used."""
SCORE_MAX = 100  # competency and evaluator scores are 0–100 (§4.2, §5)
BAND_MILES = 10  # §6.3 location bands
BANDS = 5
SHORTLIST_SIZE = 3  # §6.4
SHORTLIST_MARGIN = 5  # §6.4 points below T1

EVALUATED = "evaluated"
PARENT_CHOICE = "parent_choice"
UNSUCCESSFUL = "unsuccessful"

def _check_spec(needs: Sequence[Need], features: Sequence[Feature], errors: FieldErrors) -> None:
    """Codes unique per list; needs and desirable features worth at least 1 mark."""
    lists = (
        ("needs", [(n.code, n.marks, True) for n in needs]),
        ("features", [(f.code, f.marks, not f.must_have) for f in features]),
    )
    for name, items in lists:
        seen: set[str] = set()
        for i, (code, marks, scored) in enumerate(items):
            if not code:
                errors.add([name, i, "code"], "must not be empty")
            elif code in seen:
                errors.add([name, i, "code"], f"duplicate code {code!r}")
            seen.add(code)
            least = 1 if scored else 0
            if not is_whole(marks) or marks < least:
                errors.add([name, i, "marks"], f"must be a whole number, at least {least}")


def _check_bids(
    bids: Sequence[Bid], need_codes: set[str], feature_codes: set[str], errors: FieldErrors
) -> None:
    seen: set[str] = set()
    for i, bid in enumerate(bids):
        loc = ["bids", i]
        if bid.bid_id in seen:
            errors.add([*loc, "bid_id"], f"duplicate bid {bid.bid_id!r}")
        seen.add(bid.bid_id)
        if not bid.weekly_price > 0:
            errors.add([*loc, "weekly_price"], "must be more than 0")
        if not 0 <= bid.competency <= SCORE_MAX:
            errors.add([*loc, "competency"], f"must be between 0 and {SCORE_MAX}")
        if not bid.distance_miles >= 0:
            errors.add([*loc, "distance_miles"], "must be 0 or more")
        for j, score in enumerate(bid.outcome_scores):
            if not 0 <= score <= SCORE_MAX:
                errors.add([*loc, "outcome_scores", j], f"must be between 0 and {SCORE_MAX}")
        for name, met, known in (
            ("needs_met", bid.needs_met, need_codes),
            ("features_met", bid.features_met, feature_codes),
        ):
            unknown = sorted(set(met) - known)
            if unknown:
                errors.add([*loc, name], f"not listed in the referral: {', '.join(unknown)}")
        if bid.submitted_at.utcoffset() is None:
            errors.add([*loc, "submitted_at"], "must be timezone-aware")


def _exclusion_reasons(bid: Bid, must_haves: Sequence[Feature]) -> tuple[str, ...]:
    """§6.2: a missing must-have feature, or not admitted at the deadline."""
    reasons = [
        f"does not offer must-have feature {f.code}" + (f" ({f.label})" if f.label else "")
        for f in must_haves
        if f.code not in bid.features_met
    ]
    if not bid.admitted_at_deadline:
        reasons.append("establishment not admitted in the category at the deadline")
    return tuple(reasons)


def _marks(items: Iterable[Need | Feature], met: frozenset[str]) -> tuple[int, int]:
    items = list(items)
    return sum(i.marks for i in items if i.code in met), sum(i.marks for i in items)


def inputs_of(bid: Bid, needs: Sequence[Need], desirable: Sequence[Feature]) -> Inputs:
    """What §6.3 reads of ``bid``: its price, competency, distance and outcome scores, and
    the marks of the needs and desirable features it meets out of all of them."""
    needs_met, needs_all = _marks(needs, bid.needs_met)
    feats_met, feats_all = _marks(desirable, bid.features_met)
    return Inputs(
        weekly_price=bid.weekly_price,
        competency=bid.competency,
        distance_miles=bid.distance_miles,
        outcome_scores=tuple(bid.outcome_scores),
        needs_marks_met=needs_met,
        needs_marks_total=needs_all,
        desirable_marks_met=feats_met,
        desirable_marks_total=feats_all,
        final_submission_at=bid.submitted_at,
    )


def _band(distance_miles: Decimal) -> int:
    return math.floor(Fraction(distance_miles) / BAND_MILES)


def _mean(scores: Sequence[Decimal]) -> Fraction:
    return sum(map(Fraction, scores), Fraction(0)) / len(scores) if scores else Fraction(0)


def subscores_of(weights: Weights, lowest: Decimal, x: Inputs) -> Subscores:
    """§6.3 sub-scores, exact, from the inputs alone (the formula of ``FORMULA_VERSION``)."""
    w = {c: Fraction(v) for c, v in weights.as_dict().items()}
    return Subscores(
        P=w["P"] * Fraction(lowest) / Fraction(x.weekly_price),
        C=w["C"] * Fraction(x.competency) / SCORE_MAX,
        L=w["L"] * max(0, BANDS - _band(x.distance_miles)) / BANDS,
        O=w["O"] * _mean(x.outcome_scores) / SCORE_MAX,
        N=w["N"] * Fraction(x.needs_marks_met, x.needs_marks_total)
        if x.needs_marks_total
        else Fraction(0),
        F=w["F"] * Fraction(x.desirable_marks_met, x.desirable_marks_total)
        if x.desirable_marks_total
        else Fraction(0),
    )


def _explain(weights: Weights, lowest: Decimal, x: Inputs, s: Subscores) -> dict[str, str]:
    """A one-line explanation of each sub-score."""

    def pts(v: Fraction) -> str:
        return f"{display(v):.2f}"

    band = _band(x.distance_miles)
    band_name = (
        f"{band * BAND_MILES}–{(band + 1) * BAND_MILES} miles"
        if band < BANDS
        else f"{BANDS * BAND_MILES}+ miles"
    )
    k = len(x.outcome_scores)
    return {
        "P": f"{weights.P} × lowest {fmt(lowest)} / {fmt(x.weekly_price)} = {pts(s.P)}",
        "C": f"{weights.C} × competency {x.competency} / {SCORE_MAX} = {pts(s.C)}",
        "L": (
            f"{weights.L} × {max(0, BANDS - band)}/{BANDS} ({x.distance_miles} miles, "
            f"band {band_name}) = {pts(s.L)}"
        ),
        "O": (
            f"{weights.O} × mean {pts(_mean(x.outcome_scores))} of {k} evaluator score(s) "
            f"/ {SCORE_MAX} = {pts(s.O)}"
            if k
            else "no evaluator score: counted as 0 = 0.00"
        ),
        "N": (
            f"{weights.N} × {x.needs_marks_met}/{x.needs_marks_total} marks of needs met "
            f"= {pts(s.N)}"
            if x.needs_marks_total
            else "no needs listed = 0.00"
        ),
        "F": (
            f"{weights.F} × {x.desirable_marks_met}/{x.desirable_marks_total} marks of "
            f"desirable features = {pts(s.F)}"
            if x.desirable_marks_total
            else "no desirable features listed = 0.00"
        ),
    }


def rank_key(subscores: Subscores, x: Inputs, bid_id: str) -> tuple:
    """§6.3: total desc, quality desc, price asc, earlier submission, then bid id."""
    return (-subscores.total, -subscores.quality, x.weekly_price, x.final_submission_at, bid_id)


def evaluate(
    needs: Sequence[Need],
    features: Sequence[Feature],
    bids: Sequence[Bid],
    *,
    weights: Weights | None = None,
    price_weight: int | None = None,
    template: Weights = DEFAULT_WEIGHTS,
) -> Evaluation:
    """Score and rank a referral's bids (§6.1–§6.4).

    Validates the spec and bids (InvalidInput naming every faulty field), resolves the
    weights (§6.1), excludes non-compliant bids before finding the lowest price (§6.2),
    scores the rest exactly (§6.3), ranks them, and builds the parent-choice shortlist (§6.4).
    """
    must_haves = [f for f in features if f.must_have]
    desirable = [f for f in features if not f.must_have]
    errors = FieldErrors()
    try:
        used = resolve_weights(
            weights,
            price_weight,
            has_needs=bool(needs),
            has_desirable=bool(desirable),
            template=template,
        )
    except InvalidInput as exc:
        errors.items.extend(exc.errors)
    _check_spec(needs, features, errors)
    _check_bids(bids, {n.code for n in needs}, {f.code for f in features}, errors)
    errors.raise_any()

    excluded: list[ScoredBid] = []
    compliant: list[Bid] = []
    for bid in bids:
        reasons = _exclusion_reasons(bid, must_haves)
        if reasons:
            excluded.append(
                ScoredBid(bid=bid, reasons=reasons, inputs=inputs_of(bid, needs, desirable))
            )
        else:
            compliant.append(bid)

    lowest = min((b.weekly_price for b in compliant), default=None)
    scored = []
    for bid in compliant:
        assert lowest is not None
        x = inputs_of(bid, needs, desirable)
        subscores = subscores_of(used, lowest, x)
        explanation = _explain(used, lowest, x, subscores)
        scored.append(ScoredBid(bid, subscores=subscores, explanation=explanation, inputs=x))
    scored.sort(key=lambda s: rank_key(s.subscores, s.inputs, s.bid.bid_id))
    ranked = [replace(s, rank=i) for i, s in enumerate(scored, start=1)]
    excluded.sort(key=lambda s: (s.bid.submitted_at, s.bid.bid_id))

    shortlist = shortlist_of(ranked)
    if len(shortlist) >= 2:
        status = PARENT_CHOICE
    elif ranked:
        status = EVALUATED
    else:
        status = UNSUCCESSFUL
    return Evaluation(
        status=status,
        formula_version=FORMULA_VERSION,
        weights=used,
        lowest_price=lowest,
        ranking=(*ranked, *excluded),
        shortlist=shortlist,
    )


def shortlist_of(ranked: Sequence[ScoredBid]) -> tuple[str, ...]:
    """§6.4 of scored and ranked bids."""
    return shortlist_from(
        [(s.bid.bid_id, s.subscores.total) for s in ranked if s.subscores is not None]
    )


def shortlist_from(totals: Sequence[tuple[str, Fraction]]) -> tuple[str, ...]:
    """§6.4: of ``(bid_id, exact total)`` in rank order, at most 3 with total > T1 − 5."""
    if not totals:
        return ()
    floor_ = totals[0][1] - SHORTLIST_MARGIN
    return tuple(bid_id for bid_id, total in totals[:SHORTLIST_SIZE] if total > floor_)
