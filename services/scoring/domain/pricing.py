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

from services.common.money import round_pence


def weekly_price(
    core_costs: Iterable[Decimal], variable_costs: Iterable[Decimal], discount_percent: Decimal
) -> Decimal:
    """Weekly price after the cohort discount (§4.4, §6.3): core costs less the discount
    (rounded half up to pence), plus the variable costs. Amounts are ≥ 0 and
    ``0 ≤ discount_percent < 100`` (validated by the caller's message model)."""
    core = sum(core_costs, Decimal(0))
    discount = round_pence(core * Decimal(discount_percent) / 100)
    return core - discount + sum(variable_costs, Decimal(0))


def display(points: Fraction) -> Decimal:
    """Round exact points half up to 2 decimals, for display only (§6.3)."""
    hundredths = math.floor(Fraction(points) * 100 + Fraction(1, 2))
    return Decimal(hundredths).scaleb(-2)
