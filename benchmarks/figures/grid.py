#!/usr/bin/env python
"""The paper's Table S2 hyperparameter grid, screened with a 5-fold shuffle split.

    python benchmarks/figures/grid.py --jobs 2                    # both screens, resumable
    python benchmarks/figures/grid.py --sample 24                 # a fixed random 24 of the 96 AtomSets settings
    python benchmarks/figures/grid.py --report
    python benchmarks/figures/grid.py --table-s3 --jobs 2         # Table S3: the best settings on every task

Screens: matbench_steels with AtomSets-V0 and matbench_phonons with AtomSets-V1 over
n_layer_before_readout (1, 2, 3) x n_layer_after_readout (2, 3) x n_neurons (16, 32, 64,
128) x readout (mean, set2set) x activation (relu, softplus) = 96 settings; and MLP-f on
matbench_phonons over n_layer (1-5) x n_neurons (16-128) x activation = 40. Each setting is
scored by 5-fold cross-validation (KFold, shuffle, random_state 0): in fold k, 1/9 of the
four training folds stops early and the held-out fold is scored; the mean over folds ranks
the settings (these are not MatBench folds and no MatBench score is chosen with them).
The report ranks the settings and names the best region (the settings within one standard
error of the best), the basis of Table S3's AtomSets-V0+ / V1+ columns.

Table S3 (``--table-s3``): the best setting of the steels-V0 screen as AtomSets-V0+ and of
the phonons-V1 screen as AtomSets-V1+, trained on every task of Table 2 where the model
applies (the same datasets as Table 2's cells) with the paper's protocol (random 80/10/10,
``--seeds``, default 0-4) and the paper's budget; mean ± std of the test scores beside the
paper's Table S3. Tasks with fewer seeds are marked as reduced.

Results: benchmarks/results/grid/ (runs/, grid.json, grid.png, table_s3.json).
"""
import itertools
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cells import Cell, figure_parser, records, run_all, save_figure, summarise  # noqa: E402
from paper_values import TABLE_S3  # noqa: E402
from provenance import RESULTS, write_results  # noqa: E402

SCREENS = {"steels-V0": ("matbench_steels", "AtomSets-V0"), "phonons-V1": ("matbench_phonons", "AtomSets-V1"),
           "phonons-MLP-f": ("matbench_phonons", "MLP-f")}
FOLDS = 5
#: Table S3's columns: the best setting of which screen
S3_COLUMNS = {"AtomSets-V0+": "steels-V0", "AtomSets-V1+": "phonons-V1"}
S3_PREFIX = "s3-"


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
    if cell.key.startswith(S3_PREFIX):  # Table S3: the paper's random 80/10/10 split
        from torch_atomsets.data.datasets import make_splits

        split = make_splits(data, "paper", seeds=[cell.seed])[0]
        return {"train": split.train, "val": split.val, "test": split.test}
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


def finished_screens():
    """The screens' summaries from grid.json (each with its best setting); {} before a report."""
    path = os.path.join(RESULTS, "grid", "grid.json")
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)["screens"]


