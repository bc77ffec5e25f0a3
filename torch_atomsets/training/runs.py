"""Every split of a command: one child (or ensemble) per split, finished splits reused
when their identity matches (:func:`run_child`)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from ..data.datasets.splits import Split
from ..data.datasets.table import MaterialsData
from ..utils.files import write_json
from .config import ChildConfig
from .ensemble import train_ensemble
from .finetune import train_model
from .identity import identity_hash, run_identity, split_identity
from .runner import is_finished, read_metrics


@dataclass
class ChildRun:
    """The outcome of :func:`run_child`: one result per split, and where they are."""

    folder: str
    identity: Dict[str, Any]
    results: List[Dict[str, Any]] = field(default_factory=list)
    reused: List[bool] = field(default_factory=list)

    def summary(self) -> Dict[str, Any]:
        tests = np.array([r["test"] for r in self.results])
        first = self.results[0] if self.results else {}
        return {"dataset": self.identity["dataset"], "model": self.identity["config"]["model"],
                "protocol": self.identity["protocol"], "metric": first.get("metric"), "unit": first.get("unit"),
                "mean": float(tests.mean()) if len(tests) else float("nan"),
                "std": float(tests.std()) if len(tests) else float("nan"), "n_splits": len(tests),
                "splits": [r["split"] for r in self.results], "tests": tests.tolist(),
                "fidelity": first.get("fidelity"), "folder": self.folder,
                "checkpoints": [r.get("checkpoint") for r in self.results]}


def run_folder(results_dir: str, data: MaterialsData, model: str, identity: Dict[str, Any]) -> str:
    """``<results_dir>/<dataset>/<model>-<hash of the identity>``."""
    return os.path.join(results_dir, data.name, f"{model}-{identity_hash(identity)}")


def split_folder_name(split: Split) -> str:
    return split.name.replace(" ", "-")


def run_child(data: MaterialsData, splits: List[Split], seeds: List[int], config: ChildConfig, results_dir: str,
              parent_key: Optional[str], protocol: str, force: bool = False, parent=None,
              weights_dir: Optional[str] = None, allow_download: bool = True, progress: bool = False,
              report: Optional[Callable[[str], None]] = None) -> ChildRun:
    """Train ``config`` on every split; a split already finished with this identity (same
    configuration, data fingerprint, parent and split) is read back instead of redone
    (``force`` redoes it). ``report`` gets one line per split."""
    identity = run_identity(config.as_dict(), data, parent_key, protocol)
    folder = run_folder(results_dir, data, config.model, identity)
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "identity.json"), identity)
    run = ChildRun(folder, identity)
    for split, seed in zip(splits, seeds):
        split_dir = os.path.join(folder, split_folder_name(split))
        key = split_identity(identity, split.name, seed)
        if not force and is_finished(split_dir) and read_metrics(split_dir).get("identity") == key:
            result = read_metrics(split_dir)
            run.results.append(result)
            run.reused.append(True)
            if report:
                report(f"  {split.name}: finished before with this configuration, {result['metric']} "
                       f"{result['test']:.4g} (--force redoes it)")
            continue
        options = dict(parent=parent, weights_dir=weights_dir, allow_download=allow_download, progress=progress)
        if config.optim.ensemble > 1:
            result = train_ensemble(data, split, config, seed, split_dir, config.optim.ensemble,
                                    record={"identity": key}, **options)
        else:
            result = train_model(data, split, config, seed, split_dir, record={"identity": key}, **options)
        run.results.append(result)
        run.reused.append(False)
        if report:
            report(f"  {split.name}: test {result['metric']} {result['test']:.4g} {data.unit} (val {result['val']:.4g}, "
                   f"best epoch {result['best_epoch']} of {result['epochs']}, "
                   f"{result['seconds_per_epoch'] * 1000:.1f} ms/epoch)")
    if run.results:
        write_json(os.path.join(folder, "summary.json"), run.summary())
    return run
