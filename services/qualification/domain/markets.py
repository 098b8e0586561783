"""Several DPSs and dynamic markets over time, each under its regime (RULES §11.1, §11.2).

A ``Market`` is one DPS (``PCR2015_DPS``) or dynamic market (``PA2023_DYNAMIC_MARKET``):
its own ``dps_id``, its parts (the categories, numbered, §11.2), its fee (s.38), its
lifecycle ``planned → established → ended`` and the period and entry settings of §3
(``DpsSettings``, versioned as before). The DPS that existed before markets is ``dps-1``.

Dates of the transitional rules (The Procurement Act 2023 (Commencement No. 3 and
Transitional and Saving Provisions) Regulations 2024, SI 2024/716 reg 5, as amended by
SI 2024/959): no PCR 2015 DPS can be established on or after 24 February 2025; an existing
one's period cannot be changed after 23 February 2026, and it ends by 23 February 2029.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.common.errors import Conflict, InvalidInput
from services.qualification import messages as m
from services.qualification.domain.calendar import add_months
from services.qualification.domain.dps import DpsSettings
from services.qualification.domain.vocabulary import INSURANCE

PCR2015 = "PCR2015_DPS"
PA2023 = "PA2023_DYNAMIC_MARKET"
REGIMES = (PCR2015, PA2023)
FIRST_DPS_ID = "dps-1"

PCR_ESTABLISHED_BEFORE = date(2025, 2, 24)
"""SI 2024/716 reg 5: a PCR 2015 DPS must have been established before 24 February 2025."""
PCR_PERIOD_FROZEN_AFTER = date(2026, 2, 23)
"""SI 2024/716 reg 5(3) as amended by SI 2024/959: no change of period after 23 Feb 2026."""
PCR_LAST_DAY = date(2029, 2, 23)
"""SI 2024/716 reg 5 as amended by SI 2024/959: a PCR DPS ends by 23 February 2029."""
EXPIRY_WARNING_MONTHS = (6, 3)
"""§11.1: the lead is warned 6 and 3 months before a PCR DPS's expiry."""

NOT_MEMBERSHIP_CONDITIONS_PA2023 = frozenset({INSURANCE})
"""s.36(2)–(3): insurance before award, audited accounts and previous contracts may not be
conditions of membership of a dynamic market. Of §4.1's criteria only INSURANCE is one of
them (FINANCIAL judges risk, not audited accounts); it is checked at award instead."""

CONDITION_SETTINGS = frozenset({"pass_fail_criteria", "insurance_minimums", "cost_heads",
                                "optional_cost_heads"})
"""Category settings that are conditions of membership (s.36(7): frozen for the market's
term). Weights, caps (a cap is a price limit of the call-off, not a condition of
membership, §11.2), tender settings and competency periods are not."""

PPON = re.compile(r"^P[A-Z]{3}-\d{4}-[A-Z]{4}$")
"""The Central Digital Platform's Public Procurement Organisation Number (scheme
``GB-PPON``), e.g. ``PBCP-5168-ZDGP`` (§11.2)."""


def check_ppon(value: str | None, loc: str = "ppon") -> str | None:
    """§11.2: a PPON as ``PXXX-9999-XXXX`` (upper-cased), or None."""
    if value is None:
        return None
    normalised = value.strip().upper()
    if not PPON.match(normalised):
        raise InvalidInput.at([loc], "must be a PPON like PBCP-5168-ZDGP (scheme GB-PPON)")
    return normalised


@dataclass(frozen=True)
class Part:
    """One category as a titled, numbered part (lot) of the market (§11.2)."""

    number: int
    category: str
    title: str


