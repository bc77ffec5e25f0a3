import numpy as np
import pytest
from sklearn.model_selection import KFold, StratifiedKFold

from torch_atomsets.data import AtomSetsInputError
from torch_atomsets.data.datasets import MaterialsData, make_splits, matbench_folds, paper_split


def fake(n, n_total=None, classification=False, index=None, matbench_rows=True):
    rng = np.random.RandomState(0)
    targets = rng.randint(0, 2, n).astype(float) if classification else rng.randn(n)
    return MaterialsData("matbench_fake", "composition", ["Fe"] * n, targets,
                         "classification" if classification else "regression", "", "y",
                         np.arange(n) if index is None else np.asarray(index), n_total or n, "test", "x" * 64,
                         matbench_task="matbench_fake", matbench_rows=matbench_rows)


def test_paper_split_is_80_10_10_disjoint_and_deterministic():
    a = paper_split(312, seed=3)
    assert (len(a.train), len(a.val), len(a.test)) == (250, 31, 31)
    assert len(set(a.train) | set(a.val) | set(a.test)) == 312
    b = paper_split(312, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip((a.train, a.val, a.test), (b.train, b.val, b.test)))
    assert not np.array_equal(a.test, paper_split(312, seed=4).test)


def test_matbench_folds_are_the_official_ones():
    data = fake(100)
    folds = matbench_folds(data)
    official = list(KFold(n_splits=5, shuffle=True, random_state=18012019).split(np.arange(100)))
    for split, (train, test) in zip(folds, official):
        assert np.array_equal(np.sort(split.test), np.sort(test))
        assert np.array_equal(np.sort(np.concatenate([split.train, split.val])), np.sort(train))
        assert abs(len(split.val) - 0.1 * len(train)) <= 1


def test_classification_folds_are_stratified():
    data = fake(60, classification=True)
    official = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=18012019)
                    .split(np.arange(60), data.targets.astype(int)))
    for split, (_, test) in zip(matbench_folds(data), official):
        assert np.array_equal(np.sort(split.test), np.sort(test))


def test_subset_folds_keep_present_rows_only():
    present = np.array([0, 3, 4, 7, 8, 11, 15, 16, 19, 22, 23, 30, 31, 33, 38])
    data = fake(len(present), n_total=40, index=present)
    official = list(KFold(n_splits=5, shuffle=True, random_state=18012019).split(np.arange(40)))
    for split, (_, test) in zip(matbench_folds(data), official):
        assert set(data.index[split.test]) == set(test) & set(present)
    with pytest.raises(AtomSetsInputError, match="stratified"):
        matbench_folds(fake(15, n_total=40, index=present, classification=True))
    with pytest.raises(AtomSetsInputError, match="row numbers"):
        matbench_folds(fake(40, matbench_rows=False))


def test_make_splits():
    data = fake(50)
    assert [s.name for s in make_splits(data, "paper", [1, 2])] == ["paper seed 1", "paper seed 2"]
    assert len(make_splits(data, "matbench", folds=[0, 4])) == 2
    with pytest.raises(AtomSetsInputError, match="unknown protocol"):
        make_splits(data, "random")
