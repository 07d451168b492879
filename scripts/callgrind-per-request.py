#!/usr/bin/env python3
"""Instructions per stored request of intake's parts, from a callgrind profile of the intake
benchmark (docs/BENCHMARKS.md): instruction counts repeat whatever else the machine is doing.

    valgrind --tool=callgrind --callgrind-out-file=cg.out \\
        ./target/release/evac bench intake --concurrency 8 --seconds 20 --rounds 1
    scripts/callgrind-per-request.py cg.out

Divides each part's inclusive instructions by the number of stored requests (calls of the
SQLite store's insert). The load generator and the HTTP connection include the /healthz round.
"""
import re
import subprocess
import sys

profile = sys.argv[1]


def annotate(*flags):
    return subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", *flags, profile],
        capture_output=True, text=True, check=True,
    ).stdout


calls = re.search(
    r"\(([\d,]+)x\)[^\n]*\n\s*[\d,]+ \([^)]*\)\s+\*\s+\S*:evac_store_sqlite::rows::insert_request ",
    annotate("--tree=caller"),
)
inserts = int(calls.group(1).replace(",", ""))
print(f"stored requests: {inserts}")
parts = {
    "intake handler": r"Handler<\(M,T1,T2,T3,T4\),S>>::call::\{\{closure\}\} \[",
    "validation": r"RequestDraft::validate \[",
    "stored row": r"rows::RequestRow::new \[",
    "writer thread": r"evac_store_sqlite::writer_loop \[",
    "insert statements": r"rows::insert_request \[",
    "keyer thread": r"name_keys::keyer_loop \[",
    "checkpointer thread": r"checkpoint_loop \[",
    "linker": r"Linker::match_new_request \[",
}
lines = annotate().splitlines()
for name, pattern in parts.items():
    line = next((l for l in lines if re.search(pattern, l)), None)
    if line:
        instructions = int(line.split()[0].replace(",", ""))
        print(f"{name:20} {instructions / inserts / 1000:8.1f} k instructions per stored request")
