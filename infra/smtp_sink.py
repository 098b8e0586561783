"""Local mail sink for `make run` and the e2e stack (RULES §8; DESIGN "Testing").

An SMTP server (aiosmtpd) that accepts every message and keeps it, so that a person trying
the system can read the alerts and e2e tests can check them; and a stand-in for the part
of GOV.UK Notify's API the notifications service calls (``POST /v2/notifications/email``
and ``/sms``), so that SMS alerts can be read too. Nothing leaves the machine.

It keeps, in ``DPS_MAIL_DIR`` (default ``var/mail``, relative to the working directory):

- ``<time>-<id>.eml``: each email as received;
- ``messages.jsonl``: one JSON line per email or Notify request:
  ``{"kind": "email"|"notify_email"|"notify_sms", "received_at", "to", "subject",
  "reference", "message_id", "file"?, "body"?}``.

Settings (environment): it listens where the services send, ``DPS_SMTP_PORT`` (default
8025) on ``DPS_SMTP_SINK_HOST`` (default 127.0.0.1), and for Notify on the port of
``DPS_NOTIFY_BASE_URL`` (default ``http://127.0.0.1:8026``) when that URL is local; set
``DPS_NOTIFY_SINK=0`` to leave Notify out.

    .venv/bin/python -m infra.smtp_sink          # Procfile line "smtp"
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import os
import signal
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

log = logging.getLogger("smtp_sink")
logging.getLogger("mail.log").setLevel(logging.WARNING)


class Mailbox:
    """The sink's storage: ``.eml`` files and a JSON-lines index, safe across threads."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.index = directory / "messages.jsonl"
        self._lock = threading.Lock()

    def keep(self, record: dict, raw: bytes | None = None) -> dict:
        now = datetime.now(UTC)
        record = {"received_at": now.isoformat(), **record}
        with self._lock:
            if raw is not None:
                name = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
                (self.directory / name).write_bytes(raw)
                record["file"] = name
            with self.index.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        return record


class SmtpHandler:
    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        record = self.mailbox.keep(
            {
                "kind": "email",
                "mail_from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(message.get("Subject", "")),
                "message_id": str(message.get("Message-ID", "")),
                "reference": str(message.get("X-DPS-Reference", "")),
            },
            envelope.content,
        )
        print(
            f"mail to {', '.join(record['to'])}: {record['subject']} "
            f"[{self.mailbox.directory / record['file']}]",
            flush=True,
        )
        return "250 Message accepted for delivery"


def notify_handler(mailbox: Mailbox) -> type[BaseHTTPRequestHandler]:
    """Accepts sends like GOV.UK Notify (any key: this is a local stand-in) and keeps them.

    Personalisation ``body`` (and ``subject``) is what the generic templates show.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                payload = {}
            kind = {"/v2/notifications/email": "email", "/v2/notifications/sms": "sms"}.get(
                self.path
            )
            if kind is None or not isinstance(payload, dict):
                return self._answer(
                    404,
                    {
                        "status_code": 404,
                        "errors": [
                            {
                                "error": "ResourceNotFound",
                                "message": "The requested URL was not found",
                            }
                        ],
                    },
                )
            values = payload.get("personalisation") or {}
            to = payload.get("email_address" if kind == "email" else "phone_number")
            notification_id = str(uuid.uuid4())
            mailbox.keep(
                {
                    "kind": f"notify_{kind}",
                    "to": [to],
                    "id": notification_id,
                    "subject": values.get("subject", ""),
                    "body": values.get("body", ""),
                    "reference": payload.get("reference"),
                }
            )
            print(
                f"{kind} (Notify) to {to}: {values.get('subject') or values.get('body')}",
                flush=True,
            )
            content = {"body": values.get("body", "")}
            if kind == "email":
                content.update(subject=values.get("subject", ""), from_email="dps@localhost")
            else:
                content.update(from_number="DPS")
            return self._answer(
                201,
                {
                    "id": notification_id,
                    "reference": payload.get("reference"),
                    "content": content,
                    "uri": f"/v2/notifications/{notification_id}",
                    "template": {"id": payload.get("template_id"), "version": 1, "uri": ""},
                    "scheduled_for": None,
                },
            )

        def _answer(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            pass

    return Handler


def _notify_address() -> tuple[str, int] | None:
    if os.environ.get("DPS_NOTIFY_SINK", "1") == "0":
        return None
    url = urlsplit(os.environ.get("DPS_NOTIFY_BASE_URL", "http://127.0.0.1:8026"))
    if url.hostname not in ("127.0.0.1", "localhost") or url.port is None:
        return None
    return url.hostname, url.port


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    mailbox = Mailbox(Path(os.environ.get("DPS_MAIL_DIR", "var/mail")))
    host = os.environ.get("DPS_SMTP_SINK_HOST", "127.0.0.1")
    port = int(os.environ.get("DPS_SMTP_PORT", "8025"))
    smtp = Controller(SmtpHandler(mailbox), hostname=host, port=port)
    smtp.start()
    print(f"SMTP sink on {host}:{port}, keeping mail in {mailbox.directory}", flush=True)
    http = None
    address = _notify_address()
    if address:
        http = ThreadingHTTPServer(address, notify_handler(mailbox))
        http.daemon_threads = True
        threading.Thread(target=http.serve_forever, daemon=True).start()
        print(f"GOV.UK Notify stand-in on http://{address[0]}:{address[1]}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    if http:
        http.shutdown()
    smtp.stop()


if __name__ == "__main__":
    main()
