"""Train / validation / test splits: the paper's protocol and MatBench's official folds."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from ...errors import AtomSetsInputError
from .matbench import MATBENCH_SEED
from .table import MaterialsData


@dataclass(frozen=True)
class Split:
    """Positions (not row ids) of the samples in each part."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    name: str = ""

    def __post_init__(self):
        parts = [self.train, self.val, self.test]
        allv = np.concatenate(parts)
        if len(np.unique(allv)) != len(allv):
            raise ValueError(f"split {self.name}: parts overlap")


def paper_split(n: int, seed: int, fractions=(0.8, 0.1, 0.1)) -> Split:
    """A random 80/10/10 split (the paper's protocol, one per seed), deterministic for a
    given ``n`` and ``seed``."""
    if n < 3:
        raise AtomSetsInputError(f"need at least 3 samples to split, got {n}")
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must sum to 1, got {fractions}")
    order = np.random.RandomState(seed).permutation(n)
    n_val = max(1, int(round(fractions[1] * n)))
    n_test = max(1, int(round(fractions[2] * n)))
    n_train = n - n_val - n_test
    return Split(np.sort(order[:n_train]), np.sort(order[n_train:n_train + n_val]),
                 np.sort(order[n_train + n_val:]), name=f"paper seed {seed}")


def carve_validation(train: np.ndarray, fraction: float, seed: int) -> tuple:
    order = np.random.RandomState(seed).permutation(len(train))
    n_val = max(1, int(round(fraction * len(train))))
    return np.sort(train[order[n_val:]]), np.sort(train[order[:n_val]])


def matbench_folds(data: MaterialsData, validation_fraction: float = 0.1, seed: int = 0,
                   n_splits: int = 5) -> List[Split]:
    """MatBench v0.1's official folds: ``KFold`` (``StratifiedKFold`` for classification),
    5 splits, ``shuffle=True``, ``random_state=18012019``, over the task in its original
    order; the validation set is a random ``validation_fraction`` of each training fold
    (``seed``).

    For a dataset holding a subset of a task's rows (the approximate MP sets), regression
    folds are computed on all ``n_total`` rows and restricted to the rows present (their
    ``index`` is the MatBench row number); stratified folds need every target and cannot
    be reproduced on a subset.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if data.matbench_task is None or not data.matbench_rows:
        raise AtomSetsInputError(
            f"{data.name}: MatBench's official folds need the task's rows with their MatBench row numbers "
            f"({data.fidelity}); use the paper protocol instead")
    complete = len(data) == data.n_total
    if data.is_classification and not complete:
        raise AtomSetsInputError(f"{data.name}: stratified MatBench folds need every row of the task "
                                 f"({len(data)} of {data.n_total} here); use the paper protocol instead")
    kwargs = dict(n_splits=n_splits, shuffle=True, random_state=MATBENCH_SEED)
    rows = np.arange(data.n_total)
    if data.is_classification:
        folds = StratifiedKFold(**kwargs).split(rows, data.targets[np.argsort(data.index)].astype(int))
    else:
        folds = KFold(**kwargs).split(rows)
    position_of = np.full(data.n_total, -1, dtype=np.int64)
    position_of[data.index] = np.arange(len(data))
    splits = []
    for k, (train_rows, test_rows) in enumerate(folds):
        train = position_of[train_rows]
        test = position_of[test_rows]
        train, test = train[train >= 0], test[test >= 0]
        train, val = carve_validation(train, validation_fraction, seed + k)
        splits.append(Split(train, val, np.sort(test), name=f"matbench fold {k}"))
    return splits


def make_splits(data: MaterialsData, protocol: str, seeds: Optional[List[int]] = None,
                folds: Optional[List[int]] = None) -> List[Split]:
    """``protocol="paper"``: one random 80/10/10 split per seed (default seeds 0-4);
    ``protocol="matbench"``: the official folds (default all 5)."""
    if protocol == "paper":
        return [paper_split(len(data), s) for s in (seeds if seeds is not None else range(5))]
    if protocol == "matbench":
        all_folds = matbench_folds(data)
        return [all_folds[k] for k in (folds if folds is not None else range(len(all_folds)))]
    raise AtomSetsInputError(f"unknown protocol {protocol!r}; use 'paper' or 'matbench'")
