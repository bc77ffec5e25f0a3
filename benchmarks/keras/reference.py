#!/usr/bin/env python
"""Write the Keras reference fixture that tests/test_keras_reference.py compares against.

This runs in a *separate* environment with the original implementation (megnet 1.3.2 on
Keras 2), never in CI. What worked here (Python 3.11, 2026-11):

    python3 -m venv kref && . kref/bin/activate
    pip install "tensorflow-cpu==2.15.*" "numpy<2" "pymatgen==2024.5.1" monty tqdm scikit-learn
    pip install megnet==1.3.2 --no-deps
    python benchmarks/keras/reference.py --shared ../shared --output tests/fixtures/keras_reference.json.gz

It picks a few structures from each source (fixed seed) plus hand-made edge cases,
runs megnet's own graph converter and model, and stores for each structure its input
dict and the prediction, V0..V3, u1..u3, v_r, e_r and f (the raw layer outputs before
the skips, read from the Keras layers themselves), rounded to 7 significant digits.
"""
import argparse
import gzip
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def probe_model(megnet_model):
    """A Keras model returning every intermediate output the port must reproduce."""
    import tensorflow as tf
    from megnet.layers import MEGNetLayer, Set2Set

    km = megnet_model.model
    layers = km.layers
    embedding = [layer for layer in layers if isinstance(layer, tf.keras.layers.Embedding)][0]
    convs = [layer for layer in layers if isinstance(layer, MEGNetLayer)]
    set2sets = [layer for layer in layers if isinstance(layer, Set2Set)]
    atom_s2s = [s for s in set2sets if s.input[1] is km.inputs[5]][0]  # fed by the atom graph index
    bond_s2s = [s for s in set2sets if s.input[1] is km.inputs[6]][0]
    concat = [layer for layer in layers if isinstance(layer, tf.keras.layers.Concatenate)][0]
    outputs = [embedding.output]
    for conv in convs:
        outputs += [conv.output[0], conv.output[2]]
    outputs += [atom_s2s.output, bond_s2s.output, concat.output, km.output]
    return tf.keras.Model(inputs=km.inputs, outputs=outputs), len(convs)


def reference_record(megnet_model, probe, n_blocks, structure):
    converter = megnet_model.graph_converter
    graph = converter.convert(structure)
    out = probe.predict(converter.graph_to_input(graph), verbose=0)
    record = {"V0": out[0][0]}
    for b in range(n_blocks):
        record[f"V{b + 1}"] = out[1 + 2 * b][0]
        record[f"u{b + 1}"] = out[2 + 2 * b][0, 0]
    k = 1 + 2 * n_blocks
    record.update(v_r=out[k][0, 0], e_r=out[k + 1][0, 0], f=out[k + 2][0, 0])
    record["prediction"] = float(megnet_model.target_scaler.inverse_transform(out[k + 3][0, 0], len(structure))[0])
    record["n_bonds"] = int(len(graph["index1"]))
    return {key: (np.round(np.asarray(v, dtype=np.float64), 7).tolist() if key not in ("prediction", "n_bonds") else v)
            for key, v in record.items()}


def edge_cases():
    from pymatgen.core import Lattice, Structure

    return {
        "fcc Cu, 1-atom cell (bonds to own images)": Structure(Lattice.cubic(3.61).matrix @ np.array([[0, .5, .5], [.5, 0, .5], [.5, .5, 0]]), ["Cu"], [[0, 0, 0]]),
        "NaCl pair with an isolated Ar atom": Structure(Lattice.cubic(14.0), ["Na", "Cl", "Ar"], [[0, 0, 0], [2.8 / 14, 0, 0], [0.5, 0.5, 0.5]], coords_are_cartesian=False),
        "sc Cu a=5.0, bonds exactly at the cutoff": Structure(Lattice.cubic(5.0), ["Cu"], [[0, 0, 0]]),
        "PuO2 fluorite (Z = 94)": Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.396), ["Pu", "O"], [[0, 0, 0], [0.25, 0.25, 0.25]]).get_primitive_structure(),
        "H2O in a 12 A box": Structure(Lattice.cubic(12.0), ["O", "H", "H"], [[6, 6, 6], [6.757, 6.586, 6], [5.243, 6.586, 6]], coords_are_cartesian=True),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", default=os.path.join("..", "shared"), help="folder with data/ and models/")
    parser.add_argument("--output", default=os.path.join("tests", "fixtures", "keras_reference.json.gz"))
    parser.add_argument("--max-atoms", type=int, default=24, help="keep the fixture small")
    parser.add_argument("--scale", type=int, default=1,
                        help="multiply the number of structures taken from each source (fixture: 1)")
    args = parser.parse_args()

    from megnet.models import MEGNetModel
    from pymatgen.core import Structure

    rng = np.random.RandomState(20190401)
    picks = [("matbench/matbench_dielectric.json.gz", 4), ("matbench/matbench_phonons.json.gz", 3),
             ("matbench/matbench_jdft2d.json.gz", 2), ("matbench/matbench_perovskites.json.gz", 2),
             ("mp_approx/matbench_mp_e_form_approx.json.gz", 4)]
    inputs = []
    for path, count in picks:
        with gzip.open(os.path.join(args.shared, "data", path), "rt") as handle:
            table = json.load(handle)
        column = table["columns"].index("structure")
        order = rng.permutation(len(table["data"]))
        count *= args.scale
        taken = 0
        for row in order:
            structure = Structure.from_dict(table["data"][row][column])
            if len(structure) <= args.max_atoms:
                inputs.append((f"{os.path.basename(path).split('.')[0]} row {table['index'][row]}", structure))
                taken += 1
            if taken == count:
                break
    inputs += list(edge_cases().items())

    fixture = {"generated_by": "benchmarks/keras_reference.py with megnet 1.3.2 (Keras 2)", "models": {}}
    for version, subset in (("mp-2019.4.1", inputs), ("mp-2018.6.1", inputs[:4] + [i for i in inputs if i[0].startswith(("fcc", "PuO2", "H2O"))])):
        model = MEGNetModel.from_file(os.path.join(args.shared, "models", "megnet", version, "formation_energy.hdf5"))
        probe, n_blocks = probe_model(model)
        records = []
        for label, structure in subset:
            record = reference_record(model, probe, n_blocks, structure)
            record.update(label=label, structure=structure.as_dict())
            records.append(record)
            print(f"{version}  {label:50s} {record['prediction']: .6f} eV/atom  {record['n_bonds']} bonds")
        fixture["models"][version] = records
    with gzip.open(args.output, "wt") as handle:
        json.dump(fixture, handle)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
