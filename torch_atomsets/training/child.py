"""Training one child on one split (:func:`train_child`)."""
from __future__ import annotations

from functools import partial
from typing import Any, Dict, Optional

import numpy as np
import pytorch_lightning as pl

from ..data.datasets.splits import Split
from ..data.datasets.table import MaterialsData
from ..errors import ConfigError
from ..lightning.child import ChildModule
from ..lightning.datamodules import ChildDataModule
from ..models.registry import GBT, model_spec
from .config import ChildConfig
from .metrics import best_threshold, label_scores
from .runner import fit_evaluate


def child_module(config: ChildConfig, task_type: Optional[str] = None) -> ChildModule:
    """The :class:`ChildModule` of ``config`` (its data facts filled in at ``setup``)."""
    o = config.optim
    return ChildModule(model=config.model, **config.hyper.as_dict(), loss=o.loss, optimizer=o.optimizer,
                       learning_rate=o.learning_rate, weight_decay=o.weight_decay, scheduler=o.scheduler,
                       target_transform=o.target_transform, task_type=task_type)


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
                record: Optional[Dict[str, Any]] = None, callbacks=(), test: bool = True) -> Dict[str, Any]:
    """Fit ``config.model`` on ``split.train`` with early stopping on ``split.val``
    (patience ``config.optim.patience``), restore the best checkpoint, and evaluate it on
    ``split.test``.

    Returns the result dict of :func:`~torch_atomsets.training.runner.fit_evaluate`; with
    ``run_dir`` the split's folder gets ``metrics.json``, ``predictions.csv``, ``best.ckpt``
    and the logs. The same ``seed`` on the same machine gives the same numbers. A
    classifier also gets a decision ``threshold`` chosen on its validation part and the
    test scores of its hard labels (``auc_labels``: MatBench's leaderboard metric).
    ``test=False`` never touches ``split.test`` (model selection on the validation part).

    A ``GBT-<levels>`` model is grown by :func:`~torch_atomsets.training.trees.train_trees`
    (:func:`~torch_atomsets.training.train_model` picks it).

    ``parent`` by name or path (``None``: ``config.parent``) is loaded after seeding, as in
    every committed run and in ``atomsets train``; a loaded
    :class:`~torch_atomsets.inference.Parent` skips that load, so the child starts from
    another (equally valid) random initialisation.
    """
    if model_spec(config.model).kind == GBT:
        raise ConfigError(f"{config.model}: boosted trees are grown by torch_atomsets.training.train_model (or "
                          "train_trees), not by train_child's Lightning Trainer")
    pl.seed_everything(seed, workers=True, verbose=False)
    datamodule = child_datamodule(data, split, config, parent, weights_dir, allow_download, progress)
    module = child_module(config, data.task_type)
    info = run_info(data, split, config, seed, record)
    return fit_evaluate(module, datamodule, run_dir, config.trainer_options(), config.optim.patience, info,
                        callbacks=callbacks, progress=progress, test=test,
                        predict_validation=data.is_classification, finish=partial(_classification_scores, data))


def run_info(data: MaterialsData, split: Split, config: ChildConfig, seed: int,
             record: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What a child's result records about its run (model, data, split, seed, configuration)."""
    info = dict(model=config.model, dataset=data.name, task_type=data.task_type, unit=data.unit,
                target=data.target_name, split=split.name, seed=seed, fidelity=data.fidelity,
                config=config.as_dict())
    info.update(record or {})
    return info


def _classification_scores(data: MaterialsData, result: Dict[str, Any]) -> None:
    """A classifier's threshold, from its validation predictions, and its hard-label scores."""
    validation = result.get("val_predictions")
    if not data.is_classification or not validation:
        return
    positions = np.asarray(validation["positions"], dtype=np.int64)
    result["threshold"] = best_threshold(data.targets[positions], np.asarray(validation["prediction"]))
    if result.get("test") is not None:
        test = np.asarray(result["predictions"]["positions"], dtype=np.int64)
        result.update(label_scores(data.targets[test], np.asarray(result["predictions"]["prediction"]),
                                   result["threshold"]))
