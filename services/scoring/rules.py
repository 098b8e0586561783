"""Scoring of a referral's mini-competition (RULES §6). Pure: no I/O, no clock.

Everything is computed in exact arithmetic (``fractions.Fraction``); only ``display`` rounds,
and only for presentation (§6.3: "round it only for display (2 decimals)").

Decisions where RULES is silent (each is tested):

- **Weights are whole points** (§6.1 examples are all integers). Explicit weights must be
  integers; derived weights are integers by construction.
- **Rescaling when only P is given** (§6.1): C and L keep the template's values and the rest,
  ``100 − P − C − L``, is shared among O, N and F in proportion to the template's O, N and F
  by the largest-remainder method: each gets the floor of its exact quota, and the points left
  over go one each to the largest fractional remainders, ties broken in the order O, N, F.
  This reproduces §6.1 (P=70 → O=2, N=2, F=1; P=30 → O=18, N=18, F=9).
- **No needs / no desirable features** (§6.1 "N = 0", "F = 0"): when weights are derived (from
  the template, with or without P), the component that must be 0 takes no share and its points
  go to the other shares of O, N, F by the same proportional rule (default template with no
  needs: O=17, N=0, F=8). Explicit weights are never altered: a non-zero N or F there is an
  error naming the field.
- **Outcomes with no evaluator score** count as a mean of 0, and the explanation says so.
- **Cohort discount** (§4.4, §6.3) applies to the core costs only (the tiers are part of the
  qualified offer of core costs); the discount is rounded half up to whole pence. Variable
  costs are added undiscounted.
- **Ranking** (§6.3) ends with ``bid_id`` after the earliest final submission, so it is a total
  order whatever the input order. Excluded bids follow the ranked ones, unranked, ordered by
  submission time then ``bid_id``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from services.common.errors import InvalidInput
from services.common.money import fmt, round_pence

COMPONENTS = ("P", "C", "L", "O", "N", "F")
SHARED = ("O", "N", "F")  # rescaled when only P changes (§6.1)
TOTAL_POINTS = 100
PRICE_MIN, PRICE_MAX = 30, 70  # §6.1, business case 8.7
COMPETENCY_MAX = 20  # §6.1, business case 7.10 and 8.5
SCORE_MAX = 100  # competency and evaluator scores are 0–100 (§4.2, §5)
BAND_MILES = 10  # §6.3 location bands
BANDS = 5
SHORTLIST_SIZE = 3  # §6.4
SHORTLIST_MARGIN = 5  # §6.4 points below T1

EVALUATED = "evaluated"
PARENT_CHOICE = "parent_choice"
UNSUCCESSFUL = "unsuccessful"


# --------------------------------------------------------------------------- weights (§6.1)


@dataclass(frozen=True)
class Weights:
    """Points out of 100 for each component (§6.1)."""

    P: int
    C: int
    L: int
    O: int  # noqa: E741 (the component's name in RULES §6.1)
    N: int
    F: int

    def as_dict(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in COMPONENTS}


DEFAULT_WEIGHTS = Weights(P=50, C=20, L=5, O=10, N=10, F=5)  # §6.1 default template


class _Errors:
    """Collects every violation so that one InvalidInput names all the faulty fields."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, loc: Sequence, msg: str) -> None:
        self.items.append({"loc": list(loc), "msg": msg})

    def raise_any(self) -> None:
        if self.items:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in self.items)
            raise InvalidInput(detail, self.items)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_weights(
    weights: Weights, *, has_needs: bool, has_desirable: bool, loc: str = "weights"
) -> Weights:
    """Enforce every §6.1 constraint; raise InvalidInput naming each faulty field."""
    errors = _Errors()
    values = weights.as_dict()
    for code, value in values.items():
        if not _is_int(value):
            errors.add([loc, code], "must be a whole number of points")
        elif value < 0:
            errors.add([loc, code], "must be 0 or more")
    errors.raise_any()
    if not PRICE_MIN <= weights.P <= PRICE_MAX:
        errors.add([loc, "P"], f"must be between {PRICE_MIN} and {PRICE_MAX}")
    if weights.C > COMPETENCY_MAX:
        errors.add([loc, "C"], f"must be at most {COMPETENCY_MAX}")
    if not has_needs and weights.N != 0:
        errors.add([loc, "N"], "must be 0 when the referral lists no needs")
    if not has_desirable and weights.F != 0:
        errors.add([loc, "F"], "must be 0 when the referral lists no desirable features")
    total = sum(values.values())
    if total != TOTAL_POINTS:
        errors.add([loc], f"must sum to {TOTAL_POINTS}, not {total}")
    errors.raise_any()
    return weights


def _largest_remainder(points: int, shares: Mapping[str, int]) -> dict[str, int]:
    """Split ``points`` in proportion to ``shares``; leftovers to the largest remainders,
    ties in the order of ``shares``."""
    whole = sum(shares.values())
    quotas = {k: Fraction(points * v, whole) for k, v in shares.items()}
    result = {k: math.floor(q) for k, q in quotas.items()}
    leftover = points - sum(result.values())
    for k in sorted(shares, key=lambda k: result[k] - quotas[k])[:leftover]:
        result[k] += 1
    return result


