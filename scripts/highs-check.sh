#!/usr/bin/env bash
# Runs scripts/highs-check.py in a virtual environment of its own (target/highs-venv), with
# HiGHS's Python wheel from PyPI installed on first use. A developer's and benchmark tool:
# evac itself never needs it.
#   scripts/highs-check.sh INSTANCE.json [...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${HIGHS_VENV:-$here/../target/highs-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'highspy==1.15.1' 'numpy>=1.24'
fi
exec "$venv/bin/python" "$here/highs-check.py" "$@"
