#!/usr/bin/env bash
# Schemathesis (PyPI) against every operation of the OpenAPI document, on the demo with a
# staff token (issue 26, item 8). Fails on a 5xx, a response that breaks its schema, or a
# status the document does not name. Usage: scripts/schemathesis.sh [seconds, default 540]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_MAX="${1:-540}"
WORK="$(mktemp -d /tmp/evac-schemathesis.XXXXXX)"
PORT="${EVAC_SCHEMATHESIS_PORT:-18931}"
cargo build --release -p evac-cli
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet schemathesis
EVAC_DATA_DIR="$WORK/data" target/release/evac demo --listen "127.0.0.1:$PORT" --requests 300 \
  >"$WORK/demo.out" 2>"$WORK/demo.err" &
DEMO=$!
trap 'kill $DEMO 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q "token:" "$WORK/demo.out" && break; sleep 1; done
TOKEN="$(grep -o 'evac_[0-9a-f]*' "$WORK/demo.out" | head -1)"
"$WORK/venv/bin/st" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance \
  --max-examples 30 --max-time "$SECONDS_MAX" --workers 4 --request-timeout 20 \
  --continue-on-failure --seed 1
