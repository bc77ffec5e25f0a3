#!/usr/bin/env python
"""The paper's Fig. 3: the small-data limit. log_kvrh, mp_gap, mp_is_metal and mp_e_form
(approximate MP structures, ../shared/data/README.md) down-sampled to 100-2,000 points.

    python benchmarks/figures/fig3.py --jobs 2                        # every cell, resumable
    python benchmarks/figures/fig3.py --models AtomSets-V1 --sizes 600 --draws 0-1
    python benchmarks/figures/fig3.py --models MEGNet --budget megnet-300
    python benchmarks/figures/fig3.py --report                        # table, PNG, paper anchors

A cell (dataset, model, size N, draw d): N points drawn from the dataset without its test
set (seed 1000 + d), 8/9 of them to train on and 1/9 to stop on (the paper's "600 points,
533 for training"), scored on the dataset's fixed test set (a random 10%, seed 0, the same
for every size and draw) - so sizes are compared on one test set. Models: AtomSets,
AtomSets-V0, AtomSets-V1, MLP-f and MEGNet trained from scratch.

Results: benchmarks/results/fig3/ (runs/, fig3.json, fig3.png).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cells import Cell, cell_mean, count_ahead, figure_parser, records, run_all, save_figure, summarise  # noqa: E402
from provenance import RESULTS, write_results  # noqa: E402

DATASETS = ["matbench_log_kvrh_approx", "matbench_mp_gap_approx", "matbench_mp_is_metal_approx",
            "matbench_mp_e_form_approx"]
SIZES = [100, 200, 400, 600, 1000, 2000]
MODELS = ["AtomSets", "AtomSets-V0", "AtomSets-V1", "MLP-f", "MEGNet"]
DRAWS = 5
#: The paper's numbers at 600 points (its text), and its claims, checked by the report.
PAPER_AT_600 = {"matbench_mp_e_form_approx": {"AtomSets-V1": 0.20, "MEGNet": 0.367, "AtomSets-V0": 0.269},
                "matbench_mp_gap_approx": {"AtomSets-V1": 0.702, "MEGNet": 0.78, "AtomSets-V0": 0.72}}


def test_part(data) -> np.ndarray:
    order = np.random.RandomState(0).permutation(len(data))
    return np.sort(order[:max(1, len(data) // 10)])


def parts(data, cell: Cell):
    size, draw = (int(x) for x in cell.key.replace("n", "").split("-draw"))
    test = test_part(data)
    pool = np.setdiff1d(np.arange(len(data)), test)
    chosen = np.random.RandomState(1000 + draw).choice(pool, size=size, replace=False)
    n_val = max(1, size // 9)
    return {"train": chosen[n_val:], "val": chosen[:n_val], "test": test}


def cells(datasets, models, sizes, draws, budget):
    return [Cell("fig3", d, m, f"n{n}-draw{k}", seed=k, budget=budget) for n in sizes for k in draws
            for d in datasets for m in models]


def report():
    rows = {}
    for r in records("fig3"):
        size = int(r["key"].split("-")[0][1:])
        rows.setdefault((r["dataset"], r["model"], size), []).append(r)
    table = []
    for (d, m, n), runs in sorted(rows.items()):
        s = summarise([r["scores"]["test"] for r in runs])
        table.append(dict(dataset=d, model=m, size=n, **s, metric=runs[0]["metric"],
                          budget=sorted({r["budget"] for r in runs}), capped=sum(bool(r["max_epochs_reached"])
                                                                                 for r in runs)))
    claims = check_claims(table)
    path = write_results(os.path.join("fig3", "fig3.json"), {"cells": table, "paper_at_600": PAPER_AT_600,
                                                              "claims": claims})
    plot(table, os.path.join(RESULTS, "fig3", "fig3.png"))
    print(f"wrote {path} and fig3.png")
    for claim, verdict in claims.items():
        print(f"  {claim}: {verdict}")


def check_claims(table):
    """The paper's qualitative claims on this data (None where cells are missing)."""
    regression = [d for d in DATASETS if d != "matbench_mp_is_metal_approx"]
    up_to_2000 = [row for row in table if row["size"] <= 2000]
    auc200 = cell_mean(table, "size", "matbench_mp_is_metal_approx", "MLP-f", 200)
    return {"AtomSets-V0 below AtomSets (regression MAE)": count_ahead(table, "size", regression, "AtomSets-V0", "AtomSets"),
            "AtomSets-V0 above AtomSets (mp_is_metal AUC)": count_ahead(table, "size", ["matbench_mp_is_metal_approx"],
                                                                        "AtomSets-V0", "AtomSets", lambda d: True),
            "AtomSets-V1 below MEGNet up to 2,000 (regression MAE)": count_ahead(up_to_2000, "size", regression,
                                                                                 "AtomSets-V1", "MEGNet"),
            "MLP-f AUC on mp_is_metal at 200 points > 0.85": None if auc200 is None else f"{auc200:.3f}"}


def plot(table, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2))
    for ax, d in zip(axes, DATASETS):
        for m in MODELS:
            pts = sorted((r["size"], r["mean"], r["std"], r["n"], r["budget"]) for r in table
                         if r["dataset"] == d and r["model"] == m)
            if not pts:
                continue
            x, y, s = (np.array([p[i] for p in pts]) for i in range(3))
            reduced = any(p[3] < DRAWS or p[4] != ["paper"] for p in pts)
            ax.plot(x, y, "o-" if not reduced else "o--", label=m + (" †" if reduced else ""))
            ax.fill_between(x, y - s, y + s, alpha=0.2)
        for m, v in PAPER_AT_600.get(d, {}).items():
            ax.plot([600], [v], "k*", ms=9)
            ax.annotate(m, (600, v), fontsize=6, xytext=(4, 2), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel("data size")
        metric = "AUC" if "is_metal" in d else "MAE"
        ax.set_ylabel(metric)
        ax.set_title(d.replace("matbench_", "").replace("_approx", " (approx.)"))
        ax.legend(fontsize=7)
    fig.suptitle("Small-data limit (Fig. 3): mean ± std over draws; ★ the paper's values at 600; † fewer than 5 "
                 "draws or a reduced budget", fontsize=9)
    save_figure(fig, path, dpi=110)


def main():
    parser = figure_parser(__doc__, DATASETS, MODELS, DRAWS)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    failed = 0
    if not args.report:
        from torch_atomsets.training.config import parse_int_list

        todo = cells(args.datasets.split(","), args.models.split(","), [int(s) for s in args.sizes.split(",")],
                     parse_int_list(args.draws, "draws"), args.budget)
        failed = run_all(todo, "fig3", args.jobs, args.threads)
    report()
    return 1 if failed else 0  # the report still draws what finished


if __name__ == "__main__":
    sys.exit(main())
