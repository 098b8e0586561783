"""The weights of a referral's six scoring components (RULES §6.1).

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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from services.common.errors import InvalidInput
from services.scoring.domain.errors import FieldErrors, is_whole

COMPONENTS = ("P", "C", "L", "O", "N", "F")
SHARED = ("O", "N", "F")  # rescaled when only P changes (§6.1)
TOTAL_POINTS = 100
PRICE_MIN, PRICE_MAX = 30, 70  # §6.1, business case 8.7
COMPETENCY_MAX = 20  # §6.1, business case 7.10 and 8.5


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


def check_weights(
    weights: Weights, *, has_needs: bool, has_desirable: bool, loc: str = "weights"
) -> Weights:
    """Enforce every §6.1 constraint; raise InvalidInput naming each faulty field."""
    errors = FieldErrors()
    values = weights.as_dict()
    for code, value in values.items():
        if not is_whole(value):
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
    elif not is_whole(price_weight) or not PRICE_MIN <= price_weight <= PRICE_MAX:
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
