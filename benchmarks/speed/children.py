#!/usr/bin/env python
"""Seconds per epoch of AtomSets children against maml's Keras AtomSets (the reference
implementation), on identical inputs, measured alternately in one run.

    python benchmarks/speed/children.py --maml-python KERAS/bin/python [--baseline ../base] --save

Cases: AtomSets-V1 on the matbench_phonons paper split (seed 0; V1 rows from the cache) and
AtomSets (trainable embedding) on matbench_steels; batch 128, Adam 1e-3, 2 x 64 relu before
and after the readout, on both sides. Like for like: the weighted-mean readout and MAE loss
(maml's Set2Set has other gates, so the set2set rows are marked as not like for like). Our
epoch is timed whole, from its start to the next epoch's start (our EpochTimer): training,
validation, logging and the checkpoint written on each improvement; maml's from Keras'
on_epoch_begin to on_epoch_end. Each side runs in a fresh process per round, rounds alternating; medians of per-epoch times,
then the median over rounds. Threads set explicitly (default 1).

A third side, ``bare_pytorch``, trains the same network on the same batches with the same
loss and optimiser in a plain PyTorch loop (no Lightning, metrics or checkpoints): how much
of our epoch the training framework takes (``lightning_share``), and how far from maml the
model math alone is (``bare_pytorch_vs_maml``, the most any training loop could give).

Writes ``runs/child_speed.json`` unless ``--save`` (``benchmarks/results/speed/children.json``).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from provenance import ROOT, git_describe, package_checkout, shared_dir, write_results  # noqa: E402

CASES = {"phonons-V1": ("matbench_phonons", "AtomSets-V1"), "steels-embedding": ("matbench_steels", "AtomSets")}
READOUTS = ("mean", "set2set")


def worker(args):
    """Our side: train ``args.epochs`` epochs of one case; print JSON. Writes the inputs for
    maml to ``args.export`` when given."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    task, model = CASES[args.case]
    settings = dict(model=model, readout=args.readout, loss="mae", batch_size=128, learning_rate=1e-3,
                    max_epochs=args.epochs, patience=10 ** 6)
    if args.bare:
        return bare_worker(args, settings)
    try:
        from torch_atomsets.data.datasets import load_task, paper_split
        from torch_atomsets.training import ChildConfig, train_child
    except ImportError:  # a baseline checkout from before the 0.2 layout (flat modules)
        from torch_atomsets.data.matbench import load_task
        from torch_atomsets.data.splits import paper_split
        from torch_atomsets.training import ChildConfig, train_child

        data = load_task(task, allow_download=False)
        result = train_child(data, paper_split(len(data), 0), ChildConfig(**settings), seed=0,
                             output_dir=os.path.join(args.workdir, "run"))
        assert not args.export, "the inputs for maml are written by the current checkout"
    else:
        data = load_task(task, allow_download=False)
        split = paper_split(len(data), 0)
        result = train_child(data, split, ChildConfig.of(**settings), seed=0,
                             run_dir=os.path.join(args.workdir, "run"))
    if args.export:
        from torch_atomsets.data.features.sets import build_store
        from torch_atomsets.models import model_spec

        parent_model = key = None
        if model != "AtomSets":
            from torch_atomsets import load_parent

            parent = load_parent()
            parent_model, key = parent.model, parent.key
        store = build_store(data, model_spec(model).level, parent_model, key)
        rows = {"z": store.x.numpy()} if store.x.dtype == torch.long else {"x": store.x.numpy()}
        np.savez(args.export, ptr=store.ptr.numpy(), weight=store.weight.numpy(), y=store.y.numpy(),
                 train=split.train, val=split.val, **rows)
    import torch_atomsets

    print(json.dumps({"seconds_per_epoch": result["seconds_per_epoch"], "epochs": result["epochs"],
                      "n_train": result["n_train"], "package": package_checkout(torch_atomsets)}))


def bare_worker(args, settings):
    """The floor under our side: the same network, batches, loss and optimiser in a plain
    PyTorch loop (no Lightning, no metrics, no checkpoint). Our side minus this is what the
    training framework costs; maml over this is the most any framework could give."""
    import time

    import numpy as np
    import torch

    import torch_atomsets
    from torch_atomsets.data.datasets import load_task, paper_split
    from torch_atomsets.lightning import ChildDataModule, ChildModule
    from torch_atomsets.models import model_spec

    torch.manual_seed(0)
    data = load_task(CASES[args.case][0], allow_download=False)
    datamodule = ChildDataModule(data, level=model_spec(settings["model"]).level, split=paper_split(len(data), 0),
                                 batch_size=settings["batch_size"], allow_download=False)
    datamodule.prepare_data()
    datamodule.setup("fit")
    module = ChildModule(model=settings["model"], readout=settings["readout"], loss=settings["loss"],
                         learning_rate=settings["learning_rate"], **datamodule.facts("none"))
    module.configure_model()
    optimiser = torch.optim.Adam(module.parameters(), lr=settings["learning_rate"])
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        module.train()
        for batch in datamodule.train_dataloader():
            loss = module.compute_loss(module(batch), batch.y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        module.eval()
        with torch.no_grad():
            for batch in datamodule.val_dataloader():
                module.output(module(batch))
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds_per_epoch": float(np.median(seconds)), "epochs": args.epochs,
                      "n_train": datamodule.part_sizes()["train"], "package": package_checkout(torch_atomsets)}))


