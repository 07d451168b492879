#!/usr/bin/env bash
# Crash drill for intake (issue 26, item 8), on either backend: `evac serve` takes requests from
# WORKERS parallel clients; after LOAD_S seconds the server is killed with SIGKILL (no shutdown,
# no flush, requests in flight cut), restarted, and every request it had acknowledged (answered
# 201 with an id) is looked for in an export. Nothing acknowledged may be lost; what was cut
# before its answer may or may not be there (the client was never told either way).
#
# Usage: scripts/kill-9-intake.sh [sqlite|postgres]
#   EVAC_BIN   the evac binary [default: target/release/evac in the repo]
#   WORKERS    parallel clients [default: 16]
#   LOAD_S     seconds of load before the kill [default: 5]
#   PORT       the server's port [default: 39180]
#   PG_ADMIN   PostgreSQL server for the postgres run, as a URL without a database
#              [default: postgres://postgres@127.0.0.1:5432]; a scratch database
#              evac_kill9_<pid> is created and dropped
#   KEEP=1     keep the work directory (logs, database)
# Needs curl; for postgres, createdb and dropdb (postgresql-client). No personal data: the
# requests are generated.
set -euo pipefail
export LC_ALL=C
BACKEND=${1:-sqlite}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EVAC_BIN=${EVAC_BIN:-$ROOT/target/release/evac}
WORKERS=${WORKERS:-16}
LOAD_S=${LOAD_S:-5}
PORT=${PORT:-39180}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432}
die() { echo "FAIL: $*" >&2; exit 1; }
[[ -x $EVAC_BIN ]] || die "no evac binary at $EVAC_BIN (cargo build --release -p evac-cli)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/evac-kill9-intake.XXXXXX")
DATA=$WORK/data
PIDS=()
PG_DB=""
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [[ -n $PG_DB ]]; then dropdb --if-exists --maintenance-db="$PG_ADMIN/postgres" "$PG_DB" 2>/dev/null || true; fi
  if [[ ${KEEP:-} == 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
case $BACKEND in
  sqlite) export EVAC_DATABASE_URL="sqlite://$DATA/evac.db" ;;
  postgres)
    PG_DB=evac_kill9_$$
    createdb --maintenance-db="$PG_ADMIN/postgres" "$PG_DB" || die "cannot create $PG_DB on $PG_ADMIN"
    export EVAC_DATABASE_URL="$PG_ADMIN/$PG_DB"
    ;;
  *) die "backend must be sqlite or postgres" ;;
esac
evac() { EVAC_LOG=warn "$EVAC_BIN" --data-dir "$DATA" "$@"; }
mkdir -p "$DATA"
evac migrate >/dev/null
serve() {
  EVAC_LOG=warn "$EVAC_BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >"$WORK/serve-$1.log" 2>&1 &
  SERVER=$!
  PIDS+=("$SERVER")
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && return 0
    kill -0 "$SERVER" 2>/dev/null || die "evac serve exited: $(tail -n 5 "$WORK/serve-$1.log")"
    sleep 0.1
  done
  die "evac serve did not answer /healthz"
}
serve 1

# Each worker posts requests until told to stop and keeps the id of every one answered 201.
# (The public flood limit counts per address: the workers come as staff, with a token.)
echo "kill9 drill operator password" | evac user add kill9 --role operator --password-stdin >/dev/null
TOKEN=$(evac token create kill9 --label kill-9-drill | tail -n 1)
[[ -n $TOKEN ]] || die "could not make an operator token"
worker() {
  local w=$1 i=0
  while [[ ! -e $WORK/stop ]]; do
    i=$((i + 1))
    body="{\"location\":{\"text\":\"Almaty\"},\"submitter\":{\"phones\":[\"+7 701 $((100 + w)) $((10 + i % 90)) $((10 + i / 90 % 90))\"]},\"party\":[{\"surname\":\"Drill$w\",\"given_names\":\"N$i\",\"birth_date\":\"2011-04-04\"}],\"consent\":true}"
    answer=$(curl -sS -m 5 -o - -w '\n%{http_code}' -H "authorization: Bearer $TOKEN" \
      -H 'content-type: application/json' --data "$body" "http://127.0.0.1:$PORT/api/v1/requests" 2>/dev/null) || continue
    [[ ${answer##*$'\n'} == 201 ]] || continue
    sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"${answer%$'\n'*}" >>"$WORK/acked-$w.txt"
  done
}
for w in $(seq 1 "$WORKERS"); do worker "$w" & PIDS+=("$!"); done
sleep "$LOAD_S"
# SIGKILL under load (the braces keep bash's "Killed" notice out of the output).
{ kill -9 "$SERVER" && wait "$SERVER"; } 2>/dev/null || true
touch "$WORK/stop"
wait "${PIDS[@]:1}" 2>/dev/null || true
cat "$WORK"/acked-*.txt 2>/dev/null | sort -u >"$WORK/acked.txt"
ACKED=$(wc -l <"$WORK/acked.txt")
((ACKED > 0)) || die "no request was acknowledged before the kill"

serve 2
evac export requests --format jsonl 2>/dev/null | sed -n 's/.*"request_id":"\([0-9a-f-]\{36\}\)".*/\1/p' | sort -u >"$WORK/stored.txt"
STORED=$(wc -l <"$WORK/stored.txt")
LOST=$(comm -23 "$WORK/acked.txt" "$WORK/stored.txt" | wc -l)
echo "backend=$BACKEND workers=$WORKERS load=${LOAD_S}s: $ACKED acknowledged before the kill, $STORED stored after the restart, $LOST lost"
((LOST == 0)) || die "$LOST acknowledged requests are missing after the restart (ids in $WORK/acked.txt)"
echo "PASS: every acknowledged request survived kill -9 ($BACKEND)"
