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


def test_element_property_level_needs_no_parent():
    from torch_atomsets.data.inputs.elements import PROPERTIES, WIDTH, _raw_table, element_table
    from torch_atomsets.levels import ELEMENT_WIDTH, parse_levels

    assert WIDTH == ELEMENT_WIDTH == parse_levels("E").width() and parse_levels("E-stats").width() == 5 * WIDTH
    assert not parse_levels("E+E-stats").needs_parent and parse_levels("V0+E").needs_parent
    raw = _raw_table()
    column = {name: k for k, (name, _) in enumerate(PROPERTIES)}
    fe = raw[25]  # row Z - 1
    assert (fe[column["Z"]], fe[column["group"]], fe[column["valence_s"]], fe[column["valence_d"]],
            fe[column["unfilled_d"]], fe[column["block_d"]]) == (26, 8, 2, 6, 4, 1)
    assert raw[7][column["valence_p"]] == 4 and raw[7][column["unfilled_p"]] == 2  # O: 2s2 2p4
    table = element_table()
    assert table.shape == (104, WIDTH) and np.isfinite(table).all() and not table[0].any()
    assert np.allclose(table[1:].mean(axis=0), 0, atol=1e-5)  # standardised over the elements
    store = build_store(compositions(["Fe2O3", "Fe4O6", "AmO2"]), "E")
    assert store.in_channels == WIDTH and store.valid.all()  # Am is beyond the parent, not beyond E
    assert torch.allclose(store.batch([0]).x[0], torch.from_numpy(table[26]))
    stats = build_store(compositions(["Fe2O3", "Fe4O6"]), "E-stats")
    assert stats.x.shape == (2, 5 * WIDTH) and torch.allclose(stats.x[0], stats.x[1], atol=1e-5)
    expected = (2 * table[26] + 3 * table[8]) / 5
    assert torch.allclose(stats.x[0, :WIDTH], torch.from_numpy(expected), atol=1e-5)


@pytest.mark.shared
def test_element_properties_join_the_parent_levels(parent_2019):
    from torch_atomsets.data.inputs.elements import WIDTH

    formulas = compositions(["Fe2O3", "NaCl", "AmO2"])
    joined = build_store(formulas, "V0+E", parent_2019.model)
    v0 = build_store(formulas, "V0", parent_2019.model)
    e = build_store(formulas, "E")
    assert joined.valid.tolist() == [True, True, False]  # Am: beyond the parent's embedding
    assert joined.in_channels == 16 + WIDTH
    assert torch.equal(joined.batch([1]).x, torch.cat([v0.batch([1]).x, e.batch([1]).x], dim=1))
    vectors = build_store(formulas, "V0-stats+E-stats", parent_2019.model)
    assert torch.equal(vectors.x[:2, :80], build_store(formulas, "V0-stats", parent_2019.model).x[:2])


def test_a_corrupted_element_table_is_named(tmp_path):
    from torch_atomsets.data.inputs.elements import TABLE_FILE, _raw_table

    bad = tmp_path / "element_properties.csv"
    bad.write_text(open(TABLE_FILE).read().replace("\n26,", "\n25,", 1))
    with pytest.raises(AtomSetsInputError, match=r"element_properties.csv is corrupted: rows are not Z"):
        _raw_table(str(bad))
    bad.write_text("Z,row\n1,1\n")
    with pytest.raises(AtomSetsInputError, match="corrupted: expected 24 columns"):
        _raw_table(str(bad))
