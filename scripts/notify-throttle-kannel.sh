#!/usr/bin/env bash
# Throttle drill through a REAL Kannel: `evac serve` sends a broadcast to N families (default
# 2000) through Kannel's bearerbox + smsbox to Kannel's own fake SMS centre (fakesmsc, the
# "phones") with [sms] messages_per_second = RATE (default 50), and this measures whether the
# sender sustains that rate end to end:
#   * the rate at the phones, first to last arrival, against RATE: it must not exceed RATE
#     (an SMS centre's contract; MAX_OVER, default 5 %, allows for clock and burst noise) and
#     should reach MIN_FRACTION of it (default 0.9: a sender that cannot keep up with its
#     own throttle delays the last family of a broadcast);
#   * the busiest second at the phones (any 1-second window);
#   * latency from queueing (the broadcast's created_at, as `evac outbox` prints it) to
#     arrival at the phone, p50 / p99 / max: for a broadcast queued at once this is mostly the
#     queue position divided by the rate, so it shows that the queue drains at the rate;
#   * with sqlite3 installed (optional), also from evac's own records: queue-to-accepted
#     latency (outbox.sent_at - created_at) and the gaps between consecutive acceptances,
#     which show when a sendsms call took longer than the pace (1/RATE) allows;
#   * every number got the broadcast exactly once (no kill here: no duplicate is excusable).
#
# Usage: scripts/notify-throttle-kannel.sh [N] [RATE]
#   EVAC_BIN   the evac binary [default: target/release/evac in the repo]
#   MIN_FRACTION, MAX_OVER  see above [defaults 0.9 and 0.05]
#   PORT_FIRST, PORT_LAST   the ports it may listen on [default: 39000-39099]
#   KEEP=1     keep the work directory (logs, database) even when the drill passes
# Needs Debian's kannel and kannel-extras (apt-get install kannel kannel-extras), curl, GNU
# date, and ss (iproute2) or bash's /dev/tcp to find free ports.
#
# No personal data: the families, names and numbers are generated (+7 701 1xx xx xx); the
# summary prints counts and times only.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a '.', sort and awk byte-wise

N=${1:-2000}
RATE=${2:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EVAC_BIN=${EVAC_BIN:-$ROOT/target/release/evac}
MIN_FRACTION=${MIN_FRACTION:-0.9}
MAX_OVER=${MAX_OVER:-0.05}
PORT_FIRST=${PORT_FIRST:-39000}
PORT_LAST=${PORT_LAST:-39099}
BEARERBOX=/usr/sbin/bearerbox
SMSBOX=/usr/sbin/smsbox
FAKESMSC=/usr/lib/kannel/test/fakesmsc
TEMPLATE=$ROOT/ops/kannel/kannel.conf.in
# How long a box may take to start; how long the broadcast may take beyond N/RATE, in seconds.
START_S=30
SLACK_S=${SLACK_S:-300}
TEXT="Drill: stay indoors tonight, keep your phone on."

die() { echo "FAIL: $*" >&2; exit 1; }
[[ $N =~ ^[0-9]+$ ]] && ((N >= 2 && N <= 99999)) || die "N must be 2..99999 (the numbers are +7 701 1xx xx xx)"
[[ $RATE =~ ^[0-9]+$ ]] && ((RATE >= 1)) || die "RATE must be a whole number of messages a second"
DRILL=throttle
# shellcheck source=scripts/kannel-drill-setup.sh
source "$ROOT/scripts/kannel-drill-setup.sh"
EVAC_LOG=${EVAC_LOG:-info} "$EVAC_BIN" --data-dir "$DATA" --config "$WORK/evac.toml" \
  serve --listen "127.0.0.1:$EVAC_PORT" >"$WORK/evac.out" 2>"$WORK/evac.log" &
SERVER=$!
PIDS+=("$SERVER")
until=$((SECONDS + START_S))
until curl -fsS -o /dev/null "http://127.0.0.1:$EVAC_PORT/healthz" 2>/dev/null; do
  kill -0 "$SERVER" 2>/dev/null || die "evac serve exited: $(tail -n 5 "$WORK/evac.log")"
  ((SECONDS < until)) || die "evac serve did not answer /healthz within $START_S s"
  sleep 0.1
done
# The outbox's counts as `evac outbox` prints them ("N shown; outbox: queued 5, sent 10; inbox
# waiting for a human: 0"): "queued 5, sent 10".
outbox_states() { evac outbox --as drill --limit 1 | tail -n 1 | sed -n 's/.*outbox: \([^;]*\);.*/\1/p'; }
count_in() { # count_in STATE "queued 5, sent 10"
  tr ',' '\n' <<<"$2" | awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'
}

queued=$(evac broadcast --as drill --text "$TEXT" --place Almaty --send | tail -n 1)
echo "$queued"
[[ $queued == *" $N messages queued"* ]] || die "expected $N messages queued: $queued"
# When it was queued, as evac recorded it: `evac outbox` starts each message with its
# created_at (RFC 3339, UTC); every message of one broadcast has the same.
CREATED=$(evac outbox --as drill --limit 1 | awk 'NR == 1 { print $1 }')
T_QUEUE=$(date -d "$CREATED" +%s.%6N) || die "cannot read the created_at '$CREATED' of evac outbox"

# Wait for every number, then for the outbox to settle (nothing queued or in a sender's hands).
until=$((SECONDS + N / RATE + SLACK_S))
while (($(received) < N)); do
  kill -0 "$SERVER" 2>/dev/null || die "evac serve died: $(tail -n 5 "$WORK/evac.log")"
  ((SECONDS < until)) || die "only $(received) of $N reached the phones within $((N / RATE + SLACK_S)) s"
  sleep 0.5
done
while :; do
  states=$(outbox_states)
  (($(count_in queued "$states") == 0 && $(count_in sending "$states") == 0)) && break
  ((SECONDS < until)) || die "the outbox did not settle: $states"
  sleep 1
done
sleep 2 # a duplicate, if any were sent, has time to arrive

# ---- what the phones got ----
grep 'Got message' "$PHONE_LOG" | sed -n 's/.*Got message [0-9]*: <[^ ]* \([^ ]*\) .*/\1/p' |
  sed 's/^+//' | sort | uniq -c | awk '{ print $2, $1 }' >"$WORK/per-number.txt"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "7701%03d%02d%02d\n", 100 + int(i / 10000), int(i / 100) % 100, i % 100 }' |
  sort >"$WORK/expected.txt"