def resolve_weights(
    weights: Weights | None = None,
    price_weight: int | None = None,
    *,
    has_needs: bool,
    has_desirable: bool,
    template: Weights = DEFAULT_WEIGHTS,
) -> Weights:
    """The weights a referral uses (§6.1): the six given explicitly, or the template with P
    replaced by ``price_weight`` and O, N, F rescaled (see the module docstring)."""
    if weights is not None:
        if price_weight is not None:
            raise InvalidInput.at(["price_weight"], "give either weights or price_weight")
        return check_weights(weights, has_needs=has_needs, has_desirable=has_desirable)
    check_weights(template, has_needs=True, has_desirable=True, loc="template")
    loc = ["price_weight"] if price_weight is not None else ["template"]
    if price_weight is None:
        price_weight = template.P
    elif not _is_int(price_weight) or not PRICE_MIN <= price_weight <= PRICE_MAX:
        raise InvalidInput.at(loc, f"must be a whole number between {PRICE_MIN} and {PRICE_MAX}")
    rest = TOTAL_POINTS - price_weight - template.C - template.L
    shares = {
        "O": template.O,
        "N": template.N if has_needs else 0,
        "F": template.F if has_desirable else 0,
    }
    if rest < 0:
        raise InvalidInput.at(loc, f"leaves {rest} points after the template's C and L")
    if rest and not any(shares.values()):
        raise InvalidInput.at(loc, f"no outcomes, needs or features weight to carry {rest} points")
    split = _largest_remainder(rest, shares) if rest else dict.fromkeys(SHARED, 0)
    derived = Weights(P=price_weight, C=template.C, L=template.L, **split)
    return check_weights(derived, has_needs=has_needs, has_desirable=has_desirable)


# --------------------------------------------------------------------------- price (§4.4)


def weekly_price(
    core_costs: Iterable[Decimal], variable_costs: Iterable[Decimal], discount_percent: Decimal
) -> Decimal:
    """Weekly price after the cohort discount (§4.4, §6.3): core costs less the discount
    (rounded half up to pence), plus the variable costs. Amounts are ≥ 0 and
    ``0 ≤ discount_percent < 100`` (validated by the caller's message model)."""
    core = sum(core_costs, Decimal(0))
    discount = round_pence(core * Decimal(discount_percent) / 100)
    return core - discount + sum(variable_costs, Decimal(0))


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Need:
    """A need of the child, worth ``marks`` (§6.3 needs)."""

    code: str
    marks: int
    label: str = ""


@dataclass(frozen=True)
class Feature:
    """A required feature: must-have (§6.2) or desirable, worth ``marks`` (§6.3 features)."""

    code: str
    must_have: bool
    marks: int = 0
    label: str = ""


@dataclass(frozen=True)
class Bid:
    """What scoring needs of one bid, with the establishment's state at the deadline."""

    bid_id: str
    establishment_id: str
    weekly_price: Decimal  # after the cohort discount (§6.3)
    competency: Decimal  # core competency score at the deadline, 0–100 (§4.2)
    distance_miles: Decimal  # great-circle distance to the child's home (§6.3)
    submitted_at: datetime  # final submission (§6.3 last tie-break)
    admitted_at_deadline: bool  # §6.2
    outcome_scores: tuple[Decimal, ...] = ()  # each evaluator's 0–100 (§5)
    needs_met: frozenset[str] = frozenset()
    features_met: frozenset[str] = frozenset()


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Subscores:
    """Exact points per component (§6.3)."""

    P: Fraction
    C: Fraction
    L: Fraction
    O: Fraction  # noqa: E741 (the component's name in RULES §6.1)
    N: Fraction
    F: Fraction

    @property
    def total(self) -> Fraction:
        return self.P + self.quality

    @property
    def quality(self) -> Fraction:
        """All but price: the first tie-break (§6.3)."""
        return self.C + self.L + self.O + self.N + self.F

    def as_dict(self) -> dict[str, Fraction]:
        return {c: getattr(self, c) for c in COMPONENTS}


