"""Email through an SMTP relay (RULES §8), with ``smtplib``.

One connection per message: a relay may drop idle connections, and a fresh one makes
every attempt independent. Each message is ``multipart/alternative`` (plain text and
HTML) and carries our delivery id in ``X-DPS-Reference``.

Failures are classified for retrying:

- the relay refuses the message itself (``MAIL``, ``RCPT`` or ``DATA`` answered 5xx,
  e.g. 550 mailbox unavailable) → :class:`PermanentFailure`;
- 4xx answers (e.g. 421 service not available, 451 local error), lost connections,
  timeouts and TLS errors → :class:`TemporaryFailure`;
- the relay refusing *us* (5xx greeting, failed login, no STARTTLS) is a fault of
  configuration or of the relay, not of the message, so it is temporary too: the
  message goes once the settings are fixed, within the retry schedule.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from services.notifications.channels.base import (
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
)
from services.notifications.messages import Channel, Gateway
from services.notifications.rendering import Rendered


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    from_address: str = "DPS notifications <no-reply@localhost>"
    ca_file: str | None = None  # a private CA to trust, besides the system's
    message_id_domain: str | None = None  # defaults to this host's name


# Headers are not folded below RFC 5322's hard limit of 998: the default (78) folds a long
# subject right after "Subject:", which many readers show with a leading space.
POLICY = email_policy.SMTP.clone(max_line_length=998)


class SmtpChannel:
    gateway = Gateway.SMTP

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    def send(self, channel: Channel, to: str, message: Rendered, reference: str) -> str:
        if channel is not Channel.EMAIL:
            raise PermanentFailure(f"SMTP cannot carry {channel}")
        try:
            email = self.compose(to, message, reference)
        except ValueError as exc:  # e.g. a line break in a header
            raise PermanentFailure(f"cannot compose the email: {exc}") from exc
        try:
            smtp = self._connect()
            try:
                smtp.send_message(email)
            finally:
                _quit(smtp)
        except (smtplib.SMTPException, OSError) as exc:
            raise classify(exc) from exc
        return email["Message-ID"]

    def compose(self, to: str, message: Rendered, reference: str) -> EmailMessage:
        email = EmailMessage(policy=POLICY)
        email["From"] = self.settings.from_address
        email["To"] = to
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        # stable per delivery: a resend after a crash mid-conversation is recognisable
        domain = self.settings.message_id_domain or make_msgid().split("@", 1)[1][:-1]
        email["Message-ID"] = f"<{reference}@{domain}>"
        email["X-DPS-Reference"] = reference
        # quoted-printable keeps the message 7-bit whatever the relay's 8BITMIME support
        email.set_content(message.text, cte="quoted-printable")
        email.add_alternative(message.html, subtype="html", cte="quoted-printable")
        return email

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._tls())
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            _quit(smtp)
            raise
        return smtp

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)


def by_code(code: int, text: str) -> DeliveryFailure:
    """SMTP reply classes: 4xx is transient, 5xx permanent (RFC 5321 §4.2.1)."""
    failure = PermanentFailure if 500 <= code < 600 else TemporaryFailure
    return failure(f"SMTP {code} {text}".strip())


SESSION_REFUSED = (smtplib.SMTPAuthenticationError, smtplib.SMTPConnectError, smtplib.SMTPHeloError)


def classify(exc: smtplib.SMTPException | OSError) -> DeliveryFailure:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return by_code(code, _text(text))
    if isinstance(exc, SESSION_REFUSED):
        return TemporaryFailure(
            f"SMTP relay refused the session: {exc.smtp_code} {_text(exc.smtp_error)}"
        )
    if isinstance(exc, smtplib.SMTPResponseException):  # MAIL (sender) or DATA refused
        return by_code(exc.smtp_code, _text(exc.smtp_error))
    return TemporaryFailure(f"SMTP relay unavailable: {type(exc).__name__}: {exc}")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; the message's fate is already settled, so a failure here is ignored."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
