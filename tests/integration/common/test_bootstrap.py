"""Bootstrap is safe to run twice at the same moment (issue 10): two pods starting, or
`make test` beside `make run`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from services.common.config import SERVICES, get_settings

ROOT = Path(__file__).resolve().parents[3]


def test_two_bootstraps_started_at_the_same_moment_both_succeed():
    url = make_url(get_settings().database_url)
    name = f"dps_test_boot_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": url.set(database=name).render_as_string(
        hide_password=False), "PYTHONPATH": str(ROOT)}
    server = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    command = [sys.executable, "-c", "from infra.bootstrap import main; main()"]
    try:
        runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
        assert [code for code, _ in results] == [0, 0], results
        with psycopg.connect(url.set(drivername="postgresql", database=name)
                             .render_as_string(hide_password=False)) as conn:
            versions = {schema: conn.execute(
                f'SELECT count(*) FROM "{schema}".alembic_version').fetchone()[0]
                for schema in (*SERVICES, "gateway")}
        assert versions == dict.fromkeys((*SERVICES, "gateway"), 1)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
