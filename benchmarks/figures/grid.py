#!/usr/bin/env python
"""The paper's Table S2 hyperparameter grid, screened with a 5-fold shuffle split.

    python benchmarks/figures/grid.py --jobs 2                    # both screens, resumable
    python benchmarks/figures/grid.py --sample 24                 # a fixed random 24 of the 96 AtomSets settings
    python benchmarks/figures/grid.py --report

Screens: matbench_steels with AtomSets-V0 and matbench_phonons with AtomSets-V1 over
n_layer_before_readout (1, 2, 3) x n_layer_after_readout (2, 3) x n_neurons (16, 32, 64,
128) x readout (mean, set2set) x activation (relu, softplus) = 96 settings; and MLP-f on
matbench_phonons over n_layer (1-5) x n_neurons (16-128) x activation = 40. Each setting is
scored by 5-fold cross-validation (KFold, shuffle, random_state 0): in fold k, 1/9 of the
four training folds stops early and the held-out fold is scored; the mean over folds ranks
the settings (these are not MatBench folds and no MatBench score is chosen with them).
The report ranks the settings and names the best region (the settings within one standard
error of the best), the basis of Table S3's AtomSets-V0+ / V1+ columns.

Results: benchmarks/results/grid/ (runs/, grid.json, grid.png).
"""
import argparse
import itertools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cells import Cell, records, run_all  # noqa: E402
from provenance import RESULTS, write_results  # noqa: E402

SCREENS = {"steels-V0": ("matbench_steels", "AtomSets-V0"), "phonons-V1": ("matbench_phonons", "AtomSets-V1"),
           "phonons-MLP-f": ("matbench_phonons", "MLP-f")}
FOLDS = 5


def settings(model):
    if model.startswith("MLP"):
        grid = itertools.product((1, 2, 3, 4, 5), (16, 32, 64, 128), ("relu", "softplus"))
        return [dict(n_layer=a, n_neurons=b, activation=c) for a, b, c in grid]
    grid = itertools.product((1, 2, 3), (2, 3), (16, 32, 64, 128), ("mean", "set2set"), ("relu", "softplus"))
    return [dict(n_layer_before_readout=a, n_layer_after_readout=b, n_neurons=c, readout=d, activation=e)
            for a, b, c, d, e in grid]


SHORT = {"n_layer_before_readout": "b", "n_layer_after_readout": "a", "n_neurons": "w", "n_layer": "l",
         "readout": "", "activation": ""}


def setting_name(options):
    """``b2-a2-w64-set2set-relu``: the setting in a file name."""
    return "-".join(f"{SHORT[k]}{v}" for k, v in options.items())


def screen_of(key):
    return next(s for s in sorted(SCREENS, key=len, reverse=True) if key.startswith(s + "-"))


def parts(data, cell: Cell):
    from sklearn.model_selection import KFold

    fold = int(cell.key.rsplit("-fold", 1)[1])
    train, test = list(KFold(FOLDS, shuffle=True, random_state=0).split(np.arange(len(data))))[fold]
    train = np.random.RandomState(fold).permutation(train)
    n_val = max(1, len(train) // 9)
    return {"train": train[n_val:], "val": train[:n_val], "test": test}


def cells(screens, sample, budget):
    out = []
    for screen in screens:
        dataset, model = SCREENS[screen]
        options = settings(model)
        if sample and sample < len(options):
            options = [options[i] for i in sorted(np.random.RandomState(0).choice(len(options), sample, replace=False))]
        for o in options:
            for k in range(FOLDS):
                out.append(Cell("grid", dataset, model, f"{screen}-{setting_name(o)}-fold{k}", seed=k, budget=budget,
                                options=o))
    return out


def report():
    by = {}
    for r in records("grid"):
        name = r["key"].rsplit("-fold", 1)[0]
        by.setdefault(name, {"dataset": r["dataset"], "model": r["model"], "options": r["options"], "folds": {}})
        by[name]["folds"][int(r["key"].rsplit("-fold", 1)[1])] = r["scores"]["test"]
    ranked = {}
    for name, entry in by.items():
        screen = screen_of(name)
        values = np.array(list(entry["folds"].values()))
        ranked.setdefault(screen, []).append(dict(setting=entry["options"], mean=float(values.mean()),
                                                  sem=float(values.std() / np.sqrt(len(values))),
                                                  folds=len(values)))
    summary = {}
    for screen, rows in ranked.items():
        complete = sorted((r for r in rows if r["folds"] == FOLDS), key=lambda r: r["mean"])
        if not complete:
            continue
        best = complete[0]
        region = [r for r in complete if r["mean"] <= best["mean"] + best["sem"]]
        summary[screen] = {"ranked": complete, "best": best, "best_region": region, "n_settings": len(complete)}
        print(f"{screen}: {len(complete)} settings; best {best['setting']} {best['mean']:.4g} ± {best['sem']:.2g}; "
              f"{len(region)} within one standard error")
    path = write_results(os.path.join("grid", "grid.json"), {"screens": summary})
    plot(summary, os.path.join(RESULTS, "grid", "grid.png"))
    print(f"wrote {path}")


def plot(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not summary:
        return
    fig, axes = plt.subplots(1, len(summary), figsize=(5.5 * len(summary), 4), squeeze=False)
    for ax, (screen, s) in zip(axes[0], summary.items()):
        means = [r["mean"] for r in s["ranked"]]
        sems = [r["sem"] for r in s["ranked"]]
        ax.errorbar(range(len(means)), means, yerr=sems, fmt="o", ms=3)
        ax.axhline(s["best"]["mean"] + s["best"]["sem"], ls="--", color="k", lw=0.8)
        ax.set_title(f"{screen}: settings ranked (5-fold CV)", fontsize=9)
        ax.set_xlabel("setting rank")
        ax.set_ylabel("MAE")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--screens", default=",".join(SCREENS))
    parser.add_argument("--sample", type=int, default=0, help="a fixed random subset of the settings (0: all)")
    parser.add_argument("--budget", default="paper")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if not args.report:
        run_all(cells(args.screens.split(","), args.sample, args.budget), "grid", args.jobs, args.threads)
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
