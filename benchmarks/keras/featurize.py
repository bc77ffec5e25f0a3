#!/usr/bin/env python
"""The original Keras MEGNet (megnet 1.3.2) featurising the structures of speed/featurize.py:
graph building + every feature level, batched the way megnet batches
(GraphBatchDistanceConvert, 128 graphs per batch). Runs in the Keras environment described
in keras/reference.py; speed/featurize.py calls it with --keras-python, one fresh process per
round. Prints one JSON line: seconds per pass (the first is cold).

    python benchmarks/keras/featurize.py --threads 1 --passes 2 [--count N]
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from provenance import shared_dir, structure_dicts  # noqa: E402


def set_tf_threads(threads):
    """TensorFlow's intra- and inter-op threads; must run before TensorFlow runs any op."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf.config.threading.get_intra_op_parallelism_threads()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--count", type=int, default=None, help="only the first COUNT structures (quick checks)")
    args = parser.parse_args()
    threads = set_tf_threads(args.threads)
    import tensorflow as tf
    from megnet.data.graph import GraphBatchDistanceConvert
    from megnet.models import MEGNetModel
    from pymatgen.core import Structure
    from reference import probe_model

    dicts = structure_dicts("matbench_phonons") + structure_dicts("matbench_dielectric", 1000)
    structures = [Structure.from_dict(d) for d in dicts[:args.count]]
    model = MEGNetModel.from_file(os.path.join(shared_dir(), "models", "megnet", "mp-2019.4.1", "formation_energy.hdf5"))
    probe, _ = probe_model(model)
    converter = model.graph_converter
    times = []
    for _ in range(args.passes):
        start = time.perf_counter()
        graphs = [converter.convert(s) for s in structures]
        batches = GraphBatchDistanceConvert(*converter.get_flat_data(graphs), distance_converter=converter.bond_converter,
                                            batch_size=args.batch_size, is_shuffle=False)
        for b in range(len(batches)):
            probe.predict(batches[b], verbose=0)
        times.append(time.perf_counter() - start)
    print(json.dumps({"n_structures": len(structures), "seconds": times, "threads": threads,
                      "tensorflow": tf.__version__}))


if __name__ == "__main__":
    main()
