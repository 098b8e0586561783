"""The gateways against real local stand-ins (RULES §8, DESIGN "Testing"): an aiosmtpd
SMTP server and a local HTTP server speaking GOV.UK Notify's API, used through the
official Notify client."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.channels import (
    NotifyChannel,
    NotifySettings,
    PermanentFailure,
    SmtpChannel,
    SmtpSettings,
    TemporaryFailure,
)
from services.notifications.domain import Delivery, RetryPolicy, Route
from services.notifications.messages import (
    Channel,
    DeliveryStatus,
    Gateway,
    MessageType,
    NotifyCallback,
)
from services.notifications.rendering import render
from tests.support.notifications_samples import BASE_URL, sample_contexts
from tests.support.notify_server import FakeNotify
from tests.support.smtp_server import FakeSmtpServer, self_signed_tls

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy()


def invitation(name: str):
    context = sample_contexts()[MessageType.REFERRAL_INVITATION]
    return render(
        MessageType.REFERRAL_INVITATION,
        {**context, "recipient_name": name, "establishment_name": f"{name}'s House"},
        base_url=BASE_URL,
    )


def smtp_channel(server: FakeSmtpServer, **settings) -> SmtpChannel:
    defaults = {"host": server.host, "port": server.port, "security": "none", "timeout": 5}
    return SmtpChannel(SmtpSettings(**{**defaults, **settings}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- SMTP ---------------------------------------------------------------------------


def test_300_emails_all_arrive_with_their_own_subject_and_personalisation(smtp_server):
    """RULES §8: every message from a template, multipart text + HTML, one per recipient."""
    channel = smtp_channel(smtp_server)
    message_ids = {}
    for i in range(300):
        message_ids[f"d-{i}"] = channel.send(
            Channel.EMAIL, f"contact{i}@example.org", invitation(f"Person {i}"), f"d-{i}"
        )

    received = smtp_server.wait_for(300)
    assert len(received) == 300
    for got in received:
        reference = got.message["X-DPS-Reference"]
        i = int(reference.removeprefix("d-"))
        assert got.rcpt_tos == [f"contact{i}@example.org"]
        assert got.message["To"] == f"contact{i}@example.org"
        assert got.message["Subject"] == "Invitation to bid: SEN referral R-2025-0042 from KCC"
        assert got.message["Message-ID"] == message_ids[reference]
        assert got.part("plain").startswith(f"Dear Person {i},\n")
        assert f"Person {i}&#39;s House is invited" in got.part("html")
        assert "Amelia" not in got.part("plain") + got.part("html")  # RULES §5
    assert len(set(message_ids.values())) == 300


@pytest.mark.parametrize("code, stage", [(421, "RCPT"), (451, "RCPT"), (451, "DATA")])
def test_temporary_refusal_is_retried_and_then_delivered(smtp_server, code, stage):
    """RULES §8: a temporary failure is retried with backoff, then succeeds."""
    channel = smtp_channel(smtp_server)
    route = Route("ann@example.org", Channel.EMAIL, Gateway.SMTP)
    delivery = Delivery.new(
        "d-1", "e-1", MessageType.REFERRAL_INVITATION, route, NOW, provider_id="P1"
    )
    message = invitation("Ann")
    smtp_server.refuse_next(1, code, stage=stage)

    delivery.start(NOW, POLICY)
    with pytest.raises(TemporaryFailure, match=str(code)) as failure:
        channel.send(delivery.channel, delivery.recipient, message, delivery.id)
    delivery.failed(str(failure.value), NOW, POLICY, permanent=failure.value.permanent)
    assert delivery.status is DeliveryStatus.TEMPORARY_FAILURE
    assert smtp_server.received == []

    retry_at = delivery.next_attempt_at
    assert retry_at == NOW + timedelta(seconds=30)
    delivery.start(retry_at, POLICY)
    delivery.accepted(channel.send(delivery.channel, delivery.recipient, message, "d-1"), retry_at)

    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    [got] = smtp_server.wait_for(1)
    assert got.message["Message-ID"] == delivery.reference


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
def test_permanent_refusal_is_a_permanent_failure(smtp_server, stage):
    channel = smtp_channel(smtp_server)
    smtp_server.refuse_next(1, 550, "5.1.1 Mailbox unavailable", stage=stage)
    with pytest.raises(PermanentFailure, match="550 5.1.1 Mailbox unavailable"):
        channel.send(Channel.EMAIL, "gone@example.org", invitation("Gone"), "d-1")
    assert smtp_server.refused == [(stage, "550 5.1.1 Mailbox unavailable")]
    assert smtp_server.received == []


def test_refusal_lasts_for_the_next_n_messages_only(smtp_server):
    channel = smtp_channel(smtp_server)
    smtp_server.refuse_next(2, 451)
    outcomes = []
    for i in range(4):
        try:
            channel.send(Channel.EMAIL, f"x{i}@example.org", invitation("X"), f"d-{i}")
            outcomes.append("sent")
        except TemporaryFailure:
            outcomes.append("temporary")
    assert outcomes == ["temporary", "temporary", "sent", "sent"]
    assert [r.rcpt_tos for r in smtp_server.wait_for(2)] == [
        ["x2@example.org"],
        ["x3@example.org"],
    ]


def test_unreachable_relay_is_a_temporary_failure():
    channel = SmtpChannel(SmtpSettings(host="127.0.0.1", port=free_port(), security="none"))
    with pytest.raises(TemporaryFailure, match="unavailable"):
        channel.send(Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-1")


def test_starttls_with_login(tmp_path):
    tls, ca_file = self_signed_tls(tmp_path)
    with FakeSmtpServer(credentials={"dps": "s3cret"}, tls=tls) as server:
        good = smtp_channel(
            server, security="starttls", ca_file=str(ca_file), username="dps", password="s3cret"
        )
        good.send(Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-1")
        assert server.wait_for(1)[0].rcpt_tos == ["ann@example.org"]

        # A wrong password is the relay refusing us, not the message: retried.
        bad = smtp_channel(
            server, security="starttls", ca_file=str(ca_file), username="dps", password="no"
        )
        with pytest.raises(TemporaryFailure, match="refused the session: 535"):
            bad.send(Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-2")

        # An untrusted certificate fails the TLS handshake: retried, never sent in clear.
        untrusted = smtp_channel(server, security="starttls", username="dps", password="s3cret")
        with pytest.raises(TemporaryFailure, match="SSL"):
            untrusted.send(Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-3")
        assert len(server.received) == 1


def test_smtp_cannot_carry_sms(smtp_server):
    with pytest.raises(PermanentFailure):
        smtp_channel(smtp_server).send(Channel.SMS, "+447700900123", invitation("A"), "d-1")


# --- GOV.UK Notify -------------------------------------------------------------------


def notify_channel(notify: FakeNotify, **settings) -> NotifyChannel:
    defaults = {
        "api_key": notify.api_key,
        "email_template_id": notify.email_template_id,
        "sms_template_id": notify.sms_template_id,
        "base_url": notify.base_url,
        "timeout": 5,
    }
    return NotifyChannel(NotifySettings(**{**defaults, **settings}))


def test_email_and_sms_through_notify_with_the_official_client(notify_server):
    """Generic templates: email ``((subject))``/``((body))``, SMS ``((body))``."""
    channel = notify_channel(notify_server)
    message = invitation("Ann")

    email_id = channel.send(Channel.EMAIL, "ann@example.org", message, "d-email")
    sms_id = channel.send(Channel.SMS, "+447700900123", message, "d-sms")

    email, sms = notify_server.sent
    assert email.path == "/v2/notifications/email"
    assert email.headers["Authorization"].startswith("Bearer ey")  # the client's JWT
    assert email.payload == {
        "email_address": "ann@example.org",
        "template_id": notify_server.email_template_id,
        "personalisation": {"subject": message.subject, "body": message.text},
        "reference": "d-email",
    }
    assert email.response["id"] == email_id
    assert email.response["content"]["subject"] == message.subject
    assert sms.path == "/v2/notifications/sms"
    assert sms.payload == {
        "phone_number": "+447700900123",
        "template_id": notify_server.sms_template_id,
        "personalisation": {"body": message.sms},
        "reference": "d-sms",
    }
    assert sms.response["id"] == sms_id != email_id


def test_notify_receipt_completes_the_delivery(notify_server):
    """RULES §8: Notify's delivery receipt settles a ``sent`` delivery."""
    channel = notify_channel(notify_server)
    route = Route("+447700900123", Channel.SMS, Gateway.NOTIFY)
    delivery = Delivery.new(
        "d-1", "e-1", MessageType.EVIDENCE_EXPIRING, route, NOW, provider_id="P"
    )
    delivery.start(NOW, POLICY)
    context = sample_contexts()[MessageType.EVIDENCE_EXPIRING]
    message = render(MessageType.EVIDENCE_EXPIRING, context, base_url=BASE_URL)
    delivery.accepted(channel.send(delivery.channel, delivery.recipient, message, delivery.id), NOW)
    assert delivery.status is DeliveryStatus.SENT

    receipt = NotifyCallback.model_validate(notify_server.receipt(notify_server.sent[0]))
    assert receipt.reference == delivery.id
    assert delivery.apply_receipt(receipt.status, receipt.id, NOW, POLICY)
    assert delivery.status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    "status, failure",
    [(400, PermanentFailure), (403, PermanentFailure), (429, TemporaryFailure),
     (500, TemporaryFailure)],
)  # fmt: skip
def test_notify_errors_are_classified(notify_server, status, failure):
    channel = notify_channel(notify_server)
    notify_server.fail_next(1, status)
    with pytest.raises(failure, match=f"Notify {status}"):
        channel.send(Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-1")
    assert notify_server.sent == []
    channel.send(Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-1")
    assert len(notify_server.sent) == 1


def test_a_key_notify_does_not_know_is_refused(notify_server):
    """The stand-in really checks the JWT: a key with the wrong secret gets 403."""
    wrong = f"dps_test-{notify_server.service_id}-{'0' * 8}-0000-0000-0000-{'0' * 12}"
    with pytest.raises(PermanentFailure, match="Notify 403"):
        notify_channel(notify_server, api_key=wrong).send(
            Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-1"
        )
    assert notify_server.sent == []


def test_unknown_template_is_permanent(notify_server):
    channel = notify_channel(notify_server, sms_template_id=notify_server.email_template_id)
    with pytest.raises(PermanentFailure, match="Template not found"):
        channel.send(Channel.SMS, "+447700900123", invitation("Ann"), "d-1")


def test_unreachable_notify_is_a_temporary_failure(notify_server):
    channel = notify_channel(notify_server, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TemporaryFailure, match="Notify 503"):
        channel.send(Channel.EMAIL, "ann@example.org", invitation("Ann"), "d-1")
