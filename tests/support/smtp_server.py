"""A real SMTP server on a free localhost port, for tests (DESIGN: "a local SMTP server
(aiosmtpd) receives mail").

    with FakeSmtpServer() as smtp:            # or the ``smtp_server`` fixture
        ... send to smtp.host, smtp.port ...
        smtp.wait_for(3)                       # the parsed messages received so far
        smtp.refuse_next(2, 451)               # answer 451 to RCPT for the next 2 messages

Options: ``credentials={"user": "password"}`` requires AUTH; ``tls=self_signed_tls(dir)``
offers (and requires) STARTTLS with a throwaway certificate for ``localhost``.
"""

from __future__ import annotations

import email
import email.policy
import logging
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

Stage = Literal["MAIL", "RCPT", "DATA"]
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        """The ``text/<subtype>`` body (``plain`` or ``html``), with ``\n`` line ends."""
        content = self.message.get_body(preferencelist=(subtype,)).get_content()
        return content.replace("\r\n", "\n")


@dataclass
class _Refusal:
    remaining: int
    reply: str
    stage: Stage


class _Controller(Controller):
    """Binds port 0 and learns the port the OS chose before the readiness check."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class FakeSmtpServer:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        credentials: dict[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        self.host = host
        self.received: list[Received] = []
        self.refused: list[tuple[Stage, str]] = []  # (stage, reply) of every refusal made
        self._refusal: _Refusal | None = None
        self._changed = threading.Condition()
        options = {}
        if credentials is not None:
            options.update(
                auth_required=True,
                auth_require_tls=tls is not None,
                authenticator=_Authenticator(credentials),
            )
        if tls is not None:
            options.update(tls_context=tls, require_starttls=True)
        self._controller = _Controller(_Handler(self), hostname=host, port=0, **options)

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> FakeSmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> FakeSmtpServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def refuse_next(
        self, count: int, code: int, text: str | None = None, *, stage: Stage = "RCPT"
    ) -> None:
        """Answer ``code`` at ``stage`` for the next ``count`` messages, then accept again.

        E.g. 421 or 451 (temporary), 550 (mailbox unavailable, permanent).
        """
        text = text or {421: "Service not available", 451: "Local error in processing"}.get(
            code, "Requested action not taken"
        )
        with self._changed:
            self._refusal = _Refusal(count, f"{code} {text}", stage)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages have arrived; return all of them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.received)} of {count} messages arrived")
                self._changed.wait(left)
            return list(self.received)

    def clear(self) -> None:
        with self._changed:
            self.received.clear()
            self.refused.clear()
            self._refusal = None

    # called from the server's thread
    def _refuse(self, stage: Stage) -> str | None:
        with self._changed:
            refusal = self._refusal
            if refusal is None or refusal.stage != stage:
                return None
            refusal.remaining -= 1
            if refusal.remaining <= 0:
                self._refusal = None
            self.refused.append((stage, refusal.reply))
            return refusal.reply

    def _accept(self, received: Received) -> None:
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()


class _Handler:
    def __init__(self, server: FakeSmtpServer):
        self.server = server

    async def handle_MAIL(self, server, session, envelope, address, options):
        reply = self.server._refuse("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        reply = self.server._refuse("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.server._refuse("DATA")
        if reply:
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server._accept(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, credentials: dict[str, str]):
        self.credentials = credentials

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            mechanism in ("LOGIN", "PLAIN")
            and self.credentials.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 535 itself


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for ``localhost``/``127.0.0.1`` and the certificate file a
    client must trust. Needs the ``openssl`` command (tests skip without it)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.fixture
def smtp_server():
    """A started :class:`FakeSmtpServer`; import this fixture into a ``conftest.py``."""
    with FakeSmtpServer() as server:
        yield server
