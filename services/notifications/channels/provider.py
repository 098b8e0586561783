"""``Senders``: the nameko dependency that gives workers the gateways (SMTP relay, GOV.UK
Notify) configured by ``NotificationsConfig``, built when the container starts."""

from __future__ import annotations

from nameko.extensions import DependencyProvider

from services.notifications.channels.base import Sender
from services.notifications.channels.notify import NotifyChannel
from services.notifications.channels.smtp import SmtpChannel
from services.notifications.handlers.sending import InFlight
from services.notifications.messages import Gateway


class Senders(DependencyProvider):
    def __init__(self, config_cls):
        self.config_cls = config_cls
        self.senders: dict[Gateway, Sender] = {}

    def setup(self):
        config = self.config_cls()
        self.senders = {
            Gateway.SMTP: SmtpChannel(config.smtp()),
            Gateway.NOTIFY: NotifyChannel(config.notify()),
        }

    def get_dependency(self, worker_ctx):
        return self.senders


class Leases(DependencyProvider):
    """The attempts this container holds (``handlers.sending.InFlight``), shared by its
    sender and lease-renewal timers."""

    def setup(self):
        self.in_flight = InFlight()

    def get_dependency(self, worker_ctx):
        return self.in_flight
