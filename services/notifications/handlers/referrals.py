"""Referral state and messages from referral's events (RULES §5, §8): keep what later
messages and the reminder timer need, and record each message's deliveries. Consumed
events: ``(event, uow, config)``; ``@consumes`` claims the event once and commits.
"""

from __future__ import annotations

from services.notifications import domain
from services.notifications.config import NotificationsConfig
from services.notifications.handlers.recording import record
from services.referral import messages as rm


def invitations(
    event: rm.ReferralPublished | rm.ReferralWidened, uow, config: NotificationsConfig
) -> None:
    """Referral published → contacts of each invited establishment, email and SMS where
    opted in; radius widened → only the newly invited establishments (RULES §5, §8)."""
    store = uow.store
    at = event.occurred_at or uow.now()
    store.upsert_referral(
        event.referral_id,
        event.authority,
        event.category,
        event.profile.deadline,
        domain.profile_of(event),
        at,
    )
    store.add_invitations(event.referral_id, domain.invitation_rows(event), at)
    providers = store.providers(i.provider_id for i in event.invited)
    fresher = store.fresher_contacts([i.establishment_id for i in event.invited], snapshot_at=at)
    record(uow, domain.plan_invitations(event, providers, fresher), config, event)


def question_answered(event: rm.QuestionAnswered, uow, config: NotificationsConfig) -> None:
    """Clarification answered → every invited establishment (RULES §5, §8)."""
    store = uow.store
    referral = store.get_referral(event.referral_id)
    providers = store.providers(i.provider_id for i in event.recipients)
    fresher = store.fresher_contacts(
        [i.establishment_id for i in event.recipients], event.referral_id
    )
    record(uow, domain.plan_clarification(event, referral, providers, fresher), config, event)


def bid_received(event: rm.BidReceived, uow, config: NotificationsConfig) -> None:
    """Bid submitted, changed or withdrawn → the bidder's receipt (RULES §8)."""
    store = uow.store
    store.set_has_bid(
        event.referral_id,
        event.establishment_id,
        event.action != "withdrawn",
        event.occurred_at or uow.now(),
    )
    referral = store.get_referral(event.referral_id)
    name = establishment_name(uow, event.referral_id, event.establishment_id)
    provider = store.get_provider(event.provider_id)
    fresher = store.fresher_contacts([event.establishment_id], event.referral_id)
    plan = domain.plan_bid_receipt(event, referral, name, provider, fresher)
    record(uow, [plan], config, event)


def invitation_declined(event: rm.InvitationDeclined, uow) -> None:
    """A declined invitation gets no deadline reminder."""
    uow.store.set_declined(event.referral_id, event.establishment_id)


def referral_closed(event: rm.ReferralClosed, uow, config: NotificationsConfig) -> None:
    """Referral closed → owning commissioner, with the count of bids (RULES §8)."""
    referral = set_status(uow, event, "closed")
    plan = domain.plan_referral_closed(event, referral, config.commissioners())
    record(uow, [plan], config, event)


def parent_choice_required(
    event: rm.ParentChoiceRequired, uow, config: NotificationsConfig
) -> None:
    """Parent choice needed → owning commissioner (RULES §6.4, §8)."""
    referral = uow.store.get_referral(event.referral_id)
    plan = domain.plan_parent_choice(event, referral, config.commissioners())
    record(uow, [plan], config, event)


def referral_awarded(event: rm.ReferralAwarded, uow, config: NotificationsConfig) -> None:
    """Award → the winner gets the award and the full referral (RULES §5, §8)."""
    set_status(uow, event, "awarded")
    provider = uow.store.get_provider(event.provider_id)
    fresher = uow.store.fresher_contacts([event.establishment_id], event.referral_id)
    record(uow, [domain.plan_award_winner(event, provider, fresher)], config, event)


def bid_feedback(event: rm.BidFeedback, uow, config: NotificationsConfig) -> None:
    """Award (or no compliant bid) → each other bidder its own feedback (RULES §5)."""
    store = uow.store
    establishment_id = event.feedback.establishment_id
    referral = store.get_referral(event.referral_id)
    name = establishment_name(uow, event.referral_id, establishment_id)
    provider = store.get_provider(event.provider_id)
    fresher = store.fresher_contacts([establishment_id], event.referral_id)
    plan = domain.plan_feedback(event, referral, name, provider, fresher)
    record(uow, [plan], config, event)


def referral_unsuccessful(event: rm.ReferralUnsuccessful, uow) -> None:
    """No compliant bid: no more reminders; each bidder's reason comes as its own
    ``bid_feedback``."""
    set_status(uow, event, "unsuccessful")


def referral_cancelled(event: rm.ReferralCancelled, uow, config: NotificationsConfig) -> None:
    """Cancelled: no more reminders; every invited establishment is told (RULES §8)."""
    set_status(uow, event, "cancelled")
    providers = uow.store.providers(i.provider_id for i in event.invited)
    fresher = uow.store.fresher_contacts(
        [i.establishment_id for i in event.invited], event.referral_id
    )
    record(uow, domain.plan_cancellation(event, providers, fresher), config, event)


def deadline_extended(
    event: rm.ReferralDeadlineExtended, uow, config: NotificationsConfig
) -> None:
    """Deadline extended → every invited establishment (RULES §5, §8); the reminder
    follows the new deadline."""
    uow.store.set_deadline(event.referral_id, event.deadline)
    providers = uow.store.providers(i.provider_id for i in event.invited)
    fresher = uow.store.fresher_contacts(
        [i.establishment_id for i in event.invited], event.referral_id
    )
    record(uow, domain.plan_deadline_extended(event, providers, fresher), config, event)


def set_status(uow, event, status: str) -> dict | None:
    """Keep the referral's status as the event says; only "open" gets reminders."""
    uow.store.set_referral_status(event.referral_id, status, event.occurred_at or uow.now())
    return uow.store.get_referral(event.referral_id)


def establishment_name(uow, referral_id: str, establishment_id: str) -> str | None:
    invitation = uow.store.get_invitation(referral_id, establishment_id)
    if invitation:
        return invitation["name"]
    establishment = uow.store.get_establishment(establishment_id)
    return establishment["name"] if establishment else None
