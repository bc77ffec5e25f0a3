#!/usr/bin/env python
"""The paper's Fig. 2 and S2: convergence with the fraction of the available data.

    python benchmarks/figures/fig2.py --jobs 2 --fractions 0.01,0.02,0.05,0.1,0.2
    python benchmarks/figures/fig2.py --report

A cell (dataset, model, fraction f, draw d): a random 10% of the dataset is the test set
(seed d); f of the remaining 90% is drawn (seed 1000 + d), 8/9 of it trains and 1/9 stops
early. Nine datasets (the non-tiny tasks of Fig. 2 and S2): expt_gap, expt_is_metal, glass
(compositions), dielectric (exact structures), log_kvrh, log_gvrh, mp_gap, mp_is_metal,
mp_e_form (approximate MP structures). Models: AtomSets and AtomSets-V0 everywhere,
AtomSets-V1 and MLP-f on structures. Training parts over 10,000 samples use batch 128.

Results: benchmarks/results/fig2/ (runs/, fig2.json, fig2.png).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cells import (  # noqa: E402
    Cell,
    count_ahead,
    figure_parser,
    model_is_structural,
    records,
    run_all,
    save_figure,
    summarise,
)
from provenance import RESULTS, write_results  # noqa: E402

DATASETS = ["matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass", "matbench_dielectric",
            "matbench_log_kvrh_approx", "matbench_log_gvrh_approx", "matbench_mp_gap_approx",
            "matbench_mp_is_metal_approx", "matbench_mp_e_form_approx"]
COMPOSITION_DATASETS = {"matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass"}
FRACTIONS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
MODELS = ["AtomSets", "AtomSets-V0", "AtomSets-V1", "MLP-f"]
DRAWS = 5


def parts(data, cell: Cell):
    fraction, draw = cell.key.replace("f", "").split("-draw")
    fraction, draw = float(fraction), int(draw)
    order = np.random.RandomState(draw).permutation(len(data))
    n_test = len(data) // 10
    test, pool = order[:n_test], order[n_test:]
    size = max(10, int(round(fraction * len(pool))))
    chosen = np.random.RandomState(1000 + draw).permutation(pool)[:size]
    n_val = max(1, size // 9)
    return {"train": chosen[n_val:], "val": chosen[:n_val], "test": test}


def cells(datasets, models, fractions, draws, budget):
    out = []
    for f in fractions:
        for k in draws:
            for d in datasets:
                for m in models:
                    if d in COMPOSITION_DATASETS and model_is_structural(m):
                        continue
                    out.append(Cell("fig2", d, m, f"f{f:g}-draw{k}", seed=k, budget=budget))
    return out


def report():
    rows = {}
    for r in records("fig2"):
        fraction = float(r["key"].split("-")[0][1:])
        rows.setdefault((r["dataset"], r["model"], fraction), []).append(r)
    table = [dict(dataset=d, model=m, fraction=f, **summarise([r["scores"]["test"] for r in runs]),
                  metric=runs[0]["metric"], n_train=int(np.mean([r["n_train"] for r in runs])),
                  budget=sorted({r["budget"] for r in runs}))
             for (d, m, f), runs in sorted(rows.items())]
    claims = check_claims(table)
    path = write_results(os.path.join("fig2", "fig2.json"), {"cells": table, "claims": claims})
    plot(table, os.path.join(RESULTS, "fig2", "fig2.png"))
    print(f"wrote {path} and fig2.png ({len(table)} points)")
    for claim, verdict in claims.items():
        print(f"  {claim}: {verdict}")


def is_classification(dataset: str) -> bool:
    return "is_metal" in dataset or "glass" in dataset


def check_claims(table):
    """The paper's reading of Fig. 2 on this data, counted over the (dataset, fraction)
    pairs that have both models: the transfer-learned composition model ahead of the plain
    one everywhere; on structures, AtomSets-V1 and MLP-f ahead of the composition models."""
    structures = [d for d in DATASETS if d not in COMPOSITION_DATASETS]
    claims = {"AtomSets-V0 ahead of AtomSets": count_ahead(table, "fraction", DATASETS, "AtomSets-V0", "AtomSets",
                                                           is_classification)}
    for structural in ("AtomSets-V1", "MLP-f"):
        claims[f"{structural} ahead of AtomSets-V0 (structure datasets)"] = count_ahead(
            table, "fraction", structures, structural, "AtomSets-V0", is_classification)
    return claims


def plot(table, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = [d for d in DATASETS if any(r["dataset"] == d for r in table)]
    if not present:
        return
    cols = 3
    fig, axes = plt.subplots((len(present) + cols - 1) // cols, cols, figsize=(13, 3.8 * ((len(present) + 2) // 3)),
                             squeeze=False)
    for ax, d in zip(axes.flat, present):
        for m in MODELS:
            pts = sorted((r["n_train"], r["mean"], r["std"], r["n"]) for r in table if r["dataset"] == d and r["model"] == m)
            if not pts:
                continue
            x, y, s = (np.array([p[i] for p in pts]) for i in range(3))
            reduced = any(p[3] < DRAWS for p in pts)
            ax.plot(x, y, "o-" if not reduced else "o--", label=m + (" †" if reduced else ""))
            ax.fill_between(x, y - s, y + s, alpha=0.2)
        ax.set_xscale("log")
        ax.set_xlabel("training samples")
        ax.set_ylabel("AUC" if is_classification(d) else "MAE")
        ax.set_title(d.replace("matbench_", "").replace("_approx", " (approx.)"), fontsize=9)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(present):]:
        ax.axis("off")
    fig.suptitle("Convergence with data (Fig. 2 / S2): mean ± std over draws; † fewer than 5 draws", fontsize=9)
    save_figure(fig, path)


def main():
    parser = figure_parser(__doc__, DATASETS, MODELS, DRAWS)
    parser.add_argument("--fractions", default=",".join(f"{f:g}" for f in FRACTIONS))
    args = parser.parse_args()
    failed = 0
    if not args.report:
        from torch_atomsets.training.config import parse_int_list

        todo = cells(args.datasets.split(","), args.models.split(","),
                     [float(f) for f in args.fractions.split(",")], parse_int_list(args.draws, "draws"), args.budget)
        failed = run_all(todo, "fig2", args.jobs, args.threads)
    report()
    return 1 if failed else 0  # the report still draws what finished


if __name__ == "__main__":
    sys.exit(main())
