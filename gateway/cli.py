"""``dps``: the operator's command line.

    dps keys create --role ROLE [--authority CODE] [--provider-id ID] --label L
    dps bootstrap                 set up databases, schemas, migrations, queues
    dps gateway [--port 8000]     serve the HTTP gateway
    dps relay [SERVICE ...]       run the outbox relay
    dps demo                      load the demo region (idempotent)
    dps audit verify              verify every service's audit chain in the database
    dps evaluation replay ID      recompute a referral's stored evaluation from its inputs
"""

from __future__ import annotations

import sys

import click

from services.common.config import AUDITED_SERVICES, SERVICES, get_settings


@click.group()
def main() -> None:
    """DPS platform operations."""


@main.group()
def keys() -> None:
    """API keys."""


@keys.command("create")
@click.option("--role", required=True)
@click.option("--authority")
@click.option("--provider-id")
@click.option("--label", required=True)
def keys_create(role, authority, provider_id, label) -> None:
    """Create a key and print it alone on stdout (shown once; only its hash is kept)."""
    from gateway.auth import create_key
    from services.common.errors import InvalidInput
    from services.common.runtime import make_engine

    engine = make_engine(pool_size=1)
    try:
        _, key = create_key(engine, role, label, authority, provider_id,
                            lead_authority=get_settings().lead_authority)
    except InvalidInput as exc:
        raise click.UsageError(exc.detail) from exc
    finally:
        engine.dispose()
    click.echo(key)


@main.command()
def bootstrap() -> None:
    """Make PostgreSQL and RabbitMQ reachable, migrate, declare queues (idempotent)."""
    from infra.bootstrap import main as run

    run()


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=None)
@click.option("--threads", type=int, default=16)
def gateway(host, port, threads) -> None:
    """Serve the gateway with waitress."""
    from waitress import serve

    from gateway.app import create_app
    from services.common.runtime import freeze_startup_heap

    app = create_app()
    freeze_startup_heap()
    serve(app, host=host, port=port or get_settings().gateway_port, threads=threads,
          ident="dps")


@main.command()
@click.argument("services", nargs=-1)
def relay(services) -> None:
    """Publish outbox rows of SERVICES (default all) to RabbitMQ."""
    from services.common.relay import main as run

    unknown = set(services) - set(SERVICES)
    if unknown:
        raise click.UsageError(f"unknown services: {', '.join(sorted(unknown))}")
    run(list(services) or None)


@main.command()
@click.option("--url", default=None, help="gateway URL (default http://127.0.0.1:PORT)")
def demo(url) -> None:
    """Load the demo region through the gateway (idempotent) and print the demo keys."""
    from infra.demo import load

    load(url or f"http://127.0.0.1:{get_settings().gateway_port}")


@main.group()
def audit() -> None:
    """Audit trail (RULES §9)."""


@audit.command("verify")
def audit_verify() -> None:
    """Verify every service's hash chain straight from the database."""
    from sqlalchemy import MetaData
    from sqlalchemy.orm import Session

    from services.common.runtime import make_engine
    from services.common.tables import common_tables
    from services.common.uow import verify_audit

    engine = make_engine(pool_size=1)
    bad = False
    with Session(engine) as session:
        for service in AUDITED_SERVICES:
            result = verify_audit(session, common_tables(MetaData(schema=service)))
            click.echo(f"{service}: {result.as_dict()}")
            bad = bad or not result.ok
    sys.exit(1 if bad else 0)


@main.group()
def evaluation() -> None:
    """Evaluations (RULES §6)."""


@evaluation.command("replay")
@click.argument("referral_id")
def evaluation_replay(referral_id) -> None:
    """Recompute every total of REFERRAL_ID's stored evaluation from its stored inputs with
    the scoring service's rules; report each difference (exit 1 on one, 2 if none stored)."""
    from gateway.replay import replay

    sys.exit(replay(referral_id, click.echo))


if __name__ == "__main__":
    main()
