#!/usr/bin/env python3
"""How long a commit-sized write and sync waits when another file is written and synced in
bursts beside it, as SQLite's checkpoints write the database file beside the WAL's commits
(docs/BENCHMARKS.md; evac-store-sqlite's CHECKPOINT_INTERVAL_MS).

    scripts/sync-interference.py [DIR]

In DIR (default /var/tmp), one thread rewrites 180 KB in place and calls fdatasync in a loop
(a commit), while another appends BURST MB and calls fdatasync every INTERVAL ms (a checkpoint
pass). Prints the commit's latency for each pattern, with none beside it first and last.
"""
import os
import sys
import threading
import time

DIR = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp"
COMMIT_BYTES = 180 * 1024
PAGE = 4096


def run(burst_mb: int, interval_ms: int, seconds: float = 6.0) -> None:
    commit_path = os.path.join(DIR, "sync-interference-commit.dat")
    burst_path = os.path.join(DIR, "sync-interference-burst.dat")
    commit_fd = os.open(commit_path, os.O_RDWR | os.O_CREAT)
    burst_fd = os.open(burst_path, os.O_RDWR | os.O_CREAT)
    commit = os.urandom(COMMIT_BYTES)
    page = os.urandom(PAGE)
    slots = 50
    for i in range(slots):
        os.pwrite(commit_fd, commit, i * COMMIT_BYTES)
    os.fsync(commit_fd)
    stop = time.time() + seconds

    def bursts() -> None:
        pages = burst_mb * 1024 * 1024 // PAGE
        n = 0
        while burst_mb and time.time() < stop:
            started = time.time()
            for j in range(pages):
                os.pwrite(burst_fd, page, (n * pages + j) * PAGE)
            os.fdatasync(burst_fd)
            n += 1
            time.sleep(max(0.0, interval_ms / 1000 - (time.time() - started)))

    beside = threading.Thread(target=bursts)
    beside.start()
    latencies = []
    i = 0
    while time.time() < stop:
        started = time.perf_counter()
        os.pwrite(commit_fd, commit, (i % slots) * COMMIT_BYTES)
        os.fdatasync(commit_fd)
        latencies.append((time.perf_counter() - started) * 1000)
        i += 1
    beside.join()
    latencies.sort()
    n = len(latencies)
    print(
        f"beside {burst_mb} MB every {interval_ms} ms: {n} commits, median "
        f"{latencies[n // 2]:.2f} ms, p90 {latencies[int(n * 0.9)]:.2f}, "
        f"p99 {latencies[int(n * 0.99)]:.2f}, max {latencies[-1]:.2f}"
    )
    for fd, path in ((commit_fd, commit_path), (burst_fd, burst_path)):
        os.close(fd)
        os.unlink(path)


for burst_mb, interval_ms in ((0, 50), (5, 50), (1, 10), (5, 50), (1, 10), (0, 50)):
    run(burst_mb, interval_ms)
