import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from torch_atomsets.data.feature_cache import FeatureCache
from torch_atomsets.data.matbench import MaterialsData
from torch_atomsets.data.sets import build_store

pytestmark = pytest.mark.shared


def structure_data(structures, name="toy"):
    n = len(structures)
    return MaterialsData(name, "structure", [s.as_dict() for s in structures], np.arange(n, dtype=float),
                         "regression", "", "y", np.arange(n), n, "test", (name * 64)[:64], matbench_rows=False)


def test_cache_equals_direct_featurisation_and_is_reused(tmp_path, parent_2019, small_structures):
    data = structure_data(small_structures)
    cache = FeatureCache(parent_2019, root=str(tmp_path))
    stored = cache.load(data)
    direct = parent_2019.featurize(small_structures)
    assert stored.valid.all() and np.array_equal(stored.atom_ptr, direct.atom_ptr)
    for level in ("V1", "V2", "V3", "u1", "u2", "u3", "f", "v_r"):
        assert np.allclose(stored.arrays[level], direct[level], atol=1e-5), level
    folder = cache.path(data)
    assert folder.startswith(str(tmp_path)) and parent_2019.key in folder
    # a second load reads the files and does not featurise again
    stamp = (tmp_path / folder / "meta.json").stat().st_mtime_ns
    again = FeatureCache(parent_2019, root=str(tmp_path)).load(data)
    assert (tmp_path / folder / "meta.json").stat().st_mtime_ns == stamp
    assert np.array_equal(np.asarray(again.arrays["V1"]), np.asarray(stored.arrays["V1"]))


def test_structures_the_parent_cannot_take_are_marked_invalid(tmp_path, parent_2019, small_structures):
    lonely = Structure(Lattice.cubic(9.0), ["Kr"], [[0, 0, 0]])
    data = structure_data([small_structures[0], lonely, small_structures[1]], name="with-bad")
    with pytest.warns(UserWarning, match="1 of 3 structures could not be featurised"):
        stored = FeatureCache(parent_2019, root=str(tmp_path)).load(data)
    assert stored.valid.tolist() == [True, False, True]
    assert "no bond within the cutoff" in stored.meta["failures"][0][1]
    store = build_store(data, "V1", parent_2019, cache=FeatureCache(parent_2019, root=str(tmp_path)))
    assert store.valid.tolist() == [True, False, True]
    direct = parent_2019.featurize([small_structures[1]], ["V1"])
    assert np.allclose(store.batch([2]).x.numpy(), direct["V1"], atol=1e-5)


def test_no_partial_folder_left_after_a_failure(tmp_path, parent_2019, small_structures, monkeypatch):
    data = structure_data(small_structures[:2], name="interrupted")
    cache = FeatureCache(parent_2019, root=str(tmp_path))

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(parent_2019, "iter_outputs", boom)
    with pytest.raises(KeyboardInterrupt):
        cache.load(data)
    assert not cache.exists(data)
    assert not [p for p in tmp_path.rglob("*") if ".partial-" in p.name]
