"""Channel configuration and routing (RULES §8 "channel"): which gateway carries each
channel, and the deliveries ``(recipient, channel, gateway)`` of one message to one party.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.common.errors import InvalidInput
from services.notifications.domain.specs import SPECS, SmsPolicy
from services.notifications.messages import Channel, Contact, Gateway, MessageType

DEFAULT_GATEWAYS: Mapping[Channel, Gateway] = {
    Channel.EMAIL: Gateway.SMTP,
    Channel.SMS: Gateway.NOTIFY,
}


@dataclass(frozen=True)
class ChannelConfig:
    """Which gateway carries each channel, with per-message-type overrides.

    Configured as JSON (the service reads it from ``DPS_NOTIFICATION_CHANNELS``)::

        {"default": {"email": "smtp", "sms": "notify"},
         "evidence_expiring": {"email": "notify"}}

    ``default`` applies to every message type; a key naming a message type overrides it
    for that type. Channels are ``email`` and ``sms``; gateways ``smtp`` and ``notify``.
    SMS is only carried by ``notify``. Anything left out falls back to
    :data:`DEFAULT_GATEWAYS` (email by SMTP, SMS by Notify).
    """

    default: Mapping[Channel, Gateway] = field(default_factory=lambda: dict(DEFAULT_GATEWAYS))
    by_type: Mapping[MessageType, Mapping[Channel, Gateway]] = field(default_factory=dict)

    def gateway(self, message_type: MessageType, channel: Channel) -> Gateway:
        return self.by_type.get(message_type, {}).get(channel) or self.default[channel]

    @classmethod
    def parse(cls, raw: str | Mapping | None) -> ChannelConfig:
        """Read the JSON text or mapping above; a mistake raises ``InvalidInput`` naming it."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return cls()
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                raise InvalidInput.at("channels", f"not JSON: {exc}") from exc
        if not isinstance(raw, Mapping):
            raise InvalidInput.at("channels", "must be an object")
        default = dict(DEFAULT_GATEWAYS)
        by_type: dict[MessageType, dict[Channel, Gateway]] = {}
        for key, value in raw.items():
            if key == "default":
                default.update(_parse_gateways(key, value))
            elif key in MessageType.__members__.values():
                by_type[MessageType(key)] = _parse_gateways(key, value)
            else:
                raise InvalidInput.at(key, "neither 'default' nor a message type")
        return cls(default, by_type)


def _parse_gateways(key: str, value: object) -> dict[Channel, Gateway]:
    if not isinstance(value, Mapping):
        raise InvalidInput.at(key, "must map channels to gateways")
    gateways = {}
    for channel, gateway in value.items():
        if channel not in Channel.__members__.values():
            raise InvalidInput.at([key, channel], "unknown channel: use email or sms")
        if gateway not in Gateway.__members__.values():
            raise InvalidInput.at([key, channel], "unknown gateway: use smtp or notify")
        if channel == Channel.SMS and gateway != Gateway.NOTIFY:
            raise InvalidInput.at([key, channel], "SMS can only be sent through notify")
        gateways[Channel(channel)] = Gateway(gateway)
    return gateways


@dataclass(frozen=True)
class Route:
    recipient: str
    channel: Channel
    gateway: Gateway


def route(
    message_type: MessageType, contacts: Iterable[Contact], config: ChannelConfig
) -> list[Route]:
    """Deliveries of one message to one party's contacts (RULES §8).

    Every contact gets email. SMS goes to contacts with a phone number: for
    :attr:`SmsPolicy.OPT_IN` types only those who opted in, for :attr:`SmsPolicy.ALWAYS`
    types all of them. Duplicate addresses are sent once, in first-seen order.
    """
    sms = SPECS[message_type].sms
    email_by = config.gateway(message_type, Channel.EMAIL)
    sms_by = config.gateway(message_type, Channel.SMS)
    routes: list[Route] = []
    for contact in contacts:
        routes.append(Route(contact.email, Channel.EMAIL, email_by))
        if contact.phone and (
            sms is SmsPolicy.ALWAYS or (sms is SmsPolicy.OPT_IN and contact.sms_opt_in)
        ):
            routes.append(Route(contact.phone, Channel.SMS, sms_by))
    return list(dict.fromkeys(routes))
