"""Fixtures-in-waiting shared by integration, e2e and reliability tests."""

from __future__ import annotations

import subprocess
import time
from contextlib import suppress

import kombu

from services.common.settings import get_settings

_bootstrapped = False


def bootstrap_once() -> None:
    """Create the test database and vhost, migrate, declare queues (once per session)."""
    global _bootstrapped
    if not _bootstrapped:
        from infra.bootstrap import main

        main()
        _bootstrapped = True


def nameko_config() -> dict:
    from services.common.settings import nameko_config as cfg

    return cfg(get_settings())


def purge_queue(name: str) -> None:
    with kombu.Connection(get_settings().amqp_uri) as conn, suppress(Exception):
        conn.default_channel.queue_purge(name)  # a missing queue is already empty


def rabbit(action: str) -> None:
    """Stop or start the RabbitMQ application (``stop_app`` / ``start_app``)."""
    subprocess.run(["rabbitmqctl", action], check=True, capture_output=True)
    if action == "start_app":
        wait_for(lambda: _broker_up(), 60, "RabbitMQ")


def _broker_up() -> bool:
    try:
        with kombu.Connection(get_settings().amqp_uri, connect_timeout=2) as c:
            c.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def wait_for(predicate, seconds: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")
