#!/usr/bin/env bash
# Per thread, CPU time and time spent runnable but waiting for a core, during the POST round of
# one `evac bench intake` run at 256 connections (docs/BENCHMARKS.md, "Who waits for a core").
# Linux only (reads /proc/PID/task/*/schedstat).
#
#   scripts/intake-sched.sh ./target/release/evac
#
# Prints, per thread name, milliseconds per second of CPU and of run-queue wait, sampled over
# 4 s in the middle of a 10-s POST round, then the round's POST row. A serial stage (the SQLite
# writer) that waits for a core holds back every request of its batch.
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
TMPDIR=$work "$bin" bench intake --concurrency 256 --seconds 10 --rounds 1 > "$work/out.txt" 2>&1 &
pid=$!
# The table's header comes once the setup is done; then the /healthz round (10 s), then the
# POST round (10 s).
until grep -q "^| route" "$work/out.txt" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/out.txt"; exit 1; }
  sleep 0.2
done
sleep 13
sample() {
  for task in /proc/"$pid"/task/*; do
    read -r cpu_ns wait_ns _ < "$task/schedstat"
    echo "$(cat "$task/comm") $cpu_ns $wait_ns"
  done
}
before=$(sample)
sleep 4
after=$(sample)
awk 'NR == FNR { cpu[$1] -= $2; wait[$1] -= $3; next } { cpu[$1] += $2; wait[$1] += $3 }
     END { for (n in cpu) printf "%-16s CPU %5d ms/s, waiting for a core %5d ms/s\n", n, cpu[n] / 4e6, wait[n] / 4e6 }' \
  <(echo "$before") <(echo "$after") | sort
until grep -q "every acknowledged" "$work/out.txt"; do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
grep -E '^\| POST' "$work/out.txt"
