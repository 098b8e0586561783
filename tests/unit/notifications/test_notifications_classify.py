"""RULES §8: gateway failures are temporary (retried) or permanent (recorded)."""

from __future__ import annotations

import smtplib
import ssl

import pytest
import requests
from notifications_python_client.errors import HTTPError, InvalidResponse

from services.notifications.channels import PermanentFailure, TemporaryFailure, notify, smtp


@pytest.mark.parametrize(
    "exc, failure",
    [
        (smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"5.1.1 unknown")}), PermanentFailure),
        (smtplib.SMTPRecipientsRefused({"a@x.org": (451, b"try later")}), TemporaryFailure),
        (smtplib.SMTPRecipientsRefused({"a@x.org": (421, b"closing")}), TemporaryFailure),
        (smtplib.SMTPSenderRefused(553, b"bad sender", "dps@x.org"), PermanentFailure),
        (smtplib.SMTPDataError(554, b"rejected as spam"), PermanentFailure),
        (smtplib.SMTPDataError(452, b"insufficient storage"), TemporaryFailure),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), TemporaryFailure),
        (smtplib.SMTPConnectError(554, b"no service"), TemporaryFailure),
        (smtplib.SMTPHeloError(501, b"bad helo"), TemporaryFailure),
        (smtplib.SMTPNotSupportedError("STARTTLS extension not supported"), TemporaryFailure),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), TemporaryFailure),
        (ConnectionRefusedError(111, "Connection refused"), TemporaryFailure),
        (TimeoutError("timed out"), TemporaryFailure),
        (ssl.SSLCertVerificationError("certificate verify failed"), TemporaryFailure),
    ],
)
def test_smtp_classification(exc, failure):
    assert type(smtp.classify(exc)) is failure


def test_smtp_failure_names_the_reply():
    refused = smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"5.1.1 unknown user")})
    assert str(smtp.classify(refused)) == "SMTP 550 5.1.1 unknown user"


def http_error(status: int, body: dict | None = None) -> HTTPError:
    response = requests.Response()
    response.status_code = status
    response._content = b'{"errors": [{"error": "E", "message": "why"}]}'
    return HTTPError.create(requests.HTTPError(response=response))


@pytest.mark.parametrize(
    "status, failure",
    [(400, PermanentFailure), (403, PermanentFailure), (404, PermanentFailure),
     (429, TemporaryFailure), (500, TemporaryFailure), (502, TemporaryFailure),
     (503, TemporaryFailure)],
)  # fmt: skip
def test_notify_classification(status, failure):
    classified = notify.classify(http_error(status))
    assert type(classified) is failure
    assert str(classified).startswith(f"Notify {status}: ")


def test_notify_connection_failure_and_garbled_reply_are_temporary():
    no_response = HTTPError.create(requests.ConnectionError("refused"))
    assert type(notify.classify(no_response)) is TemporaryFailure
    assert type(notify.classify(InvalidResponse(None, "not JSON"))) is TemporaryFailure
