"""When a Procurement Act 2023 notice is needed and by when (RULES §11.4), and the dynamic
market's fee (s.38, §11.2 → §7.7).

Pure rules; the OCDS releases themselves are built in ``notices``.

- **Regime:** notices exist only under ``PA2023_DYNAMIC_MARKET``. An event without a regime
  (sent before the producer knew of regimes) is the PCR 2015 DPS ``dps-1``: no notice.
- **Threshold:** the call-off notices (UK4, UK6, UK7, UK11, UK12) apply to a contract at or
  above the light touch threshold, £663,540 including VAT (Schedule 1). The referral says
  whether it is (``above_threshold``); when it does not, its estimated value decides, and an
  unknown value counts as above (Schedule 3 para 5: an unknown duration). Below it, Part 6
  (ss.84–88) applies instead and no notice here is produced.
- **User choice** direct awards (Schedule 5 paras 15–17) need none of these notices.
- **Due dates** (calendar days unless said): UK13 before the market is established
  (s.39(2)): by ``valid_from``; UK14 as soon as reasonably practicable after establishing
  (s.39(3)) and UK15 after each modification, each admission and removal included
  (reg 25(6)): the day of the event; UK16 when the market ends (s.39(5)): its end day; UK4 at
  publishing the referral (s.21): that day; UK6 after the assessment summaries and before
  entering the contract (s.50): the award day, or, with a voluntary standstill, the last day
  from which at least 8 working days remain until it ends (s.51(2)-(3)); UK7 within 120 days
  of entering the contract (s.53(3)); UK11 within 30 days of the contract ending (s.80(2));
  UK12 as soon as reasonably practicable after the decision to end the procurement (s.55):
  that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from services.common.errors import Conflict
from services.common.money import round_pence
from services.contracts.domain.calendar import add_working_days, award_day, quarter_of
from services.contracts.domain.values import HUNDRED, ZERO
from services.contracts.messages import NOTICE_TITLES as NOTICE_TITLES

PCR2015_DPS = "PCR2015_DPS"
PA2023_DYNAMIC_MARKET = "PA2023_DYNAMIC_MARKET"
LIGHT_TOUCH_THRESHOLD = Decimal("663540")
"""Schedule 1 of the Act, light touch contracts, including VAT (unchanged on 1 January 2026)."""
STANDSTILL_MIN_WORKING_DAYS = 8
"""s.51(3): a standstill period is at least 8 working days."""
UK7_DAYS = 120
UK11_DAYS = 30
USER_CHOICE = "user_choice"

NOTICE_TYPES = tuple(NOTICE_TITLES)


def under_act(regime: str | None) -> bool:
    """§11.1: only a dynamic market under the Act has these notices."""
    return regime == PA2023_DYNAMIC_MARKET


def above_threshold(flag: bool | None, estimated_value: Decimal | None) -> bool:
    """§11.4 threshold: the referral's own answer, else its estimated value against the light
    touch threshold; an unknown value counts as above (Schedule 3 para 5)."""
    if flag is not None:
        return flag
    return estimated_value is None or estimated_value >= LIGHT_TOUCH_THRESHOLD


def call_off_notices_apply(
    regime: str | None,
    above: bool | None,
    estimated_value: Decimal | None,
    reason_code: str | None = None,
) -> bool:
    """UK4, UK6, UK7, UK11 and UK12 for a referral or placement (§11.4): under the Act, at or
    above the threshold, and not a user choice direct award (Schedule 5 paras 15–17)."""
    if not under_act(regime) or reason_code == USER_CHOICE:
        return False
    return above_threshold(above, estimated_value)


def uk6_due(awarded_on: date, standstill_ends_on: date | None) -> date:
    """UK6 (s.50): the award day; with a voluntary standstill (s.51), the last day from which
    8 working days still remain until it ends, so that the stated standstill holds."""
    if standstill_ends_on is None:
        return awarded_on
    return add_working_days(standstill_ends_on, -STANDSTILL_MIN_WORKING_DAYS)


def standstill_long_enough(published_on: date, standstill_ends_on: date) -> bool:
    """A voluntary standstill (s.51(3)) ends no earlier than the 8th working day after the
    award notice is published."""
    return standstill_ends_on >= add_working_days(published_on, STANDSTILL_MIN_WORKING_DAYS)


def uk7_due(entered_on: date) -> date:
    """s.53(3): the contract details notice within 120 days of entering the contract."""
    return entered_on + timedelta(days=UK7_DAYS)


def uk11_due(ended_on: date) -> date:
    """s.80(2): the contract termination notice within 30 days of the contract ending."""
    return ended_on + timedelta(days=UK11_DAYS)


def check_start_after_standstill(start: date, standstill_ends_on: date | None) -> None:
    """§11.4: with a voluntary standstill the placement cannot start before it ends. It ends
    at midnight at the end of its last day (s.51(2)), so the first possible start is the day
    after ``standstill_ends_on``; earlier is a ``Conflict`` (409) naming that day."""
    if standstill_ends_on is not None and start <= standstill_ends_on:
        first = standstill_ends_on + timedelta(days=1)
        raise Conflict(
            f"the award's voluntary standstill period runs to the end of {standstill_ends_on} "
            f"(Procurement Act 2023 s.51, RULES §11.4): the placement can start on {first} "
            "at the earliest"
        )


@dataclass(frozen=True)
class DueNotice:
    """A notice not yet marked published, with its deadline."""

    notice_id: str
    notice_type: str
    due_by: date


def due_list(notices: Iterable[DueNotice], today: date, within_days: int = 7) -> list[dict]:
    """The notices due within ``within_days`` or overdue (§11.4 due list), most urgent first,
    with ``overdue`` and the days left (negative when missed)."""
    horizon = today + timedelta(days=within_days)
    chosen = sorted((n for n in notices if n.due_by <= horizon),
                    key=lambda n: (n.due_by, n.notice_type, n.notice_id))
    return [
        {
            "notice_id": n.notice_id,
            "notice_type": n.notice_type,
            "due_by": n.due_by.isoformat(),
            "days_left": (n.due_by - today).days,
            "overdue": n.due_by < today,
        }
        for n in chosen
    ]


# --- fees (s.38) -----------------------------------------------------------------------------


def supplier_fee(estimated_value: Decimal, fee_percent: Decimal) -> Decimal:
    """s.38: the market's fixed percentage of the awarded contract's estimated value,
    rounded half up to pence."""
    return round_pence(estimated_value * fee_percent / HUNDRED)


@dataclass(frozen=True)
class MarketAward:
    """An award made under a dynamic market, for its supplier fee (s.38)."""

    provider_id: str
    provider_name: str
    awarded_at: Any  # datetime
    estimated_value: Decimal | None
    fee_percent: Decimal | None


def supplier_fees(awards: Iterable[MarketAward], start: date, end: date) -> dict[str, Any]:
    """§11.2 fees (s.38) of the awards made between ``start`` and ``end`` (UTC days, both
    included): charged only to the awarded supplier, per supplier and per calendar quarter.
    An award without an estimated value or under a market charging no fee bears none."""
    rows: dict[str, dict[str, Any]] = {}
    for a in awards:
        day = award_day(a.awarded_at)
        if not start <= day <= end or a.estimated_value is None or not a.fee_percent:
            continue
        row = rows.setdefault(a.provider_id, {"provider_id": a.provider_id,
                                              "provider_name": a.provider_name,
                                              "fees": {}, "total": ZERO})
        fee = supplier_fee(a.estimated_value, a.fee_percent)
        quarter = quarter_of(day)
        row["fees"][quarter] = row["fees"].get(quarter, ZERO) + fee
        row["total"] += fee
    suppliers = [
        {**r, "fees": {q: f"{v:.2f}" for q, v in sorted(r["fees"].items())},
         "total": f"{r['total']:.2f}"}
        for _, r in sorted(rows.items())
    ]
    total = sum((r["total"] for r in rows.values()), ZERO)
    return {"suppliers": suppliers, "total": f"{total:.2f}"}
