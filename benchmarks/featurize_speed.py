#!/usr/bin/env python
"""Featurisation speed of the published parent: graph + forward pass, every feature level
(V0..V3, u1..u3, f, v_r, prediction), on the 1,265 structures of matbench_phonons plus the
first 1,000 of matbench_dielectric.

    python benchmarks/featurize_speed.py [--keras-python PATH/TO/KERAS/ENV/bin/python]

Reports structures/s for a cold pass (first call in the process) and warm passes, the
time spent reading the files (JSON + Structure.from_dict, reported apart), peak memory,
and the ratio to the Keras baseline: measured in the same run when --keras-python points
at an environment with megnet 1.3.2 (see keras_reference.py), else the figure of the
issue (137 structures/s end to end, measured on this machine). Also checks the Li2O
prediction against megnet's unit-test value. Writes benchmarks/results/featurize_speed.json.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import machine, peak_rss_mib, shared_dir, structure_dicts, write_results  # noqa: E402

KERAS_REFERENCE = {"structures_per_s": 137.0, "warm_structures_per_s": 166.0,
                   "source": "issue #2: original Keras implementation, 1,000 structures, this machine"}
TARGET_RATIO = 5.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=256, help="structures per batch at most (256)")
    parser.add_argument("--max-bonds", type=int, default=None, help="bonds per batch (package default)")
    parser.add_argument("--repeats", type=int, default=3, help="passes (the first is cold)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--keras-python", default=None,
                        help="python of an environment with megnet 1.3.2, to measure the baseline in this run")
    args = parser.parse_args()

    import torch
    from pymatgen.core import Structure

    from torch_atomsets import load_parent

    if args.threads:
        torch.set_num_threads(args.threads)
    rss_start = peak_rss_mib()
    start = time.perf_counter()
    dicts = structure_dicts("matbench_phonons") + structure_dicts("matbench_dielectric", 1000)
    structures = [Structure.from_dict(d) for d in dicts]
    read_seconds = time.perf_counter() - start
    parent = load_parent("mp-2019.4.1", allow_download=False,
                         weights_dir=os.path.join(shared_dir(), "models"))
    n = len(structures)
    print(f"{n} structures read in {read_seconds:.2f} s (JSON + Structure.from_dict); "
          f"torch threads: {torch.get_num_threads()}")

    budget = {"max_bonds": args.max_bonds} if args.max_bonds else {}
    passes = []
    for k in range(args.repeats):
        start = time.perf_counter()
        features = parent.featurize(structures, batch_size=args.batch_size, progress=True, **budget)
        seconds = time.perf_counter() - start
        passes.append(seconds)
        print(f"pass {k + 1} ({'cold' if k == 0 else 'warm'}): {seconds:.2f} s = {n / seconds:.0f} structures/s")
    n_atoms = int(features.atom_ptr[-1])
    peak = peak_rss_mib()

    li2o = next(iter(parent.predict([_li2o()])))
    keras = dict(KERAS_REFERENCE)
    if args.keras_python:
        print("measuring the Keras baseline ...")
        env = dict(os.environ, TORCH_ATOMSETS_HOME=shared_dir())
        out = subprocess.run([args.keras_python, os.path.join(os.path.dirname(__file__), "keras_featurize_speed.py")],
                             capture_output=True, text=True, env=env, check=True)
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        keras = {"structures_per_s": measured["structures_per_s"][0],
                 "warm_structures_per_s": max(measured["structures_per_s"][1:] or measured["structures_per_s"]),
                 "source": "measured in this run (benchmarks/keras_featurize_speed.py, megnet 1.3.2)"}

    cold = n / passes[0]
    warm = n / min(passes[1:] or passes)
    from_files = n / (read_seconds + passes[0])
    result = {
        "n_structures": n, "n_atoms": n_atoms, "batch_size": args.batch_size,
        "read_seconds": read_seconds, "pass_seconds": passes,
        "structures_per_s_cold": cold, "structures_per_s_warm": warm,
        "structures_per_s_cold_including_file_reading": from_files,
        "peak_rss_mib": peak, "rss_before_mib": rss_start,
        "keras_baseline": keras,
        "ratio_cold_vs_keras": cold / keras["structures_per_s"],
        "ratio_warm_vs_keras_warm": warm / keras["warm_structures_per_s"],
        "target_ratio": TARGET_RATIO,
        "li2o_prediction_eV_per_atom": float(li2o), "li2o_megnet_unit_test": -2.0152957,
        "machine": machine(),
    }
    path = write_results("featurize_speed.json", result)
    print(f"\nfeaturised {n} structures ({n_atoms} atoms), all levels, batch {args.batch_size}")
    print(f"  cold: {cold:7.0f} structures/s   ({cold / keras['structures_per_s']:.1f}x Keras {keras['structures_per_s']:.0f}/s)")
    print(f"  warm: {warm:7.0f} structures/s   ({warm / keras['warm_structures_per_s']:.1f}x Keras warm "
          f"{keras['warm_structures_per_s']:.0f}/s)")
    print(f"  cold, with JSON + Structure.from_dict: {from_files:.0f} structures/s")
    print(f"  peak memory (RSS): {peak:.0f} MiB")
    print(f"  Li2O: {li2o:.7f} eV/atom (megnet unit test: -2.0152957)")
    print(f"  Keras baseline: {keras['source']}")
    print(f"wrote {path}")
    ok = cold / keras["structures_per_s"] >= TARGET_RATIO and abs(li2o + 2.0152957) < 1e-5
    return 0 if ok else 1


def _li2o():
    import pymatgen.util
    from pymatgen.core import Structure

    return Structure.from_file(os.path.join(list(pymatgen.util.__path__)[0], "structures", "Li2O.json"))


if __name__ == "__main__":
    sys.exit(main())
