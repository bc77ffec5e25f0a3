"""What Table 2 runs on: tasks, models, which dataset each cell uses, and the helpers the
run, report and plot scripts share."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from paper_values import LEADERBOARD, PAPER, TABLE2_MODELS, TABLES4_MODELS, TARGETS  # noqa: E402,F401
from provenance import RESULTS  # noqa: E402

DEFAULT_RESULTS = os.path.join(RESULTS, "table2")

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
    from torch_atomsets.data.datasets import TASKS as REGISTRY

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


def run_path(results, protocol, task, model, split_name):
    return os.path.join(results, "runs", protocol, task, model, split_name.replace(" ", "-") + ".json")


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
    reduced = len(runs) < 5 or any(r.get("max_epochs_reached") for r in runs) or \
        any((r.get("patience") or 200) < 200 for r in runs) or any(r.get("max_time") for r in runs)
    return {"mean": float(values.mean()), "std": float(values.std()), "n": len(runs), "reduced": reduced,
            "capped": sum(bool(r.get("max_epochs_reached")) for r in runs),
            "patience": min(r.get("patience") or 200 for r in runs),
            "batch_size": sorted({r.get("batch_size") for r in runs if r.get("batch_size")}),
            "max_time": sorted({r.get("max_time") for r in runs if r.get("max_time")}),
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
    if summary["patience"] < 200:
        notes.append(f"patience {summary['patience']}")
    if summary["batch_size"]:
        notes.append(f"batch {'/'.join(map(str, summary['batch_size']))}")
    if summary["max_time"]:
        notes.append(f"time cap {'/'.join(summary['max_time'])}")
    return text, "; ".join(notes)


