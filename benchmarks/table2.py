#!/usr/bin/env python
"""The paper's Table 2 and Table S4, reproduced beside the paper's numbers.

    python benchmarks/table2.py                                   # every cell the data allows
    python benchmarks/table2.py --tasks steels,phonons --models AtomSets-V0,AtomSets-V1
    python benchmarks/table2.py --tasks mp_e_form --max-epochs 50 --seeds 0-1    # a reduced budget
    python benchmarks/table2.py --protocol matbench --tasks phonons,dielectric,jdft2d
    python benchmarks/table2.py --report-only                     # rebuild tables and plots

Paper protocol: random 80/10/10 splits with seeds 0-4, early stopping on the validation
metric (patience 200 epochs), best checkpoint, test metric; mean +- std over seeds.
MatBench protocol: the 5 official folds (KFold / StratifiedKFold, random_state 18012019),
validation carved out of each training fold, plus a submission-format file of the test
predictions keyed by MatBench row ids and the leaderboard rows beside ours.

Every (task, model, split) run is written to ``<results>/runs/...json`` as soon as it
finishes; a rerun skips finished runs (``--redo`` redoes them), so a long table can be
filled over several sessions. A run that hit the ``--max-epochs`` cap before early
stopping, or a cell with fewer than 5 splits, is marked as a reduced budget.
The tables (CSV and Markdown) and plots go to ``<results>/`` (default
``benchmarks/results/table2``).
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import RESULTS, machine  # noqa: E402
from paper_values import LEADERBOARD, PAPER, TABLE2_MODELS, TABLES4_MODELS, TARGETS  # noqa: E402

TASKS = ["matbench_steels", "matbench_jdft2d", "matbench_phonons", "matbench_expt_gap", "matbench_dielectric",
         "matbench_log_kvrh", "matbench_log_gvrh", "matbench_perovskites", "matbench_mp_gap", "matbench_mp_e_form",
         "matbench_expt_is_metal", "matbench_glass", "matbench_mp_is_metal"]
EXACT_STRUCTURES = {"matbench_phonons", "matbench_dielectric", "matbench_jdft2d", "matbench_perovskites"}
APPROXIMATE = {"matbench_log_kvrh", "matbench_log_gvrh", "matbench_mp_gap", "matbench_mp_is_metal",
               "matbench_mp_e_form"}
COMPOSITION_TASKS = {"matbench_steels", "matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass"}
MATBENCH_ORDER_TASKS = ["matbench_steels", "matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass",
                        "matbench_phonons", "matbench_dielectric", "matbench_jdft2d"]
COMPOSITIONAL_MODELS = {"AtomSets", "AtomSets-V0", "MLP-V0-stats", "Dummy"}
ALL_MODELS = TABLE2_MODELS + TABLES4_MODELS


def report_unit(task):
    """(unit, factor): MatBench units, except perovskites and mp_e_form in meV/atom as the paper."""
    from torch_atomsets.data.matbench import TASKS as REGISTRY

    if task == "matbench_perovskites":
        return "meV/atom", 1000.0 / 5.0  # eV per 5-atom cell -> meV/atom
    if task == "matbench_mp_e_form":
        return "meV/atom", 1000.0
    entry = REGISTRY[task]
    return ("ROC-AUC" if entry.is_classification else entry.unit), 1.0


def dataset_for(task, model):
    """Name of the dataset a (task, model) cell trains on, or None if the data at hand has
    no inputs for that model (a structural model on a composition task)."""
    if model in COMPOSITIONAL_MODELS:
        if task in COMPOSITION_TASKS or task in EXACT_STRUCTURES - {"matbench_perovskites"}:
            return task
        return f"{task}_composition"
    if task in COMPOSITION_TASKS:
        return None
    if task in EXACT_STRUCTURES:
        return task
    return f"{task}_approx"


_DATA = {}


def load(name):
    from torch_atomsets.data.matbench import load_task

    if name not in _DATA:
        _DATA[name] = load_task(name, allow_download=False)
    return _DATA[name]


def run_path(results, protocol, task, model, split_name):
    return os.path.join(results, "runs", protocol, task, model, split_name.replace(" ", "-") + ".json")


def _run(job):
    """One (task, model, split) run in a worker; writes its JSON and returns the path."""
    import torch

    torch.set_num_threads(job["threads"])
    from torch_atomsets.data.splits import make_splits
    from torch_atomsets.training import ChildConfig, MEGNetConfig, train_child, train_megnet

    data = load(job["dataset"])
    if job["protocol"] == "paper":
        split = make_splits(data, "paper", [job["split"]])[0]
    else:
        split = make_splits(data, "matbench", folds=[job["split"]])[0]
    start = time.time()
    if job["model"] == "Dummy":
        train_y = data.targets[split.train]
        test_y = data.targets[split.test]
        if data.is_classification:
            majority = float(np.mean(train_y) >= 0.5)
            prediction = np.full(len(test_y), majority)
            test = 0.5  # a constant has no ranking: ROC-AUC 0.5
        else:
            prediction = np.full(len(test_y), float(np.mean(train_y)))
            test = float(np.abs(test_y - prediction).mean())
        result = {"metric": "auc" if data.is_classification else "mae", "test": test, "val": float("nan"),
                  "epochs": 0, "best_epoch": None, "n_train": len(split.train), "n_val": len(split.val),
                  "n_test": len(split.test), "max_epochs_reached": False,
                  "predictions": {"index": data.index[split.test].tolist(), "target": test_y.tolist(),
                                  "prediction": prediction.tolist()}}
    elif job["model"] == "MEGNet":
        config = MEGNetConfig(max_epochs=job["megnet_max_epochs"], patience=job["patience"],
                              max_time=job["megnet_max_time"])
        result = train_megnet(data, split, config, seed=job["split"])
    else:
        config = ChildConfig(model=job["model"], max_epochs=job["max_epochs"], patience=job["patience"])
        result = train_child(data, split, config, seed=job["split"])
    unit, factor = report_unit(job["task"])
    record = {k: result.get(k) for k in ("metric", "test", "val", "epochs", "best_epoch", "n_train", "n_val",
                                         "n_test", "n_dropped", "max_epochs_reached", "seconds_per_epoch")}
    record.update(task=job["task"], model=job["model"], dataset=data.name, fidelity=data.fidelity,
                  protocol=job["protocol"], split=split.name, seed=job["split"], unit=unit, factor=factor,
                  test_reported=result["test"] * (factor if result["metric"] == "mae" else 1.0),
                  max_epochs=job["megnet_max_epochs"] if job["model"] == "MEGNet" else job["max_epochs"],
                  patience=job["patience"], wall_seconds=time.time() - start,
                  predictions={k: result["predictions"][k] for k in ("index", "target", "prediction")})
    path = job["path"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as handle:
        json.dump(record, handle)
    os.replace(path + ".tmp", path)
    return path


def parse_list(text, known, prefix=""):
    if not text:
        return list(known)
    out = []
    for item in text.split(","):
        item = item.strip()
        name = item if item in known else prefix + item
        if name not in known:
            raise SystemExit(f"unknown {item!r}; choose from {', '.join(known)}")
        out.append(name)
    return out


def parse_ints(text):
    values = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            values += list(range(int(low), int(high) + 1))
        else:
            values.append(int(part))
    return values


# -- tables -----------------------------------------------------------------------------

def collect(results, protocol):
    cells = {}
    base = os.path.join(results, "runs", protocol)
    if not os.path.isdir(base):
        return cells
    for task in os.listdir(base):
        for model in os.listdir(os.path.join(base, task)):
            runs = []
            for name in sorted(os.listdir(os.path.join(base, task, model))):
                if name.endswith(".json"):
                    with open(os.path.join(base, task, model, name)) as handle:
                        runs.append(json.load(handle))
            if runs:
                cells[(task, model)] = runs
    return cells


def summarise(runs):
    values = np.array([r["test_reported"] for r in runs])
    reduced = len(runs) < 5 or any(r.get("max_epochs_reached") for r in runs)
    return {"mean": float(values.mean()), "std": float(values.std()), "n": len(runs), "reduced": reduced,
            "capped": sum(bool(r.get("max_epochs_reached")) for r in runs),
            "max_epochs": max(r.get("max_epochs") or 0 for r in runs), "fidelity": runs[0]["fidelity"],
            "dataset": runs[0]["dataset"], "unit": runs[0]["unit"], "metric": runs[0]["metric"]}


INTEGER_TASKS = {"matbench_steels", "matbench_jdft2d", "matbench_phonons", "matbench_perovskites",
                 "matbench_mp_e_form"}


def fmt(value, task):
    """As the paper prints them: whole numbers for MPa, cm^-1 and meV/atom, else 2 decimals."""
    if value is None:
        return ""
    return f"{value:.{0 if task in INTEGER_TASKS else 2}f}"


def paper_text(task, model):
    value = PAPER.get(task, {}).get(model)
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return f"{fmt(value[0], task)}±{fmt(value[1], task)}"
    return fmt(value, task)


def cell_text(summary, task):
    if summary is None:
        return "", ""
    text = f"{fmt(summary['mean'], task)}±{fmt(summary['std'], task)}"
    notes = []
    if summary["n"] < 5:
        notes.append(f"{summary['n']}/5 seeds")
    if summary["capped"]:
        notes.append(f"{summary['capped']} capped at {summary['max_epochs']} epochs")
    return text, "; ".join(notes)


def write_paper_tables(results, cells):
    rows = []
    markdown = {}
    for title, models in (("Table 2", TABLE2_MODELS), ("Table S4", TABLES4_MODELS)):
        lines = ["| target (unit, data) | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
        for task in TASKS:
            unit = report_unit(task)[0]
            fidelities = set()
            entries = []
            for model in models:
                runs = cells.get((task, model))
                summary = summarise(runs) if runs else None
                text, note = cell_text(summary, task)
                if summary:
                    fidelities.add(summary["fidelity"])
                paper = paper_text(task, model)
                if dataset_for(task, model) is None and model != "Dummy":
                    entries.append("-")
                else:
                    mark = "†" if summary and summary["reduced"] else ""
                    entries.append(f"{text}{mark} [{paper}]" if text else f"not run [{paper}]")
                rows.append({"table": title, "task": task, "model": model, "unit": unit,
                             "ours_mean": summary["mean"] if summary else "", "ours_std": summary["std"] if summary else "",
                             "n_splits": summary["n"] if summary else 0, "paper": paper,
                             "data": summary["dataset"] if summary else dataset_for(task, model) or "",
                             "fidelity": summary["fidelity"] if summary else "", "budget_note": note})
            label = f"{task.replace('matbench_', '')} ({unit}; {', '.join(sorted(fidelities)) or 'no runs'})"
            lines.append(f"| {label} | " + " | ".join(entries) + " |")
        markdown[title] = "\n".join(lines)
    return rows, markdown


def write_outputs(results, protocol, cells, extra_markdown=""):
    import csv

    os.makedirs(results, exist_ok=True)
    rows, markdown = write_paper_tables(results, cells)
    stem = os.path.join(results, f"table2_{protocol}")
    with open(stem + ".csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = [f"# Table 2 and Table S4 reproduced ({protocol} protocol)", "",
            "Each cell: ours mean±std over splits [paper]. † = reduced budget (fewer than 5 splits, or a run "
            "stopped at the epoch cap before early stopping; see the CSV's budget_note). MAE for regression "
            "(yield strength in MPa; perovskites and mp_e_form in meV/atom), ROC-AUC for classification. "
            "The data column says which file each row used: exact/content-checked structures, "
            "composition-only tables, or approximate MP structures (not comparable with the paper).", ""]
    for title in ("Table 2", "Table S4"):
        text += [f"## {title}", "", markdown[title], ""]
    text.append(targets_markdown(cells))
    text.append(extra_markdown)
    text.append(f"\nMachine: {json.dumps(machine())}\n")
    with open(stem + ".md", "w") as handle:
        handle.write("\n".join(text))
    return stem


def targets_markdown(cells):
    lines = ["## The issue's targets", "", "| task | model | target | ours | met |", "|---|---|---|---|---|"]
    for task, entries in TARGETS.items():
        for model, (op, bound) in entries.items():
            runs = cells.get((task, model))
            if not runs:
                lines.append(f"| {task} | {model} | {op} {bound} | not run | |")
                continue
            s = summarise(runs)
            met = s["mean"] <= bound if op == "<=" else s["mean"] >= bound
            note = " †" if s["reduced"] else ""
            lines.append(f"| {task} | {model} | {op} {bound} | {fmt(s['mean'], task)}±{fmt(s['std'], task)}{note} | "
                         f"{'yes' if met else 'no'} |")
    return "\n".join(lines) + "\n"


def matbench_markdown(cells):
    lines = ["## MatBench v0.1 protocol against the leaderboard", "",
             "| task | ours (model) | leaderboard best | MEGNet (kgcnn v2.1.0) | AMMExpress v2020 | Dummy |",
             "|---|---|---|---|---|---|"]
    for task in MATBENCH_ORDER_TASKS:
        board = LEADERBOARD.get(task, {})
        ours = []
        for model in ALL_MODELS:
            runs = cells.get((task, model))
            if runs and model != "Dummy":
                s = summarise(runs)
                ours.append(f"{fmt(s['mean'], task)}±{fmt(s['std'], task)}{'†' if s['reduced'] else ''} ({model})")
        entries = [f"{fmt(board[key][1], task)} ({board[key][0]})" if key in board else "-"
                   for key in ("best", "MEGNet", "AMMExpress", "Dummy")]
        lines.append(f"| {task} | {'<br>'.join(ours) or 'not run'} | " + " | ".join(entries) + " |")
    lines.append("\nLeaderboard rows: materialsproject/matbench docs_src/Leaderboards Per-Task pages "
                 "(commits in benchmarks/paper_values.py).")
    return "\n".join(lines) + "\n"


def matbench_ids(task, rows):
    short = task.replace("matbench_", "").replace("_", "-")
    from torch_atomsets.data.matbench import TASKS as REGISTRY

    width = len(str(REGISTRY[task].n_samples))
    return [f"mb-{short}-{int(r) + 1:0{width}d}" for r in rows]


def write_submission(results, cells):
    """Per-fold test predictions keyed by MatBench row ids, one file per model."""
    by_model = {}
    for (task, model), runs in cells.items():
        for run in runs:
            if model == "Dummy":
                continue
            ids = matbench_ids(task, run["predictions"]["index"])
            fold = f"fold_{run['seed']}"
            by_model.setdefault(model, {}).setdefault(task, {})[fold] = dict(zip(ids, run["predictions"]["prediction"]))
    paths = []
    for model, payload in by_model.items():
        path = os.path.join(results, f"matbench_submission_{model}.json")
        with open(path, "w") as handle:
            json.dump({"model": f"torch_atomsets {model}", "protocol": "matbench_v0.1", "tasks": payload}, handle)
        paths.append(path)
    return paths


def plots(results, cells, protocol):
    """Parity plots (regression) and ROC curves (classification), one PNG per task family."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plots")
        return []
    families = {"composition": ["matbench_steels", "matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass"],
                "small structures": ["matbench_jdft2d", "matbench_phonons", "matbench_dielectric"],
                "large structures": ["matbench_log_kvrh", "matbench_log_gvrh", "matbench_perovskites",
                                     "matbench_mp_gap", "matbench_mp_e_form", "matbench_mp_is_metal"]}
    paths = []
    for family, tasks in families.items():
        present = [t for t in tasks if any(k[0] == t for k in cells)]
        if not present:
            continue
        fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 4.2), squeeze=False)
        for ax, task in zip(axes[0], present):
            models = [m for m in ALL_MODELS if (task, m) in cells and m != "Dummy"]
            summaries = {m: summarise(cells[(task, m)]) for m in models}
            classification = summaries[models[0]]["metric"] == "auc" if models else False
            best = sorted(models, key=lambda m: -summaries[m]["mean"] if classification else summaries[m]["mean"])[:3]
            unit, factor = report_unit(task)
            for model in best:
                run = cells[(task, model)][0]
                y = np.asarray(run["predictions"]["target"])
                p = np.asarray(run["predictions"]["prediction"])
                if classification:
                    from sklearn.metrics import roc_auc_score, roc_curve

                    fpr, tpr, _ = roc_curve(y, p)
                    ax.plot(fpr, tpr, label=f"{model} (AUC {roc_auc_score(y, p):.3f})")
                else:
                    ax.scatter(y * factor, p * factor, s=6, alpha=0.5, label=f"{model} (MAE {np.abs(y - p).mean() * factor:.3g})")
            if classification:
                ax.plot([0, 1], [0, 1], "k--", lw=0.8)
                ax.set_xlabel("false positive rate")
                ax.set_ylabel("true positive rate")
            else:
                low, high = ax.get_xlim()
                ax.plot([low, high], [low, high], "k--", lw=0.8)
                ax.set_xlabel(f"target ({unit})")
                ax.set_ylabel(f"prediction ({unit})")
            ax.set_title(f"{task.replace('matbench_', '')} ({cells[(task, best[0])][0]['split']})" if best else task)
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(results, f"{protocol}_{family.replace(' ', '_')}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--tasks", default="", help="comma-separated (matbench_ prefix optional); default all")
    parser.add_argument("--models", default="", help=f"comma-separated; default all of {', '.join(ALL_MODELS)}")
    parser.add_argument("--protocol", default="paper", choices=["paper", "matbench"])
    parser.add_argument("--seeds", default="0-4", help="paper seeds / matbench folds (default 0-4)")
    parser.add_argument("--max-epochs", type=int, default=10000, help="cap on child epochs (10000)")
    parser.add_argument("--patience", type=int, default=200, help="early-stopping patience (paper: 200)")
    parser.add_argument("--megnet-max-epochs", type=int, default=300, help="cap on MEGNet epochs (300)")
    parser.add_argument("--megnet-max-time", default=None, help="wall-time cap per MEGNet run, DD:HH:MM:SS")
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    parser.add_argument("--results", default=os.path.join(RESULTS, "table2"))
    parser.add_argument("--redo", action="store_true", help="redo runs that already have results")
    parser.add_argument("--report-only", action="store_true", help="only rebuild tables and plots")
    args = parser.parse_args()

    tasks = parse_list(args.tasks, TASKS, "matbench_")
    models = parse_list(args.models, ALL_MODELS)
    if args.protocol == "matbench":
        bad = [t for t in tasks if t not in MATBENCH_ORDER_TASKS]
        if bad and args.tasks:
            raise SystemExit(f"the official folds need MatBench row order; not available for {bad}")
        tasks = [t for t in tasks if t in MATBENCH_ORDER_TASKS]
    jobs = []
    for task in tasks:
        for model in models:
            dataset = dataset_for(task, model)
            if dataset is None:
                continue
            for split in parse_ints(args.seeds):
                name = f"paper seed {split}" if args.protocol == "paper" else f"matbench fold {split}"
                path = run_path(args.results, args.protocol, task, model, name)
                if os.path.exists(path) and not args.redo:
                    continue
                jobs.append(dict(task=task, model=model, dataset=dataset, protocol=args.protocol, split=split,
                                 max_epochs=args.max_epochs, patience=args.patience,
                                 megnet_max_epochs=args.megnet_max_epochs, megnet_max_time=args.megnet_max_time,
                                 threads=args.threads, path=path))
    if not args.report_only and jobs:
        from tqdm import tqdm

        print(f"{len(jobs)} runs to do ({args.jobs} at a time); results in {args.results}")
        start = time.time()
        import multiprocessing

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_run, job): job for job in jobs}
            with tqdm(total=len(jobs), unit="run") as bar:
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        with open(future.result()) as handle:
                            record = json.load(handle)
                        bar.write(f"{job['task']} {job['model']} split {job['split']}: "
                                  f"{record['metric']} {record['test_reported']:.4g} ({record['epochs']} epochs, "
                                  f"{record['wall_seconds']:.0f} s)")
                    except Exception as exc:  # one failed run must not lose the others
                        bar.write(f"FAILED {job['task']} {job['model']} split {job['split']}: {exc!r}")
                    bar.update(1)
        print(f"runs done in {(time.time() - start) / 60:.1f} min")
    cells = collect(args.results, args.protocol)
    if not cells:
        print("no results yet")
        return 0
    extra = matbench_markdown(cells) if args.protocol == "matbench" else ""
    stem = write_outputs(args.results, args.protocol, cells, extra)
    made = plots(args.results, cells, args.protocol)
    if args.protocol == "matbench":
        made += write_submission(args.results, cells)
    print(f"wrote {stem}.csv, {stem}.md" + (f", {', '.join(os.path.basename(p) for p in made)}" if made else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
