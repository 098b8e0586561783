"""Time from ``referral_published`` to the last of 1,000 alerts accepted by a local SMTP
server, with 1 and with 2 notification service instances (RULES §8; issue "Notifications").

Run: ``python bench/bench_notifications.py [--alerts N] [--runs N]``. Uses its own database
and RabbitMQ virtual host (``dps_bench_not`` unless ``DATABASE_URL`` / ``AMQP_URI`` are
set) and bootstraps them. Each instance is a real ``nameko run`` process, as in the
Procfile; the SMTP server (aiosmtpd) runs in this process and notes when each message is
accepted. The event is published to ``referral.events`` as the outbox relay would, with N
invited establishments of one contact each (email only).

Two settings are measured:

- the default send rate limit, GOV.UK Notify's 3,000 a minute (kept per gateway and
  shared by every instance, so it queues the alerts whatever the number of instances:
  at most 49 a second, see ``domain.RateLimit``);
- the limit raised out of the way (``DPS_NOTIFICATION_RATE_LIMIT=600000``), which shows
  what the instances themselves manage.

Prints per run, in seconds after publishing: when the deliveries were recorded (the
handler rendered and stored them), when the first and the last alert was accepted, and the
send rate between the first and the last.
"""

from __future__ import annotations

import os

os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/dps_bench_not")
os.environ.setdefault("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/dps_bench_not")
os.environ.setdefault("DPS_LOG_LEVEL", "WARNING")

import argparse  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from contextlib import suppress  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import kombu  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from infra.bootstrap import event_queues  # noqa: E402
from infra.bootstrap import main as bootstrap  # noqa: E402
from services.common.config import get_settings  # noqa: E402
from services.common.runtime import make_engine  # noqa: E402
from services.notifications import store  # noqa: E402
from tests.support import notifications_events as ev  # noqa: E402

LOGS = ROOT / "var" / "bench-logs"
SERVICE = "services.notifications.service:NotificationsService"
LIMITS = (("default 3,000/min", 3000), ("raised 600,000/min", 600_000))


class CountingSmtp:
    """Accepts every message and notes when each recipient's was accepted."""

    def __init__(self):
        self.accepted: dict[str, float] = {}
        self._lock = threading.Lock()
        handler = self

        class _Controller(Controller):
            def _trigger_server(self):
                self.port = self.server.sockets[0].getsockname()[1]
                super()._trigger_server()

        self.controller = _Controller(handler, hostname="127.0.0.1", port=0)

    async def handle_DATA(self, server, session, envelope):
        at = time.monotonic()
        with self._lock:
            for rcpt in envelope.rcpt_tos:
                self.accepted.setdefault(rcpt, at)
        return "250 OK"

    def times(self, token: str) -> list[float]:
        with self._lock:
            return sorted(t for r, t in self.accepted.items() if token in r)


def consumers(queue: str) -> int:
    with kombu.Connection(get_settings().amqp_uri) as conn:
        _, _, count = conn.default_channel.queue_declare(queue, passive=True)
        return count


def start_instances(n: int, smtp_port: int, rate: int) -> list[subprocess.Popen]:
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DPS_SMTP_HOST": "127.0.0.1",
        "DPS_SMTP_PORT": str(smtp_port),
        "DPS_SMTP_SECURITY": "none",
        "DPS_NOTIFICATION_RATE_LIMIT": str(rate),
        "PYTHONUNBUFFERED": "1",
    }
    procs = []
    for i in range(n):
        log = open(LOGS / f"notifications-{i}.log", "ab")  # noqa: SIM115 - lives with it
        procs.append(
            subprocess.Popen(
                [
                    str(ROOT / ".venv" / "bin" / "nameko"),
                    "run",
                    "--config",
                    "infra/nameko.yaml",
                    SERVICE,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    queue = next(
        q.name for q in event_queues("notifications") if q.routing_key == "referral_published"
    )
    deadline = time.monotonic() + 60
    while consumers(queue) < n:
        if time.monotonic() > deadline:
            stop_instances(procs)
            raise SystemExit(f"{n} instances did not start; see {LOGS}")
        time.sleep(0.2)
    return procs


def stop_instances(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        with suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


def quiet(engine) -> None:
    """Nothing left from earlier runs: queued events purged, unsent deliveries dropped."""
    with kombu.Connection(get_settings().amqp_uri) as conn:
        for q in event_queues("notifications"):
            with suppress(Exception):
                conn.default_channel.queue_purge(q.name)
    d = store.deliveries
    with engine.begin() as conn:
        conn.execute(
            update(d)
            .where(d.c.status.in_(["pending", "sending", "temporary_failure"]))
            .values(status="permanent_failure", last_error="bench set-up", next_attempt_at=None)
        )


def recorded(engine, referral_id: str) -> int:
    d = store.deliveries
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(d).where(d.c.referral_id == referral_id)
        ).scalar_one()


def one_run(engine, smtp: CountingSmtp, alerts: int, timeout: float) -> dict:
    token = ev.new_token()
    event = ev.referral_published(token, alerts, sms=False)
    referral_id = event.referral_id
    start = time.monotonic()
    ev.publish("referral", event)
    recorded_at = None
    while True:
        now = time.monotonic()
        if recorded_at is None and recorded(engine, referral_id) >= alerts:
            recorded_at = now
        times = smtp.times(token)
        if len(times) >= alerts:
            break
        if now - start > timeout:
            raise SystemExit(f"only {len(times)} of {alerts} alerts after {timeout:.0f}s")
        time.sleep(0.02)
    first, last = times[0] - start, times[-1] - start
    return {
        "recorded": (recorded_at or times[-1]) - start,
        "first": first,
        "last": last,
        "rate": (alerts - 1) / (last - first) if last > first else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    bootstrap()
    engine = make_engine(pool_size=2)
    smtp = CountingSmtp()
    smtp.controller.start()
    print(
        f"{args.alerts} alerts per referral_published, local SMTP server, "
        f"{args.runs} run(s) each; seconds after publishing (median):"
    )
    print(
        f"{'rate limit':<20} {'instances':>9} {'recorded':>9} {'first':>7} {'last':>7} "
        f"{'sends/s':>8}"
    )
    try:
        for label, rate in LIMITS:
            for instances in (1, 2):
                quiet(engine)
                procs = start_instances(instances, smtp.controller.port, rate)
                try:
                    runs = [
                        one_run(engine, smtp, args.alerts, timeout=max(120, args.alerts / 10))
                        for _ in range(args.runs)
                    ]
                finally:
                    stop_instances(procs)
                m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                print(
                    f"{label:<20} {instances:>9} {m['recorded']:>9.2f} {m['first']:>7.2f} "
                    f"{m['last']:>7.2f} {m['rate']:>8.0f}",
                    flush=True,
                )
    finally:
        smtp.controller.stop()
        engine.dispose()


if __name__ == "__main__":
    main()
