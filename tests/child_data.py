"""Synthetic composition datasets for the child-training tests (no shared data needed)."""
import numpy as np

from torch_atomsets.data.datasets import MaterialsData

ELEMENTS = ["Li", "Na", "K", "Mg", "Ca", "Al", "Si", "Ti", "Fe", "Ni", "Cu", "Zn", "O", "S", "F", "Cl"]
# a made-up "property" per element
VALUE = {e: v for e, v in zip(ELEMENTS, np.linspace(-1.5, 2.0, len(ELEMENTS)))}


def regression_data(n=400, seed=0):
    rng = np.random.RandomState(seed)
    formulas, targets = [], []
    for _ in range(n):
        picked = rng.choice(ELEMENTS, size=rng.randint(1, 4), replace=False)
        amounts = rng.randint(1, 5, size=len(picked))
        formulas.append("".join(f"{e}{a}" for e, a in zip(picked, amounts)))
        fractions = amounts / amounts.sum()
        mean = float(sum(f * VALUE[e] for f, e in zip(fractions, picked)))
        targets.append(mean + 0.5 * mean ** 2)
    return _data("toy_regression", formulas, targets, "regression")


def classification_data(n=1500, seed=0, steepness=4.0):
    """FexNi(1-x) with P(label = 1) = sigmoid(steepness cos(2 pi x)): the true probability is
    known, and not monotone in x, so a model must learn it (the ROC-AUC keeps improving)."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(0.02, 0.98, n)
    p = 1.0 / (1.0 + np.exp(-steepness * np.cos(2 * np.pi * x)))
    labels = (rng.uniform(size=n) < p).astype(float)
    formulas = [f"Fe{a:.4f}Ni{1 - a:.4f}" for a in x]
    data = _data("toy_classification", formulas, labels, "classification")
    data.extra["probability"] = p
    return data


def _data(name, formulas, targets, task_type):
    n = len(formulas)
    return MaterialsData(name, "composition", formulas, np.asarray(targets, dtype=float), task_type, "", "y",
                         np.arange(n), n, "synthetic", (name + str(n)).ljust(64, "0"), matbench_rows=False)
