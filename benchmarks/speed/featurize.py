#!/usr/bin/env python
"""Featurisation speed of the published parent, against the original Keras and against
another checkout, measured alternately in one run; and the Li2O exactness check. The main
job of ./run.sh.

    python benchmarks/speed/featurize.py                          # ours only; results in runs/
    python benchmarks/speed/featurize.py --keras-python KERAS/bin/python --baseline ../base --save

Work measured: structures (pymatgen objects, read beforehand) -> crystal graphs -> forward
pass -> every feature level (V0..V3, u1..u3, f, v_r, e_r, prediction), on the 1,265
structures of matbench_phonons plus the first 1,000 of matbench_dielectric (892k bonds).
Each side runs in fresh processes, one per round, rounds alternating between the sides (so
a busy machine slows all of them alike); within a process the first pass is cold (lazy
initialisation included), the others warm. Threads are set explicitly (default 1). The
ratios are medians over rounds.

Writes ``runs/featurize_speed.json`` (untracked) unless ``--save`` (then
``benchmarks/results/speed/featurize.json``). Exits 1 only if the Li2O prediction is not
megnet's own unit-test value.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from provenance import ROOT, git_describe, package_checkout, shared_dir, structure_dicts, write_results  # noqa: E402

LI2O = -2.0152957  # megnet's unit test (tests/test_models.py), eV/atom


def worker(args):
    """One process of our side: read, then time ``passes`` featurisations; print JSON."""
    import torch

    torch.set_num_threads(args.threads)
    from pymatgen.core import Structure

    import torch_atomsets
    from torch_atomsets import load_parent

    dicts = structure_dicts("matbench_phonons") + structure_dicts("matbench_dielectric", 1000)
    start = time.perf_counter()
    structures = [Structure.from_dict(d) for d in dicts[:args.count]]
    read = time.perf_counter() - start
    parent = load_parent("mp-2019.4.1", allow_download=False, weights_dir=os.path.join(shared_dir(), "models"))
    times = []
    for _ in range(args.passes):
        start = time.perf_counter()
        features = parent.featurize(structures)
        times.append(time.perf_counter() - start)
    li2o = float(parent.predict([_li2o()])[0])
    print(json.dumps({"seconds": times, "read_seconds": read, "n_structures": len(structures),
                      "n_atoms": int(features.atom_ptr[-1]), "li2o": li2o, "package": package_checkout(torch_atomsets)}))


def _li2o():
    import pymatgen.util
    from pymatgen.core import Structure

    return Structure.from_file(os.path.join(list(pymatgen.util.__path__)[0], "structures", "Li2O.json"))


def run_side(command, env):
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command[:2])} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--threads", type=int, default=1, help="threads per side (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--passes", type=int, default=3, help="passes per process; the first is cold (default 3)")
    parser.add_argument("--keras-python", help="python of an environment with megnet 1.3.2 (keras/reference.py)")
    parser.add_argument("--baseline", help="another checkout of torch_atomsets (e.g. the commit before a change)")
    parser.add_argument("--count", type=int, default=None, help="only the first COUNT structures (quick checks)")
    parser.add_argument("--save", action="store_true", help="write benchmarks/results/speed/featurize.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if not os.path.isdir(os.path.join(shared_dir(), "data")):
        raise SystemExit(f"error: no data folder at {shared_dir()}; set TORCH_ATOMSETS_HOME to the folder holding "
                         "data/ and models/ (../shared beside the checkout)")
    env = dict(os.environ, TORCH_ATOMSETS_HOME=os.path.abspath(shared_dir()), OMP_NUM_THREADS=str(args.threads))
    mine = [sys.executable, __file__, "--worker", "--threads", str(args.threads), "--passes", str(args.passes)]
    if args.count:
        mine += ["--count", str(args.count)]
    sides = {"torch_atomsets": (mine, dict(env, PYTHONPATH=ROOT))}
    if args.baseline:
        sides["baseline"] = (mine, dict(env, PYTHONPATH=os.path.abspath(args.baseline)))
    if args.keras_python:
        keras = [args.keras_python, os.path.join(os.path.dirname(HERE), "keras", "featurize.py"), "--threads",
                 str(args.threads), "--passes", str(args.passes)] + (["--count", str(args.count)] if args.count else [])
        sides["keras"] = (keras, env)
    rounds = {name: [] for name in sides}
    for r in range(args.rounds):
        for name, (command, side_env) in sides.items():
            rounds[name].append(run_side(command, side_env))
            seconds = rounds[name][-1]["seconds"]
            print(f"round {r + 1} {name:15s} cold {seconds[0]:6.2f} s, warm {min(seconds[1:] or seconds):6.2f} s",
                  flush=True)
    import numpy as np

    n = rounds["torch_atomsets"][0]["n_structures"]
    summary = {}
    for name, results in rounds.items():
        cold = float(np.median([r["seconds"][0] for r in results]))
        warm = float(np.median([min(r["seconds"][1:] or r["seconds"]) for r in results]))
        summary[name] = {"cold_seconds": cold, "warm_seconds": warm, "structures_per_s_cold": n / cold,
                         "structures_per_s_warm": n / warm, "rounds": results}
    ours = summary["torch_atomsets"]
    ratios = {f"vs_{name}": {"cold": summary[name]["cold_seconds"] / ours["cold_seconds"],
                             "warm": summary[name]["warm_seconds"] / ours["warm_seconds"]}
              for name in summary if name != "torch_atomsets"}
    li2o = rounds["torch_atomsets"][0]["li2o"]
    result = {"n_structures": n, "n_atoms": rounds["torch_atomsets"][0]["n_atoms"], "threads": args.threads,
              "rounds": args.rounds, "passes": args.passes, "sides": summary, "speedup": ratios,
              "li2o_prediction_eV_per_atom": li2o, "li2o_megnet_unit_test": LI2O,
              "baseline": git_describe(os.path.abspath(args.baseline)) if args.baseline else None}
    if args.save:
        path = write_results(os.path.join("speed", "featurize.json"), result, threads=args.threads)
    else:
        path = write_results("featurize_speed.json", result, folder=os.path.join(ROOT, "runs"), threads=args.threads)
    print(f"\n{n} structures, {args.threads} thread(s), median of {args.rounds} alternating rounds:")
    for name, s in summary.items():
        line = f"  {name:15s} cold {s['structures_per_s_cold']:7.0f} structures/s, warm {s['structures_per_s_warm']:7.0f}"
        if name != "torch_atomsets":
            line += f"   (torch_atomsets is {ratios['vs_' + name]['cold']:.2f}x cold, {ratios['vs_' + name]['warm']:.2f}x warm)"
        print(line)
    exact = abs(li2o - LI2O) < 1e-5
    print(f"  Li2O: {li2o:.7f} eV/atom (megnet's unit test: {LI2O}) {'ok' if exact else 'MISMATCH'}")
    print(f"wrote {os.path.relpath(path, ROOT)}" + ("" if args.save else " (untracked; --save writes benchmarks/results)"))
    if not exact:
        print("error: the Li2O prediction does not match megnet's unit-test value", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
