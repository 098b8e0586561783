"""Bring up what the platform needs, idempotently (DESIGN "Running it").

1. PostgreSQL and RabbitMQ answer at their configured URLs: used if they answer, started
   if installed, installed with apt-get if not (fresh Debian/Ubuntu machines).
2. The database exists; each service (and the gateway) has its schema and is migrated.
3. Every events exchange and every event-handler queue exists, so no event published
   before a consumer first starts is dropped (nameko publishes events non-mandatory).

Running it twice changes nothing; two runs at the same moment wait for each other
(``bootstrap_lock``).
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from importlib import import_module

import kombu
import psycopg
from sqlalchemy.engine import make_url

from services.common.config import SERVICES, get_settings
from services.common.events import exchange_name
from services.common.logging import configure, get_logger
from services.common.migrations import upgrade

log = get_logger("bootstrap")

SERVICE_CLASSES = {
    "qualification": "services.qualification.service:QualificationService",
    "referral": "services.referral.service:ReferralService",
    "scoring": "services.scoring.service:ScoringService",
    "contracts": "services.contracts.service:ContractsService",
    "notifications": "services.notifications.service:NotificationsService",
}


def _run(cmd: list[str], check: bool = True) -> int:
    log.info("running", cmd=" ".join(cmd))
    return subprocess.run(cmd, check=check, stdout=sys.stderr, stderr=sys.stderr).returncode


def _apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None:
        raise SystemExit(f"cannot install {packages}: no apt-get; install them yourself")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env, stdout=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", *packages], check=True, env=env,
                   stdout=sys.stderr)


def _wait(check, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise SystemExit(f"{what} did not come up within {seconds:.0f}s")


# -- PostgreSQL --------------------------------------------------------------------
def _server_url() -> tuple[str, str]:
    url = make_url(get_settings().database_url).set(drivername="postgresql")
    return url.set(database="postgres").render_as_string(hide_password=False), url.database


def _pg_answers() -> bool:
    try:
        psycopg.connect(_server_url()[0], connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


def ensure_postgres() -> None:
    if _pg_answers():
        return
    if shutil.which("pg_ctlcluster") is None and not os.path.isdir("/usr/lib/postgresql"):
        _apt_install("postgresql")
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if versions:
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
             check=False)
        _trust_local(versions[-1])
    _wait(_pg_answers, "PostgreSQL")


def _trust_local(version: str) -> None:
    """A fresh apt install uses peer auth; the default URL connects as postgres over TCP."""
    if _pg_answers():
        return
    hba = f"/etc/postgresql/{version}/main/pg_hba.conf"
    with open(hba) as f:
        text = f.read()
    if "# dps: trust local" not in text:
        with open(hba, "w") as f:
            f.write("# dps: trust local\nhost all all 127.0.0.1/32 trust\n"
                    "host all all ::1/128 trust\nlocal all all trust\n" + text)
        _run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "reload"],
             check=False)


def ensure_database() -> None:
    server, name = _server_url()
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            log.info("database created", database=name)


def migrate() -> None:
    for component in (*SERVICES, "gateway"):
        upgrade(component)
        log.info("migrated", component=component)


# -- RabbitMQ ----------------------------------------------------------------------
def _amqp_answers() -> bool:
    try:
        with kombu.Connection(get_settings().amqp_uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def _broker_answers() -> bool:
    try:
        conn = kombu.Connection(get_settings().amqp_uri, connect_timeout=3)
        conn.virtual_host = "/"
        with conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def ensure_rabbitmq() -> None:
    if not _broker_answers():
        if shutil.which("rabbitmq-server") is None:
            _apt_install("rabbitmq-server")
        _run(["rabbitmq-server", "-detached"], check=False)
        _wait(_broker_answers, "RabbitMQ", 90)
    if shutil.which("rabbitmq-plugins"):
        _run(["rabbitmq-plugins", "enable", "--quiet", "rabbitmq_management"], check=False)
    ensure_vhost()


def ensure_vhost() -> None:
    """Create the AMQP URI's virtual host if missing (tests use their own, ``dps_test``)."""
    vhost = kombu.Connection(get_settings().amqp_uri).virtual_host or "/"
    if vhost == "/" or _amqp_answers():
        return
    if shutil.which("rabbitmqctl") is None:
        raise SystemExit(f"RabbitMQ virtual host {vhost!r} is missing; create it")
    _run(["rabbitmqctl", "add_vhost", vhost], check=False)
    user = kombu.Connection(get_settings().amqp_uri).userid
    _run(["rabbitmqctl", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"])
    _wait(_amqp_answers, f"RabbitMQ virtual host {vhost}", 30)


def service_class(service: str):
    module, cls = SERVICE_CLASSES[service].split(":")
    return getattr(import_module(module), cls)


def event_queues(service: str) -> list[kombu.Queue]:
    """The queues nameko would declare for ``service``'s event handlers, same arguments."""
    from nameko.events import EventHandler

    cls = service_class(service)
    queues = []
    for method_name, method in inspect.getmembers(cls, callable):
        for ext in getattr(method, "nameko_entrypoints", ()):
            if isinstance(ext, EventHandler):
                exchange = kombu.Exchange(exchange_name(ext.source_service), type="topic",
                                          durable=True)
                queues.append(kombu.Queue(
                    f"evt-{ext.source_service}-{ext.event_type}--{cls.name}.{method_name}",
                    exchange=exchange, routing_key=ext.event_type, durable=True,
                    auto_delete=False, exclusive=False))
    return queues


def declare_messaging() -> None:
    with kombu.Connection(get_settings().amqp_uri) as conn:
        channel = conn.channel()
        for service in SERVICES:
            kombu.Exchange(exchange_name(service), type="topic", durable=True)(channel).declare()
            for queue in event_queues(service):
                queue(channel).declare()
                log.info("queue declared", queue=queue.name)


@contextmanager
def bootstrap_lock():
    """Serialise bootstraps of one database (two pods starting, or `make test` beside
    `make run`): a session-level advisory lock on the server's maintenance database, held
    while the database is created, migrated and its queues declared. The second bootstrap
    waits, then finds everything done."""
    server, name = _server_url()
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"dps-bootstrap:{name}",))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"dps-bootstrap:{name}",))


def main() -> None:
    configure("bootstrap", get_settings().log_level)
    ensure_postgres()
    ensure_rabbitmq()
    with bootstrap_lock():
        ensure_database()
        migrate()
        declare_messaging()
    log.info("bootstrap complete")


if __name__ == "__main__":
    main()
