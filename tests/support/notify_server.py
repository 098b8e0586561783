"""A local HTTP server speaking the part of GOV.UK Notify's API that we call (DESIGN:
"a local HTTP server speaks the part of GOV.UK Notify's API that we call").

- ``POST /v2/notifications/email`` and ``POST /v2/notifications/sms``, authenticated by
  the JWT the official client sends (HS256, ``iss`` = service id, ``iat`` within 30 s),
  checked with the client library's own ``decode_jwt_token``;
- templates with ``((placeholders))``: a missing personalisation is a 400, as in Notify;
- answers with the documented ``201`` body and the documented error bodies
  (``{"status_code": …, "errors": [{"error": …, "message": …}]}``);
- ``fail_next(n, status)`` makes the next ``n`` sends fail with 400, 403, 429 or 500;
- ``receipt(...)`` builds the delivery-receipt body Notify posts to a callback URL, and
  ``post_receipt(...)`` posts it with the callback's bearer token.

    with FakeNotify() as notify:          # or the ``notify_server`` fixture
        NotificationsAPIClient(notify.api_key, base_url=notify.base_url)...
        notify.requests                   # every request, accepted or not
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import TokenError

ERRORS = {
    400: ("BadRequestError", "Can't send to this recipient using a team-only API key"),
    403: ("AuthError", "Invalid token: API key not found"),
    429: (
        "RateLimitError",
        "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    ),
    500: ("Exception", "Internal server error"),
}
PLACEHOLDER = re.compile(r"\(\(([^)]+)\)\)")


@dataclass(frozen=True)
class Template:
    type: str  # "email" or "sms"
    body: str
    subject: str | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    payload: dict | None
    status: int = 0
    response: dict = field(default_factory=dict)


class FakeNotify:
    FROM_EMAIL = "dps.notifications@notifications.service.gov.uk"

    def __init__(self, host: str = "127.0.0.1"):
        self.service_id = str(uuid.uuid4())
        self.secret = str(uuid.uuid4())
        self.email_template_id = str(uuid.uuid4())
        self.sms_template_id = str(uuid.uuid4())
        self.templates = {
            self.email_template_id: Template("email", "((body))", "((subject))"),
            self.sms_template_id: Template("sms", "((body))"),
        }
        self.requests: list[RecordedRequest] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer((host, 0), _handler_for(self))
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def api_key(self) -> str:
        """A key in Notify's format ``<name>-<service id>-<secret>``."""
        return f"dps_test-{self.service_id}-{self.secret}"

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeNotify:
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()

    def __enter__(self) -> FakeNotify:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail_next(self, count: int, status: int) -> None:
        """The next ``count`` sends answer ``status`` (400, 403, 429 or 500)."""
        if status not in ERRORS:
            raise ValueError(f"choose one of {sorted(ERRORS)}")
        with self._lock:
            self._failures = [status] * count

    @property
    def sent(self) -> list[RecordedRequest]:
        """The requests that were accepted (201)."""
        with self._lock:
            return [r for r in self.requests if r.status == 201]

    def receipt(self, request: RecordedRequest, status: str = "delivered") -> dict:
        """The delivery receipt Notify would post for an accepted request."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        payload = request.payload
        channel = "email" if request.path.endswith("/email") else "sms"
        return {
            "id": request.response["id"],
            "reference": payload.get("reference"),
            "to": payload["email_address" if channel == "email" else "phone_number"],
            "status": status,
            "created_at": now,
            "completed_at": now,
            "sent_at": now,
            "notification_type": channel,
            "template_id": payload["template_id"],
            "template_version": 1,
        }

    @staticmethod
    def post_receipt(url: str, bearer_token: str, receipt: dict) -> requests.Response:
        return requests.post(
            url, json=receipt, headers={"Authorization": f"Bearer {bearer_token}"}, timeout=10
        )

    # called from the server's threads
    def _answer(self, request: RecordedRequest) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(request)
            failure = self._failures.pop(0) if self._failures else None
        status, body = self._check(request)
        if status == 201 and failure:
            status, body = _error(failure, *ERRORS[failure])
        request.status, request.response = status, body
        return status, body

    def _check(self, request: RecordedRequest) -> tuple[int, dict]:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
        token = auth.removeprefix("Bearer ")
        try:
            if get_token_issuer(token) != self.service_id:
                return _error(403, "AuthError", "Invalid token: service not found")
            decode_jwt_token(token, self.secret)
        except TokenError as exc:
            return _error(403, "AuthError", exc.message)
        channel = {"/v2/notifications/email": "email", "/v2/notifications/sms": "sms"}.get(
            request.path
        )
        if request.method != "POST" or channel is None:
            return _error(404, "ResourceNotFound", "The requested URL was not found")
        payload = request.payload or {}
        recipient = "email_address" if channel == "email" else "phone_number"
        for required in (recipient, "template_id"):
            if not payload.get(required):
                return _error(400, "ValidationError", f"{required} is a required property")
        template = self.templates.get(payload["template_id"])
        if template is None or template.type != channel:
            return _error(400, "BadRequestError", "Template not found")
        values = payload.get("personalisation") or {}
        missing = [
            name
            for name in PLACEHOLDER.findall((template.subject or "") + template.body)
            if name not in values
        ]
        if missing:
            return _error(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")
        return 201, self._created(channel, payload, template, values)

    def _created(self, channel: str, payload: dict, template: Template, values: dict) -> dict:
        notification_id = str(uuid.uuid4())

        def fill(text: str) -> str:
            return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)

        content = {"body": fill(template.body)}
        if channel == "email":
            content.update(
                subject=fill(template.subject),
                from_email=self.FROM_EMAIL,
                one_click_unsubscribe_url=None,
            )
        else:
            content.update(from_number="GOVUK")
        return {
            "id": notification_id,
            "reference": payload.get("reference"),
            "content": content,
            "uri": f"{self.base_url}/v2/notifications/{notification_id}",
            "template": {
                "id": payload["template_id"],
                "version": 1,
                "uri": f"{self.base_url}/services/{self.service_id}/templates/"
                f"{payload['template_id']}",
            },
            "scheduled_for": None,
        }


def _error(status: int, error: str, message: str) -> tuple[int, dict]:
    return status, {"status_code": status, "errors": [{"error": error, "message": message}]}


def _handler_for(notify: FakeNotify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's session expects

        def do_POST(self):
            self._serve()

        def do_GET(self):
            self._serve()

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            request = RecordedRequest(self.command, self.path, dict(self.headers), payload)
            status, body = notify._answer(request)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def notify_server():
    """A started :class:`FakeNotify`; import this fixture into a ``conftest.py``."""
    with FakeNotify() as server:
        yield server