def s3_cells(tasks, seeds, budget):
    """The Table S3 cells: each column's best setting (from grid.json) on every task."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "table2"))
    from common import dataset_for

    screens = finished_screens()
    out = []
    for column, screen in S3_COLUMNS.items():
        if screen not in screens:
            print(f"{column}: the {screen} screen has no complete setting yet (grid.py --screens {screen}); skipped")
            continue
        model, best = SCREENS[screen][1], screens[screen]["best"]["setting"]
        for task in tasks:
            dataset = dataset_for(task, model)
            if dataset is None:
                continue
            for seed in seeds:
                out.append(Cell("grid", dataset, model, f"{S3_PREFIX}{screen}-{setting_name(best)}-seed{seed}",
                                seed=seed, budget=budget, options=best))
    return out


def table_s3(rows):
    """Table S3 from the finished Table S3 cells, beside the paper's."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "table2"))
    from common import TASKS, report_unit

    screens = finished_screens()
    by, stale = {}, {}
    for r in rows:
        screen = screen_of(r["key"][len(S3_PREFIX):])
        column = next(c for c, s in S3_COLUMNS.items() if s == screen)
        if screen not in screens or r["options"] != screens[screen]["best"]["setting"]:
            # a cell of a setting that was the best before the screen grew: never mixed into the column
            stale.setdefault(column, set()).add(setting_name(r["options"]))
            continue
        task = next(t for t in sorted(TASKS, key=len, reverse=True) if r["dataset"].startswith(t))
        unit, factor = report_unit(task)
        value = r["scores"]["test"] * (factor if r["metric"] == "mae" else 1.0)
        entry = by.setdefault(task, {}).setdefault(column, {"setting": r["options"], "dataset": r["dataset"],
                                                             "fidelity": r["dataset_fidelity"], "unit": unit,
                                                             "budgets": set(), "values": []})
        entry["values"].append(value)
        entry["budgets"].add(r["budget"])
    defaults = table2_defaults()
    for column, names in stale.items():
        print(f"{column}: cells of {', '.join(sorted(names))} left out (no longer the screen's best setting)")
    table = {}
    for task in TASKS:
        for column, entry in by.get(task, {}).items():
            cell = dict(summarise(entry["values"]), setting=entry["setting"], dataset=entry["dataset"],
                        fidelity=entry["fidelity"], unit=entry["unit"], budgets=sorted(entry["budgets"]),
                        reduced=len(entry["values"]) < 5 or entry["budgets"] != {"paper"},
                        paper=TABLE_S3.get(task, {}).get(column),
                        default=defaults.get((task, column[:-1])))
            table.setdefault(task, {})[column] = cell
            paper = f"; paper {cell['paper'][0]} ± {cell['paper'][1]}" if cell["paper"] else ""
            if cell["default"]:
                paper += f"; Table 2 default {cell['default']['mean']:.4g} ± {cell['default']['std']:.2g}"
            print(f"{task:24s} {column:13s} {cell['mean']:.4g} ± {cell['std']:.2g} ({cell['n']} seeds"
                  f"{', reduced' if cell['reduced'] else ''}){paper}")
    return table


def table2_defaults():
    """Table 2's own cells (the same model with its default setting, same protocol and seeds):
    ``(task, model) -> {"mean", "std", "n"}``, the baseline a Table S3 column is read against."""
    import csv

    path = os.path.join(RESULTS, "table2", "table2_paper.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return {(r["task"], r["model"]): {"mean": float(r["ours_mean"]), "std": float(r["ours_std"]),
                                          "n": int(r["n_splits"])}
                for r in csv.DictReader(handle) if r["ours_mean"]}


def report():
    by = {}
    s3 = []
    for r in records("grid"):
        if r["key"].startswith(S3_PREFIX):
            s3.append(r)
            continue
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
        summary[screen] = {"ranked": complete, "best": best, "best_region": region, "n_settings": len(complete),
                           "grid_size": len(settings(SCREENS[screen][1]))}
        print(f"{screen}: {len(complete)} settings; best {best['setting']} {best['mean']:.4g} ± {best['sem']:.2g}; "
              f"{len(region)} within one standard error")
    path = write_results(os.path.join("grid", "grid.json"), {"screens": summary})
    plot(summary, os.path.join(RESULTS, "grid", "grid.png"))
    print(f"wrote {path}")
    if s3:
        path = write_results(os.path.join("grid", "table_s3.json"), {"tasks": table_s3(s3)})
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
    save_figure(fig, path)


def main():
    parser = figure_parser(__doc__)
    parser.add_argument("--screens", default=",".join(SCREENS))
    parser.add_argument("--sample", type=int, default=0, help="a fixed random subset of the settings (0: all)")
    parser.add_argument("--table-s3", action="store_true", help="run Table S3 (needs the screens' results)")
    parser.add_argument("--tasks", default="", help="Table S3 tasks (matbench_ optional; default all 13)")
    parser.add_argument("--seeds", default="0-4", help="Table S3 paper seeds (default 0-4)")
    args = parser.parse_args()
    failed = 0
    if args.table_s3 and not args.report:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "table2"))
        from common import TASKS, parse_ints, parse_list

        tasks = parse_list(args.tasks, TASKS, "matbench_")
        failed = run_all(s3_cells(tasks, parse_ints(args.seeds), args.budget), "grid", args.jobs, args.threads)
    elif not args.report:
        failed = run_all(cells(args.screens.split(","), args.sample, args.budget), "grid", args.jobs, args.threads)
    report()
    return 1 if failed else 0  # the report still draws what finished


if __name__ == "__main__":
    sys.exit(main())
