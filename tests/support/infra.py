"""Fixtures-in-waiting shared by integration, e2e and reliability tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import suppress

import kombu

from services.common.config import get_settings

_bootstrapped = False


def bootstrap_once() -> None:
    """Start each test session from a new test database and vhost, then migrate and declare
    queues (once per session): nothing left by an earlier run (rows, queued messages, a
    schema migrated by an older revision of a migration) can change the outcome."""
    global _bootstrapped
    if not _bootstrapped:
        from infra.bootstrap import main

        _reset_test_broker_and_database()
        main()
        _bootstrapped = True


def _is_test_name(name: str | None) -> bool:
    return bool(name) and ("test" in name or name.startswith("dps_t_"))


def _reset_test_broker_and_database() -> None:
    """Drop the test database and vhost, only when their names say they are for tests."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(get_settings().database_url)
    if _is_test_name(url.database):
        server = url.set(drivername="postgresql", database="postgres")
        with suppress(psycopg.OperationalError), psycopg.connect(
                server.render_as_string(hide_password=False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    vhost = kombu.Connection(get_settings().amqp_uri).virtual_host
    if _is_test_name(vhost) and shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True,
                       check=False)


def nameko_config() -> dict:
    from services.common.config import nameko_config as cfg

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
