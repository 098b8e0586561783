"""Alembic glue: each service's ``migrations/env.py`` calls ``run(metadata)``; bootstrap
calls ``upgrade(service)``. Each service keeps its version table in its own schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool, text

from services.common.config import get_settings

ROOT = Path(__file__).resolve().parents[2]


def migrations_dir(component: str) -> Path:
    """``gateway`` or a service name → its Alembic folder."""
    if component == "gateway":
        return ROOT / "gateway" / "migrations"
    return ROOT / "services" / component / "migrations"


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace(
        "%", "%%"))
    cfg.attributes["schema"] = service
    return cfg


def upgrade(service: str, url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), "head")


def run(metadata: MetaData) -> None:
    cfg = context.config
    schema = metadata.schema
    engine = create_engine(cfg.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.commit()
        context.configure(connection=conn, target_metadata=metadata,
                          version_table_schema=schema, include_schemas=False,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