@dataclass(frozen=True)
class ScoredBid:
    """One bid's result: excluded with ``reasons`` (§6.2), or scored and ranked (§6.3)."""

    bid: Bid
    reasons: tuple[str, ...] = ()
    subscores: Subscores | None = None
    explanation: Mapping[str, str] = field(default_factory=dict)  # per component, in words
    rank: int | None = None

    @property
    def compliant(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Evaluation:
    """The outcome of scoring a referral's bids (§6.3, §6.4)."""

    status: str  # EVALUATED, PARENT_CHOICE or UNSUCCESSFUL
    weights: Weights
    lowest_price: Decimal | None  # lowest compliant weekly price
    ranking: tuple[ScoredBid, ...]  # ranked compliant bids, then the excluded ones
    shortlist: tuple[str, ...]  # bid ids (§6.4)

    @property
    def ranked(self) -> tuple[ScoredBid, ...]:
        return tuple(s for s in self.ranking if s.compliant)


def display(points: Fraction) -> Decimal:
    """Round exact points half up to 2 decimals, for display only (§6.3)."""
    hundredths = math.floor(Fraction(points) * 100 + Fraction(1, 2))
    return Decimal(hundredths).scaleb(-2)


# --------------------------------------------------------------------------- evaluation


def _check_spec(needs: Sequence[Need], features: Sequence[Feature], errors: _Errors) -> None:
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
            if not _is_int(marks) or marks < least:
                errors.add([name, i, "marks"], f"must be a whole number, at least {least}")


def _check_bids(
    bids: Sequence[Bid], need_codes: set[str], feature_codes: set[str], errors: _Errors
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


def _score(
    bid: Bid,
    weights: Weights,
    lowest: Decimal,
    needs: Sequence[Need],
    desirable: Sequence[Feature],
) -> tuple[Subscores, dict[str, str]]:
    """§6.3 sub-scores, exact, with a one-line explanation of each."""
    w = {c: Fraction(v) for c, v in weights.as_dict().items()}

    def pts(x: Fraction) -> str:
        return f"{display(x):.2f}"

    p = w["P"] * Fraction(lowest) / Fraction(bid.weekly_price)
    c = w["C"] * Fraction(bid.competency) / SCORE_MAX
    band = math.floor(Fraction(bid.distance_miles) / BAND_MILES)
    band_points = max(0, BANDS - band)
    loc_ = w["L"] * band_points / BANDS
    band_name = (
        f"{band * BAND_MILES}–{(band + 1) * BAND_MILES} miles"
        if band < BANDS
        else f"{BANDS * BAND_MILES}+ miles"
    )
    k = len(bid.outcome_scores)
    mean = sum(map(Fraction, bid.outcome_scores), Fraction(0)) / k if k else Fraction(0)
    o = w["O"] * mean / SCORE_MAX
    needs_met, needs_all = _marks(needs, bid.needs_met)
    n = w["N"] * Fraction(needs_met, needs_all) if needs_all else Fraction(0)
    feats_met, feats_all = _marks(desirable, bid.features_met)
    f = w["F"] * Fraction(feats_met, feats_all) if feats_all else Fraction(0)
    subscores = Subscores(P=p, C=c, L=loc_, O=o, N=n, F=f)
    explanation = {
        "P": f"{weights.P} × lowest {fmt(lowest)} / {fmt(bid.weekly_price)} = {pts(p)}",
        "C": f"{weights.C} × competency {bid.competency} / {SCORE_MAX} = {pts(c)}",
        "L": (
            f"{weights.L} × {band_points}/{BANDS} ({bid.distance_miles} miles, "
            f"band {band_name}) = {pts(loc_)}"
        ),
        "O": (
            f"{weights.O} × mean {pts(mean)} of {k} evaluator score(s) / {SCORE_MAX} = {pts(o)}"
            if k
            else "no evaluator score: counted as 0 = 0.00"
        ),
        "N": (
            f"{weights.N} × {needs_met}/{needs_all} marks of needs met = {pts(n)}"
            if needs_all
            else "no needs listed = 0.00"
        ),
        "F": (
            f"{weights.F} × {feats_met}/{feats_all} marks of desirable features = {pts(f)}"
            if feats_all
            else "no desirable features listed = 0.00"
        ),
    }
    return subscores, explanation


def _rank_key(s: ScoredBid) -> tuple:
    """§6.3: total desc, quality desc, price asc, earlier submission, then bid id."""
    assert s.subscores is not None
    b = s.bid
    return (-s.subscores.total, -s.subscores.quality, b.weekly_price, b.submitted_at, b.bid_id)


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
    errors = _Errors()
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
            excluded.append(ScoredBid(bid=bid, reasons=reasons))
        else:
            compliant.append(bid)

    lowest = min((b.weekly_price for b in compliant), default=None)
    scored = []
    for bid in compliant:
        assert lowest is not None
        subscores, explanation = _score(bid, used, lowest, needs, desirable)
        scored.append(ScoredBid(bid=bid, subscores=subscores, explanation=explanation))
    scored.sort(key=_rank_key)
    ranked = [
        ScoredBid(bid=s.bid, subscores=s.subscores, explanation=s.explanation, rank=i)
        for i, s in enumerate(scored, start=1)
    ]
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
        weights=used,
        lowest_price=lowest,
        ranking=(*ranked, *excluded),
        shortlist=shortlist,
    )


def shortlist_of(ranked: Sequence[ScoredBid]) -> tuple[str, ...]:
    """§6.4: the ranked bids, at most 3 and in rank order, with total > T1 − 5 (exact)."""
    if not ranked:
        return ()
    assert ranked[0].subscores is not None
    floor_ = ranked[0].subscores.total - SHORTLIST_MARGIN
    return tuple(
        s.bid.bid_id
        for s in ranked[:SHORTLIST_SIZE]
        if s.subscores is not None and s.subscores.total > floor_
    )
