#!/usr/bin/env bash
# make run: set up what is missing, start every process of infra/Procfile (honcho), load
# the demo region once the gateway answers, print the keys and what to try.
# Ctrl-C stops everything (honcho runs in the foreground and stops its processes).
set -euo pipefail
cd "$(dirname "$0")/.."
infra/setup.sh
export DPS_GATEWAY_PORT=${PORT:-${DPS_GATEWAY_PORT:-8000}}
url="http://127.0.0.1:${DPS_GATEWAY_PORT}"
(
  for _ in $(seq 1 120); do
    if curl -fsS "$url/health" >/dev/null 2>&1; then
      .venv/bin/dps demo --url "$url" || echo "demo data could not be loaded; see above" >&2
      exit 0
    fi
    sleep 1
  done
  echo "the gateway did not become healthy at $url within 120 s" >&2
) &
exec .venv/bin/honcho start -f infra/Procfile
