#!/usr/bin/env python3
"""Checks evac's plan of an exported planning instance against HiGHS's optimum.

    evac plan --export-instance crisis.json --as planner1
    evac bench plan --export-instance DIR        # the bench's tight and mid-size instances
    scripts/highs-check.sh crisis.json [more.json ...]

The model is the one docs/PLAN-INSTANCE.md describes (and evac's exact.rs solves): a binary
x per feasible (household, journey) pair, a journey being one to three legs (a convoy to an
open airport, then a flight; a bus to the convoy first); each household on at most one journey; per transport, over the pairs
with a leg on it, people, stretchers, wheelchairs, children needing the transport's escorts
and payload within its capacities; class 1's value maximised first, then class 2's holding class 1's, and so on.
For each class it prints evac's value, HiGHS's and the gap in percent of HiGHS's; the last line
is the gap on the first class where they differ (the lexicographic comparison). A solve that
hits the time limit prints HiGHS's best value found and says so.
"""

import json
import sys
import time

import highspy
import numpy as np

SOLVE_SECONDS_MAX = 120.0


def check(path):
    with open(path) as f:
        inst = json.load(f)
    assert inst["format"] == "evac-plan-instance/3", inst["format"]
    cases, transports, pairs = inst["cases"], inst["transports"], inst["pairs"]
    n = len(pairs)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", SOLVE_SECONDS_MAX)
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    zero = np.zeros(n)
    h.addVars(n, zero, np.ones(n))
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n)
    )
    by_case, by_transport = {}, {}
    for i, p in enumerate(pairs):
        by_case.setdefault(p["case"], []).append(i)
        for t in p["legs"]:
            by_transport.setdefault(t, []).append(i)
    for idx in by_case.values():
        h.addRow(-highspy.kHighsInf, 1.0, len(idx), np.array(idx, dtype=np.int32), np.ones(len(idx)))
    for t, idx in by_transport.items():
        cols = np.array(idx, dtype=np.int32)
        tr = transports[t]
        for field, cap in [
            ("people", "seats"),
            ("stretchers", "stretcher_places"),
            ("wheelchairs", "wheelchair_places"),
            ("minors_for_transport_escorts", "minors_places"),
        ]:
            coef = np.array([float(cases[pairs[i]["case"]][field]) for i in idx])
            if coef.any():
                h.addRow(-highspy.kHighsInf, float(tr[cap]), len(idx), cols, coef)
        if tr.get("payload_kg") is not None:
            baggage = float(tr["baggage_kg_per_person"])
            coef = np.array(
                [
                    float(cases[pairs[i]["case"]]["mass_kg"])
                    + float(cases[pairs[i]["case"]]["people"]) * baggage
                    for i in idx
                ]
            )
            h.addRow(-highspy.kHighsInf, float(tr["payload_kg"]), len(idx), cols, coef)
    classes = inst["classes"]
    evac = inst["evac_value"]
    gains = np.array([p["gain"] for p in pairs])
    in_class = np.array([cases[p["case"]]["class"] for p in pairs])
    print(f"{path}: {len(cases)} households, {len(transports)} transports, {n} pairs")
    first_gap = None
    for k in range(1, classes + 1):
        cols = np.flatnonzero(in_class == k).astype(np.int32)
        if len(cols) == 0:
            continue
        costs = np.where(in_class == k, gains, 0.0)
        h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        started = time.monotonic()
        h.run()
        seconds = time.monotonic() - started
        status = h.modelStatusToString(h.getModelStatus())
        best = h.getInfo().objective_function_value
        ours = evac[k - 1] if k - 1 < len(evac) else 0.0
        gap = 0.0 if best <= 0 else 100.0 * (best - ours) / best
        if first_gap is None and abs(best - ours) > 1e-6 * (1 + abs(best)):
            first_gap = (k, gap)
        print(
            f"  class {k}: evac {ours:.1f}, HiGHS {best:.1f} ({status}, {seconds:.1f} s), gap {gap:.3f} %"
        )
        # Hold this class's value (a hair below, so rounding cannot make the next infeasible).
        floor = best - 1e-6 * (1 + abs(best))
        h.addRow(floor, highspy.kHighsInf, len(cols), cols, gains[cols])
    if first_gap is None:
        print("  evac's plan is optimal, class by class")
    else:
        k, gap = first_gap
        print(f"  first class where they differ: {k}, gap {gap:.3f} % of HiGHS's value")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        check(path)
