# Shared by the Kannel drills (kill-9-notify-kannel.sh, notify-throttle-kannel.sh), sourced
# after each has set N, RATE, EVAC_BIN, ROOT, the Kannel paths and DRILL (a name for the work
# directory and the node): checks what the drill needs, starts bearerbox, smsbox and the fake
# SMS centre on free ports, writes evac's configuration, creates the database and a supervisor,
# and imports N generated families with numbers of their own. Not meant to run alone.
[[ -x $EVAC_BIN ]] || die "no evac binary at $EVAC_BIN (cargo build --release -p evac-cli, or set EVAC_BIN)"
for f in "$BEARERBOX" "$SMSBOX" "$FAKESMSC"; do
  [[ -x $f ]] || die "$f is missing: apt-get install kannel kannel-extras"
done
[[ -r $TEMPLATE ]] || die "no Kannel template at $TEMPLATE"
command -v curl >/dev/null || die "curl is needed"
EVAC_BIN=$(cd "$(dirname "$EVAC_BIN")" && pwd)/$(basename "$EVAC_BIN")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/evac-$DRILL-kannel.XXXXXX")
PIDS=() # every process this script started, in start order
OK=0
cleanup() {
  local i
  # Reverse order: evac before Kannel (no send into a dying smsbox), fakesmsc before its logger.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
  done
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  if [[ $OK == 1 && ${KEEP:-0} != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "work directory kept: $WORK (Kannel logs, evac*.log, phone.log, data/)" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: the first free ones in PORT_FIRST..PORT_LAST, each taken once.
NEXT_PORT=$PORT_FIRST
port_in_use() {
  if command -v ss >/dev/null; then
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
  else
    (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}
pick_port() { # pick_port VAR
  while ((NEXT_PORT <= PORT_LAST)); do
    local p=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT + 1))
    if ! port_in_use "$p"; then
      printf -v "$1" '%s' "$p"
      return
    fi
  done
  die "no free port left in $PORT_FIRST-$PORT_LAST"
}
pick_port ADMIN_PORT
pick_port SMSBOX_PORT
pick_port FAKESMSC_PORT
pick_port SENDSMS_PORT
pick_port EVAC_PORT

# Waits until FILE contains TEXT (a box's "ready" line), or fails after START_S seconds.
wait_for() {
  local file=$1 text=$2 until=$((SECONDS + START_S))
  until grep -qF -- "$text" "$file" 2>/dev/null; do
    ((SECONDS < until)) || die "$file never said '$text'"
    sleep 0.1
  done
}
secret() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
now() { echo "$EPOCHREALTIME"; }

# ---- Kannel, from the repository's template (the same the Rust test fills) ----
SECRET=$(secret 16)        # evac's callback secret (>= 16 characters)
SENDSMS_PASSWORD=$(secret 8)
sed -e "s|@ADMIN_PORT@|$ADMIN_PORT|g" \
  -e "s|@ADMIN_PASSWORD@|$(secret 8)|g" \
  -e "s|@SMSBOX_PORT@|$SMSBOX_PORT|g" \
  -e "s|@FAKESMSC_PORT@|$FAKESMSC_PORT|g" \
  -e "s|@SENDSMS_PORT@|$SENDSMS_PORT|g" \
  -e "s|@SENDSMS_PASSWORD@|$SENDSMS_PASSWORD|g" \
  -e "s|@DIR@|$WORK|g" \
  -e "s|@EVAC_URL@|http://127.0.0.1:$EVAC_PORT|g" \
  -e "s|@SECRET@|$SECRET|g" \
  "$TEMPLATE" >"$WORK/kannel.conf"
! grep -q '@[A-Z_]*@' "$WORK/kannel.conf" || die "a placeholder of $TEMPLATE is not filled: $(grep -o '@[A-Z_]*@' "$WORK/kannel.conf" | sort -u | tr '\n' ' ')"

"$BEARERBOX" -v 4 "$WORK/kannel.conf" >"$WORK/bearerbox.out" 2>"$WORK/bearerbox.err" &
PIDS+=($!)
wait_for "$WORK/bearerbox.log" "Start-up done, entering mainloop"
"$SMSBOX" -v 4 "$WORK/kannel.conf" >"$WORK/smsbox.out" 2>"$WORK/smsbox.err" &
PIDS+=($!)
wait_for "$WORK/smsbox.log" "Connected to bearerbox"
# fakesmsc is the phones. Not in its interactive mode (the Rust test's, which reads SMS to
# inject from standard input): that mode reads the socket only between 1-second waits on
# standard input, so arrivals would come in 1-second lumps. With a message to inject and
# `-m 0` it injects none and blocks on the socket, printing each SMS as it arrives:
# "Got message N: <from to coding data>". A logger stamps each line with the wall clock in
# microseconds (fakesmsc's own stamps are whole seconds).
mkfifo "$WORK/phone.pipe"
(while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done <"$WORK/phone.pipe" >"$WORK/phone.log") &
PIDS+=($!)
"$FAKESMSC" -H 127.0.0.1 -r "$FAKESMSC_PORT" -m 0 "0 0 text unused" </dev/null >"$WORK/phone.out" 2>"$WORK/phone.pipe" &
PIDS+=($!)
wait_for "$WORK/bearerbox.log" "Fakesmsc client connected"

# ---- evac: a database with N families, each with its own number ----
DATA=$WORK/data
evac() { "$EVAC_BIN" --data-dir "$DATA" --config "$WORK/evac.toml" "$@"; }
cat >"$WORK/evac.toml" <<EOF
[messaging]
callback_secret = "$SECRET"
public_url = "http://127.0.0.1:$EVAC_PORT"
# A fixed node name: a restarted server is the same node and takes back its claims at once.
node = "$DRILL-drill"

[sms]
sendsms_url = "http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms"
username = "evac"
password = "$SENDSMS_PASSWORD"
callback_url = "http://127.0.0.1:$EVAC_PORT"
messages_per_second = $RATE
EOF
evac migrate >/dev/null
echo "drill supervisor password $(secret 8)" | evac user add drill --role supervisor --password-stdin >/dev/null 2>&1
# Generated families: distinct names and birth dates (so linkage has no crowd of look-alikes to
# chew on), one person each, numbers 8 701 1xx xx xx (KZ) = +7701 1xx xx xx, all in Almaty.
awk -v n="$N" 'BEGIN {
  split("Иванова Петрова Сидорова Смирнова Кузнецова Попова Васильева Соколова Михайлова Новикова Фёдорова Морозова Волкова Алексеева Лебедева Семёнова Егорова Павлова Козлова Степанова", s, " ")
  split("Мария Анна Елена Ольга Наталья Ирина Татьяна Светлана Юлия Алина Дарья Ксения Полина Вера Нина Софья Галина Лариса Зоя Инна", g, " ")
  print "Семья;ФИО;Дата рождения;Телефон;Город"
  for (i = 0; i < n; i++) {
    printf "F%d;%s %s;%02d.%02d.%d;8 701 %03d %02d %02d;Алматы\n", i, s[i % 20 + 1], g[int(i / 20) % 20 + 1],
      i % 28 + 1, int(i / 28) % 12 + 1, 1940 + int(i / 336) % 60, 100 + int(i / 10000), int(i / 100) % 100, i % 100
  }
}' >"$WORK/families.csv"
t=$(now)
evac import "$WORK/families.csv" >"$WORK/import.out"
echo "imported: $(tail -n 1 "$WORK/import.out") ($(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s)"

# ---- the drill ----
PHONE_LOG=$WORK/phone.log
received() { grep -c 'Got message' "$PHONE_LOG" || true; }
