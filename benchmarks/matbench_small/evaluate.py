#!/usr/bin/env python
"""The final models of the MatBench small-task study (issue #13): each task's chosen setting
(selection.py, inner validation) as an ensemble of ``--ensemble`` children, trained on each
official fold's training part and tested once on its test part.

    python benchmarks/matbench_small/evaluate.py --jobs 2                     # MatBench's 5 folds
    python benchmarks/matbench_small/evaluate.py --protocol paper --jobs 2    # random 80/10/10, seeds 0-4
    python benchmarks/matbench_small/evaluate.py --report                     # files only, from finished folds

Each (task, fold) is written to ``benchmarks/results/matbench_small/<protocol>/<task>/fold-<k>.json``
as soon as it finishes (resumable). When the selection chooses another setting, the old
setting's folds move to ``<task>/superseded/<setting>/`` as the new ones are written, and the
report keeps showing the old setting (marked ``next_setting``) until all five new folds are done. The report writes per task
``benchmarks/results/matbench_small/<task>.json``, the summary ``benchmarks/results/matbench_small.json``
(``{"matbench_<task>": {"setting", "folds", "mean", "std", "seconds_per_fold", ...}}``) and the
submission file ``matbench_submission.json`` (test predictions keyed by MatBench ids per
fold; classifiers as labels at their validation-chosen threshold, as MatBench records them).
Classification ``folds`` hold the ROC-AUC of those labels (the leaderboard's metric);
``folds_proba`` the ROC-AUC of the probabilities.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pool import run_jobs  # noqa: E402
from provenance import RESULTS, provenance, write_results  # noqa: E402

from matbench_small.common import CLASSIFICATION_TASKS, ENSEMBLE, FINAL_BUDGET, task_list  # noqa: E402
from matbench_small.selection import choice  # noqa: E402

FOLDER = os.path.join(RESULTS, "matbench_small")


def fold_path(protocol, task, fold, ensemble=ENSEMBLE):
    """A fold's results file; an ensemble smaller than the study's is a reduced result and
    has a file of its own (``fold-<k>-ensemble<K>.json``), so the full one is still run later."""
    suffix = "" if ensemble == ENSEMBLE else f"-ensemble{ensemble}"
    return os.path.join(FOLDER, protocol, task, f"fold-{fold}{suffix}.json")


def _setting_of(path):
    with open(path) as handle:
        return json.load(handle)["setting"]


def _members(path):
    name = os.path.basename(path)
    return int(name.rsplit("ensemble", 1)[1].split(".")[0]) if "-ensemble" in name else ENSEMBLE


def fold_files(protocol, task):
    """Every fold result on file for ``task``, by setting: ``{setting: {fold: path}}``, the
    full ensemble's file where there is one, else the largest reduced one. Results of a
    setting the selection no longer chooses are kept in ``superseded/`` (never deleted)."""
    import glob

    folder = os.path.join(FOLDER, protocol, task)
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "fold-*.json")) +
                       glob.glob(os.path.join(folder, "superseded", "*", "fold-*.json"))):
        fold = int(os.path.basename(path)[len("fold-"):].split("-")[0].split(".")[0])
        best = out.setdefault(_setting_of(path), {})
        if fold not in best or _members(path) > _members(best[fold]):
            best[fold] = path
    return out


def finished_fold(protocol, task, fold, setting=None):
    """The fold's full-ensemble result if there is one, else its largest reduced one, else
    None; with ``setting``, only a result of that setting counts."""
    for name, paths in fold_files(protocol, task).items():
        if (setting is None or name == setting) and fold in paths:
            return paths[fold]
    return None


def reported_setting(protocol, task, chosen=None):
    """The setting whose folds the report shows: the chosen one once all five of its folds
    are done; until then the setting with the most finished folds (a superseded choice
    stays on the record until its successor is complete)."""
    files = fold_files(protocol, task)
    if not files:
        return None
    if chosen in files and len(files[chosen]) == 5:
        return chosen
    return max(files, key=lambda name: (len(files[name]), name == chosen,
                                        max(os.path.getmtime(p) for p in files[name].values())))


def _supersede(path, setting):
    """Move a fold result of another setting out of the way (into ``superseded/<setting>/``)."""
    if not os.path.exists(path):
        return
    old = _setting_of(path)
    if old != setting:
        slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in old)
        target = os.path.join(os.path.dirname(path), "superseded", slug)
        os.makedirs(target, exist_ok=True)
        os.replace(path, os.path.join(target, os.path.basename(path)))


def run_fold(job):
    import torch

    torch.set_num_threads(job["threads"])
    from torch_atomsets.data.datasets import load_task, make_splits
    from torch_atomsets.training import ChildConfig, train_ensemble

    data = load_task(job["task"], allow_download=False)
    if job["protocol"] == "matbench":
        split = make_splits(data, "matbench", folds=[job["fold"]])[0]
    else:
        split = make_splits(data, "paper", seeds=[job["fold"]])[0]
    config = ChildConfig.of(**job["options"], **FINAL_BUDGET, trainer={"logger": False})
    start = time.perf_counter()
    result = train_ensemble(data, split, config, job["fold"], None, job["ensemble"])
    seconds = time.perf_counter() - start
    positions = np.asarray(result["predictions"]["positions"], dtype=np.int64)
    record = {k: result.get(k) for k in ("metric", "test", "members_test", "n_members", "val", "auc_labels",
                                         "accuracy", "f1", "threshold", "uncertainty", "n_train", "n_val", "n_test")}
    record.update(task=job["task"], protocol=job["protocol"], fold=job["fold"], setting=job["setting"],
                  options=job["options"], budget=FINAL_BUDGET, seconds=seconds, fidelity=data.fidelity,
                  predictions={"index": data.index[positions].tolist(), "target": data.targets[positions].tolist(),
                               "prediction": result["predictions"]["prediction"], "std": result["predictions"]["std"]},
                  provenance=provenance(threads=job["threads"]))
    path = fold_path(job["protocol"], job["task"], job["fold"], job["ensemble"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _supersede(path, job["setting"])
    with open(path + ".tmp", "w") as handle:
        json.dump(record, handle)
    os.replace(path + ".tmp", path)
    return path


def matbench_ids(task, rows):
    from torch_atomsets.data.datasets import TASKS

    short = task.replace("matbench_", "").replace("_", "-")
    width = len(str(TASKS[task].n_samples))
    return [f"mb-{short}-{int(r) + 1:0{width}d}" for r in rows]


def report(tasks, protocol):
    summary, submission = {}, {}
    for task in tasks:
        chosen = choice(task).get("chosen")
        setting = reported_setting(protocol, task, chosen)
        if setting is None:
            continue
        folds = []
        for k in range(5):
            path = finished_fold(protocol, task, k, setting)
            if path:
                with open(path) as handle:
                    folds.append(json.load(handle))
        classification = task in CLASSIFICATION_TASKS
        scores = [f["auc_labels"] if classification else f["test"] for f in folds]
        members = sorted({f["n_members"] for f in folds})
        entry = {"setting": folds[0]["setting"], "options": folds[0]["options"],
                 "ensemble": members[0] if len(members) == 1 else members,
                 "reduced": min(members) < ENSEMBLE,
                 "folds": scores, "mean": float(np.mean(scores)), "std": float(np.std(scores)),
                 "seconds_per_fold": float(np.mean([f["seconds"] for f in folds])), "n_folds": len(folds),
                 "metric": "roc_auc_of_labels" if classification else "mae", "fidelity": folds[0]["fidelity"]}
        if chosen and setting != chosen:  # the selection has moved on; its folds are not all done
            entry["next_setting"] = {"setting": chosen,
                                     "n_folds": len(fold_files(protocol, task).get(chosen, {}))}
        if classification:
            entry["folds_proba"] = [f["test"] for f in folds]
            entry["mean_proba"] = float(np.mean(entry["folds_proba"]))
        else:
            keys = ("spearman", "within_1std", "within_2std", "miscalibration_area")
            if all(f["uncertainty"] and f["uncertainty"]["spearman"] is not None for f in folds):
                entry["uncertainty"] = {k: float(np.mean([f["uncertainty"][k] for f in folds])) for k in keys}
        entry["members_test"] = [f["members_test"] for f in folds]
        summary[task] = entry
        write_results(os.path.join("matbench_small", f"{task}{'' if protocol == 'matbench' else '-paper'}.json"),
                      dict(entry, runs=[{k: v for k, v in f.items() if k != "predictions"} for f in folds]))
        if protocol == "matbench":
            results = {}
            for f in folds:
                values = f["predictions"]["prediction"]
                if classification:
                    values = [bool(v >= f["threshold"]) for v in values]
                results[f"fold_{f['fold']}"] = {"data": dict(zip(matbench_ids(task, f["predictions"]["index"]),
                                                                 values)),
                                                "parameters": {"setting": f["setting"], **f["options"],
                                                               "ensemble": f["n_members"]}}
            submission[task] = {"results": results}
    name = "matbench_small.json" if protocol == "matbench" else os.path.join("matbench_small", "paper_protocol.json")
    path = write_results(name, summary)
    if protocol == "matbench" and submission:
        with open(os.path.join(FOLDER, "matbench_submission.json"), "w") as handle:
            json.dump({"benchmark_name": "matbench_v0.1", "algorithm": "torch_atomsets AtomSets (per-task presets, "
                       "ensembles)", "tasks": submission}, handle)
    return path, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--tasks", default="")
    parser.add_argument("--protocol", default="matbench", choices=["matbench", "paper"])
    parser.add_argument("--ensemble", type=int, default=ENSEMBLE)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    tasks = task_list(args.tasks)
    jobs = []
    for task in tasks:
        chosen = choice(task)
        if not chosen or chosen["complete_candidates"] < chosen["all_candidates"]:
            print(f"{task}: selection not finished; skipped")
            continue
        for k in range(5):
            path = fold_path(args.protocol, task, k, args.ensemble)
            if not os.path.exists(path) or _setting_of(path) != chosen["chosen"]:
                jobs.append(dict(task=task, fold=k, protocol=args.protocol, setting=chosen["chosen"],
                                 options=chosen["options"], ensemble=args.ensemble, threads=args.threads))
    failed = 0
    if not args.report and jobs:
        print(f"{len(jobs)} folds to train ({args.ensemble} children each, {args.jobs} at a time)")

        def finished(job, path):
            with open(path) as handle:
                record = json.load(handle)
            score = record["auc_labels"] if job["task"] in CLASSIFICATION_TASKS else record["test"]
            return f"{job['task']} fold {job['fold']} ({job['setting']}): {score:.4g} ({record['seconds']:.0f} s)"

        failed = run_jobs(run_fold, jobs, args.jobs, finished, lambda j: f"{j['task']} fold {j['fold']}", unit="fold")
    path, summary = report(task_list(""), args.protocol)  # every task: a summary never drops one
    for task, entry in summary.items():
        print(f"{task}: {entry['setting']}: {entry['mean']:.4g} ± {entry['std']:.3g} over {entry['n_folds']} folds")
    print(f"wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
