import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from torch_atomsets.data.datasets import MaterialsData
from torch_atomsets.data.features import cache as cache_module
from torch_atomsets.data.features.cache import FeatureCache
from torch_atomsets.data.features.sets import build_store

pytestmark = pytest.mark.shared


def structure_data(structures, name="toy"):
    n = len(structures)
    return MaterialsData(name, "structure", [s.as_dict() for s in structures], np.arange(n, dtype=float),
                         "regression", "", "y", np.arange(n), n, "test", (name * 64)[:64], matbench_rows=False)


def test_cache_equals_direct_featurisation_and_is_reused(tmp_path, parent_2019, small_structures):
    data = structure_data(small_structures)
    cache = FeatureCache(parent_2019.model, parent_2019.key, root=str(tmp_path))
    stored = cache.load(data)
    direct = parent_2019.featurize(small_structures)
    assert stored.valid.all() and np.array_equal(stored.atom_ptr, direct.atom_ptr)
    assert set(stored.arrays) == {"V1", "V2", "V3", "u1", "u2", "u3", "f", "v_r", "e_r"}
    for level in stored.arrays:
        assert np.allclose(stored.arrays[level], direct[level], atol=1e-5), level
    folder = cache.path(data)
    assert folder.startswith(str(tmp_path)) and parent_2019.key in folder
    # a second load reads the files and does not featurise again
    stamp = (tmp_path / folder / "meta.json").stat().st_mtime_ns
    again = FeatureCache(parent_2019.model, parent_2019.key, root=str(tmp_path)).load(data)
    assert (tmp_path / folder / "meta.json").stat().st_mtime_ns == stamp
    assert np.array_equal(np.asarray(again.arrays["V1"]), np.asarray(stored.arrays["V1"]))


def test_structures_the_parent_cannot_take_are_named_and_marked_invalid(tmp_path, parent_2019, small_structures):
    lonely = Structure(Lattice.cubic(9.0), ["Kr"], [[0, 0, 0]])
    data = structure_data([small_structures[0], lonely, small_structures[1]], name="with-bad")
    stored = FeatureCache(parent_2019.model, parent_2019.key, root=str(tmp_path)).load(data)
    assert stored.valid.tolist() == [True, False, True]
    assert stored.failures == [(1, "with-bad row 1: no bond within the cutoff of 5 A (the nearest neighbour is "
                                   "farther away); the parent needs at least one bond")]
    store = build_store(data, "V1", parent_2019.model, parent_2019.key, cache_root=str(tmp_path))
    assert store.valid.tolist() == [True, False, True] and store.failures == stored.failures
    direct = parent_2019.featurize([small_structures[1]], ["V1"])
    assert np.allclose(store.batch([2]).x.numpy(), direct["V1"], atol=1e-5)
    # the same store built straight from the parent, without a cache
    memory = build_store(data, "V1", parent_2019.model, parent_2019.key, in_memory=True)
    assert memory.valid.tolist() == [True, False, True]
    assert np.array_equal(memory.batch([0, 2]).x.numpy(), store.batch([0, 2]).x.numpy())


def test_combined_levels(tmp_path, parent_2019, small_structures):
    data = structure_data(small_structures[:3], name="combined")
    root = str(tmp_path)
    v0 = build_store(data, "V0", parent_2019.model, parent_2019.key, root)
    v1 = build_store(data, "V1", parent_2019.model, parent_2019.key, root)
    f = build_store(data, "f", parent_2019.model, parent_2019.key, root)
    both = build_store(data, "V0+V1", parent_2019.model, parent_2019.key, root)
    assert both.in_channels == 16 + 32
    assert np.array_equal(both.x.numpy(), np.concatenate([v0.x.numpy(), v1.x.numpy()], axis=1))
    broadcast = build_store(data, "V1+f", parent_2019.model, parent_2019.key, root)
    assert broadcast.in_channels == 32 + 96
    batch = broadcast.batch([1])
    n1 = int(v1.ptr[2] - v1.ptr[1])
    assert batch.x.shape == (n1, 128)
    assert np.array_equal(batch.x[:, 32:].numpy(), np.repeat(f.x[1:2].numpy(), n1, axis=0))
    vectors = build_store(data, "u3+f", parent_2019.model, parent_2019.key, root)
    assert vectors.in_channels == 128 and vectors.x.shape == (3, 128)


def test_no_partial_folder_left_after_a_failure(tmp_path, parent_2019, small_structures, monkeypatch):
    data = structure_data(small_structures[:2], name="interrupted")
    cache = FeatureCache(parent_2019.model, parent_2019.key, root=str(tmp_path))

    def boom(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(cache_module, "run_parent", boom)
    with pytest.raises(KeyboardInterrupt):
        cache.load(data)
    assert not cache.exists(data)
    assert not [p for p in tmp_path.rglob("*") if ".partial-" in p.name]


def test_a_cache_finished_by_another_process_meanwhile_is_kept(tmp_path, parent_2019, small_structures):
    """Two workers featurising the same dataset: the one that ends second keeps the first one's
    folder (which the first may be reading) instead of replacing it under it."""
    data = structure_data(small_structures[:2], name="raced")
    first = FeatureCache(parent_2019.model, parent_2019.key, root=str(tmp_path))
    folder = first.build(data)
    inode = (tmp_path / folder / "meta.json").stat().st_ino
    assert FeatureCache(parent_2019.model, parent_2019.key, root=str(tmp_path)).build(data) == folder
    assert (tmp_path / folder / "meta.json").stat().st_ino == inode
    assert not [p for p in tmp_path.rglob("*") if ".partial-" in p.name]
