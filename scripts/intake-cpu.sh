#!/usr/bin/env bash
# CPU per 1,000 acknowledged requests, by thread, for one `evac bench intake` run
# (docs/BENCHMARKS.md, "CPU per request"). Linux only (reads /proc); needs python3 to count
# the stored requests.
#
#   scripts/intake-cpu.sh ./target/release/evac --concurrency 256 --seconds 5 --rounds 3
#
# Prints the POST row of the benchmark, then milliseconds of CPU (user + system) per 1,000
# stored requests for each thread name, read when the rounds end (before the background
# linker's catch-up), and the bytes the SQLite writer thread wrote per stored request. The `tokio-rt-worker` figure includes the /healthz rounds; the SQLite
# threads' figures do not.
set -euo pipefail
bin=$1; shift
work=$(mktemp -d)
out="$work/out.txt"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
TMPDIR=$work "$bin" bench intake "$@" > "$out" 2>&1 &
pid=$!
until grep -q "every acknowledged" "$out"; do
  kill -0 "$pid" 2>/dev/null || { cat "$out"; exit 1; }
  sleep 0.5
done
declare -A ticks
declare -A written
for task in /proc/"$pid"/task/*; do
  name=$(cat "$task/comm")
  # Bytes this thread handed to write system calls (for the SQLite writer: the WAL).
  wchar=$(awk '/^wchar:/ {print $2}' "$task/io")
  written[$name]=$(( ${written[$name]:-0} + wchar ))
  # After "pid (comm)", utime and stime are the 12th and 13th fields (thread names here have no spaces).
  read -r -a f < "$task/stat"
  ticks[$name]=$(( ${ticks[$name]:-0} + f[13] + f[14] ))
done
db=$(ls "$work"/.tmp*/bench.db)
stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM requests').fetchone()[0])" "$db")
hz=$(getconf CLK_TCK)
grep -E '^\| POST' "$out"
echo "stored requests: $stored; CPU ms per 1,000 requests by thread:"
total=0
for name in "${!ticks[@]}"; do
  total=$(( total + ticks[$name] ))
  echo "  $name: $(( ticks[$name] * 1000 * 1000 / hz / stored ))"
done
echo "  all threads: $(( total * 1000 * 1000 / hz / stored ))"
echo "bytes written per request by the SQLite writer (WAL frames and its checkpoints): $(( ${written[evac-sqlite-wri]:-0} / stored ))"
