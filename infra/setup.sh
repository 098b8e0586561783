#!/usr/bin/env bash
# Sets up what is missing on a fresh Debian/Ubuntu machine, idempotently:
# the virtualenv and its packages, then PostgreSQL, RabbitMQ, schemas, migrations, queues.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null; then
  apt-get update && apt-get install -y python3 python3-venv python3-dev
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv || { apt-get update && apt-get install -y python3-venv && "$PY" -m venv .venv; }
fi
stamp=.venv/.dps-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip 'setuptools<81' wheel
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi
# the web portal's GOV.UK Frontend (and axe-core for its browser tests), pinned in
# gateway/web/package.json; the browser tests drive Debian's chromium (never a download)
if [ ! -f gateway/web/node_modules/govuk-frontend/package.json ] ||
   [ gateway/web/package.json -nt gateway/web/node_modules/.package-lock.json ]; then
  command -v npm >/dev/null || { apt-get update && apt-get install -y nodejs npm; }
  (cd gateway/web && npm install --no-audit --no-fund --loglevel=error)
fi
if ! command -v chromium >/dev/null; then
  apt-get update && apt-get install -y chromium || echo "chromium not installed: browser tests will be skipped" >&2
fi
.venv/bin/dps bootstrap
