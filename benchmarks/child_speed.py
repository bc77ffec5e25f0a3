#!/usr/bin/env python
"""Per-epoch speed of AtomSets children, against the reference implementation (maml's Keras
AtomSets) measured on this machine, and at scale.

    python benchmarks/child_speed.py                 # small: phonons (V1) and steels (embedding)
    python benchmarks/child_speed.py --scale         # also: featurise mp_e_form_approx (86,847
                                                     # structures) and time AtomSets-V1 epochs on it

Seconds per epoch are the median wall time of a training epoch with its validation pass,
batch 128, on the paper's 80/10/10 split (seed 0). The maml figures are the issue's
(measured on this machine): 0.089 s/epoch on 1,012 phonons training structures with V1
features, 0.068 s/epoch on steels with the trainable embedding. Writes
benchmarks/results/child_speed.json.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import machine, peak_rss_mib, write_results  # noqa: E402

MAML_SECONDS_PER_EPOCH = {"matbench_phonons AtomSets-V1": 0.089, "matbench_steels AtomSets": 0.068}


def epoch_time(data, model, epochs, batch_size, seed=0, progress=False):
    from torch_atomsets.data.splits import paper_split
    from torch_atomsets.training import ChildConfig, train_child

    split = paper_split(len(data), seed)
    config = ChildConfig(model=model, max_epochs=epochs, patience=10 ** 6, batch_size=batch_size)
    start = time.perf_counter()
    result = train_child(data, split, config, seed=seed, progress=progress)
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100, help="epochs per small run (100)")
    parser.add_argument("--scale", action="store_true", help="also run the 86,847-structure benchmark")
    parser.add_argument("--scale-epochs", type=int, default=3)
    parser.add_argument("--scale-batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    from torch_atomsets import load_parent
    from torch_atomsets.data.feature_cache import FeatureCache
    from torch_atomsets.data.matbench import load_task

    if args.threads:
        torch.set_num_threads(args.threads)
    results = {"machine": machine(), "small": {}}
    for task, model in (("matbench_phonons", "AtomSets-V1"), ("matbench_steels", "AtomSets")):
        data = load_task(task, allow_download=False)
        if model != "AtomSets":  # featurise first, so the epochs measured are pure training
            FeatureCache(load_parent()).load(data)
        result, seconds = epoch_time(data, model, args.epochs, 128)
        key = f"{task} {model}"
        reference = MAML_SECONDS_PER_EPOCH[key]
        results["small"][key] = {"n_train": result["n_train"], "seconds_per_epoch": result["seconds_per_epoch"],
                                 "maml_seconds_per_epoch": reference,
                                 "speedup_vs_maml": reference / result["seconds_per_epoch"],
                                 "epochs": result["epochs"], "wall_seconds": seconds}
        print(f"{key:32s} {result['n_train']:6d} train  {result['seconds_per_epoch'] * 1000:7.1f} ms/epoch  "
              f"(maml {reference * 1000:.0f} ms: {reference / result['seconds_per_epoch']:.1f}x)")

    if args.scale:
        data = load_task("matbench_mp_e_form_approx", allow_download=False)
        parent = load_parent()
        cache = FeatureCache(parent)
        fresh = not cache.exists(data)
        start = time.perf_counter()
        stored = cache.load(data, progress=True)
        featurise_seconds = time.perf_counter() - start
        if not fresh:
            featurise_seconds = stored.meta["seconds"]
        print(f"featurised {len(data)} structures ({stored.meta['n_atoms']} atoms, {stored.meta['n_failed']} failed) "
              f"in {featurise_seconds:.0f} s ({len(data) / featurise_seconds:.0f} structures/s)"
              + ("" if fresh else " [from the cache's record]"))
        result, seconds = epoch_time(data, "AtomSets-V1", args.scale_epochs, args.scale_batch_size, progress=True)
        results["scale"] = {"dataset": data.name, "n_structures": len(data), "n_atoms": stored.meta["n_atoms"],
                            "n_failed": stored.meta["n_failed"], "featurise_seconds": featurise_seconds,
                            "featurise_structures_per_s": len(data) / featurise_seconds,
                            "n_train": result["n_train"], "batch_size": args.scale_batch_size,
                            "seconds_per_epoch": result["seconds_per_epoch"], "epochs": result["epochs"],
                            "peak_rss_mib": peak_rss_mib()}
        print(f"AtomSets-V1 on {result['n_train']} training structures, batch {args.scale_batch_size}: "
              f"{result['seconds_per_epoch']:.2f} s/epoch (target 10 s, at most 30 s)")
    path = write_results("child_speed.json" if args.scale else "child_speed_small.json", results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
