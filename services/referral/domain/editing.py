"""A referral on a less than perfect day (RULES §5, issue 13): editing a draft in full,
extending the deadline, moving it out for newcomers invited by widening, and copying an
unsuccessful or cancelled referral into a new draft (a re-run).

Decisions where RULES is silent (each one is tested):

- **Draft edits** replace the whole record; the deadline must be in the future, and is
  checked against the category's minimum tender period only at publishing.
- **Extension** is the owner's, while published and before the deadline, to a strictly
  later deadline. Every invited establishment is told (declined or suspended ones too:
  they may bid again, or learn the tender is still open).
- **Widening** moves the deadline to ``now + minimum tender period`` (rounded up to the
  minute) when a newly invited establishment would otherwise get less, and every invited
  establishment is told, as for an extension.
- **Block place (§7.3)**: contracts' ``referral_placed_in_block`` awards an open referral
  of the same authority and category to that placement and closes it; anything else
  (another authority's, another category's, already over) is left alone.
- **Copy** keeps the full record (child data included: it is the same authority's) and the
  weights; without a new deadline it keeps the original's tender period (deadline −
  publishing, or − creation for a never-published one) counted from now.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from services.common.errors import Conflict, InvalidInput
from services.referral import access
from services.referral.domain.lifecycle import Status, transition
from services.referral.messages import (
    CopyRequest,
    DeadlineRequest,
    DeadlineResult,
    ReferralCreate,
    ReferralDeadlineExtended,
)
from services.scoring.messages import WeightsMsg

RE_RUN_FROM = (Status.UNSUCCESSFUL, Status.CANCELLED)
OPEN = (Status.DRAFT, Status.PUBLISHED, Status.CLOSED, Status.EVALUATED, Status.PARENT_CHOICE)


def _future(deadline: datetime, now: datetime) -> None:
    if deadline <= now:
        raise InvalidInput.at(["deadline"], "must be in the future")


def round_up_to_minute(t: datetime) -> datetime:
    floor = t.replace(second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(minutes=1)


class Editing:
    """Draft edits, extension and re-run of the ``Referral`` aggregate (a mixin)."""

    def edit_draft(
        self,
        principal: Mapping,
        spec: ReferralCreate,
        weights: WeightsMsg,
        now: datetime,
        category_min_invited: int,
    ) -> None:
        """§5: a draft is edited in full; its deadline is checked at publishing."""
        access.require_owner(principal, self, "edit this referral")
        if self.status != Status.DRAFT:
            raise Conflict(f"only a draft can be edited; the referral is {self.status}")
        _future(spec.deadline, now)
        self.spec = spec
        self.weights = weights
        self.min_invited = spec.min_invited or category_min_invited
        if self.procurement is not None:  # §11.4: valued again from the edited record
            self.procurement = self.procurement.valued(spec.weekly_price_ceiling,
                                                       spec.expected_weeks)

    def extend_deadline(
        self, principal: Mapping, request: DeadlineRequest, now: datetime
    ) -> DeadlineResult:
        """§5 extension: later, never earlier, until the deadline passes; every invited
        establishment is told."""
        access.require_owner(principal, self, "extend the deadline")
        self._require_open(now)
        if request.deadline <= self.deadline:
            raise InvalidInput.at(
                ["deadline"],
                f"must be later than the current deadline {self.deadline.isoformat()} "
                "(a deadline is never brought forward)",
            )
        previous = self.deadline
        self._move_deadline(request.deadline, now, "extended")
        return DeadlineResult(
            deadline=self.deadline, previous_deadline=previous, told=len(self.invitations)
        )

    def _move_deadline(self, deadline: datetime, now: datetime, cause: str) -> None:
        previous = self.deadline
        self.spec = self.spec.model_copy(update={"deadline": deadline})
        self.events.append(
            ReferralDeadlineExtended(
                **self._head(now),
                deadline=deadline,
                previous_deadline=previous,
                cause=cause,
                invited=self._notices(),
            )
        )

    def give_newcomers_time(self, now: datetime, min_tender_period_hours: int) -> bool:
        """§5 widening: an establishment invited now gets at least the minimum tender
        period; True when the deadline had to move."""
        earliest = round_up_to_minute(now + timedelta(hours=min_tender_period_hours))
        if self.deadline >= earliest:
            return False
        self._move_deadline(earliest, now, "widened")
        return True

    def copy_as_draft(self, principal: Mapping, request: CopyRequest, now: datetime):
        """§5 re-run: a new draft from an unsuccessful or cancelled referral."""
        access.require_owner(principal, self, "copy this referral")
        if self.status not in RE_RUN_FROM:
            raise Conflict(
                f"only an unsuccessful or cancelled referral can be copied; it is {self.status}"
            )
        period = self.deadline - (self.published_at or self.created_at)
        deadline = request.deadline or now + period
        _future(deadline, now)
        spec = self.spec.model_copy(update={"deadline": deadline})
        return type(self).create(
            principal, spec, self.weights, now, category_min_invited=self.min_invited,
            procurement=None if self.procurement is None else type(self.procurement)(
                dps_id=self.procurement.dps_id, regime=self.procurement.regime),
        )

    def place_in_block(
        self, authority: str, category: str, placement_id: str, block_id: str, now: datetime
    ) -> bool:
        """§7.3: the child is placed into a free block place; the referral is awarded to
        that placement and closed. False (nothing changed) when it is not this authority's
        open referral of the category, or is already placed there (a redelivery)."""
        if authority != self.authority or category != self.category or self.status not in OPEN:
            return False
        self.status = transition(self.status, Status.AWARDED)
        self.closed_at = self.closed_at or now
        self.awarded_at = now
        self.placement_id = placement_id
        self.block_id = block_id
        return True
