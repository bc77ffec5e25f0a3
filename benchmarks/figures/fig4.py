#!/usr/bin/env python
"""The paper's Fig. 4 and S3: extrapolation to the top 10% of a property. log_kvrh and
log_gvrh (approximate MP structures).

    python benchmarks/figures/fig4.py --jobs 2
    python benchmarks/figures/fig4.py --report

A cell (dataset, model, draw d): the materials with the top 10% target values are the
*high* test set (extrapolation); of the rest, a random set as large as the high one is the
*low* test set (interpolation), 10% of the whole is the validation part, and the remainder
(70%) trains (seed d). Models: AtomSets and AtomSets-V0 (compositions; no transfer / transfer
of the parent's embedding), AtomSets-V1 and MEGNet from scratch (structures; transfer / no
transfer). The report gives the low- and high-test MAE per model and draws |error| against
the DFT value with the 90% quantile marked.

Results: benchmarks/results/fig4/ (runs/, fig4.json, fig4.png).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cells import Cell, figure_parser, records, run_all, save_figure, summarise  # noqa: E402
from provenance import RESULTS, write_results  # noqa: E402

DATASETS = ["matbench_log_kvrh_approx", "matbench_log_gvrh_approx"]
MODELS = ["AtomSets", "AtomSets-V0", "AtomSets-V1", "MEGNet"]
DRAWS = 5
#: transfer-learned model -> its counterpart without transfer
PAIRS = {"AtomSets-V0": "AtomSets", "AtomSets-V1": "MEGNet"}


def parts(data, cell: Cell):
    draw = int(cell.key.replace("draw", ""))
    n = len(data)
    order = np.argsort(data.targets, kind="stable")
    n_high = n // 10
    high = order[n - n_high:]
    rest = np.random.RandomState(draw).permutation(order[:n - n_high])
    n_val = n // 10
    return {"low": rest[:n_high], "val": rest[n_high:n_high + n_val], "train": rest[n_high + n_val:], "high": high}


def report():
    rows = {}
    for r in records("fig4"):
        rows.setdefault((r["dataset"], r["model"]), []).append(r)
    table = []
    for (d, m), runs in sorted(rows.items()):
        table.append(dict(dataset=d, model=m, low=summarise([r["scores"]["low"] for r in runs]),
                          high=summarise([r["scores"]["high"] for r in runs]),
                          budget=sorted({r["budget"] for r in runs}),
                          capped=sum(bool(r["max_epochs_reached"]) for r in runs)))
    verdicts = {}
    for d in DATASETS:
        for tl, plain in PAIRS.items():
            a = next((t for t in table if t["dataset"] == d and t["model"] == tl), None)
            b = next((t for t in table if t["dataset"] == d and t["model"] == plain), None)
            if a and b:
                draws = min(a["high"]["n"], b["high"]["n"])
                error = (a["high"]["std"] ** 2 / a["high"]["n"] + b["high"]["std"] ** 2 / b["high"]["n"]) ** 0.5
                verdicts[f"{d}: {tl} vs {plain}"] = {
                    "high_test_mae": [a["high"]["mean"], b["high"]["mean"]], "draws": draws,
                    "transfer_extrapolates_better": a["high"]["mean"] < b["high"]["mean"],
                    # two standard errors of the difference; unknown from one draw each
                    "beyond_two_standard_errors": (abs(a["high"]["mean"] - b["high"]["mean"]) > 2 * error)
                    if draws >= 2 else None}
    path = write_results(os.path.join("fig4", "fig4.json"), {"cells": table, "transfer_vs_none": verdicts})
    plot(rows, os.path.join(RESULTS, "fig4", "fig4.png"))
    print(f"wrote {path} and fig4.png")
    for row in table:
        print(f"  {row['dataset']} {row['model']:12s} low {row['low']['mean']:.4f} high {row['high']['mean']:.4f} "
              f"({row['low']['n']} draws)")
    for k, v in verdicts.items():
        print(f"  {k}: high-test MAE {v['high_test_mae'][0]:.4f} vs {v['high_test_mae'][1]:.4f}")


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = [d for d in DATASETS if any(k[0] == d for k in rows)]
    if not datasets:
        return
    fig, axes = plt.subplots(len(datasets), len(MODELS), figsize=(4 * len(MODELS), 3.6 * len(datasets)),
                             squeeze=False)
    for i, d in enumerate(datasets):
        for j, m in enumerate(MODELS):
            ax = axes[i][j]
            runs = rows.get((d, m))
            if not runs:
                ax.set_title(f"{m}: not run")
                continue
            run = runs[0]  # draw 0
            for name, colour in (("low", "tab:blue"), ("high", "tab:red")):
                p = run["predictions"][name]
                y, yhat = np.array(p["target"]), np.array(p["prediction"])
                ax.scatter(y, np.abs(yhat - y), s=4, alpha=0.5, c=colour,
                           label=f"{name}-test MAE {run['scores'][name]:.3f}")
            cut = min(run["predictions"]["high"]["target"])
            ax.axvline(cut, color="k", ls="--", lw=0.8)
            ax.set_title(f"{d.replace('matbench_', '').replace('_approx', '')}: {m}", fontsize=9)
            ax.set_xlabel("DFT value (log10 GPa)")
            ax.set_ylabel("|error|")
            ax.legend(fontsize=7)
    save_figure(fig, path)


def main():
    parser = figure_parser(__doc__, DATASETS, MODELS, DRAWS)
    args = parser.parse_args()
    failed = 0
    if not args.report:
        from torch_atomsets.training.config import parse_int_list

        todo = [Cell("fig4", d, m, f"draw{k}", seed=k, budget=args.budget, keep_predictions=True) for k in parse_int_list(args.draws, "draws")
                for d in args.datasets.split(",") for m in args.models.split(",")]
        failed = run_all(todo, "fig4", args.jobs, args.threads)
    report()
    return 1 if failed else 0  # the report still draws what finished


if __name__ == "__main__":
    sys.exit(main())
