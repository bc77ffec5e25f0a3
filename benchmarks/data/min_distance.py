#!/usr/bin/env python
"""The closest pair of atoms in every structure of the structure datasets: the evidence
behind the converter's minimum distance (``CrystalGraphConverter``'s ``MIN_DISTANCE``: a
threshold that rejects no real crystal and every stack of atoms).

    python benchmarks/data/min_distance.py

Writes benchmarks/results/data/min_distance.json: per dataset the five smallest closest-pair
distances (Angstrom, periodic images included) and how many structures fall below 0.5 and
0.7 A.
"""
import gzip
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from provenance import shared_dir, write_results  # noqa: E402

FILES = ["matbench/matbench_phonons", "matbench/matbench_dielectric", "matbench/matbench_jdft2d",
         "matbench/matbench_perovskites", "mp_approx/matbench_elastic_approx", "mp_approx/matbench_mp_gap_approx",
         "mp_approx/matbench_mp_e_form_approx"]


def closest_pair(structure) -> float:
    from pymatgen.optimization.neighbors import find_points_in_spheres

    cart = np.ascontiguousarray(structure.cart_coords, float)
    lattice = np.ascontiguousarray(structure.lattice.matrix, float)
    centre, neighbour, _, distance = find_points_in_spheres(cart, cart, r=1.5, pbc=np.array([1, 1, 1]),
                                                            lattice=lattice, tol=1e-8)
    keep = (centre != neighbour) | (distance > 1e-8)
    return float(distance[keep].min()) if keep.any() else float("inf")


def main():
    from pymatgen.core import Structure
    from tqdm import tqdm

    out = {}
    for name in FILES:
        with gzip.open(os.path.join(shared_dir(), "data", f"{name}.json.gz"), "rt") as handle:
            table = json.load(handle)
        column = table["columns"].index("structure")
        closest = np.array([closest_pair(Structure.from_dict(row[column]))
                            for row in tqdm(table["data"], desc=os.path.basename(name), unit="structure")])
        out[os.path.basename(name)] = {"n": len(closest), "smallest": np.sort(closest)[:5].round(4).tolist(),
                                       "below_0.5": int((closest < 0.5).sum()), "below_0.7": int((closest < 0.7).sum())}
        print(os.path.basename(name), out[os.path.basename(name)], flush=True)
    print("wrote", write_results(os.path.join("data", "min_distance.json"), {"datasets": out}))


if __name__ == "__main__":
    main()
