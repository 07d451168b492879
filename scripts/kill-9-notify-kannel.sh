#!/usr/bin/env bash
# kill -9 drill through a REAL Kannel: `evac serve` sends a broadcast to N families (default
# 10000) through Kannel's bearerbox + smsbox to Kannel's own fake SMS centre (fakesmsc, the
# "phones"); once about a third have reached the phones the server is killed with SIGKILL
# (no shutdown, no flush, a sendsms call possibly cut in the middle), restarted, and left to
# drain the outbox. Then what the phones got is counted per number:
#   * every one of the N numbers got the broadcast at least once (nothing lost), and
#   * no number got it twice (DUP_MAX, default 0), none three times.
#
# Usage: scripts/kill-9-notify-kannel.sh [N]
#   EVAC_BIN   the evac binary [default: target/release/evac in the repo]
#   RATE       [sms] messages_per_second [default: 200: 10000 take 50 s at that rate; it is a
#              ceiling, and every sendsms call slower than 1/RATE lowers what is reached]
#   KILL_AT    kill once this many have reached the phones [default: N/3]
#   DUP_MAX    most numbers allowed to get the broadcast twice [default: 0, see below]
#   PORT_FIRST, PORT_LAST  the ports it may listen on [default: 39000-39099]
#   KEEP=1     keep the work directory (logs, database) even when the drill passes
# Needs Debian's kannel and kannel-extras (apt-get install kannel kannel-extras), curl, and
# ss (iproute2) or bash's /dev/tcp to find free ports. sqlite3 is not needed.
#
# Why DUP_MAX is 0: evac's sender (one per channel and node) keeps at most
# sends_in_flight(RATE) = ceil(RATE x 50 ms) sendsms calls started and unanswered
# (crates/evac-app/src/messaging.rs), and records each acceptance in the database as its
# answer comes. The sends in flight at the kill are the only ones whose fate evac cannot know:
# Kannel may have taken them. evac asks Kannel for the "taken by the SMS centre" report
# (dlr-mask 8) of every message, smsbox retries a report evac cannot take while it is down
# (http-request-retry, ops/kannel/kannel.conf.in), and the restarted node holds back what it
# had claimed for [sms] reports_within_s (45 s) before sending it again: a message Kannel took
# is settled by its report, not sent twice. A duplicate now means a report was lost (evac
# down longer than smsbox retries) or a bug.

# No personal data: the families, names and numbers are generated (+7 701 1xx xx xx); the
# summary prints counts and times only.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a '.', sort and awk byte-wise

N=${1:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EVAC_BIN=${EVAC_BIN:-$ROOT/target/release/evac}
RATE=${RATE:-200}
KILL_AT=${KILL_AT:-$((N / 3))}
DUP_MAX=${DUP_MAX:-0}
PORT_FIRST=${PORT_FIRST:-39000}
PORT_LAST=${PORT_LAST:-39099}
BEARERBOX=/usr/sbin/bearerbox
SMSBOX=/usr/sbin/smsbox
FAKESMSC=/usr/lib/kannel/test/fakesmsc
TEMPLATE=$ROOT/ops/kannel/kannel.conf.in
# How long a box may take to start, the outbox to drain after the restart, in seconds.
START_S=30
DRAIN_S=${DRAIN_S:-600}
TEXT="Drill: stay indoors tonight, keep your phone on."

die() { echo "FAIL: $*" >&2; exit 1; }
[[ $N =~ ^[0-9]+$ ]] && ((N >= 3 && N <= 99999)) || die "N must be 3..99999 (the numbers are +7 701 1xx xx xx)"
((KILL_AT > 0 && KILL_AT < N)) || die "KILL_AT must be between 1 and N-1"
DRILL=kill9
# shellcheck source=scripts/kannel-drill-setup.sh
source "$ROOT/scripts/kannel-drill-setup.sh"
SERVE_N=0
serve() {
  SERVE_N=$((SERVE_N + 1))
  EVAC_LOG=${EVAC_LOG:-info} "$EVAC_BIN" --data-dir "$DATA" --config "$WORK/evac.toml" \
    serve --listen "127.0.0.1:$EVAC_PORT" >"$WORK/evac-$SERVE_N.out" 2>"$WORK/evac-$SERVE_N.log" &
  SERVER=$!
  PIDS+=("$SERVER")
  local until=$((SECONDS + START_S))
  until curl -fsS -o /dev/null "http://127.0.0.1:$EVAC_PORT/healthz" 2>/dev/null; do
    kill -0 "$SERVER" 2>/dev/null || die "evac serve exited: $(tail -n 5 "$WORK/evac-$SERVE_N.log")"
    ((SECONDS < until)) || die "evac serve did not answer /healthz within $START_S s"
    sleep 0.1
  done
}
# The outbox's counts as `evac outbox` prints them ("N shown; outbox: queued 5, sent 10; inbox
# waiting for a human: 0"): "queued 5, sent 10".
outbox_states() { evac outbox --as drill --limit 1 | tail -n 1 | sed -n 's/.*outbox: \([^;]*\);.*/\1/p'; }
count_in() { # count_in STATE "queued 5, sent 10"
  tr ',' '\n' <<<"$2" | awk -v s="$1" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'
}

serve
T_QUEUE=$(now)
queued=$(evac broadcast --as drill --text "$TEXT" --place Almaty --send | tail -n 1)
echo "$queued"
[[ $queued == *" $N messages queued"* ]] || die "expected $N messages queued: $queued"

# Kill once KILL_AT have reached the phones.
until=$((SECONDS + DRAIN_S))
while (($(received) < KILL_AT)); do
  kill -0 "$SERVER" 2>/dev/null || die "evac serve died before the kill: $(tail -n 5 "$WORK/evac-1.log")"
  ((SECONDS < until)) || die "only $(received) of $N reached the phones in $DRAIN_S s"
  sleep 0.05
done
# (The braces keep bash's "Killed" job notice out of the output.)
{ kill -9 "$SERVER" && wait "$SERVER"; } 2>/dev/null || true
T_KILL=$(now)
AT_KILL=$(received)
# What Kannel had already taken still reaches the phones: let it settle, then count again.
sleep 2
AFTER_KILL=$(received)
echo "killed with SIGKILL: $AT_KILL at the phones at the kill, $AFTER_KILL two seconds later"
((AFTER_KILL < N)) || die "all $N had reached the phones before the kill: raise N or lower KILL_AT"

serve
T_RESTART=$(now)
# Drained: nothing queued or held by a sender (sent, delivered, failed and given_up are final).
until=$((SECONDS + DRAIN_S))
while :; do
  states=$(outbox_states)
  q=$(count_in queued "$states") s=$(count_in sending "$states")
  ((q == 0 && s == 0)) && break
  kill -0 "$SERVER" 2>/dev/null || die "the restarted evac serve died: $(tail -n 5 "$WORK/evac-2.log")"
  ((SECONDS < until)) || die "the outbox did not drain within $DRAIN_S s: queued $q, sending $s"
  sleep 1
done
T_DRAINED=$(now)
# Kannel's queue empties a little behind evac's: wait until the phones stop receiving.
last=-1
while [[ $(received) != "$last" ]]; do
  last=$(received)
  sleep 2
done

# ---- what the phones got ----
# "Got message N: <1400 +77011xxxxxx coding data>": the second field is the number.
grep 'Got message' "$PHONE_LOG" | sed -n 's/.*Got message [0-9]*: <[^ ]* \([^ ]*\) .*/\1/p' |
  sed 's/^+//' | sort | uniq -c | awk '{ print $2, $1 }' >"$WORK/per-number.txt"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "7701%03d%02d%02d\n", 100 + int(i / 10000), int(i / 100) % 100, i % 100 }' |
  sort >"$WORK/expected.txt"