def run(command, env):
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--maml-python", help="python of the Keras environment with maml")
    parser.add_argument("--baseline", help="another checkout of torch_atomsets, measured alternately too")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--readout", default="mean", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    import numpy as np

    env = dict(os.environ, TORCH_ATOMSETS_HOME=os.path.abspath(shared_dir()), OMP_NUM_THREADS=str(args.threads))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            for readout in READOUTS:
                key = f"{case} {readout}"
                sides = {"torch_atomsets": [], "bare_pytorch": [], "baseline": [], "maml": []}
                inputs = os.path.join(tmp, f"{case}.npz")
                for r in range(args.rounds):
                    ours = [sys.executable, __file__, "--worker", "--case", case, "--readout", readout, "--epochs",
                            str(args.epochs), "--threads", str(args.threads), "--workdir", os.path.join(tmp, f"{key}{r}")]
                    export = ["--export", inputs] if not os.path.exists(inputs) else []
                    sides["torch_atomsets"].append(run(ours + export, dict(env, PYTHONPATH=ROOT)))
                    sides["bare_pytorch"].append(run(ours + ["--bare"], dict(env, PYTHONPATH=ROOT)))
                    if args.baseline:
                        base = ours[:-1] + [os.path.join(tmp, f"{key}{r}b")]
                        # its own feature cache: another version's cache layout is not ours
                        sides["baseline"].append(run(base, dict(env, PYTHONPATH=os.path.abspath(args.baseline),
                                                                TORCH_ATOMSETS_CACHE=os.path.join(tmp, "baseline-cache"))))
                    if args.maml_python:
                        maml = [args.maml_python, os.path.join(os.path.dirname(HERE), "keras", "maml_children.py"),
                                "--inputs", inputs, "--epochs", str(args.epochs), "--batch-size", "128", "--readout",
                                readout, "--loss", "mae", "--threads", str(args.threads)]
                        sides["maml"].append(run(maml, env))
                    line = ", ".join(f"{name} {s[-1].get('seconds_per_epoch', s[-1].get('median')):.4f}"
                                     if name != "maml" else f"maml {s[-1]['median']:.4f}"
                                     for name, s in sides.items() if s)
                    print(f"{key} round {r + 1}: s/epoch {line}", flush=True)
                medians = {name: float(np.median([x["median"] if name == "maml" else x["seconds_per_epoch"]
                                                  for x in s])) for name, s in sides.items() if s}
                results[key] = {"seconds_per_epoch": medians, "like_for_like": readout == "mean",
                                "n_train": sides["torch_atomsets"][0]["n_train"],
                                "speedup_vs_maml": medians["maml"] / medians["torch_atomsets"] if "maml" in medians
                                else None,
                                "bare_pytorch_vs_maml": medians["maml"] / medians["bare_pytorch"] if "maml" in medians
                                else None,
                                "lightning_share": 1 - medians["bare_pytorch"] / medians["torch_atomsets"],
                                "speedup_vs_baseline": medians["baseline"] / medians["torch_atomsets"]
                                if "baseline" in medians else None, "rounds": sides}
    payload = {"epochs": args.epochs, "rounds": args.rounds, "threads": args.threads, "batch_size": 128,
               "loss": "mae", "cases": results, "epoch_timing": "start of one epoch to the start of the next",
               "baseline": git_describe(os.path.abspath(args.baseline)) if args.baseline else None}
    path = write_results(os.path.join("speed", "children.json") if args.save else "child_speed.json", payload,
                         **({} if args.save else {"folder": os.path.join(ROOT, "runs")}), threads=args.threads)
    print()
    for key, r in results.items():
        extra = "" if r["like_for_like"] else "  (set2set: maml's gates differ; not like for like)"
        vs = f"{r['speedup_vs_maml']:.1f}x maml" if r["speedup_vs_maml"] else ""
        vb = f", {r['speedup_vs_baseline']:.2f}x baseline" if r["speedup_vs_baseline"] else ""
        print(f"{key:26s} {r['seconds_per_epoch']['torch_atomsets'] * 1000:7.1f} ms/epoch  {vs}{vb}{extra}; "
              f"bare PyTorch loop {r['seconds_per_epoch']['bare_pytorch'] * 1000:.1f} ms/epoch"
              + (f" ({r['bare_pytorch_vs_maml']:.1f}x maml)" if r["bare_pytorch_vs_maml"] else ""))
    print(f"wrote {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
