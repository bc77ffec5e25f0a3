"""Scores of predictions: the test metric of a task, classification at a decision
threshold, and how good an ensemble's uncertainty is."""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np


def score(task_type: str, targets: np.ndarray, predictions: np.ndarray) -> float:
    """MAE (regression) or ROC-AUC of the probabilities (classification)."""
    targets, predictions = np.asarray(targets, float), np.asarray(predictions, float)
    if task_type == "classification":
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(targets, predictions)) if len(np.unique(targets)) == 2 else float("nan")
    return float(np.abs(targets - predictions).mean())


def best_threshold(targets: np.ndarray, probabilities: np.ndarray) -> float:
    """The decision threshold with the best balanced accuracy on these (validation)
    predictions: the midpoint between neighbouring probabilities, or 0.5 without both
    classes."""
    targets, probabilities = np.asarray(targets, float), np.asarray(probabilities, float)
    if len(np.unique(targets)) < 2:
        return 0.5
    candidates = np.unique(probabilities)
    cuts = np.concatenate([[0.0], (candidates[:-1] + candidates[1:]) / 2, [1.0]])
    positives = targets == 1
    best, best_cut = -1.0, 0.5
    for cut in cuts:
        labels = probabilities >= cut
        accuracy = 0.5 * (labels[positives].mean() + (~labels[~positives]).mean())
        if accuracy > best + 1e-12:
            best, best_cut = accuracy, float(cut)
    return best_cut


def label_scores(targets: np.ndarray, probabilities: np.ndarray, threshold: float) -> Dict[str, float]:
    """Hard-label scores at ``threshold``: ROC-AUC of the labels (what the MatBench
    leaderboard records; it equals the balanced accuracy), accuracy and F1."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    targets = np.asarray(targets, int)
    labels = (np.asarray(probabilities, float) >= threshold).astype(int)
    both = len(np.unique(targets)) == 2
    return {"auc_labels": float(roc_auc_score(targets, labels)) if both else float("nan"),
            "accuracy": float(accuracy_score(targets, labels)), "f1": float(f1_score(targets, labels, zero_division=0)),
            "threshold": float(threshold)}


def uncertainty_scores(targets: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Dict[str, Optional[float]]:
    """How well an ensemble's spread ``std`` tells its errors: Spearman rank correlation of
    |error| with std; the fractions of errors within 1 and 2 std (a Gaussian would give
    0.683 and 0.954); and the miscalibration area (mean |observed - expected| fraction
    inside the central Gaussian intervals, over 99 levels; 0 is perfect)."""
    from scipy.stats import norm, spearmanr

    error = np.abs(np.asarray(targets, float) - np.asarray(mean, float))
    std = np.asarray(std, float)
    if len(error) < 3 or not np.any(std > 0):
        return {"spearman": None, "within_1std": None, "within_2std": None, "miscalibration_area": None}
    levels = np.linspace(0.01, 0.99, 99)
    z = np.abs(error) / np.maximum(std, 1e-12)
    observed = np.array([(z <= norm.ppf(0.5 + p / 2)).mean() for p in levels])
    return {"spearman": float(spearmanr(error, std).correlation), "within_1std": float((z <= 1).mean()),
            "within_2std": float((z <= 2).mean()), "miscalibration_area": float(np.abs(observed - levels).mean())}