@dataclass(eq=False)
class Market:
    """A DPS or dynamic market (§11.1): ``planned → established → ended``."""

    dps_id: str
    regime: str
    title: str
    parts: tuple[Part, ...]
    settings: DpsSettings
    lead_authority: str
    created_at: datetime
    description: str | None = None
    fee_percent: Decimal | None = None
    state: str = "planned"
    established_on: date | None = None
    ended_on: date | None = None
    migrated_from: str | None = None
    is_default: bool = False
    warnings_sent: list[str] = field(default_factory=list)
    events: list = field(default_factory=list, repr=False)

    # -- queries ------------------------------------------------------------------

    @property
    def pa2023(self) -> bool:
        return self.regime == PA2023

    def categories(self) -> list[str]:
        return [p.category for p in self.parts]

    def part_number(self, category: str) -> int | None:
        return next((p.number for p in self.parts if p.category == category), None)

    def expires_on(self) -> date:
        """The last day of validity: a PCR DPS's ends on 23 February 2029 at the latest
        (SI 2024/716 reg 5), whatever its stored period says."""
        end = self.settings.valid_to
        if self.ended_on is not None:
            end = min(end, self.ended_on)
        return min(end, PCR_LAST_DAY) if self.regime == PCR2015 else end

    def effective_settings(self) -> DpsSettings:
        return replace(self.settings, valid_to=self.expires_on())

    def running(self, today: date) -> bool:
        """Established, not ended and within its period (it takes applications and
        call-offs when entry is also open, §3)."""
        return self.state == "established" and self.effective_settings().status(today) != (
            "expired") and today >= self.settings.valid_from

    def status(self, today: date) -> str:
        if self.state == "ended":
            return "expired"
        if self.state == "planned":
            return "not_started"
        return self.effective_settings().status(today)

    def ensure_accepting_applications(self, category: str, today: date) -> None:
        """§3, §11.2: within validity, entry open, the category one of its parts."""
        if self.state != "established":
            raise Conflict(f"the market {self.dps_id} is {self.state}: no application can be "
                           "submitted")
        self.effective_settings().ensure_accepting_applications(today)
        if category not in self.categories():
            raise Conflict(f"{category} is not a part of the market {self.dps_id}")

    def conditions_exclude(self) -> frozenset[str]:
        """Criteria that are not conditions of membership under this regime (s.36(2))."""
        return NOT_MEMBERSHIP_CONDITIONS_PA2023 if self.pa2023 else frozenset()

    def due_warnings(self, today: date) -> list[int]:
        """§11.1: months-before-expiry warnings of a PCR DPS due today and not yet sent."""
        if self.regime != PCR2015 or self.state == "ended":
            return []
        expiry = self.expires_on()
        return [months for months in EXPIRY_WARNING_MONTHS
                if f"{months}m:{expiry.isoformat()}" not in self.warnings_sent
                and add_months(expiry, -months) <= today <= expiry]

    def mark_warned(self, months: int) -> None:
        self.warnings_sent.append(f"{months}m:{self.expires_on().isoformat()}")

    def to_view(self, today: date) -> m.MarketView:
        s = self.effective_settings()
        return m.MarketView(
            dps_id=self.dps_id,
            regime=self.regime,
            title=self.title,
            description=self.description,
            parts=[m.PartView(number=p.number, category=p.category, title=p.title)
                   for p in self.parts],
            fee_percent=self.fee_percent,
            lead_authority=self.lead_authority,
            state=self.state,
            status=self.status(today),
            valid_from=s.valid_from,
            valid_to=s.valid_to,
            entry_open=s.entry_open,
            closed_from=s.closed_from,
            closed_until=s.closed_until,
            established_on=self.established_on,
            ended_on=self.ended_on,
            migrated_from=self.migrated_from,
            default=self.is_default,
            expires_at_latest=PCR_LAST_DAY if self.regime == PCR2015 else None,
        )

    def dps_view(self, today: date) -> m.DpsView:
        """``GET /dps``: §3's fields, and which regime and market apply (§11.1)."""
        v = self.to_view(today)
        return m.DpsView(**{k: getattr(v, k) for k in m.DpsView.model_fields if hasattr(v, k)})

    # -- events -------------------------------------------------------------------

    def _notice_fields(self, now: datetime) -> dict:
        return {
            "dps_id": self.dps_id, "regime": self.regime, "title": self.title,
            "description": self.description,
            "parts": [{"number": p.number, "category": p.category, "title": p.title}
                      for p in self.parts],
            "valid_from": self.settings.valid_from, "valid_to": self.expires_on(),
            "fee_percent": None if self.fee_percent is None else str(self.fee_percent),
            "lead_authority": self.lead_authority, "occurred_at": now,
        }

    # -- commands -----------------------------------------------------------------

    def establish(self, now: datetime, today: date) -> None:
        """s.39(3): the market is established (a UK14 follows, §11.4)."""
        if self.state != "planned":
            raise Conflict(f"the market {self.dps_id} is {self.state}; only a planned one "
                           "can be established")
        if self.regime == PCR2015 and today >= PCR_ESTABLISHED_BEFORE:
            raise Conflict("no PCR 2015 DPS can be established on or after 24 February 2025 "
                           "(SI 2024/716 reg 5): create a dynamic market (PA2023)")
        self.state = "established"
        self.established_on = today
        self.events.append(m.MarketEstablished(**self._notice_fields(now)))

    def end(self, ended_on: date, now: datetime, today: date) -> None:
        """s.39(5) (UK16 for a dynamic market); a PCR DPS may be ended early. Ending is
        not a change of the period (its stored period is kept)."""
        if self.state == "ended":
            raise Conflict(f"the market {self.dps_id} has already ended")
        if ended_on < today:
            raise InvalidInput.at(["ended_on"], "must not be in the past")
        if ended_on > self.expires_on():
            raise InvalidInput.at(["ended_on"], f"must not be after the market's last day "
                                                f"{self.expires_on().isoformat()}")
        self.ended_on = ended_on
        if ended_on <= today:
            self.state = "ended"
        self.events.append(m.MarketEnded(dps_id=self.dps_id, regime=self.regime,
                                         title=self.title, ended_on=ended_on, occurred_at=now))

    def end_when_due(self, today: date) -> bool:
        """An end scheduled for a later day takes effect on that day (timer)."""
        if self.state == "established" and self.ended_on is not None and today >= self.ended_on:
            self.state = "ended"
            return True
        return False

    def change(self, patch: Mapping[str, Any], today: date) -> None:
        """PATCH /markets/{id}: title, description, fee, parts' titles (a planned market),
        the default flag. The period and entry go through ``change_period`` (§3)."""
        for key, value in patch.items():
            if key in ("title", "description"):
                setattr(self, key, value)
            elif key == "fee_percent":
                if self.state != "planned":
                    raise Conflict("the fee is stated in the market's notice (s.38(3)); it "
                                   "cannot change after the market is established")
                if value is not None and self.regime == PCR2015:
                    raise InvalidInput.at(["fee_percent"], "no fee may be charged to "
                                          "suppliers under a PCR 2015 DPS (PCR 2015 reg 34)")
                self.fee_percent = value
            elif key == "default":
                self.is_default = bool(value)


