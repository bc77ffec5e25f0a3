#!/usr/bin/env python
"""Same seed, same numbers: `atomsets train` in this checkout against another checkout (the
commit before a change), on the same machine, run by run.

    python benchmarks/equivalence.py --baseline ../base             # the three default runs
    python benchmarks/equivalence.py --baseline ../base --runs steels:AtomSets-V0:0 --save
    python benchmarks/equivalence.py --baseline ../base --checkout ../other --save equivalence-other

Each run is the user's command, ``atomsets train --task T --model M --seeds S`` (paper
protocol, one thread), started in a fresh process per side, the sides alternating; the
test score, validation score, best epoch and epoch count of both are recorded and compared
exactly. Training is deterministic per machine, not across CPUs (their float kernels
differ), so only a comparison made on one machine means anything.

``--checkout`` compares two other checkouts (e.g. one commit of a series against its
parent), both from the same command line. Writes ``runs/equivalence.json`` (untracked), or
``benchmarks/results/<NAME>.json`` with ``--save [NAME]`` (default ``equivalence``); exits 1
when a run differs.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from provenance import ROOT, git_describe, shared_dir, write_results  # noqa: E402

DEFAULT_RUNS = "steels:AtomSets-V0:0,phonons:AtomSets-V1:0,glass:AtomSets-V0:0"
# both the 0.1 module and the 0.2 package expose torch_atomsets.cli.main
LAUNCH = "import sys; sys.argv = ['atomsets'] + sys.argv[1:]; from torch_atomsets.cli import main; sys.exit(main())"
COMPARED = ("test", "val", "best_epoch", "epochs")


def train(checkout, task, model, seed, results, threads, new_cli, cache):
    command = [sys.executable, "-c", LAUNCH, "train", "--task", task, "--model", model, "--seeds", str(seed),
               "--results-dir", results, "--quiet"]
    if new_cli:  # 0.1 has no --threads; OMP_NUM_THREADS sets its count
        command += ["--threads", str(threads)]
    # each side its own feature cache: the cache format of two versions may differ
    env = dict(os.environ, PYTHONPATH=checkout, OMP_NUM_THREADS=str(threads), TORCH_ATOMSETS_CACHE=cache,
               TORCH_ATOMSETS_HOME=os.path.abspath(shared_dir()))
    out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=results, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{checkout}: atomsets train --task {task} --model {model} failed:\n{out.stderr[-3000:]}")
    (path,) = glob.glob(os.path.join(results, "*", "*", f"paper-seed-{seed}", "metrics.json"))
    metrics = json.load(open(path))
    return {key: metrics.get(key) for key in COMPARED + ("metric", "unit")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--baseline", required=True, help="the other checkout of torch_atomsets")
    parser.add_argument("--checkout", default=ROOT, help="the checkout compared with it (default: this one)")
    parser.add_argument("--runs", default=DEFAULT_RUNS, help=f"TASK:MODEL:SEED,... (default {DEFAULT_RUNS})")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save", nargs="?", const="equivalence", default=None, metavar="NAME",
                        help="write benchmarks/results/NAME.json (default NAME: equivalence)")
    args = parser.parse_args()
    baseline, checkout = os.path.abspath(args.baseline), os.path.abspath(args.checkout)
    sides = {"torch_atomsets": (checkout, True),
             "baseline": (baseline, os.path.isdir(os.path.join(baseline, "torch_atomsets", "cli")))}
    rows = []
    caches = tempfile.TemporaryDirectory(prefix="equivalence-caches-")
    for spec in args.runs.split(","):
        task, model, seed = spec.split(":")
        row = {"task": task, "model": model, "seed": int(seed)}
        for name, (side, new_cli) in sides.items():
            with tempfile.TemporaryDirectory(prefix="equivalence-") as results:
                row[name] = train(side, task, model, int(seed), results, args.threads, new_cli,
                                  os.path.join(caches.name, name))
        row["identical"] = all(row["torch_atomsets"][k] == row["baseline"][k] for k in COMPARED)
        rows.append(row)
        ours, base = row["torch_atomsets"], row["baseline"]
        print(f"{task} {model} seed {seed}: {ours['metric']} {ours['test']!r} (best epoch {ours['best_epoch']} of "
              f"{ours['epochs']}) vs baseline {base['test']!r} ({base['best_epoch']} of {base['epochs']}): "
              f"{'identical' if row['identical'] else 'DIFFERENT'}", flush=True)
    result = {"runs": rows, "all_identical": all(r["identical"] for r in rows), "threads": args.threads,
              "checkout": git_describe(checkout), "baseline": git_describe(baseline), "protocol": "paper"}
    if args.save:
        path = write_results(f"{args.save}.json", result, threads=args.threads)
    else:
        path = write_results("equivalence.json", result, folder=os.path.join(ROOT, "runs"), threads=args.threads)
    print(f"wrote {os.path.relpath(path, ROOT)}")
    return 0 if result["all_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
