import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from torch_atomsets import Features, featurize
from torch_atomsets.data import StructureError

pytestmark = pytest.mark.shared


def test_featurize_layout(parent_2019, small_structures):
    features = parent_2019.featurize(small_structures, batch_size=2)
    n_atoms = [len(s) for s in small_structures]
    assert features.atom_ptr.tolist() == list(np.cumsum([0] + n_atoms))
    assert features["V0"].shape == (sum(n_atoms), 16) and features["V3"].shape == (sum(n_atoms), 32)
    assert features["f"].shape == (len(small_structures), 96)
    assert features["prediction"].shape == (len(small_structures),)
    one = features[1]
    assert one["V1"].shape == (n_atoms[1], 32) and one["u2"].shape == (32,)
    assert one["atomic_numbers"].tolist() == [site.specie.Z for site in small_structures[1]]
    # V0 of an atom is its element's row of the embedding table
    table = parent_2019.model.embedding.weight.numpy()
    assert np.allclose(features["V0"], table[features.atomic_numbers])


def test_levels_subset_and_validation(parent_2019, small_structures):
    features = featurize(small_structures[:2], ["V1", "f"], parent=parent_2019)
    assert set(features.arrays) == {"V1", "f", "prediction"}
    with pytest.raises(ValueError, match="unknown feature level"):
        parent_2019.featurize(small_structures[:1], ["V7"])


def test_predictions_do_not_depend_on_batch_size(parent_2019, small_structures):
    a = parent_2019.predict(small_structures, batch_size=1)
    b = parent_2019.predict(small_structures, batch_size=64)
    assert np.allclose(a, b, atol=1e-5)


def test_bad_structure_in_a_batch_is_named(parent_2019, small_structures):
    lonely = Structure(Lattice.cubic(8.0), ["Xe"], [[0, 0, 0]])
    batch = small_structures[:2] + [lonely] + small_structures[2:]
    with pytest.raises(StructureError, match=r"structure #2 \(Xe1\): no bond within the cutoff"):
        parent_2019.predict(batch, batch_size=2)
    names = [f"row-{i}" for i in range(len(batch))]
    with pytest.raises(StructureError, match="row-2: no bond"):
        parent_2019.predict(batch, names=names)


def test_features_save_load_roundtrip(tmp_path, parent_2019, small_structures):
    features = parent_2019.featurize(small_structures[:3], names=["a", "b", "c"])
    path = features.save(str(tmp_path / "feats"))
    assert path.endswith(".npz")
    with pytest.raises(FileExistsError):
        features.save(path)
    loaded = Features.load(path)
    assert loaded.names == ["a", "b", "c"]
    for key, value in features.arrays.items():
        assert np.array_equal(loaded[key], value)


def test_empty_input(parent_2019):
    assert parent_2019.predict([]).shape == (0,)
