#!/usr/bin/env python
"""Scale on whatever device is present: featurise the 86,847 structures of
matbench_mp_e_form_approx with the published parent, then time a full AtomSets-V1 epoch and a
full MEGNet epoch on them. One command, on a GPU or a CPU:

    python benchmarks/speed/device.py --save                 # device: cuda if present, else cpu
    python benchmarks/speed/device.py --device cpu --threads 2 --n 10000

The paper's figures (a GTX 1080Ti): ~10 s per AtomSets-V1 epoch and > 300 s per MEGNet epoch
on 132,752 structures. Featurisation is timed cold into a fresh cache (graphs built on the
CPU, batches pinned and copied without blocking); the epochs are the medians of
``--epochs`` epochs (validation and checkpointing included) on the paper's 80/10/10 split
(seed 0), batch 128. Writes ``benchmarks/results/speed/device-<device>.json`` with --save,
else ``runs/device_speed.json``.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from provenance import ROOT, peak_rss_mib, write_results  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--device", default=None, help="cuda, cuda:1, cpu (default: cuda if present)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--n", type=int, default=None, help="only the first N structures (quick checks)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each model (median reported)")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    accelerator = "gpu" if device.type == "cuda" else "cpu"
    from torch_atomsets import load_parent
    from torch_atomsets.data.datasets import load_task, paper_split
    from torch_atomsets.data.features import FeatureCache
    from torch_atomsets.data.graphs import graph_dataset
    from torch_atomsets.training import ChildConfig, MEGNetConfig, train_child, train_megnet

    data = load_task("matbench_mp_e_form_approx", allow_download=False)
    if args.n:
        data = data.subset(np.arange(args.n))
    split = paper_split(len(data), 0)
    parent = load_parent(device=device)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["TORCH_ATOMSETS_CACHE"] = cache  # cold: a fresh cache for features and graphs
        start = time.perf_counter()
        stored = FeatureCache(parent.model, parent.key).load(data, progress=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        featurise = time.perf_counter() - start
        print(f"featurised {len(data)} structures on {name} in {featurise:.0f} s ({len(data) / featurise:.0f}/s)")
        devices = {"accelerator": accelerator, "devices": [device.index or 0] if device.type == "cuda" else 1}
        child = train_child(data, split, ChildConfig.of(model="AtomSets-V1", batch_size=128, max_epochs=args.epochs,
                                                        patience=10 ** 6, trainer=dict(devices, logger=False)),
                            parent=parent, progress=True)
        print(f"AtomSets-V1: {child['seconds_per_epoch']:.2f} s per epoch on {child['n_train']} structures")
        start = time.perf_counter()
        graphs = graph_dataset(data, parent.model.cutoff, progress=True)
        graph_seconds = time.perf_counter() - start
        megnet = train_megnet(data, split, MEGNetConfig(batch_size=128, patience=10 ** 6, trainer=dict(
            devices, max_epochs=args.epochs, logger=False)), progress=True)
        print(f"MEGNet: {megnet['seconds_per_epoch']:.1f} s per epoch (graphs built in {graph_seconds:.0f} s)")
    result = {"device": name, "dataset": data.name, "n_structures": len(data), "n_atoms": stored.meta["n_atoms"],
              "n_failed": stored.meta["n_failed"], "n_bonds": graphs.meta["n_edges"],
              "featurize": {"seconds": featurise, "structures_per_s": len(data) / featurise},
              "child_epoch_seconds": child["seconds_per_epoch"], "child_n_train": child["n_train"],
              "megnet_epoch_seconds": megnet["seconds_per_epoch"], "megnet_n_train": megnet["n_train"],
              "graph_build_seconds": graph_seconds, "epochs": args.epochs, "batch_size": 128,
              "peak_rss_mib": peak_rss_mib(),
              "paper": "GTX 1080Ti, 132,752 structures: ~10 s per AtomSets-V1 epoch, > 300 s per MEGNet epoch"}
    if device.type == "cuda":
        result["peak_gpu_memory_mib"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
    slug = "cpu" if device.type == "cpu" else name.lower().replace(" ", "-")
    path = write_results(os.path.join("speed", f"device-{slug}.json") if args.save else "device_speed.json", result,
                         **({} if args.save else {"folder": os.path.join(ROOT, "runs")}))
    print(f"wrote {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
