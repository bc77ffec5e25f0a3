#!/usr/bin/env python
"""Seconds per epoch of MEGNet training versus AtomSets-V1 training on the same structures.

    python benchmarks/speed/pretrain.py [--n 10000] [--epochs 2] [--threads 2] [--save]

Both on the first N structures of mp_e_form_approx (approximate MP structures), the
paper's 80/10/10 split (seed 0), batch 128, this CPU. The graphs (MEGNet) and the parent
features (AtomSets-V1) are built first and reported apart, so the epochs measured are
training alone (with each epoch's validation pass). MEGNet is timed twice, alternately in
each round: stepping on symmetry-compressed graphs (the default on a CPU) and on the full
graphs (``compress_graphs=False``). Medians over ``--rounds``. The paper reports >300 s
versus ~10 s per epoch on a GPU for 132,752 structures (~30x). Writes
runs/pretrain_speed.json, or benchmarks/results/speed/pretrain.json with --save.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from provenance import ROOT, peak_rss_mib, write_results  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=2, help="MEGNet epochs (the median is reported)")
    parser.add_argument("--child-epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)

    from torch_atomsets import load_parent
    from torch_atomsets.data.datasets import load_task, paper_split
    from torch_atomsets.data.features import FeatureCache
    from torch_atomsets.data.graphs import graph_dataset
    from torch_atomsets.training import ChildConfig, MEGNetConfig, train_child, train_megnet

    data = load_task("matbench_mp_e_form_approx", allow_download=False).subset(np.arange(args.n))
    split = paper_split(len(data), 0)
    start = time.perf_counter()
    graphs = graph_dataset(data, 5.0, progress=True)
    graph_seconds = time.perf_counter() - start
    start = time.perf_counter()
    parent = load_parent()
    FeatureCache(parent.model, parent.key).load(data, progress=True)
    feature_seconds = time.perf_counter() - start
    print(f"{len(data)} structures: graphs {graph_seconds:.0f} s ({graphs.meta['n_edges']} bonds), "
          f"parent features {feature_seconds:.0f} s")

    sides = {"megnet": [], "megnet_full_graphs": [], "atomsets_v1": []}
    for _ in range(args.rounds):
        for name, compressed in (("megnet", True), ("megnet_full_graphs", False)):
            megnet = train_megnet(data, split, MEGNetConfig(batch_size=128, patience=10 ** 6, compress_graphs=compressed,
                                                            trainer={"max_epochs": args.epochs, "logger": False}),
                                  progress=True)
            sides[name].append(megnet["seconds_per_epoch"])
        child = train_child(data, split, ChildConfig.of(model="AtomSets-V1", batch_size=128,
                                                        max_epochs=args.child_epochs, patience=10 ** 6,
                                                        trainer={"logger": False}), progress=True)
        sides["atomsets_v1"].append(child["seconds_per_epoch"])
    medians = {name: float(np.median(values)) for name, values in sides.items()}
    ratio = medians["megnet"] / medians["atomsets_v1"]
    result = {"n_structures": len(data), "n_train": megnet["n_train"], "batch_size": 128,
              "megnet_seconds_per_epoch": medians["megnet"], "megnet_epochs": args.epochs,
              "megnet_full_graphs_seconds_per_epoch": medians["megnet_full_graphs"],
              "compression_speedup": medians["megnet_full_graphs"] / medians["megnet"],
              "atomsets_v1_seconds_per_epoch": medians["atomsets_v1"], "atomsets_epochs": child["epochs"],
              "rounds": args.rounds, "per_round": sides,
              "ratio": ratio, "paper_ratio": "~30 (>300 s vs ~10 s per epoch, GPU, 132,752 structures)",
              "graph_build_seconds": graph_seconds, "feature_build_seconds": feature_seconds,
              "n_bonds": graphs.meta["n_edges"], "peak_rss_mib": peak_rss_mib()}
    path = write_results(os.path.join("speed", "pretrain.json") if args.save else "pretrain_speed.json", result,
                         **({} if args.save else {"folder": os.path.join(ROOT, "runs")}), threads=args.threads)
    print(f"MEGNet {medians['megnet']:.1f} s/epoch ({medians['megnet_full_graphs']:.1f} on full graphs) vs AtomSets-V1 "
          f"{medians['atomsets_v1']:.2f} s/epoch on {megnet['n_train']} training structures: {ratio:.0f}x; wrote {path}")


if __name__ == "__main__":
    main()
