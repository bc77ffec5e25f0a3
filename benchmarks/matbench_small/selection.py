#!/usr/bin/env python
"""Per-task selection on inner validation for the MatBench small tasks (issue #13).

    python benchmarks/matbench_small/selection.py --jobs 2 --threads 1        # every task
    python benchmarks/matbench_small/selection.py --tasks phonons,jdft2d
    python benchmarks/matbench_small/selection.py --report                    # the choice per task

For each task, each official MatBench fold k and each candidate setting of
``common.candidates``, a child is trained on fold k's training part only: the inner
validation part is carved from that training part (10%, seed k, exactly the validation part
of the official protocol) and the child is scored on it. The fold's test part is never
given to this code (``training_part`` below is all it sees; tests/benchmarks/
test_matbench_small.py checks that). Each result is appended to
``benchmarks/results/matbench_small/selection/<task>.jsonl`` as soon as it is done; a rerun
skips finished (candidate, fold) pairs. The chosen setting of a task is the candidate with
the best mean inner-validation score over the five folds (lowest MAE, highest ROC-AUC).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pool import run_jobs  # noqa: E402
from provenance import RESULTS, provenance  # noqa: E402

from matbench_small.common import CLASSIFICATION_TASKS, SELECTION_BUDGET, candidates, task_list  # noqa: E402

FOLDS = range(5)
VALIDATION_FRACTION = 0.1


def results_path(task: str) -> str:
    return os.path.join(RESULTS, "matbench_small", "selection", f"{task}.jsonl")


def training_part(data, fold: int) -> np.ndarray:
    """Positions of fold ``fold``'s training part (the official KFold / StratifiedKFold):
    everything the selection of that fold may see."""
    from torch_atomsets.data.datasets import matbench_folds

    split = matbench_folds(data, validation_fraction=VALIDATION_FRACTION, seed=0)[fold]
    return np.sort(np.concatenate([split.train, split.val]))


def inner_validation_score(data, part: np.ndarray, fold: int, options: dict, budget: dict) -> dict:
    """Train ``options`` on ``part`` minus an inner validation carve (10%, seed ``fold``)
    and return its best inner-validation score. Sees nothing outside ``part``."""
    from torch_atomsets.data.datasets import Split, carve_validation
    from torch_atomsets.training import ChildConfig, train_model

    train, val = carve_validation(part, VALIDATION_FRACTION, seed=fold)
    split = Split(train, val, np.zeros(0, dtype=np.int64), name=f"inner fold {fold}")
    config = ChildConfig.of(**options, patience=budget["patience"], max_epochs=budget["max_epochs"],
                            trainer={"logger": False})
    start = time.perf_counter()
    result = train_model(data, split, config, seed=fold, test=False)  # a child, or a fine-tuned one
    return {"val": result["val"], "metric": result["metric"], "epochs": result["epochs"],
            "best_epoch": result["best_epoch"], "n_train": result["n_train"], "n_val": result["n_val"],
            "seconds": time.perf_counter() - start, "max_epochs_reached": result["max_epochs_reached"]}


def _job(job: dict) -> dict:
    import torch

    torch.set_num_threads(job["threads"])
    from torch_atomsets.data.datasets import load_task

    data = load_task(job["task"], allow_download=False)
    part = training_part(data, job["fold"])
    record = inner_validation_score(data, part, job["fold"], job["options"], job["budget"])
    record.update(task=job["task"], candidate=job["candidate"], fold=job["fold"], options=job["options"],
                  budget=job["budget"], provenance=provenance(threads=job["threads"]))
    return record


def read_records(task: str) -> list:
    path = results_path(task)
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def choice(task: str, records=None) -> dict:
    """The chosen candidate of ``task``: best mean inner-validation score over the folds
    (candidates with all five folds only)."""
    records = read_records(task) if records is None else records
    by_candidate = {}
    for r in records:
        by_candidate.setdefault(r["candidate"], {})[r["fold"]] = r["val"]
    complete = {c: np.mean([v[k] for k in FOLDS]) for c, v in by_candidate.items() if set(v) >= set(FOLDS)}
    if not complete:
        return {}
    higher = task in CLASSIFICATION_TASKS
    ranked = sorted(complete, key=lambda c: -complete[c] if higher else complete[c])
    return {"task": task, "chosen": ranked[0], "options": candidates(task)[ranked[0]],
            "inner_validation": {c: complete[c] for c in ranked}, "complete_candidates": len(complete),
            "all_candidates": len(candidates(task))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--tasks", default="", help="comma-separated (matbench_ optional); default all seven")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    parser.add_argument("--report", action="store_true", help="print the choice per task and stop")
    args = parser.parse_args()
    tasks = task_list(args.tasks)
    if args.report:
        for task in tasks:
            c = choice(task)
            if c:
                best = list(c["inner_validation"].items())[:3]
                print(f"{task}: {c['chosen']}  ({c['complete_candidates']}/{c['all_candidates']} candidates complete; "
                      f"top: {', '.join(f'{k} {v:.4g}' for k, v in best)})")
            else:
                print(f"{task}: no complete candidate yet")
        return 0
    jobs = []
    for task in tasks:
        done = {(r["candidate"], r["fold"]) for r in read_records(task)}
        for name, options in candidates(task).items():
            for fold in FOLDS:
                if (name, fold) not in done:
                    jobs.append(dict(task=task, candidate=name, fold=fold, options=options,
                                     budget=SELECTION_BUDGET, threads=args.threads))
    print(f"{len(jobs)} selection runs to do ({args.jobs} at a time, {args.threads} thread(s) each)")
    if not jobs:
        return 0

    def finished(job, record):
        path = results_path(job["task"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        return (f"{job['task']} {job['candidate']} fold {job['fold']}: val {record['val']:.4g} "
                f"({record['epochs']} epochs, {record['seconds']:.0f} s)")

    failed = run_jobs(_job, jobs, args.jobs, finished, lambda j: f"{j['task']} {j['candidate']} fold {j['fold']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
