#!/usr/bin/env python
"""The runs behind the paper's Table 2 and Table S4 (report.py and plots.py make the tables
and figures from them).

    python benchmarks/table2/run.py --tasks steels,phonons --models AtomSets-V0,AtomSets-V1
    python benchmarks/table2/run.py --tasks mp_e_form --models AtomSets-V1 --seeds 0-1 --max-epochs 300
    python benchmarks/table2/run.py --protocol matbench --tasks phonons,dielectric,jdft2d
    python benchmarks/table2/run.py --tasks phonons --models MEGNet --megnet-max-time 00:01:00:00

Paper protocol: random 80/10/10 splits with seeds 0-4, early stopping on the validation
metric (patience 200 epochs), best checkpoint, test metric. MatBench protocol: the 5
official folds, validation carved out of each training fold. Every (task, model, split)
run is written to ``<results>/runs/<protocol>/<task>/<model>/<split>.json`` as soon as it
finishes, with its provenance; a rerun skips finished runs (``--redo`` redoes them), so a
table fills over several sessions. A run that hit an epoch or time cap before early
stopping is marked as a reduced budget, and so is a cell with fewer than 5 splits.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import (  # noqa: E402
    ALL_MODELS,
    DEFAULT_RESULTS,
    MATBENCH_ORDER_TASKS,
    TASKS,
    dataset_for,
    parse_ints,
    parse_list,
    report_unit,
    run_path,
)
from pool import run_jobs  # noqa: E402
from provenance import provenance  # noqa: E402


def dummy_result(data, split):
    """The training mean (regression) or majority class (classification)."""
    train_y, test_y = data.targets[split.train], data.targets[split.test]
    if data.is_classification:
        prediction = np.full(len(test_y), float(np.mean(train_y) >= 0.5))
        test = 0.5  # a constant ranks nothing: ROC-AUC 0.5
    else:
        prediction = np.full(len(test_y), float(np.mean(train_y)))
        test = float(np.abs(test_y - prediction).mean())
    return {"metric": "auc" if data.is_classification else "mae", "test": test, "val": float("nan"), "epochs": 0,
            "best_epoch": None, "n_train": len(split.train), "n_val": len(split.val), "n_test": len(split.test),
            "max_epochs_reached": False,
            "predictions": {"positions": split.test.tolist(), "prediction": prediction.tolist()}}


def run_one(job):
    """One (task, model, split) run in a worker; writes its JSON and returns the path."""
    import torch

    torch.set_num_threads(job["threads"])
    from torch_atomsets.data.datasets import load_task, make_splits
    from torch_atomsets.training import ChildConfig, MEGNetConfig, train_child, train_megnet

    data = load_task(job["dataset"], allow_download=False)
    if job["protocol"] == "paper":
        split = make_splits(data, "paper", seeds=[job["split"]])[0]
    else:
        split = make_splits(data, "matbench", folds=[job["split"]])[0]
    start = time.time()
    if job["model"] == "Dummy":
        result = dummy_result(data, split)
    elif job["model"] == "MEGNet":
        trainer = {"max_epochs": job["megnet_max_epochs"], "logger": False}
        if job["megnet_max_time"]:
            trainer["max_time"] = job["megnet_max_time"]
        result = train_megnet(data, split, MEGNetConfig(patience=job["patience"], trainer=trainer,
                                                        batch_size=job["batch_size"] or 128), seed=job["split"])
    else:
        options = {"batch_size": job["batch_size"]} if job["batch_size"] else {}
        config = ChildConfig.of(model=job["model"], max_epochs=job["max_epochs"], patience=job["patience"],
                                trainer={"logger": False}, **options)
        result = train_child(data, split, config, seed=job["split"])
    unit, factor = report_unit(job["task"])
    positions = np.asarray(result["predictions"]["positions"], dtype=np.int64)
    record = {k: result.get(k) for k in ("metric", "test", "val", "epochs", "best_epoch", "n_train", "n_val",
                                         "n_test", "max_epochs_reached", "seconds_per_epoch", "auc_labels",
                                         "threshold")}
    record.update(task=job["task"], model=job["model"], dataset=data.name, fidelity=data.fidelity,
                  protocol=job["protocol"], split=split.name, seed=job["split"], unit=unit, factor=factor,
                  n_dropped=len(result.get("dropped", [])),
                  test_reported=result["test"] * (factor if result["metric"] == "mae" else 1.0),
                  max_epochs=job["megnet_max_epochs"] if job["model"] == "MEGNet" else job["max_epochs"],
                  max_time=job["megnet_max_time"] if job["model"] == "MEGNet" else None,
                  patience=job["patience"], batch_size=job["batch_size"], wall_seconds=time.time() - start,
                  predictions={"index": data.index[positions].tolist(), "target": data.targets[positions].tolist(),
                               "prediction": result["predictions"]["prediction"]},
                  provenance=provenance(threads=job["threads"]))
    path = job["path"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as handle:
        json.dump(record, handle)
    os.replace(path + ".tmp", path)
    return path


def jobs_for(args):
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
                                 batch_size=args.batch_size, threads=args.threads, path=path))
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--tasks", default="", help="comma-separated (matbench_ prefix optional); default all")
    parser.add_argument("--models", default="", help=f"comma-separated; default all of {', '.join(ALL_MODELS)}")
    parser.add_argument("--protocol", default="paper", choices=["paper", "matbench"])
    parser.add_argument("--seeds", default="0-4", help="paper seeds / matbench folds (default 0-4)")
    parser.add_argument("--max-epochs", type=int, default=10000, help="cap on child epochs (10000)")
    parser.add_argument("--patience", type=int, default=200, help="early-stopping patience (paper: 200)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch size (default: the package's, by task type; MEGNet 128)")
    parser.add_argument("--megnet-max-epochs", type=int, default=1000, help="cap on MEGNet epochs (1000)")
    parser.add_argument("--megnet-max-time", default=None, help="wall-time cap per MEGNet run, DD:HH:MM:SS")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    parser.add_argument("--results", default=DEFAULT_RESULTS)
    parser.add_argument("--redo", action="store_true", help="redo runs that already have results")
    args = parser.parse_args()
    jobs = jobs_for(args)
    print(f"{len(jobs)} runs to do ({args.jobs} at a time, {args.threads} thread(s) each); results in {args.results}")
    if not jobs:
        return 0
    start = time.time()

    def finished(job, path):
        with open(path) as handle:
            record = json.load(handle)
        return (f"{job['task']} {job['model']} split {job['split']}: {record['metric']} "
                f"{record['test_reported']:.4g} ({record['epochs']} epochs, {record['wall_seconds']:.0f} s)")

    failed = run_jobs(run_one, jobs, args.jobs, finished, lambda j: f"{j['task']} {j['model']} split {j['split']}")
    print(f"runs done in {(time.time() - start) / 60:.1f} min; {failed} failed. Tables: "
          "python benchmarks/table2/report.py")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
