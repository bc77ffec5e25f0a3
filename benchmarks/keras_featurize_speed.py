#!/usr/bin/env python
"""Baseline for featurize_speed.py: the original Keras MEGNet (megnet 1.3.2) on the same
structures, all feature levels, batched the way megnet batches (GraphBatchDistanceConvert,
128 graphs per batch). Runs in the Keras environment described in keras_reference.py;
featurize_speed.py calls it with --keras-python. Prints one JSON line."""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import shared_dir, structure_dicts  # noqa: E402
from keras_reference import probe_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from megnet.data.graph import GraphBatchDistanceConvert
    from megnet.models import MEGNetModel
    from pymatgen.core import Structure

    dicts = structure_dicts("matbench_phonons") + structure_dicts("matbench_dielectric", 1000)
    structures = [Structure.from_dict(d) for d in dicts]
    model = MEGNetModel.from_file(os.path.join(shared_dir(), "models", "megnet", "mp-2019.4.1", "formation_energy.hdf5"))
    probe, _ = probe_model(model)
    converter = model.graph_converter
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        graphs = [converter.convert(s) for s in structures]
        batches = GraphBatchDistanceConvert(*converter.get_flat_data(graphs), distance_converter=converter.bond_converter,
                                            batch_size=args.batch_size, is_shuffle=False)
        for b in range(len(batches)):
            probe.predict(batches[b], verbose=0)
        times.append(time.perf_counter() - start)
    print(json.dumps({"n_structures": len(structures), "seconds": times,
                      "structures_per_s": [len(structures) / t for t in times]}))


if __name__ == "__main__":
    main()
