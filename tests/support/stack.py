"""The whole system started the way `make run` starts it: every line of infra/Procfile as
its own process, against the test database and RabbitMQ virtual host. Processes can be
stopped and started one by one (honcho would stop them all when one stops)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.support.infra import bootstrap_once, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "infra" / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, cmd = line.split(":", 1)
            entries[name.strip()] = cmd.strip()
    return entries


class Stack:
    def __init__(self, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # the mail sink (Procfile "smtp") of this stack: own ports and folder, so that
        # stacks running side by side never share mail (infra/smtp_sink.py)
        self.mail_dir = ROOT / "var" / f"e2e-mail-{self.port}"
        self.notify_callback_token = f"e2e-{self.port}"
        self.env = {**os.environ, "DPS_GATEWAY_PORT": str(self.port),
                    "DPS_REGISTRATION_RATE_LIMIT": "10000 per minute",
                    "DPS_SMTP_PORT": str(free_port()), "DPS_MAIL_DIR": str(self.mail_dir),
                    "DPS_NOTIFY_BASE_URL": f"http://127.0.0.1:{free_port()}",
                    "DPS_NOTIFY_CALLBACK_TOKEN": self.notify_callback_token,
                    "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        self.commands = procfile()
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs = ROOT / "var" / "e2e-logs" / str(self.port)  # one folder per stack
        self.logs.mkdir(parents=True, exist_ok=True)

    # -- processes -------------------------------------------------------------------
    def start(self, name: str | None = None) -> None:
        for proc_name in [name] if name else list(self.commands):
            log = open(self.logs / f"{proc_name}.log", "ab")  # noqa: SIM115 - lives with the process
            self.procs[proc_name] = subprocess.Popen(
                ["bash", "-c", self.commands[proc_name]], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, name: str, timeout: float = 15) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def log_text(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    # -- readiness -------------------------------------------------------------------
    def health(self) -> requests.Response | None:
        try:
            return requests.get(f"{self.url}/health", timeout=10)
        except requests.RequestException:
            return None

    def wait_healthy(self, seconds: float = 90) -> None:
        def healthy():
            response = self.health()
            return response is not None and response.status_code == 200

        wait_for(healthy, seconds, "every service to answer /health", interval=0.5)

    # -- keys ------------------------------------------------------------------------
    def key(self, role: str, authority: str | None = None, provider_id: str | None = None,
            label: str = "e2e") -> str:
        from gateway.auth import create_key
        from services.common.runtime import make_engine

        engine = make_engine(pool_size=1)
        try:
            return create_key(engine, role, label, authority, provider_id)[1]
        finally:
            engine.dispose()


def _retire_earlier_events() -> None:
    """Integration tests leave unsent outbox rows about objects this stack never saw; its
    relay would publish them and handlers would retry them into dead-letter queues."""
    from sqlalchemy import text

    from services.common.config import AUDITED_SERVICES
    from services.common.runtime import make_engine

    engine = make_engine(pool_size=1)
    with engine.begin() as conn:
        for schema in AUDITED_SERVICES:
            conn.execute(text(f'UPDATE "{schema}".outbox SET sent_at = now() '
                              "WHERE sent_at IS NULL"))
    engine.dispose()


def start_stack(extra_env: dict[str, str] | None = None) -> Stack:
    bootstrap_once()
    _retire_earlier_events()
    stack = Stack(extra_env)
    stack.start()
    try:
        stack.wait_healthy()
    except AssertionError:
        stack.stop_all()
        raise
    time.sleep(0.5)
    return stack
