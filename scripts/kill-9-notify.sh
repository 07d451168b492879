#!/usr/bin/env bash
# kill -9 of a server while it sends 300 messages through Kannel's sendsms interface (a
# counting stand-in), then a restart: every message is handed over, at most those in flight
# (sends_in_flight: 5 at its 100/s) twice. The same check CI runs; see crates/evac-cli/tests/cli.rs. The
# same drill at 10,000 messages through a real Kannel is scripts/kill-9-notify-kannel.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p evac-cli --test cli messages_survive_killing_the_sender -- --nocapture
