"""Money and points as scoring shows them (RULES §4.4, §6.3).

Decision where RULES is silent (tested): the **cohort discount** (§4.4, §6.3) applies to the
core costs only (the tiers are part of the qualified offer of core costs); the discount is
rounded half up to whole pence. Variable costs are added undiscounted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

from services.scoring.messages import bid_price


def weekly_price(
    core_costs: Iterable[Decimal],
    variable_costs: Iterable[Decimal],
    discount_percent: Decimal,
    children: int = 1,
) -> Decimal:
    """Weekly price after the cohort discount (§4.4, §6.3): ``messages.bid_price``, the one
    pricing rule the referral service uses too. Amounts are ≥ 0 and
    ``0 ≤ discount_percent < 100`` (validated by the caller's message model)."""
    return bid_price(core_costs, variable_costs, discount_percent, children)[1]


def display(points: Fraction) -> Decimal:
    """Round exact points half up to 2 decimals, for display only (§6.3)."""
    hundredths = math.floor(Fraction(points) * 100 + Fraction(1, 2))
    return Decimal(hundredths).scaleb(-2)
