"""Mail the portal sends itself: sign-in codes, invitations, password resets (RULES §12).

These are about the person's own account, not business events, so they go straight to the
SMTP relay rather than through the notifications service's event flow; they never hold a
child's personal data (§13).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from gateway.web.config import PortalConfig
from services.common.logging import get_logger

log = get_logger(__name__)


def send(config: PortalConfig, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = config.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="dps.localhost")
    message.set_content(body)
    cls = smtplib.SMTP_SSL if config.smtp_security == "ssl" else smtplib.SMTP
    kwargs = {"context": ssl.create_default_context()} if config.smtp_security == "ssl" else {}
    with cls(config.smtp_host, config.smtp_port, timeout=config.smtp_timeout_seconds,
             **kwargs) as smtp:
        if config.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.smtp_username:
            smtp.login(config.smtp_username, config.smtp_password or "")
        smtp.send_message(message)
    log.info("portal mail sent", subject_kind=subject.split(":")[0])
