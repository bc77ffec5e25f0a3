#!/usr/bin/env python
"""Compare torch_atomsets with a Keras reference file made by keras/reference.py.

    python benchmarks/keras/compare.py ref.json.gz [--save NAME]     # NAME: results/keras/NAME.json

Prints, per parent and per group (MatBench crystals / hand-made edge cases), the largest
absolute difference of the prediction and of each feature level, with the structure
where it occurs, and the largest magnitude of that feature (for a relative reading).
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np

LEVELS = ["prediction", "V0", "V1", "V2", "V3", "u1", "u2", "u3", "v_r", "f"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reference")
    parser.add_argument("--weights-dir", default=None)
    parser.add_argument("--save", default=None, help="write benchmarks/results/keras/SAVE.json")
    args = parser.parse_args()

    from pymatgen.core import Structure

    from torch_atomsets import load_parent

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from provenance import shared_dir, write_results

    report = {"reference": os.path.basename(args.reference), "parents": {}}
    with gzip.open(args.reference, "rt") as handle:
        fixture = json.load(handle)
    for version, records in fixture["models"].items():
        parent = load_parent(version, weights_dir=args.weights_dir or os.path.join(shared_dir(), "models"),
                             allow_download=False)
        features = parent.featurize([Structure.from_dict(r["structure"]) for r in records], LEVELS[1:])
        worst = {}
        for i, record in enumerate(records):
            group = "matbench" if record["label"].startswith("matbench") else "edge cases"
            mine = features[i]
            for level in LEVELS:
                ref = np.asarray(record[level], dtype=np.float64)
                diff = float(np.abs(np.asarray(mine[level], dtype=np.float64) - ref).max())
                key = (group, level)
                size = float(np.abs(ref).max())
                if diff >= worst.get(key, (-1,))[0]:
                    worst[key] = (diff, record["label"], max(size, worst.get(key, (0, "", 0))[2]))
                else:
                    worst[key] = worst[key][:2] + (max(size, worst[key][2]),)
        counts = {g: sum(1 for r in records if (g == "matbench") == r["label"].startswith("matbench"))
                  for g in ("matbench", "edge cases")}
        print(f"\n{version}: {len(records)} structures ({counts['matbench']} matbench, {counts['edge cases']} edge cases)")
        print(f"{'group':11s} {'level':10s} {'max |diff|':>10s} {'max |value|':>11s}  where")
        for (group, level), (diff, label, size) in sorted(worst.items()):
            print(f"{group:11s} {level:10s} {diff:10.2e} {size:11.3g}  {label}")
        report["parents"][version] = {"structures": counts, "max_abs_difference": {
            f"{group}/{level}": {"difference": diff, "max_abs_value": size, "where": label}
            for (group, level), (diff, label, size) in sorted(worst.items())}}
    if args.save:
        print("wrote", write_results(os.path.join("keras", f"{args.save}.json"), report))


if __name__ == "__main__":
    main()
