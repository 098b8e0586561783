"""Cost sharing between the partner authorities and the platform fee (RULES §7.7).

Years are financial years (1 April to 31 March; the business case splits by "year
2015/16"); fees are counted per calendar quarter of the award (UTC day).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from services.common import money
from services.common.errors import InvalidInput
from services.common.money import round_pence
from services.contracts.domain.calendar import award_day, quarter_of
from services.contracts.domain.notice_rules import MarketAward, supplier_fees, under_act
from services.contracts.domain.placements import Placement
from services.contracts.domain.publication import AwardRecord
from services.contracts.domain.values import HUNDRED, ZERO, _amount, _decimal, _jsonable

DEFAULT_FEE_PERCENT = Decimal("1")
"""§7.7 platform transaction fee (business case Appendix A)."""


def allocate_pence(total: Decimal, weights: Mapping[str, int]) -> dict[str, Decimal]:
    """Split ``total`` in proportion to ``weights`` in whole pence so that the shares sum
    exactly to it: largest remainder (Hamilton) — each gets the floor of its quota, and the
    pence left go one each to the largest remainders, ties to the smaller authority code.
    If every weight is 0 the split is equal (a zero weight otherwise gets nothing)."""
    if not weights:
        raise InvalidInput.at(["authorities"], "there is no authority to share the cost")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights.values()):
        raise InvalidInput.at(["weights"], "weights are whole numbers of at least 0")
    pence = money.to_pence(_amount(total, ["amount"]))
    if not any(weights.values()):
        weights = dict.fromkeys(weights, 1)
    whole = sum(weights.values())
    shares = {code: pence * weight // whole for code, weight in weights.items()}
    remainders = {code: pence * weight % whole for code, weight in weights.items()}
    left = pence - sum(shares.values())
    for code in sorted(weights, key=lambda c: (-remainders[c], c))[:left]:
        shares[code] += 1
    return {code: money.from_pence(shares[code]) for code in sorted(shares)}


def financial_year(year: int) -> tuple[date, date]:
    """Financial year ``year``/``year+1``: 1 April to 31 March, both included."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year < 9999:
        raise InvalidInput.at(["year"], "must be a year such as 2026")
    return date(year, 4, 1), date(year + 1, 3, 31)


def transaction_fee(award: AwardRecord, percent: Decimal = DEFAULT_FEE_PERCENT) -> Decimal:
    """§7.7 platform fee on one award: annualised value × rate, rounded half up to pence."""
    return round_pence(award.annual_value * percent / HUNDRED)


def cost_shares(
    *,
    year: int,
    authorities: Iterable[str],
    placements: Iterable[Placement],
    awards: Iterable[AwardRecord],
    running_cost: Decimal,
    setup_cost: Decimal = ZERO,
    fee_percent: Decimal = DEFAULT_FEE_PERCENT,
    market_fee_percents: Mapping[str, Decimal] | None = None,
) -> dict[str, Any]:
    """The cost split of financial year ``year`` (§7.7), JSON-ready.

    - Running cost: in proportion to each authority's placements agreed in the previous
      financial year (all sources: awards, direct and block placements), by
      ``allocate_pence``; a placement that never started (§7.1 ``did_not_start``) counts
      in none, and its award bears no fee; an authority with none pays no running share,
      unless no authority has any, when it is split equally.
    - Set-up cost: split equally, by the same exact allocation.
    - Transaction fees: ``fee_percent`` of the annualised value of each award made in the
      year, rounded per award, reported per authority and per calendar quarter. Under a PCR
      2015 DPS no fee may be charged to suppliers (reg 34), so it is the authorities' cost.
    - Supplier fees (§11.2, s.38): an award under a Procurement Act dynamic market bears no
      authority fee; its market's fixed percentage (``market_fee_percents`` by ``dps_id``) of
      the contract's estimated value is charged to the awarded supplier alone, reported per
      supplier and per quarter (``supplier_fees``).

    The authorities sharing are ``authorities`` plus any that placed in the previous year.
    """
    fee_percent = _decimal(fee_percent, ["fee_percent"])
    if not 0 <= fee_percent <= 100:
        raise InvalidInput.at(["fee_percent"], "must be from 0 to 100")
    start, end = financial_year(year)
    basis_start, basis_end = financial_year(year - 1)
    counts = dict.fromkeys(authorities, 0)
    for p in placements:
        if basis_start <= award_day(p.agreed_at) <= basis_end and not p.never_started:
            counts[p.authority] = counts.get(p.authority, 0) + 1
    running = allocate_pence(running_cost, counts)
    setup = allocate_pence(setup_cost, dict.fromkeys(counts, 1))
    fees: dict[str, dict[str, Decimal]] = {code: {} for code in counts}
    awards = list(awards)
    percents = market_fee_percents or {}
    supplier = supplier_fees(
        (MarketAward(a.provider_id, a.provider_name, a.awarded_at, a.estimated_value,
                     percents.get(a.dps_id or ""))
         for a in awards if under_act(a.regime)),
        start, end)
    for award in awards:
        day = award_day(award.awarded_at)
        if start <= day <= end and not under_act(award.regime):
            quarters = fees.setdefault(award.authority, {})
            quarter = quarter_of(day)
            quarters[quarter] = quarters.get(quarter, ZERO) + transaction_fee(award, fee_percent)
    rows = [
        {
            "authority": code,
            "placements_previous_year": counts.get(code, 0),
            "running_share": running.get(code, ZERO),
            "setup_share": setup.get(code, ZERO),
            "total_share": running.get(code, ZERO) + setup.get(code, ZERO),
            "transaction_fees": dict(sorted(fees[code].items())),
            "transaction_fees_total": sum(fees[code].values(), ZERO),
        }
        for code in sorted(fees)
    ]
    return _jsonable(
        {
            "year": f"{year}/{str(year + 1)[-2:]}",
            "from": start,
            "to": end,
            "basis_from": basis_start,
            "basis_to": basis_end,
            "running_cost": _amount(running_cost, ["running_cost"]),
            "setup_cost": _amount(setup_cost, ["setup_cost"]),
            "fee_percent": fee_percent,
            "authorities": rows,
            "transaction_fees_total": sum((r["transaction_fees_total"] for r in rows), ZERO),
        }
    ) | {"supplier_fees": supplier}
