"""Training a MEGNet: a parent to transfer from, or the from-scratch baseline of Table 2."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

import pytorch_lightning as pl

from ..data.datasets.splits import Split
from ..data.datasets.table import MaterialsData
from ..hub.parents import load_parent_model
from ..lightning.datamodules import GraphDataModule
from ..lightning.parent import MEGNetModule
from .config import MEGNetConfig
from .runner import fit_evaluate

PARENT_FILE = "parent.pt"


def train_megnet(data: MaterialsData, split: Split, config: MEGNetConfig, seed: int = 0,
                 run_dir: Optional[str] = None, resume: bool = True, progress: bool = False,
                 graph_root: Optional[str] = None, record: Optional[Dict[str, Any]] = None, callbacks=(),
                 shuffle: bool = True) -> Dict[str, Any]:
    """Train a MEGNet on ``data`` (structures) with early stopping on ``split.val``,
    evaluate the best checkpoint on ``split.test``, and export it as a parent.

    With ``run_dir`` the run keeps ``last.ckpt`` after every epoch and, when that file is
    there as the run starts (and ``resume``), continues from it without redoing finished
    epochs; the best checkpoint is ``best.ckpt``, the exported parent ``parent.pt`` (load
    it with :func:`~torch_atomsets.load_parent`). Returns the result dict of
    :func:`~torch_atomsets.training.runner.fit_evaluate` plus ``parent`` (the file) and
    ``history`` (per-epoch metrics from the CSV log).
    """
    pl.seed_everything(seed, workers=True, verbose=False)
    model_config = dict(config.model)
    cutoff = float(model_config.get("cutoff", 5.0))
    if config.init_from:
        start, _ = load_parent_model(config.init_from)
        cutoff = start.cutoff
    datamodule = GraphDataModule(data, split, cutoff=cutoff, batch_size=config.batch_size,
                                 state_dim=int(model_config.get("state_dim", 2)), shuffle=shuffle, root=graph_root,
                                 progress=progress)
    module = MEGNetModule(model_config, config.loss, config.optimizer, config.learning_rate, config.weight_decay,
                          config.scheduler, config.scheduler_patience, config.normalise_targets,
                          init_from=config.init_from, task_type=data.task_type,
                          compress_graphs=config.compress_graphs, info=dict(dataset=data.name, unit=data.unit, target=data.target_name))
    info = dict(model="MEGNet", dataset=data.name, unit=data.unit, target=data.target_name, task_type=data.task_type,
                split=split.name, seed=seed, fidelity=data.fidelity, config=config.as_dict())
    info.update(record or {})
    result = fit_evaluate(module, datamodule, run_dir, config.trainer_options(), config.patience, info,
                          callbacks=callbacks, resume=resume and run_dir is not None, progress=progress)
    if run_dir is not None and module.trainer.is_global_zero:
        best = MEGNetModule.load_from_checkpoint(os.path.join(run_dir, "best.ckpt"), map_location="cpu")
        result["parent"] = best.export_parent(os.path.join(run_dir, PARENT_FILE), overwrite=True)
        result["history"] = read_history(run_dir)
    return result


def read_history(run_dir: str) -> list:
    """Per-epoch training and validation metrics of a run from its CSV logs
    (``logs/version_k/metrics.csv``, one per start of the run), one dict per epoch."""
    import csv
    import glob

    files = sorted(glob.glob(os.path.join(run_dir, "logs", "version_*", "metrics.csv")),
                   key=lambda p: int(p.split("version_")[-1].split(os.sep)[0]))
    rows: Dict[int, Dict[str, float]] = {}
    for path in files:  # one per start of a resumed run, in order
        with open(path) as handle:
            for row in csv.DictReader(handle):
                epoch = int(row["epoch"])
                entry = rows.setdefault(epoch, {"epoch": epoch})
                entry.update({k: float(v) for k, v in row.items()
                              if v not in ("", None) and k not in ("epoch", "step") and not k.startswith("test_")})
    return [rows[e] for e in sorted(rows) if "train_loss" in rows[e]]
