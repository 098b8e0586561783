"""Invitations (RULES §5, §4.5): inviting eligible establishments, declines, and a
suspended membership's effect on the referrals that invited it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from services.common.errors import Conflict, InvalidInput
from services.referral import access
from services.referral.domain.lifecycle import Status
from services.referral.domain.parts import (
    DECLINE_REASONS,
    OTHER,
    Decline,
    Invitation,
    check_reason,
)
from services.referral.messages import (
    DeclineCreate,
    EstablishmentSnapshot,
    InvitationDeclined,
    InvitationNotice,
)


class Invitations:
    """Invitations of the ``Referral`` aggregate (a mixin of ``referral.Referral``)."""

    def _invite(self, eligible: Iterable[EstablishmentSnapshot], now: datetime) -> list[Invitation]:
        new = [
            Invitation(snapshot=e, invited_at=now)
            for e in eligible
            if e.establishment_id not in self.invitations
        ]
        self.invitations.update((i.establishment_id, i) for i in new)
        return new

    def _notices(self) -> list[InvitationNotice]:
        return [i.notice() for i in self.invitations.values()]

    def decline(
        self,
        principal: Mapping,
        request: DeclineCreate,
        now: datetime,
        reasons: Sequence[str] = DECLINE_REASONS,
    ) -> Decline:
        """§5: decline an invitation with a configured reason ("other" needs a note)."""
        invitation = access.require_invited(principal, self, request.establishment_id, "decline")
        self._require_open(now)
        if invitation.establishment_id in self.declines:
            raise Conflict("the establishment has already declined")
        if self._live_bid(invitation.establishment_id):
            raise Conflict("the establishment has a bid: withdraw it before declining")
        check_reason(request.reason_code, reasons)
        if request.reason_code == OTHER and request.note is None:
            raise InvalidInput.at(["note"], "required when the reason is 'other'")
        decline = Decline(
            establishment_id=invitation.establishment_id,
            provider_id=invitation.provider_id,
            reason_code=request.reason_code,
            note=request.note,
            declined_at=now,
        )
        self.declines[decline.establishment_id] = decline
        self.events.append(
            InvitationDeclined(
                **self._head(now),
                establishment_id=decline.establishment_id,
                provider_id=decline.provider_id,
                reason_code=decline.reason_code,
                note=decline.note,
            )
        )
        return decline

    def apply_suspension(
        self, establishment_id: str, category: str, reason: str, now: datetime
    ) -> list[str]:
        """§4.5: a suspended membership gets no new bid in and its open bids are withdrawn
        (before the deadline), with the reason. Returns the withdrawn bid ids."""
        invitation = self.invitations.get(establishment_id)
        if invitation is None or category != self.category:
            return []
        invitation.suspended_reason = reason
        if self.status != Status.PUBLISHED or now >= self.deadline:
            return []
        bid = self._live_bid(establishment_id)
        if bid is None:
            return []
        self._withdraw(bid, f"membership suspended: {reason}", now)
        return [bid.bid_id]

    def apply_reinstatement(self, establishment_id: str, category: str) -> None:
        """§4.5: a reinstated membership may bid again (if the referral is still open)."""
        invitation = self.invitations.get(establishment_id)
        if invitation is not None and category == self.category:
            invitation.suspended_reason = None
