#!/usr/bin/env python3
"""Where the slowest answers of an intake benchmark sit in time (docs/BENCHMARKS.md).

    ./target/release/evac bench intake --concurrency 256 --latency-log lat.csv
    scripts/latency-windows.py lat.csv [--route POST] [--window-ms 100]

For each round of the route: p50, p99, and the windows (by send time) that hold the answers at
or above the round's p99, most first. A few windows holding hundreds of them mean every
connection in flight was held up together (a stall); many windows with one or two each mean
the tail is spread (queueing).
"""
import argparse
import csv
from collections import defaultdict

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--route", default="POST")
parser.add_argument("--window-ms", type=float, default=100.0)
args = parser.parse_args()

rounds = defaultdict(list)
with open(args.log) as f:
    for row in csv.DictReader(f):
        if row["route"].startswith(args.route):
            rounds[(row["concurrency"], row["round"])].append(
                (float(row["sent_ms"]), float(row["latency_ms"]))
            )

for (concurrency, rnd), answers in sorted(rounds.items()):
    latencies = sorted(latency for _, latency in answers)
    n = len(latencies)
    p99 = latencies[int(n * 0.99)]
    windows = defaultdict(lambda: [0, 0])  # answers at or above p99, all answers
    for sent, latency in answers:
        w = windows[int(sent // args.window_ms)]
        w[1] += 1
        w[0] += latency >= p99
    slow = sorted(((k, v[0]) for k, v in windows.items() if v[0]), key=lambda kv: -kv[1])
    print(
        f"{args.route} at {concurrency}, round {rnd}: {n} answers, p50 {latencies[n // 2]:.1f} ms, "
        f"p99 {p99:.1f} ms; {len(slow)} of {len(windows)} windows hold the slowest 1 %: "
        + ", ".join(f"{k * args.window_ms / 1000:.1f} s: {count}" for k, count in slow[:8])
    )
