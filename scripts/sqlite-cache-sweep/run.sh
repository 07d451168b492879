#!/usr/bin/env bash
# Builds sweep.c against the SQLite amalgamation that rusqlite bundles (libsqlite3-sys in the
# cargo registry, as locked in Cargo.lock) and prints the CPU time for three cache sizes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(grep -A1 'name = "libsqlite3-sys"' "$here/../../Cargo.lock" | sed -n 's/version = "\(.*\)"/\1/p')
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/libsqlite3-sys-"$version"/sqlite3 | head -n1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -w -DSQLITE_THREADSAFE=1 -I"$src" -o "$work/sweep" "$here/sweep.c" "$src/sqlite3.c" -lpthread -lm -ldl
for kib in 65536 8192 2048; do
  rm -f "$work"/t.db*
  /usr/bin/time -f "cache ${kib} KiB: %U s user, %S s system" "$work/sweep" "$work/t.db" "$kib"
done
