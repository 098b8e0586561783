"""What every referral handler does around the aggregate: load it (404 when unknown), save
it with its events in the outbox, and audit a change of it (RULES §9)."""

from __future__ import annotations

from services.common.errors import NotFound
from services.referral.domain import Referral, audit_referral
from services.referral.messages import ReferralAwarded, SealedChildData


def load(uow, referral_id: str, lock: bool = False) -> Referral:
    """The referral (its row locked ``FOR UPDATE`` when ``lock``), or 404."""
    referral = uow.store.get(str(referral_id), lock=lock)
    if referral is None:
        raise NotFound("referral not found")
    return referral


def save(uow, referral: Referral) -> None:
    """Write what changed and put the domain's events in the outbox (not committed)."""
    uow.store.save(referral)
    for event in referral.events:
        if isinstance(event, ReferralAwarded):  # §13: the child's data travels sealed only
            sealed = uow.store.sealed_child_data(referral)
            child = SealedChildData(**sealed) if sealed else None
            event = event.model_copy(update={"child_data": child})
        uow.emit(event)
    referral.events.clear()


def audit_change(uow, action: str, referral: Referral, before: dict | None, **extra) -> None:
    """§9: a change of the referral, its state before and after (plus ``extra``)."""
    uow.audit(
        action, "referral", referral.referral_id, before, {**audit_referral(referral), **extra}
    )


def commit(uow, referral: Referral) -> None:
    save(uow, referral)
    uow.commit()
