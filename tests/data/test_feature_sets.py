import numpy as np
import pytest
import torch

from torch_atomsets.data import AtomSetsInputError
from torch_atomsets.data.datasets import MaterialsData
from torch_atomsets.data.features.sets import build_store, gather_sets, weighted_statistics


def compositions(formulas, targets=None):
    n = len(formulas)
    return MaterialsData("toy", "composition", list(formulas), np.asarray(targets if targets is not None else np.arange(n),
                                                                         dtype=float),
                         "regression", "eV", "y", np.arange(n), n, "test", "f" * 64, matbench_rows=False)


def test_gather_sets_matches_slicing():
    ptr = torch.tensor([0, 2, 5, 6, 10])
    ids = torch.tensor([3, 0, 2])
    rows, index = gather_sets(ptr, ids)
    assert rows.tolist() == [6, 7, 8, 9, 0, 1, 5]
    assert index.tolist() == [0, 0, 0, 0, 1, 1, 2]


def test_z_store_batch_equals_its_sets_one_by_one():
    store = build_store(compositions(["Fe2O3", "NaCl", "Cu", "LiFePO4"]), "Z")
    batch = store.batch([3, 1])
    assert batch.num_sets == 2 and batch.y.tolist() == [3.0, 1.0]
    one = store.batch([3])
    two = store.batch([1])
    assert torch.equal(batch.x, torch.cat([one.x, two.x]))
    assert torch.equal(batch.weight, torch.cat([one.weight, two.weight]))
    assert batch.index.tolist() == [0] * len(one.x) + [1] * len(two.x)
    assert store.in_channels is None


@pytest.mark.shared
def test_v0_store_and_stats(parent_2019):
    model = parent_2019.model
    store = build_store(compositions(["Fe2O3", "Fe4O6", "Fe0.01Ni0.99"]), "V0", model)
    table = parent_2019.model.embedding.weight
    assert store.in_channels == 16
    assert torch.allclose(store.batch([0]).x[0], table[26])
    stats = build_store(compositions(["Fe2O3", "Fe4O6", "Fe0.01Ni0.99"]), "V0-stats", model)
    assert stats.x.shape == (3, 80)
    assert torch.allclose(stats.x[0], stats.x[1], atol=1e-6)  # amounts vs. doubled amounts
    fe, ni = table[26], table[28]
    assert torch.allclose(stats.x[2, :16], 0.01 * fe + 0.99 * ni, atol=1e-5)
    assert torch.allclose(stats.x[2, 32:48], torch.minimum(fe, ni), atol=1e-6)
    # an element beyond the parent's table: that sample is left out, named, the others kept
    mixed = build_store(compositions(["Fe2O3", "AmO2", "NaCl"]), "V0", model)
    assert mixed.valid.tolist() == [True, False, True]
    assert mixed.failures == [(1, "toy row 1: element Am (Z = 95) is beyond Z = 94")]
    assert torch.equal(mixed.batch([2]).x, store_of(["NaCl"], model).x)


def store_of(formulas, model):
    return build_store(compositions(formulas), "V0", model)


def test_weighted_statistics_values():
    x = torch.tensor([[1.0], [3.0], [5.0]])
    w = torch.tensor([1.0, 3.0, 2.0])
    ptr = torch.tensor([0, 2, 3])
    stats = weighted_statistics(x, w, ptr)
    mean0 = (1 * 1 + 3 * 3) / 4
    std0 = float(np.sqrt((1 * (1 - mean0) ** 2 + 3 * (3 - mean0) ** 2) / 4))
    assert torch.allclose(stats[0], torch.tensor([mean0, std0, 1.0, 3.0, 2.0]))
    assert torch.allclose(stats[1], torch.tensor([5.0, 0.0, 5.0, 5.0, 0.0]))


@pytest.mark.shared
def test_structure_levels_need_structures(parent_2019):
    with pytest.raises(AtomSetsInputError, match="need crystal structures, and this dataset holds compositions"):
        build_store(compositions(["Fe2O3"]), "V1", parent_2019.model, parent_2019.key)
    with pytest.raises(AtomSetsInputError, match="needs a parent"):
        build_store(compositions(["Fe2O3"]), "V0")
