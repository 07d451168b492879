#!/usr/bin/env bash
# Hostile input for a bounded time (issue 26, item 8): the randomised readers' tests of
# crates/evac-exchange/tests/hostile.rs (CSV, TSV, damaged XLSX, report text and CAP XML) with
# many more cases than the test suite runs. Not coverage-guided: cargo-fuzz needs a nightly
# compiler. Usage: scripts/hostile-input.sh [CASES per property, default 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${1:-20000}"
started=$(date +%s)
PROPTEST_CASES="$CASES" cargo test --release -p evac-exchange --test hostile -- --nocapture
echo "hostile input: $CASES cases per property, $(( $(date +%s) - started )) s, no panic"
