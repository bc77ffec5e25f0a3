#!/usr/bin/env python
"""The screening behind the children's default training settings (batch size, learning
rate, readout, loss), by validation error only: the test parts are never scored.

    python benchmarks/screening/defaults.py --jobs 2          # resumable
    python benchmarks/screening/defaults.py --report          # tables (Markdown) from the results

Paper protocol (random 80/10/10, seeds as listed), 2 dense layers of 64 before and after
the readout, relu, patience 200, cap 10,000 epochs; the metric is the best validation
score of each run, averaged over seeds. Grids:

- matbench_steels, AtomSets-V0 and AtomSets (trainable embedding), seeds 0-4: batch
  16 / 32 / 128 x readout mean / set2set x learning rate 1e-3 / 3e-3 (validation MAE);
- matbench_glass, AtomSets-V0, seeds 0-1: (16, set2set, 3e-3), (128, set2set, 1e-3),
  (128, mean, 1e-3), (32, set2set, 1e-3) (validation ROC-AUC);
- matbench_phonons, AtomSets-V1, set2set, seeds 0-1: batch 16 / 32 / 128 x 3e-3 / 1e-3;
- loss, MAE against MSE with the chosen settings: matbench_jdft2d AtomSets-V1 and
  matbench_steels AtomSets-V0 (seeds 0-4), matbench_phonons AtomSets-V1 (seeds 0-1).

One JSON line per run in benchmarks/results/screening/defaults.jsonl (with provenance).
"""
import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from provenance import RESULTS, provenance  # noqa: E402

PATH = os.path.join(RESULTS, "screening", "defaults.jsonl")


def grid():
    """(group, task, seeds, options) of every setting screened."""
    out = []
    for model in ("AtomSets-V0", "AtomSets"):
        for batch in (16, 32, 128):
            for readout in ("mean", "set2set"):
                for lr in (1e-3, 3e-3):
                    out.append(("steels batch/readout/lr", "matbench_steels", range(5),
                                {"model": model, "batch_size": batch, "readout": readout, "learning_rate": lr}))
    for batch, readout, lr in ((16, "set2set", 3e-3), (128, "set2set", 1e-3), (128, "mean", 1e-3), (32, "set2set", 1e-3)):
        out.append(("glass batch/readout/lr", "matbench_glass", range(2),
                    {"model": "AtomSets-V0", "batch_size": batch, "readout": readout, "learning_rate": lr}))
    for batch in (16, 32, 128):
        for lr in (3e-3, 1e-3):
            out.append(("phonons batch/lr", "matbench_phonons", range(2),
                        {"model": "AtomSets-V1", "batch_size": batch, "readout": "set2set", "learning_rate": lr}))
    for task, model, seeds in (("matbench_jdft2d", "AtomSets-V1", range(5)), ("matbench_steels", "AtomSets-V0", range(5)),
                               ("matbench_phonons", "AtomSets-V1", range(2))):
        for loss in ("mae", "mse"):
            out.append(("loss", task, seeds, {"model": model, "loss": loss, "batch_size": 16, "readout": "set2set",
                                              "learning_rate": 3e-3}))
    return out


def key(task, options, seed):
    return json.dumps([task, options, seed], sort_keys=True)


def run_one(job):
    import torch

    torch.set_num_threads(job["threads"])
    from torch_atomsets.data.datasets import load_task, paper_split
    from torch_atomsets.training import ChildConfig, train_child

    data = load_task(job["task"], allow_download=False)
    config = ChildConfig.of(**job["options"], patience=200, max_epochs=10000, trainer={"logger": False})
    result = train_child(data, paper_split(len(data), job["seed"]), config, seed=job["seed"], test=False)
    return dict(job, val=result["val"], metric=result["metric"], epochs=result["epochs"],
                provenance=provenance(threads=job["threads"]))


def records():
    if not os.path.exists(PATH):
        return []
    with open(PATH) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def report():
    rows = records()
    lines = []
    for group in dict.fromkeys(g for g, *_ in grid()):
        lines += [f"### {group}", "", "| task | setting | seeds | validation (mean ± std) |", "|---|---|---|---|"]
        for g, task, seeds, options in grid():
            if g != group:
                continue
            values = [r["val"] for r in rows if r["task"] == task and r["options"] == options]
            text = f"{np.mean(values):.4g} ± {np.std(values):.2g}" if values else "not run"
            setting = ", ".join(f"{k}={v}" for k, v in options.items())
            lines.append(f"| {task} | {setting} | {len(values)}/{len(seeds)} | {text} |")
        lines.append("")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.report:
        return report()
    done = {key(r["task"], r["options"], r["seed"]) for r in records()}
    jobs = [dict(group=g, task=t, options=o, seed=s, threads=args.threads) for g, t, seeds, o in grid() for s in seeds
            if key(t, o, s) not in done]
    print(f"{len(jobs)} runs to do")
    import multiprocessing

    from tqdm import tqdm

    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_one, job) for job in jobs]
        for future in tqdm(as_completed(futures), total=len(jobs), unit="run"):
            with open(PATH, "a") as handle:
                handle.write(json.dumps(future.result()) + "\n")
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
