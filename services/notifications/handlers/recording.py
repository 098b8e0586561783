"""Recording deliveries (RULES §8): each planned message is routed
(``domain.route``), rendered (``rendering.render``, once per greeting name) and recorded
as one pending delivery per (event, recipient, channel, type), in the caller's unit of
work. The unique key makes recording an event twice record nothing the second time.
A message with nobody to send to is recorded as a permanent failure its owners can see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from services.common.logging import get_logger
from services.notifications.config import NotificationsConfig
from services.notifications.domain import (
    Delivery,
    Envelope,
    Outgoing,
    Route,
    names_of,
    route,
    unaddressed,
)
from services.notifications.messages import Channel, Gateway
from services.notifications.rendering import Rendered, render

log = get_logger(__name__)


def record(uow, plans: Iterable[Outgoing], config: NotificationsConfig, event=None) -> int:
    """Render and record the deliveries of ``plans`` in ``uow`` (not committed); audit
    them against ``event`` when given. Returns how many were new."""
    plans = list(plans)
    now = uow.now()
    new: list[tuple[Delivery, Envelope]] = []
    for plan in plans:
        for problem in plan.problems:
            log.warning("recipient problem", event_id=plan.event_id, problem=problem)
        if not plan.contacts:
            new.append(_unaddressed(plan, now, config))
            continue
        names = names_of(plan.contacts)
        rendered: dict[str, Rendered] = {}
        for to in route(plan.message_type, plan.contacts, config.channels()):
            name = names[to.recipient]
            if name not in rendered:
                rendered[name] = render(
                    plan.message_type,
                    {**plan.context, "recipient_name": name},
                    base_url=config.public_base_url,
                )
            delivery = _new(plan, to, now)
            new.append((delivery, _envelope(plan, delivery.channel, name, rendered[name])))
    inserted = uow.store.insert_deliveries(new) if new else 0
    if event is not None:
        uow.audit(
            "deliveries.recorded",
            "event",
            event.event_id,
            None,
            {
                "event_type": event.event_type,
                "deliveries": inserted,
                "types": sorted({str(p.message_type) for p in plans}),
            },
        )
    log.info("deliveries recorded", recorded=inserted, offered=len(new))
    return inserted


def _new(plan: Outgoing, to: Route, now) -> Delivery:
    return Delivery.new(
        str(uuid.uuid4()),
        plan.event_id,
        plan.message_type,
        to,
        now,
        provider_id=plan.provider_id,
        authority=plan.authority,
    )


def _envelope(
    plan: Outgoing, channel: Channel, name: str | None, message: Rendered | None
) -> Envelope:
    email = channel is Channel.EMAIL
    return Envelope(
        recipient_name=name,
        referral_id=plan.referral_id,
        establishment_id=plan.establishment_id,
        subject=message.subject if message else str(plan.message_type),
        body_text=message.text if message and email else None,
        body_html=message.html if message and email else None,
        body_sms=message.sms if message and not email else None,
    )


def _unaddressed(plan: Outgoing, now, config: NotificationsConfig) -> tuple[Delivery, Envelope]:
    """Nobody to send to: recorded as a permanent failure, visible to its owners."""
    who, error = unaddressed(plan)
    log.error("message has no recipient", event_id=plan.event_id, error=error)
    delivery = _new(plan, Route(who, Channel.EMAIL, Gateway.SMTP), now)
    retry = config.retry()
    delivery.start(now, retry)
    delivery.failed(error, now, retry, permanent=True)
    return delivery, _envelope(plan, delivery.channel, None, None)