MISSING=$(cut -d' ' -f1 "$WORK/per-number.txt" | comm -13 - "$WORK/expected.txt" | wc -l)
STRANGERS=$(cut -d' ' -f1 "$WORK/per-number.txt" | comm -23 - "$WORK/expected.txt" | wc -l)
TWICE=$(awk '$2 > 1' "$WORK/per-number.txt" | wc -l)
TOTAL=$(received)

# Arrival stamps (the logger's, first field), in order.
grep 'Got message' "$PHONE_LOG" | awk '{ print $1 }' | sort -n >"$WORK/arrivals.txt"
# p-th percentile by nearest rank of a sorted column of numbers.
percentiles() {
  awk '{ v[NR] = $1 } END {
    if (!NR) { print "n/a"; exit }
    split("0.50 0.99", p, " ")
    for (i = 1; i <= 2; i++) { k = int(p[i] * NR); if (k < p[i] * NR) k++; if (k < 1) k = 1; out[i] = v[k] }
    printf "p50 %.2f s, p99 %.2f s, max %.2f s", out[1], out[2], v[NR]
  }'
}
# Rate first to last arrival, and the busiest 1-second window (two pointers over the stamps).
read -r FIRST LAST ACHIEVED BUSIEST < <(awk '{ t[NR] = $1 } END {
  j = 1; m = 0
  for (i = 1; i <= NR; i++) { while (t[i] - t[j] >= 1.0) j++; if (i - j + 1 > m) m = i - j + 1 }
  printf "%s %s %.2f %d\n", t[1], t[NR], (NR > 1 ? (NR - 1) / (t[NR] - t[1]) : 0), m
}' "$WORK/arrivals.txt")
LATENCY=$(awk -v q="$T_QUEUE" '{ printf "%.6f\n", $1 - q }' "$WORK/arrivals.txt" | sort -n | percentiles)
WARNINGS=$(grep -cE ' (WARN|ERROR) ' "$WORK/evac.log" || true)

echo "N=$N  RATE=$RATE/s  SMS at the phones: $TOTAL; $((N - MISSING)) of $N numbers, $MISSING missing, $TWICE more than once"
awk -v f="$FIRST" -v l="$LAST" -v a="$ACHIEVED" -v r="$RATE" -v b="$BUSIEST" -v q="$T_QUEUE" 'BEGIN {
  printf "rate at the phones: %.1f msg/s first to last arrival (%.1f s) = %.0f%% of RATE; busiest second %d\n", a, l - f, 100 * a / r, b
  printf "queue to first arrival %.2f s, to last arrival %.1f s\n", f - q, l - q
}'
echo "queue-to-phone latency (fakesmsc arrival - evac created_at): $LATENCY"
if command -v sqlite3 >/dev/null; then
  # evac's own records (optional): created_at and sent_at are Unix microseconds in outbox.
  DB=$DATA/evac.db
  echo "queue-to-accepted latency (outbox sent_at - created_at): $(sqlite3 "$DB" \
    "SELECT (sent_at - created_at) / 1e6 FROM outbox WHERE channel = 'sms' AND sent_at IS NOT NULL ORDER BY 1" | percentiles)"
  sqlite3 "$DB" "SELECT sent_at FROM outbox WHERE channel = 'sms' AND sent_at IS NOT NULL ORDER BY sent_at" |
    awk -v r="$RATE" 'NR > 1 { d = ($1 - p) / 1000; n++; if (d > 2000 / r) { slow++; lost += d - 1000 / r } } { p = $1 }
      END { printf "gaps between acceptances longer than 2/RATE (%.0f ms): %d of %d, %.1f s lost to them\n", 2000 / r, slow, n, lost / 1000 }'
  echo "outbox: $(sqlite3 "$DB" "SELECT group_concat(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM outbox GROUP BY state)")"
else
  echo "outbox: $(outbox_states) (install sqlite3 for queue-to-accepted latency)"
fi
echo "evac log: $WARNINGS WARN/ERROR lines (in $WORK/evac.log)"
((STRANGERS == 0)) || echo "note: $STRANGERS numbers not in the drill got an SMS"

((MISSING == 0)) || die "$MISSING numbers never got the broadcast"
((TWICE == 0)) || die "$TWICE numbers got the broadcast more than once (nothing was killed)"
awk -v a="$ACHIEVED" -v r="$RATE" -v o="$MAX_OVER" 'BEGIN { exit !(a <= r * (1 + o)) }' ||
  die "the phones got $ACHIEVED msg/s, more than RATE $RATE (+$MAX_OVER): the throttle does not hold"
awk -v a="$ACHIEVED" -v r="$RATE" -v m="$MIN_FRACTION" 'BEGIN { exit !(a >= r * m) }' ||
  die "the phones got $ACHIEVED msg/s, less than $MIN_FRACTION of RATE $RATE: the sender does not sustain its throttle"
OK=1
echo "PASS: $N numbers each got the broadcast once at $ACHIEVED msg/s (RATE $RATE)"
