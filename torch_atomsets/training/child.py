"""Training children: one split (:func:`train_child`), or every split of a command with
finished splits reused (:func:`run_child`)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import pytorch_lightning as pl

from ..data.datasets.splits import Split
from ..data.datasets.table import MaterialsData
from ..lightning.child import ChildModule
from ..lightning.datamodules import ChildDataModule
from ..models.registry import model_spec
from ..utils.files import write_json
from .config import ChildConfig
from .identity import identity_hash, run_identity, split_identity
from .runner import fit_evaluate, is_finished, read_metrics


def child_module(config: ChildConfig, task_type: Optional[str] = None) -> ChildModule:
    """The :class:`ChildModule` of ``config`` (its data facts filled in at ``setup``)."""
    o = config.optim
    return ChildModule(model=config.model, **config.hyper.as_dict(), loss=o.loss, optimizer=o.optimizer,
                       learning_rate=o.learning_rate, weight_decay=o.weight_decay, scheduler=o.scheduler,
                       task_type=task_type)


def child_datamodule(data: MaterialsData, split: Split, config: ChildConfig, parent=None,
                     weights_dir: Optional[str] = None, allow_download: bool = True,
                     progress: Optional[bool] = None) -> ChildDataModule:
    spec = model_spec(config.model)
    return ChildDataModule(data, spec.level, split, parent=parent if parent is not None else config.parent,
                           weights_dir=weights_dir, allow_download=allow_download,
                           batch_size=config.optim.batch_size, progress=progress)


def train_child(data: MaterialsData, split: Split, config: ChildConfig, seed: int = 0,
                run_dir: Optional[str] = None, parent=None, weights_dir: Optional[str] = None,
                allow_download: bool = True, progress: bool = False,
                record: Optional[Dict[str, Any]] = None, callbacks=()) -> Dict[str, Any]:
    """Fit ``config.model`` on ``split.train`` with early stopping on ``split.val``
    (patience ``config.optim.patience``), restore the best checkpoint, and evaluate it on
    ``split.test``.

    Returns the result dict of :func:`~torch_atomsets.training.runner.fit_evaluate`; with
    ``run_dir`` the split's folder gets ``metrics.json``, ``predictions.csv``, ``best.ckpt``
    and the logs. The same ``seed`` on the same machine gives the same numbers.
    """
    pl.seed_everything(seed, workers=True, verbose=False)
    datamodule = child_datamodule(data, split, config, parent, weights_dir, allow_download, progress)
    module = child_module(config, data.task_type)
    info = dict(model=config.model, dataset=data.name, task_type=data.task_type, unit=data.unit,
                target=data.target_name, split=split.name, seed=seed, fidelity=data.fidelity,
                config=config.as_dict())
    info.update(record or {})
    return fit_evaluate(module, datamodule, run_dir, config.trainer_options(), config.optim.patience, info,
                        callbacks=callbacks, progress=progress)


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
        result = train_child(data, split, config, seed, split_dir, parent, weights_dir, allow_download, progress,
                             record={"identity": key})
        run.results.append(result)
        run.reused.append(False)
        if report:
            report(f"  {split.name}: test {result['metric']} {result['test']:.4g} {data.unit} (val {result['val']:.4g}, "
                   f"best epoch {result['best_epoch']} of {result['epochs']}, "
                   f"{result['seconds_per_epoch'] * 1000:.1f} ms/epoch)")
    if run.results:
        write_json(os.path.join(folder, "summary.json"), run.summary())
    return run