def check_period_change(market: Market, before: DpsSettings, after: DpsSettings,
                        today: date) -> None:
    """§11.1, SI 2024/716 reg 5 as amended by SI 2024/959: a PCR DPS's period cannot
    change after 23 February 2026 nor end after 23 February 2029."""
    if market.regime != PCR2015:
        return
    def effective(settings: DpsSettings, key: str) -> date:  # as GET /dps shows it
        day = getattr(settings, key)
        return min(day, PCR_LAST_DAY) if key == "valid_to" else day

    changed = [k for k in ("valid_from", "valid_to")
               if effective(before, k) != effective(after, k)]
    if not changed:
        return
    if today > PCR_PERIOD_FROZEN_AFTER:
        raise Conflict(
            f"the period of a PCR 2015 DPS cannot be changed after 23 February 2026 "
            f"(SI 2024/716 reg 5 as amended by SI 2024/959): {', '.join(changed)} refused; "
            "end it or migrate it to a dynamic market instead",
            [{"loc": [changed[0]], "msg": "a PCR DPS's period is fixed after 23 February 2026"}],
        )
    if after.valid_to > PCR_LAST_DAY:
        raise InvalidInput.at(["valid_to"], "a PCR 2015 DPS ends by 23 February 2029 at the "
                              "latest (SI 2024/716 reg 5 as amended by SI 2024/959)")


