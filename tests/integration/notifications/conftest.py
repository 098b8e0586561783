"""The notifications service in a real nameko container on RabbitMQ and PostgreSQL, with a
real local SMTP server (aiosmtpd) and a local HTTP server speaking GOV.UK Notify's API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from services.common.runtime import make_engine
from services.notifications import store
from services.notifications.service import NotificationsService
from tests.support.infra import purge_queue
from tests.support.notify_server import FakeNotify
from tests.support.smtp_server import FakeSmtpServer

COMMISSIONERS = {
    "KCC": ["kcc.placements@kent.example", "duty@kent.example"],
    "ESCC": "placements@eastsussex.example",
}


@pytest.fixture
def smtp_server():
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def notify_server():
    with FakeNotify() as server:
        yield server


@pytest.fixture
def engine():
    eng = make_engine(pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture
def service_env(monkeypatch, smtp_server, notify_server):
    """Point the service at the local stand-ins; short backoff so retries happen in
    seconds (the schedule itself is unit-tested)."""
    env = {
        "DPS_SMTP_HOST": smtp_server.host,
        "DPS_SMTP_PORT": str(smtp_server.port),
        "DPS_SMTP_SECURITY": "none",
        "DPS_SMTP_FROM": "DPS test <no-reply@dps.test>",
        "DPS_NOTIFY_API_KEY": notify_server.api_key,
        "DPS_NOTIFY_BASE_URL": notify_server.base_url,
        "DPS_NOTIFY_EMAIL_TEMPLATE_ID": notify_server.email_template_id,
        "DPS_NOTIFY_SMS_TEMPLATE_ID": notify_server.sms_template_id,
        "DPS_NOTIFICATION_RETRY_BASE_SECONDS": "0.5",
        "DPS_NOTIFICATION_RETRY_CAP_SECONDS": "1",
        "DPS_COMMISSIONER_EMAILS": json.dumps(COMMISSIONERS),
        "DPS_PUBLIC_BASE_URL": "https://dps.test",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def notification_queues() -> list[str]:
    from infra.bootstrap import event_queues

    return [q.name for q in event_queues("notifications")]


@pytest.fixture
def quiet(engine):
    """Nothing left over from earlier tests or other services' tests: their queued events
    are purged and their unsent deliveries abandoned, so this test's counts are its own."""
    for name in notification_queues():
        purge_queue(name)
    d = store.deliveries
    with engine.begin() as conn:
        conn.execute(
            update(d)
            .where(d.c.status.in_(["pending", "sending", "temporary_failure", "sent"]))
            .values(
                status="permanent_failure",
                last_error="abandoned by test set-up",
                next_attempt_at=None,
            )
        )
        conn.execute(update(store.rate_windows).values(window_start=None, used=0))


@pytest.fixture
def start_service(container_factory, service_env, quiet):
    """``start_service()`` starts one more instance of the notifications service."""

    def start():
        container = container_factory(NotificationsService)
        container.start()
        return container

    return start


@pytest.fixture
def notifications(start_service):
    return start_service()
