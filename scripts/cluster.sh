#!/usr/bin/env bash
# Several evac nodes behind HAProxy on one PostgreSQL (issue 24), until Ctrl-C or SIGTERM.
#
#   scripts/cluster.sh [--nodes N] [--port P] [--database-url URL] [--data-dir DIR]
#
# Node k listens on 127.0.0.1:P+k, HAProxy on 127.0.0.1:P (its status page on P+100). The
# nodes share DIR (the boarding-pass key file must be the same on every node) and each has a
# config file DIR/node-k.toml naming it node-k (the outbox's claims and the linkage lease go by
# name). Once all answer, it prints `balancer http://...` and one `node k http://... pid PID`
# line each, then `ready`. EVAC_BIN names the binary (default target/release/evac, under
# CARGO_TARGET_DIR when that is set);
# EVAC_NODE_CONFIG_EXTRA is added to every node's config file (e.g. `[public_limit]` for a
# benchmark whose load comes from one address); haproxy
# comes from Debian's `haproxy` package. Every node migrates the database at start-up (the
# first to come applies what is missing; PostgreSQL serialises them).
set -euo pipefail

nodes=2
port=8400
database_url="${EVAC_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/evac}"
data_dir="${TMPDIR:-/tmp}/evac-cluster"
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --database-url) database_url="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    *) echo "unknown argument $1; see the head of $0" >&2; exit 2 ;;
  esac
done
here="$(cd "$(dirname "$0")/.." && pwd)"
evac="${EVAC_BIN:-${CARGO_TARGET_DIR:-$here/target}/release/evac}"
[ -x "$evac" ] || { echo "no evac binary at $evac: cargo build --release -p evac-cli, or set EVAC_BIN" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "haproxy is not installed: apt-get install haproxy" >&2; exit 1; }
mkdir -p "$data_dir"

pids=()
stop() {
  # SIGTERM: each node finishes what is in flight (at most 30 s) and gives its linkage lease
  # up; whatever still runs after 35 s is killed.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 350); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 0' INT TERM

"$evac" --data-dir "$data_dir" --database-url "$database_url" migrate >/dev/null

servers=""
for k in $(seq 1 "$nodes"); do
  printf '[messaging]\nnode = "node-%s"\n%s\n' "$k" "${EVAC_NODE_CONFIG_EXTRA:-}" > "$data_dir/node-$k.toml"
  EVAC_LOG="${EVAC_LOG:-warn}" "$evac" --data-dir "$data_dir" --database-url "$database_url" \
    --config "$data_dir/node-$k.toml" serve --listen "127.0.0.1:$((port + k))" \
    > "$data_dir/node-$k.out" 2> "$data_dir/node-$k.log" &
  pids+=("$!")
  echo "$!" > "$data_dir/node-$k.pid"
  servers+="    server node-$k 127.0.0.1:$((port + k))"$'\n'
done

sed -e "s|@BIND@|127.0.0.1:$port|" -e "s|@STATS@|127.0.0.1:$((port + 100))|" \
  "$here/ops/haproxy/haproxy.cfg.in" > "$data_dir/haproxy.cfg.part"
awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' \
  "$data_dir/haproxy.cfg.part" > "$data_dir/haproxy.cfg"
rm "$data_dir/haproxy.cfg.part"
haproxy -c -q -f "$data_dir/haproxy.cfg"
haproxy -db -f "$data_dir/haproxy.cfg" > "$data_dir/haproxy.log" 2>&1 &
pids+=("$!")

ready() { curl -fsS -o /dev/null "http://127.0.0.1:$1/readyz" 2>/dev/null; }
for k in $(seq 1 "$nodes"); do
  for _ in $(seq 1 600); do ready $((port + k)) && break; sleep 0.1; done
  ready $((port + k)) || { echo "node-$k did not start; see $data_dir/node-$k.log" >&2; exit 1; }
done
# Up to 30 s: on 2 shared cores under a test run, HAProxy's first health checks can be slow.
for _ in $(seq 1 300); do ready "$port" && break; sleep 0.1; done
ready "$port" || {
  # Say why here: the data directory is gone when a test that started the cluster ends.
  echo "haproxy did not start; see $data_dir/haproxy.log:" >&2
  tail -n 20 "$data_dir/haproxy.log" >&2
  exit 1
}

echo "balancer http://127.0.0.1:$port"
for k in $(seq 1 "$nodes"); do
  echo "node $k http://127.0.0.1:$((port + k)) pid $(cat "$data_dir/node-$k.pid")"
done
echo "ready"
# Until stopped; a node that dies stays dead (HAProxy sends its share to the others).
while true; do sleep 1; done
