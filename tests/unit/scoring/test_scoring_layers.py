"""Scoring's layers (issue 9, DESIGN "Inside a service"): ``domain`` is pure and ``handlers``,
``access`` and ``config`` import no nameko; only ``service.py`` (and ``run.py``) touch it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("nameko", "sqlalchemy", "kombu", "amqp", "eventlet", "psycopg", "requests")


def imported_after(modules: str) -> set[str]:
    code = (f"import sys; import {modules}; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    return set(out.stdout.split())


def test_domain_handlers_access_and_config_import_no_nameko_or_database():
    loaded = imported_after("services.scoring.domain, services.scoring.handlers, "
                            "services.scoring.access, services.scoring.config, "
                            "services.scoring.rules")
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)


def test_the_domain_imports_neither_handlers_nor_store():
    code = ("import sys, services.scoring.domain; "
            "print(' '.join(m for m in sys.modules if m.startswith('services.scoring.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=True)
    loaded = set(out.stdout.split())
    assert loaded and all(m.startswith("services.scoring.domain") for m in loaded), loaded
