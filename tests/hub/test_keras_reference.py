"""The port against the original Keras implementation (megnet 1.3.2), on a fixture made by
benchmarks/keras_reference.py: real MatBench crystals plus edge cases, two parents."""
import gzip
import json

import numpy as np
import pytest
from conftest import FIXTURES
from pymatgen.core import Structure

from torch_atomsets import load_parent

with gzip.open(FIXTURES / "keras_reference.json.gz", "rt") as _handle:
    FIXTURE = json.load(_handle)

LEVELS = ["V0", "V1", "V2", "V3", "u1", "u2", "u3", "v_r", "f"]


def tolerance(reference):
    # 1e-4 absolute, relative where features are large (molecules in a box reach ~30)
    return 1e-4 * max(1.0, float(np.abs(reference).max()))


@pytest.mark.shared
@pytest.mark.parametrize("version", sorted(FIXTURE["models"]))
def test_features_match_keras(version, weights_dir):
    records = FIXTURE["models"][version]
    parent = load_parent(version, weights_dir=weights_dir, allow_download=False)
    structures = [Structure.from_dict(r["structure"]) for r in records]
    features = parent.featurize(structures, LEVELS, batch_size=7)  # batches mix the structures
    for i, record in enumerate(records):
        mine = features[i]
        assert abs(mine["prediction"] - record["prediction"]) < 1e-5, record["label"]
        for level in LEVELS:
            reference = np.asarray(record[level])
            assert mine[level].shape == reference.shape, (record["label"], level)
            assert np.abs(mine[level] - reference).max() <= tolerance(reference), (record["label"], level)


@pytest.mark.shared
def test_bond_counts_match_keras(parent_2019):
    for record in FIXTURE["models"]["mp-2019.4.1"]:
        z, neighbour, centre, distance = parent_2019.converter.arrays(Structure.from_dict(record["structure"]))
        assert len(distance) == record["n_bonds"], record["label"]
