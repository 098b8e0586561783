#!/usr/bin/env bash
# make run: set up what is missing, start every process, load the demo region, print
# what to try; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
infra/setup.sh
export DPS_GATEWAY_PORT=${PORT:-${DPS_GATEWAY_PORT:-8000}}
mkdir -p var/log
.venv/bin/honcho start -f infra/Procfile -d . > >(tee var/log/dps.log) 2>&1 &
honcho_pid=$!
trap 'kill -INT $honcho_pid 2>/dev/null; wait $honcho_pid 2>/dev/null; exit 0' INT TERM
url="http://127.0.0.1:${DPS_GATEWAY_PORT}"
for _ in $(seq 1 90); do
  if curl -fsS "$url/health" >/dev/null 2>&1; then break; fi
  sleep 1
done
.venv/bin/dps demo --url "$url"
wait $honcho_pid
