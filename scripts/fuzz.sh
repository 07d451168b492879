#!/usr/bin/env bash
# Coverage-guided fuzzing of what evac reads from strangers (issue 26, item 8): each target in
# fuzz/ (sheet: CSV/TSV/XLSX; report: text and CAP XML; request_json: the API's request body;
# form: the desk's forms) runs for SECONDS under libFuzzer (cargo-fuzz), starting from the
# seeds in fuzz/seeds/ and a scratch corpus, with a memory bound and a per-input time bound.
# A crash, a timeout or the memory bound stops the run; libFuzzer leaves the input in
# fuzz/artifacts/TARGET/ and the script fails.
#
# Usage: scripts/fuzz.sh [SECONDS per target, default 600] [TARGET…]
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and a C++ compiler. cargo-fuzz passes
# compiler flags only a nightly toolchain accepts; with none installed, the script lets the
# stable one accept them (RUSTC_BOOTSTRAP=1, as Rust's own build does). No sanitizer
# (`-s none`): evac forbids unsafe code, so the coverage is what matters.
set -euo pipefail
SECONDS_PER_TARGET=${1:-600}
[[ $SECONDS_PER_TARGET =~ ^[1-9][0-9]*$ ]] || { echo "the first argument is the seconds per target (a whole number), then the targets" >&2; exit 2; }
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(sheet report request_json form)
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2; exit 1; }
TOOLCHAIN=()
if rustup toolchain list 2>/dev/null | grep '^nightly' >/dev/null; then
  TOOLCHAIN=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/evac-fuzz.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
cd "$ROOT/fuzz"
cargo "${TOOLCHAIN[@]}" fuzz build -s none -O >/dev/null
for target in "${TARGETS[@]}"; do
  mkdir -p "$SCRATCH/$target"
  echo "== $target: ${SECONDS_PER_TARGET} s"
  status=0
  cargo "${TOOLCHAIN[@]}" fuzz run -s none -O "$target" "$SCRATCH/$target" "seeds/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -print_final_stats=1 >"$SCRATCH/$target.log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR|SUMMARY|Done [0-9]+ runs)' "$SCRATCH/$target.log" || true
  if ((status != 0)); then
    tail -n 30 "$SCRATCH/$target.log" >&2
    echo "FAIL: $target (exit $status); the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  echo "   $(ls "$SCRATCH/$target" | wc -l) inputs in its corpus"
done
echo "PASS: ${TARGETS[*]}: no crash, timeout or memory bound in ${SECONDS_PER_TARGET} s each"
