#!/usr/bin/env python3
"""Which tables and indexes an evac SQLite database's commits write (docs/BENCHMARKS.md).

    scripts/wal-pages.py DB WAL

DB and WAL are copies of a stopped server's `evac.db` and `evac.db-wal` (copy them while the
process is stopped, e.g. after `kill -9`: a clean close checkpoints and deletes the WAL). Reads
the frames of the WAL's current generation, names the B-tree each page belongs to (SQLite's
`dbstat` table, on a scratch copy with the WAL applied) and prints frames per commit and the
share of frames by B-tree. A page a commit changes is written once per commit, so tables whose
last page every commit touches cost frames per commit, not per row.
"""

import collections
import shutil
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path

WAL_HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24


def frames(wal: bytes):
    """Page numbers of the valid frames (those with the header's salts), and the commit count."""
    _magic, _version, page_size, _seq, salt1, salt2, _c1, _c2 = struct.unpack(
        ">IIIIIIII", wal[:WAL_HEADER_BYTES]
    )
    pages, commits = [], 0
    offset = WAL_HEADER_BYTES
    while offset + FRAME_HEADER_BYTES + page_size <= len(wal):
        page, size_after_commit, s1, s2, _k1, _k2 = struct.unpack(
            ">IIIIII", wal[offset : offset + FRAME_HEADER_BYTES]
        )
        if (s1, s2) != (salt1, salt2):
            break
        pages.append(page)
        commits += size_after_commit != 0
        offset += FRAME_HEADER_BYTES + page_size
    return pages, commits


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    db, wal = Path(sys.argv[1]), Path(sys.argv[2])
    pages, commits = frames(wal.read_bytes())
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "evac.db"
        shutil.copy(db, copy)
        shutil.copy(wal, Path(scratch) / "evac.db-wal")
        conn = sqlite3.connect(copy)
        owner = dict(conn.execute("SELECT pageno, name FROM dbstat"))
        conn.close()
    by_tree = collections.Counter(owner.get(p, "(free or unknown)") for p in pages)
    print(f"{len(pages)} frames in {commits} commits: {len(pages) / max(commits, 1):.1f} per commit")
    for name, count in by_tree.most_common():
        print(f"{count:8d} {100 * count / len(pages):5.1f} %  {name}")


if __name__ == "__main__":
    main()