def new_market(request: m.MarketCreate, dps_id: str, lead_authority: str, now: datetime,
               today: date, known_categories: list[str],
               migrated_from: str | None = None) -> Market:
    """§11.1: a new market (``planned``; a UK13 intention notice for a dynamic market).
    A PCR 2015 DPS is accepted only as the record of one established before 24 February
    2025 (``established_on``), its period within 23 February 2029."""
    parts = []
    numbers, cats = set(), set()
    for i, p in enumerate(request.parts):
        if p.category not in known_categories:
            raise InvalidInput.at(["parts", i, "category"], f"unknown category {p.category!r}")
        if p.number in numbers or p.category in cats:
            raise InvalidInput.at(["parts", i], "each part has its own number and category")
        numbers.add(p.number)
        cats.add(p.category)
        parts.append(Part(p.number, p.category, p.title))
    if request.valid_to < request.valid_from:
        raise InvalidInput.at(["valid_to"], "must not be before valid_from")
    settings = DpsSettings(request.valid_from, request.valid_to, entry_open=True)
    market = Market(
        dps_id=dps_id, regime=request.regime, title=request.title,
        description=request.description, parts=tuple(parts), settings=settings,
        lead_authority=lead_authority, created_at=now, fee_percent=request.fee_percent,
        migrated_from=migrated_from,
    )
    if request.regime == PCR2015:
        est = request.established_on
        if est is None or est >= PCR_ESTABLISHED_BEFORE:
            raise Conflict(
                "a PCR 2015 DPS can only be one established before 24 February 2025 "
                "(SI 2024/716 reg 5); every DPS created from now on is a dynamic market "
                "(PA2023_DYNAMIC_MARKET)",
                [{"loc": ["established_on"], "msg": "must be before 2025-02-24"}],
            )
        if request.valid_to > PCR_LAST_DAY:
            raise InvalidInput.at(["valid_to"], "a PCR 2015 DPS ends by 23 February 2029 at "
                                  "the latest (SI 2024/716 reg 5 as amended by SI 2024/959)")
        if request.fee_percent is not None:
            raise InvalidInput.at(["fee_percent"], "no fee may be charged to suppliers under "
                                  "a PCR 2015 DPS (PCR 2015 reg 34)")
        market.state = "established"
        market.established_on = est
    else:
        if request.established_on is not None:
            raise InvalidInput.at(["established_on"], "a dynamic market is established by "
                                  "the establish action (s.39(3))")
        market.events.append(m.MarketCreated(**market._notice_fields(now)))
    return market


def check_frozen_conditions(patch: Mapping[str, Any], before: Any, category: str,
                            markets: list[Market]) -> None:
    """s.36(7): the conditions of membership of an established dynamic market are frozen
    for its term; a category change altering one is refused naming the market."""
    binding = [mk for mk in markets if mk.pa2023 and mk.state == "established"
               and category in mk.categories()]
    if not binding:
        return
    altered = sorted(k for k in patch if k in CONDITION_SETTINGS
                     and patch[k] != _current(before, k))
    if altered:
        raise Conflict(
            f"{', '.join(altered)} of {category} are conditions of membership of the dynamic "
            f"market {binding[0].dps_id}, frozen for its term (Procurement Act 2023 s.36(7)); "
            "weights, caps and tender settings can still change",
            [{"loc": [k], "msg": "a condition of membership is frozen (s.36(7))"}
             for k in altered],
        )


def _current(config: Any, key: str) -> Any:
    value = getattr(config, key)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def regime_config(config: Any, market: Market) -> Any:
    """The category's configuration as conditions of membership of ``market``: under the
    Procurement Act 2023 without INSURANCE (s.36(2)–(3): checked at award instead)."""
    excluded = market.conditions_exclude()
    if not excluded.intersection(config.pass_fail_criteria):
        return config
    return replace(config, pass_fail_criteria=tuple(
        c for c in config.pass_fail_criteria if c not in excluded))
