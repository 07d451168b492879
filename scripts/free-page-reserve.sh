#!/usr/bin/env bash
# Prepares an evac SQLite database whose file already holds MB megabytes of free pages, written
# to disk, so that storing into it does not grow the file (docs/BENCHMARKS.md, "2026-12-02":
# does the database file's growth cost intake its tail latency?). Needs python3.
#
#   scripts/free-page-reserve.sh ./target/release/evac /var/tmp/reserve 2048
#   ./target/release/evac bench intake --concurrency 256 --bench-database-url sqlite:///var/tmp/reserve/bench.db
#
# With MB = 0 it prepares the same database without the reserve, for the comparison.
set -euo pipefail
bin=$1 dir=$2 mb=$3
rm -rf "$dir"
mkdir -p "$dir"
"$bin" migrate --database-url "sqlite://$dir/bench.db" > /dev/null
python3 - "$dir/bench.db" "$mb" <<'PY'
import sqlite3, sys
db, mb = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode = WAL")
if mb > 0:
    # Blobs of zeros, each committed and copied into the file (so its blocks are written, not
    # holes), then dropped: their pages stay in the file as free pages.
    c.execute("CREATE TABLE reserve (b BLOB)")
    for _ in range(mb // 64):
        c.execute("INSERT INTO reserve VALUES (zeroblob(64 * 1024 * 1024))")
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.execute("DROP TABLE reserve")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
free = c.execute("PRAGMA freelist_count").fetchone()[0]
pages = c.execute("PRAGMA page_count").fetchone()[0]
print(f"{db}: {pages} pages, {free} of them free")
PY
sync
