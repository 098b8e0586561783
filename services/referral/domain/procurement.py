"""A referral as a call-off under its market's regime (RULES §11.3, §11.4).

- the regime and market are fixed when the referral is created: a referral keeps the
  regime under which it was started (§11.1);
- the estimated value is the weekly price ceiling × expected weeks; an unknown duration (or
  ceiling) counts as above the light touch threshold (Schedule 3 para 5 of the Act);
  prices are taken as VAT inclusive (children's social care is exempt from VAT);
- below the threshold the below-threshold rules of Part 6 (ss.84–88) are recorded;
- a light touch contract has no statutory minimum tender period (s.54(4)): under the Act a
  category's minimum may be 0 hours; under a PCR 2015 DPS the platform's 24 hours apply
  when the category says 0;
- a voluntary standstill (s.51(3)(e), (f)) of at least 8 working days (England and Wales
  bank holidays) may be chosen at award; the placement cannot start before it ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from services.common.calendar import add_working_days, is_working_day, london_date
from services.common.errors import InvalidInput
from services.referral.messages import ProcurementView

PCR2015 = "PCR2015_DPS"
PA2023 = "PA2023_DYNAMIC_MARKET"
LIGHT_TOUCH_THRESHOLD = Decimal("663540")
"""Schedule 1 of the Act: the light touch contract threshold, including VAT (unchanged on
1 January 2026)."""
REGULATED_BELOW_THRESHOLD = Decimal("30000")
"""s.84(1)(b): a sub-central authority's contract of £30,000 (incl. VAT) or more is a
regulated below-threshold contract."""
MIN_STANDSTILL_WORKING_DAYS = 8
"""s.51(2)-(3): a standstill period is at least 8 working days."""
PCR_DEFAULT_TENDER_HOURS = 24


@dataclass(frozen=True)
class Procurement:
    """The regime, market and value of one call-off (§11.3, §11.4)."""

    dps_id: str
    regime: str
    estimated_value: Decimal | None = None
    above_threshold: bool | None = None
    below_threshold_rules: str | None = None
    standstill_ends_on: date | None = None
    insurance_checked_at: datetime | None = None
    summaries_released_at: datetime | None = None

    @property
    def pa2023(self) -> bool:
        return self.regime == PA2023

    def valued(self, weekly_price_ceiling: Decimal | None,
               expected_weeks: int | None) -> Procurement:
        value, above, rules = estimate(weekly_price_ceiling, expected_weeks, self.regime)
        return replace(self, estimated_value=value, above_threshold=above,
                       below_threshold_rules=rules)

    def event_fields(self) -> dict:
        return {
            "dps_id": self.dps_id, "regime": self.regime,
            "estimated_value": None if self.estimated_value is None
            else f"{self.estimated_value:.2f}",
            "above_threshold": self.above_threshold,
            "below_threshold_rules": self.below_threshold_rules,
        }

    def to_view(self) -> ProcurementView:
        return ProcurementView(
            dps_id=self.dps_id, regime=self.regime, estimated_value=self.estimated_value,
            above_threshold=self.above_threshold,
            below_threshold_rules=self.below_threshold_rules,
            standstill_ends_on=self.standstill_ends_on,
            insurance_checked_at=self.insurance_checked_at,
            summaries_released_at=self.summaries_released_at,
        )

    def to_row(self) -> dict:
        return self.to_view().model_dump(mode="json")

    @classmethod
    def from_row(cls, row: dict | None) -> Procurement | None:
        if not row:
            return None
        v = ProcurementView.model_validate(row)
        return cls(dps_id=v.dps_id, regime=v.regime, estimated_value=v.estimated_value,
                   above_threshold=v.above_threshold,
                   below_threshold_rules=v.below_threshold_rules,
                   standstill_ends_on=v.standstill_ends_on,
                   insurance_checked_at=v.insurance_checked_at,
                   summaries_released_at=v.summaries_released_at)


def estimate(weekly_price_ceiling: Decimal | None, expected_weeks: int | None,
             regime: str) -> tuple[Decimal | None, bool, str | None]:
    """§11.4: ``(estimated value, above the light touch threshold, below-threshold rules)``.
    The value is the weekly ceiling × the expected weeks, exact; an unknown duration or
    ceiling counts as above the threshold (Schedule 3 para 5: a contract of indefinite
    duration is valued as above)."""
    if weekly_price_ceiling is None or expected_weeks is None:
        return None, True, None
    value = (weekly_price_ceiling * expected_weeks).quantize(Decimal("0.01"))
    above = value >= LIGHT_TOUCH_THRESHOLD
    if above or regime != PA2023:
        return value, above, None
    if value >= REGULATED_BELOW_THRESHOLD:
        rules = ("regulated below-threshold contract (Procurement Act 2023 Part 6, ss.84-88): "
                 "no conditions of participation other than legal and financial capacity "
                 "(s.85); a below-threshold tender notice if advertised (s.86); a contract "
                 "details notice after award (s.87); payment within 30 days (s.68 via s.88)")
    else:
        rules = ("below £30,000 including VAT: not a regulated below-threshold contract "
                 "(s.84(1)(b)); no notice is required")
    return value, False, rules


def min_tender_hours(category_hours: int, regime: str) -> int:
    """§5, §11.3: the category's minimum tender period; 0 is allowed only under the Act
    (s.54(4): no statutory minimum for a light touch contract)."""
    if category_hours <= 0 and regime != PA2023:
        return PCR_DEFAULT_TENDER_HOURS
    return max(category_hours, 0)


def standstill_ends_on(awarded_at: datetime, working_days: int | None,
                       regime: str) -> date | None:
    """§11.4, s.51(3)(e),(f): the last day of a voluntary standstill of ``working_days``
    (at least 8) working days beginning with the award day, or None when none is chosen.
    The placement may start the day after (it cannot start before the standstill ends)."""
    if working_days is None:
        return None
    if regime != PA2023:
        raise InvalidInput.at(["standstill_working_days"], "a voluntary standstill is "
                              "stated in a Procurement Act 2023 award notice (s.51); this "
                              "referral runs under a PCR 2015 DPS")
    if working_days < MIN_STANDSTILL_WORKING_DAYS:
        raise InvalidInput.at(["standstill_working_days"], "must be at least 8 working days "
                              "(s.51(2))")
    return standstill_last_day(london_date(awarded_at), working_days)


def standstill_last_day(award_day: date, working_days: int) -> date:
    """s.51(2): the standstill is the period of ``working_days`` working days *beginning
    with* the day the award notice is published (here the award day): its last day."""
    if is_working_day(award_day):
        return add_working_days(award_day, working_days - 1)
    return add_working_days(award_day, working_days)