MISSING=$(cut -d' ' -f1 "$WORK/per-number.txt" | comm -13 - "$WORK/expected.txt" | wc -l)
STRANGERS=$(cut -d' ' -f1 "$WORK/per-number.txt" | comm -23 - "$WORK/expected.txt" | wc -l)
TWICE=$(awk '$2 == 2' "$WORK/per-number.txt" | wc -l)
MORE=$(awk '$2 > 2' "$WORK/per-number.txt" | wc -l)
TOTAL=$(received)
# First and last arrival (the logger's stamp, first field).
read -r FIRST LAST < <(grep 'Got message' "$PHONE_LOG" | awk 'NR == 1 { f = $1 } { l = $1 } END { print f, l }')
# The sending rate on each side of the kill: arrivals before the kill, and after the restart.
read -r BEFORE_RATE AFTER_RATE < <(grep 'Got message' "$PHONE_LOG" | awk -v k="$T_KILL" -v r="$T_RESTART" '
  $1 <= k { if (!b0) b0 = $1; b1 = $1; bn++ }
  $1 >= r { if (!a0) a0 = $1; a1 = $1; an++ }
  END { printf "%.1f %.1f\n", (bn > 1 ? (bn - 1) / (b1 - b0) : 0), (an > 1 ? (an - 1) / (a1 - a0) : 0) }')
STATES=$(outbox_states)
WARNINGS=$(cat "$WORK"/evac-*.log | grep -cE ' (WARN|ERROR) ' || true)

awk -v n="$N" -v rate="$RATE" -v atk="$AT_KILL" -v aftk="$AFTER_KILL" -v tot="$TOTAL" -v tw="$TWICE" -v mo="$MORE" \
  -v miss="$MISSING" -v q="$T_QUEUE" -v k="$T_KILL" -v r="$T_RESTART" -v d="$T_DRAINED" -v f="$FIRST" -v l="$LAST" -v br="$BEFORE_RATE" -v ar="$AFTER_RATE" \
  'BEGIN {
  printf "N=%d  RATE=%d/s  at the phones before the kill: %d (+%d that Kannel still held)  after the restart: %d\n", n, rate, atk, aftk - atk, tot - aftk
  printf "phones: %d of %d numbers got it, %d missing, %d twice, %d three times or more; %d SMS in all\n", n - miss, n, miss, tw, mo, tot
  printf "time: %.1f s queue to last arrival (killed at %.1f s, restarted at %.1f s, drained at %.1f s)\n", l - q, k - q, r - q, d - q
  printf "rate at the phones: %.1f msg/s overall (first to last arrival, restart included), %.1f before the kill, %.1f after the restart\n", (tot - 1) / (l - f), br, ar
}'
echo "outbox at the end: $STATES"
echo "evac log: $WARNINGS WARN/ERROR lines (in $WORK/evac-*.log)"
((STRANGERS == 0)) || echo "note: $STRANGERS numbers not in the drill got an SMS"

((MISSING == 0)) || die "$MISSING numbers never got the broadcast"
((MORE == 0)) || die "$MORE numbers got the broadcast three times or more"
((TWICE <= DUP_MAX)) || die "$TWICE numbers got the broadcast twice (at most $DUP_MAX): a report of a send the kill cut was lost"
OK=1
echo "PASS: every number got the broadcast after kill -9 and restart; $TWICE twice (bound $DUP_MAX)"
