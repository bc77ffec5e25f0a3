"""Ensembles of children: K members per split, their mean as the prediction and their spread
as an uncertainty.

Member 0 is the split's own child (its training and validation parts, its seed). Member m
re-draws the validation part from the same pool (the split's training and validation
samples, in the same proportion) and starts from another seed, so the members differ in
what they saw and where they started; the test part is never in any member's pool. A
classifier's decision threshold is chosen on each member's own validation part (best
balanced accuracy) and averaged, never on the test part.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..data.datasets.splits import Split, carve_validation
from ..data.datasets.table import MaterialsData
from ..hub.checkpoints import ENSEMBLE_FILE
from ..utils.files import write_json
from .config import ChildConfig
from .finetune import train_model
from .metrics import label_scores, score, uncertainty_scores
from .runner import METRICS_FILE, is_finished, read_metrics, write_predictions


def member_splits(split: Split, members: int, seed: int) -> List[Tuple[Split, int]]:
    """``(split, seed)`` of each member (see the module docstring)."""
    out = [(split, seed)]
    pool = np.sort(np.concatenate([split.train, split.val]))
    fraction = len(split.val) / max(1, len(pool))
    for m in range(1, members):
        train, val = carve_validation(pool, fraction, seed=100_003 * (seed + 1) + m)
        out.append((Split(train, val, split.test, name=f"{split.name} member {m}"), seed + 7919 * m))
    return out


def combine(data: MaterialsData, members: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The ensemble's test predictions (mean, std over members) and scores."""
    positions = members[0]["predictions"]["positions"]
    for member in members[1:]:
        if member["predictions"]["positions"] != positions:
            raise RuntimeError("ensemble members predicted different test samples")
    stacked = np.array([m["predictions"]["prediction"] for m in members], dtype=np.float64)
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    targets = data.targets[np.asarray(positions, dtype=np.int64)]
    result = {"metric": members[0]["metric"], "test": score(data.task_type, targets, mean),
              "members_test": [m["test"] for m in members], "n_members": len(members),
              "val": float(np.mean([m["val"] for m in members])),
              "predictions": {"positions": list(positions), "prediction": mean.tolist(), "std": std.tolist()}}
    if data.is_classification:
        thresholds = [m["threshold"] for m in members if m.get("threshold") is not None]
        result.update(label_scores(targets, mean, float(np.mean(thresholds)) if thresholds else 0.5))
    else:
        result["uncertainty"] = uncertainty_scores(targets, mean, std)
    return result


def train_ensemble(data: MaterialsData, split: Split, config: ChildConfig, seed: int, run_dir: Optional[str],
                   members: int, record: Optional[Dict[str, Any]] = None, **options) -> Dict[str, Any]:
    """Train ``members`` children on ``split`` (see the module docstring) and score their
    mean on the test part. Each member is a finished run folder ``member-m`` of
    ``run_dir`` (reused when already there with the same identity); ``run_dir`` itself gets
    ``metrics.json`` (the ensemble's), ``predictions.csv`` (with the std) and
    ``ensemble.json`` (the members' checkpoints)."""
    results = []
    for m, (member_split, member_seed) in enumerate(member_splits(split, members, seed)):
        folder = None if run_dir is None else os.path.join(run_dir, f"member-{m}")
        key = dict(record or {}, member=m)
        if folder and is_finished(folder) and read_metrics(folder).get("identity") == key.get("identity"):
            result = read_metrics(folder)
            result["predictions"] = _read_predictions(folder, data)
        else:
            result = train_model(data, member_split, config, member_seed, folder, record=key, **options)
        results.append(result)
    combined = combine(data, results)
    out = dict(results[0])
    out.pop("val_predictions", None)
    out.update(combined)
    out.update(record or {})
    out["fit_seconds"] = float(sum(r.get("fit_seconds", 0.0) for r in results))
    if run_dir is not None:
        p = combined["predictions"]
        write_predictions(run_dir, data, np.asarray(p["positions"]), np.asarray(p["prediction"]), np.asarray(p["std"]))
        write_json(os.path.join(run_dir, ENSEMBLE_FILE),
                   {"members": [f"member-{m}/best.ckpt" for m in range(members)],
                    "thresholds": [r.get("threshold") for r in results]})
        write_json(os.path.join(run_dir, METRICS_FILE), {k: v for k, v in out.items() if k != "predictions"})
    return out


def _read_predictions(folder: str, data: MaterialsData) -> Dict[str, list]:
    """A finished member's test predictions back from its ``predictions.csv``."""
    import csv

    position_of = {int(index): i for i, index in enumerate(data.index)}
    positions, values = [], []
    with open(os.path.join(folder, "predictions.csv")) as handle:
        for row in csv.DictReader(handle):
            positions.append(position_of[int(row["index"])])
            values.append(float(row["prediction"]))
    return {"positions": positions, "prediction": values}
