"""Timed and consumed changes of an Establishment: evidence expiry and re-verification (RULES
§4.5), performance reviews (§7.4) and uplifts (§7.2). A mixin of ``Establishment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from services.common import money
from services.common.errors import Conflict
from services.qualification import messages as m
from services.qualification.domain.calendar import add_months, london_date
from services.qualification.domain.categories import CategoryConfig, total_weekly_core_cost
from services.qualification.domain.decisions import moved_competency
from services.qualification.domain.membership import CompetencyMove, CostEntry, _event
from services.qualification.domain.problems import _Problems


class TimedChanges:
    """§4.5 timers, §7.4 reviews and §7.2 uplifts (mixed into ``Establishment``)."""

    def remind_expiring_evidence(self, now: datetime) -> list[m.EvidenceExpiring]:
        """§4.5, §8: one reminder per evidence item and expiry date, 30 days ahead."""
        today = london_date(now)
        events = []
        for ms, criterion, expires_on in self.expiring_evidence(today):
            ms.reminded[criterion] = expires_on
            events.append(
                _event(
                    m.EvidenceExpiring,
                    self,
                    ms.category,
                    now,
                    membership_id=ms.id,
                    criterion=criterion,
                    expires_on=expires_on,
                    days_left=(expires_on - today).days,
                )
            )
        self.events.extend(events)
        return events

    def flag_due_reverifications(self, now: datetime) -> list[m.ReverificationDue]:
        """§4.5: tell the lead, once per due date, that a yearly re-verification is due."""
        today = london_date(now)
        events = []
        for ms in self.due_reverifications(today):
            if ms.reverification_flagged == ms.reverification_due_on:
                continue
            ms.reverification_flagged = ms.reverification_due_on
            events.append(
                _event(
                    m.ReverificationDue,
                    self,
                    ms.category,
                    now,
                    membership_id=ms.id,
                    due_on=ms.reverification_due_on,
                )
            )
        self.events.extend(events)
        return events

    def suspend_expired_evidence(
        self, now: datetime, not_conditions: Mapping[str, frozenset[str]] | None = None
    ) -> list[m.MembershipSuspended]:
        """§4.5: evidence not renewed by its expiry date suspends for its criterion, unless
        the criterion is not a condition of membership of the membership's market
        (``not_conditions``: dps_id → criteria; §11.2, s.36(2): insurance under the Act,
        which is checked at award instead)."""
        today = london_date(now)
        exempt = not_conditions or {}
        suspended = (
            self._fail(
                ms,
                criterion,
                f"the evidence expired on {ans.expires_on.isoformat()} and was not renewed",
                "system",
                now,
            )
            for ms in self._current()
            for criterion, ans in list(ms.evidence.items())
            if ans.expires_on is not None and ans.expires_on <= today
            and criterion not in exempt.get(ms.dps_id, ())
        )
        return [event for event in suspended if event is not None]

    def apply_performance_review(
        self, review: m.PerformanceReviewed, configs: Mapping[str, CategoryConfig], now: datetime
    ) -> list[m.CompetencyChanged]:
        """§4.5, §7.4: move the competency of the review's membership (every current one
        without a category), at most once per configured period: a review is skipped
        when its period starts less than ``competency_period_months`` after the period of
        the last move (so a redelivered review is a no-op). Every move is kept."""
        if review.establishment_id != self.id:
            raise ValueError("the review is about another establishment")
        events = []
        for ms in self._current():
            if review.category not in (None, ms.category):
                continue
            last = ms.competency_moves[-1] if ms.competency_moves else None
            months = configs[ms.category].competency_period_months
            if last is not None and review.period_start < add_months(last.period_start, months):
                continue
            old, new = ms.competency, moved_competency(ms.competency, review.performance_index)
            ms.competency_moves.append(
                CompetencyMove(
                    review.period_start,
                    review.period_end,
                    review.performance_index,
                    review.reviews_count,
                    old,
                    new,
                    now,
                )
            )
            ms.competency = new
            if new != old:
                events.append(
                    _event(
                        m.CompetencyChanged,
                        self,
                        ms.category,
                        now,
                        membership_id=ms.id,
                        old=old,
                        new=new,
                        performance_index=review.performance_index,
                        period_start=review.period_start,
                        period_end=review.period_end,
                        reviews_count=review.reviews_count,
                    )
                )
        self.events.extend(events)
        return events

    def apply_uplift(
        self,
        config: CategoryConfig,
        head: str,
        percent: Decimal,
        effective_from: date,
        uplift_id: str,
        now: datetime,
    ) -> m.CoreCostsChanged | None:
        """§7.2: raise one head of the qualified core costs by ``percent`` from
        ``effective_from``, rounded half up to the penny, keeping the price history.

        None when there is nothing to do: no current membership in the category, the
        uplift already applied (``uplift_id``), or no price in force on that date
        (admitted later). An uplift dated before a later price of the head is refused.
        """
        problems = _Problems()
        if head not in config.all_cost_heads:
            problems.add(["cost_head"], f"not a cost head of {config.code}")
        if isinstance(percent, bool) or not isinstance(percent, int | Decimal) or percent <= -100:
            problems.add(["percent"], "must be a number more than -100")
        problems.raise_if_any()
        ms = self.current_membership(config.code)
        if ms is None or any(e.uplift_id == uplift_id for e in ms.costs):
            return None
        base = ms._entry(head, effective_from)
        if base is None:
            return None
        later = [
            e.effective_from
            for e in ms.costs
            if e.head == head and e.effective_from > effective_from
        ]
        if later:
            raise Conflict(
                f"{self.name}'s {head} already has a price from "
                f"{max(later).isoformat()}; uplifts apply in date order"
            )
        new = money.round_pence(base.amount * (100 + Decimal(percent)) / 100)
        reason = f"uplift of {percent}% from {effective_from.isoformat()}"
        ms.costs.append(CostEntry(head, new, effective_from, reason, uplift_id))
        costs = ms.costs_on(effective_from)
        event = _event(
            m.CoreCostsChanged,
            self,
            config.code,
            now,
            membership_id=ms.id,
            cost_head=head,
            old=base.amount,
            new=new,
            percent=percent,
            effective_from=effective_from,
            uplift_id=uplift_id,
            reason=reason,
            core_costs=costs,
            total_weekly_core_cost=total_weekly_core_cost(costs, config),
        )
        self.events.append(event)
        return event


# --- eligibility (§5) ---------------------------------------------------------------------------

