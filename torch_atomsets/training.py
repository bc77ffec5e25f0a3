"""Train and evaluate one child on one split: the unit every script and CLI run is made of."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional

import numpy as np
import pytorch_lightning as pl
import torch

from .data.sets import MODELS, level_of
from .data.splits import Split
from .lightning.child import ChildDataModule, ChildModule

PAPER_PATIENCE = 200
#: batch size and learning rate when a ChildConfig leaves them at None
TASK_TYPE_DEFAULTS = {"regression": {"batch_size": 16, "learning_rate": 3e-3},
                      "classification": {"batch_size": 128, "learning_rate": 1e-3}}


@dataclass
class ChildConfig:
    """Hyperparameters of a child run (Table S2 of the paper, plus training settings).

    ``n_layer_before_readout``, ``n_layer_after_readout``, ``readout`` and
    ``embedding_dim`` apply to AtomSets models; ``n_layer`` to MLP models;
    ``n_neurons`` and ``activation`` to both.

    The defaults were chosen as the paper chose its own, by validation error in a small
    screening, the test splits playing no part (``benchmarks/README.md`` has the grids):
    on matbench_steels (mean validation MAE over the 5 paper seeds, AtomSets and
    AtomSets-V0; batch 16/32/128 x mean/set2set x learning rate 1e-3/3e-3) and on
    matbench_glass (validation ROC-AUC, seeds 0-1). Regression did best with small
    batches and a higher rate, classification with larger batches and a lower one, so
    ``batch_size`` and ``learning_rate`` default by task type (``TASK_TYPE_DEFAULTS``).
    """

    model: str = "AtomSets-V0"
    n_layer_before_readout: int = 2
    n_layer_after_readout: int = 2
    n_neurons: int = 64
    readout: str = "set2set"
    activation: str = "relu"
    embedding_dim: int = 32
    n_layer: int = 3
    batch_size: Optional[int] = None  # None: by task type, see TASK_TYPE_DEFAULTS
    learning_rate: Optional[float] = None
    weight_decay: float = 0.0
    loss: str = "mae"
    max_epochs: int = 10000
    patience: int = PAPER_PATIENCE
    parent: Optional[str] = None  # a parent name or path; None: the published 2019 parent
    accelerator: str = "cpu"
    devices: Any = 1
    strategy: str = "auto"
    num_workers: int = 0
    trainer_options: Dict[str, Any] = field(default_factory=dict)

    def resolved(self, task_type: str) -> "ChildConfig":
        """A copy with ``batch_size`` / ``learning_rate`` filled in for ``task_type``."""
        from dataclasses import replace

        defaults = TASK_TYPE_DEFAULTS[task_type]
        return replace(self, batch_size=self.batch_size or defaults["batch_size"],
                       learning_rate=self.learning_rate or defaults["learning_rate"])

    def model_config(self, in_channels: Optional[int]) -> tuple:
        kind, level = MODELS[self.model]
        if kind == "atomsets":
            return kind, dict(in_channels=in_channels, embedding_dim=self.embedding_dim,
                              n_layer_before_readout=self.n_layer_before_readout,
                              n_layer_after_readout=self.n_layer_after_readout, n_neurons=self.n_neurons,
                              readout=self.readout, activation=self.activation)
        return kind, dict(in_channels=in_channels, n_layer=self.n_layer, n_neurons=self.n_neurons,
                          activation=self.activation)


class _EpochClock(pl.Callback):
    """Wall time of each training epoch, its validation included."""

    def __init__(self):
        self.seconds = []
        self._start = None

    def on_train_epoch_start(self, trainer, module):
        self._start = time.perf_counter()

    def on_validation_epoch_end(self, trainer, module):
        if self._start is not None and not trainer.sanity_checking:
            self.seconds.append(time.perf_counter() - self._start)
            self._start = None


class _History(pl.Callback):
    """Epoch-level metrics of a run (training and validation), as a list of dicts."""

    def __init__(self):
        self.rows = []

    def on_train_epoch_end(self, trainer, module):
        row = {"epoch": trainer.current_epoch}
        row.update({k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1})
        self.rows.append(row)


class _RunBar(pl.Callback):
    """One progress bar for a whole run (epochs), with the monitored metric."""

    def __init__(self, max_epochs: int, label: str):
        self.max_epochs = max_epochs
        self.label = label
        self.bar = None

    def on_train_start(self, trainer, module):
        if trainer.is_global_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.max_epochs, desc=self.label, unit="epoch", dynamic_ncols=True, leave=False)

    def on_validation_epoch_end(self, trainer, module):
        if self.bar is not None and not trainer.sanity_checking:
            value = trainer.callback_metrics.get(module.monitor)
            if value is not None:
                self.bar.set_postfix({module.monitor: f"{float(value):.4g}"})
            self.bar.update(1)

    def on_train_end(self, trainer, module):
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def quiet_lightning():
    """Silence Lightning's informational chatter (device banners, tips, checkpoint
    restores) for the duration; warnings and errors still show."""
    loggers = [logging.getLogger(name) for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric",
                                                     "lightning.fabric")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            warnings.filterwarnings("ignore", ".*number of training batches.*")
            warnings.filterwarnings("ignore", ".*LeafSpec.*")
            warnings.filterwarnings("ignore", ".*exists and is not empty.*")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def train_child(data, split: Split, config: ChildConfig, seed: int = 0, output_dir: Optional[str] = None,
                weights_dir: Optional[str] = None, parent=None, progress: bool = False,
                info: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Fit ``config.model`` on ``split.train`` with early stopping on ``split.val``
    (patience ``config.patience`` epochs, at most ``config.max_epochs``), restore the best
    checkpoint, and evaluate it on ``split.test``.

    Returns a dict with the metrics, timings, the best epoch and the test predictions;
    with ``output_dir`` also writes ``metrics.json``, ``predictions.csv`` and the best
    checkpoint (``best.ckpt``) there.
    """
    level = level_of(config.model)
    config = config.resolved(data.task_type)
    pl.seed_everything(seed, workers=True, verbose=False)
    datamodule = ChildDataModule(data, level, split, parent=parent if parent is not None else config.parent,
                                 weights_dir=weights_dir, batch_size=config.batch_size,
                                 num_workers=config.num_workers, progress=progress)
    datamodule.prepare_data()
    datamodule.setup()
    mean, std = datamodule.target_statistics()
    kind, model_config = config.model_config(datamodule.in_channels)
    parent_obj = datamodule.parent
    run_info = dict(model=config.model, level=level, dataset=data.name, input_type=data.input_type,
                    task_type=data.task_type, unit=data.unit, target=data.target_name,
                    parent=None if parent_obj is None else parent_obj.metadata.get("name"),
                    parent_key=None if parent_obj is None else parent_obj.key,
                    parent_source=None if parent_obj is None else _parent_source(config.parent, parent_obj),
                    split=split.name, seed=seed, fidelity=data.fidelity)
    run_info.update(info or {})
    module = ChildModule(kind, model_config, data.task_type, config.loss, config.learning_rate,
                         config.weight_decay, mean, std, info=run_info)

    workdir = output_dir or tempfile.mkdtemp(prefix="atomsets-run-")
    os.makedirs(workdir, exist_ok=True)
    checkpoint = pl.callbacks.ModelCheckpoint(dirpath=workdir, filename="best", monitor=module.monitor,
                                              mode=module.monitor_mode, save_top_k=1, enable_version_counter=False)
    clock = _EpochClock()
    callbacks = [pl.callbacks.EarlyStopping(monitor=module.monitor, mode=module.monitor_mode,
                                            patience=config.patience, check_finite=False),
                 checkpoint, clock]
    if progress:
        callbacks.append(_RunBar(config.max_epochs, f"{data.name} {config.model} {split.name}"))
    options = dict(max_epochs=config.max_epochs, accelerator=config.accelerator, devices=config.devices,
                   strategy=config.strategy, callbacks=callbacks, logger=False, enable_progress_bar=False,
                   enable_model_summary=False, num_sanity_val_steps=0, deterministic=True,
                   default_root_dir=workdir)
    options.update(config.trainer_options)
    start = time.perf_counter()
    with quiet_lightning():
        trainer = pl.Trainer(**options)
        trainer.fit(module, datamodule=datamodule)
        fit_seconds = time.perf_counter() - start
        if data.is_classification:
            if trainer.is_global_zero:
                calibrate_checkpoint(checkpoint.best_model_path, datamodule.val_dataloader())
            trainer.strategy.barrier()
        tested = trainer.test(module, datamodule=datamodule, ckpt_path=checkpoint.best_model_path, verbose=False)
    metric = "test_auc" if data.is_classification else "test_mae"
    result: Dict[str, Any] = dict(run_info)
    result.update(
        metric=metric.split("_")[1], test=float(tested[0][metric]),
        val=float(checkpoint.best_model_score) if checkpoint.best_model_score is not None else float("nan"),
        best_epoch=_best_epoch(checkpoint.best_model_path), epochs=trainer.current_epoch,
        fit_seconds=fit_seconds, seconds_per_epoch=float(np.median(clock.seconds)) if clock.seconds else float("nan"),
        n_train=len(datamodule.positions["train"]), n_val=len(datamodule.positions["val"]),
        n_test=len(datamodule.positions["test"]), n_dropped=int(len(split.train) + len(split.val) + len(split.test)
                                                             - sum(len(p) for p in datamodule.positions.values())),
        config=asdict(config), max_epochs_reached=trainer.current_epoch >= config.max_epochs)
    if trainer.is_global_zero:
        with quiet_lightning():
            best = ChildModule.load_from_checkpoint(checkpoint.best_model_path, map_location="cpu").eval()
        ids, predictions = predict_loader(best, datamodule.test_dataloader())
        result["predictions"] = {"position": ids.tolist(), "index": data.index[ids].tolist(),
                                 "target": data.targets[ids].tolist(), "prediction": predictions.tolist()}
        if output_dir:
            result["checkpoint"] = os.path.join(output_dir, "best.ckpt")
            _write_run(output_dir, result)
    return result


def _parent_source(requested, parent_obj) -> Optional[str]:
    return requested if isinstance(requested, str) else parent_obj.metadata.get("name")


def _best_epoch(path: str) -> Optional[int]:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=False)["epoch"])
    except Exception:  # a missing or foreign checkpoint only loses this number
        return None


def calibrate_checkpoint(path: str, loader) -> None:
    """Fit the classification calibration on ``loader`` (validation) and store it in the
    checkpoint at ``path``."""
    with quiet_lightning():
        module = ChildModule.load_from_checkpoint(path, map_location="cpu").eval()
    logits, labels = [], []
    with torch.no_grad():
        for batch in loader:
            logits.append(module(batch))
            labels.append(batch.y)
    calibration = module.fit_calibration(torch.cat(logits), torch.cat(labels))
    state = torch.load(path, map_location="cpu", weights_only=False)
    state["state_dict"]["calibration"] = calibration.clone()
    torch.save(state, path)


@torch.no_grad()
def predict_loader(module: ChildModule, loader) -> tuple:
    ids, values = [], []
    for batch in loader:
        ids.append(batch.ids)
        values.append(module.predict_batch(batch))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return torch.cat(ids).numpy(), torch.cat(values).numpy()


def _write_run(folder: str, result: Dict[str, Any]) -> None:
    predictions = result["predictions"]
    with open(os.path.join(folder, "predictions.csv"), "w") as handle:
        handle.write("index,target,prediction\n")
        for index, target, prediction in zip(predictions["index"], predictions["target"], predictions["prediction"]):
            handle.write(f"{index},{target:.10g},{prediction:.10g}\n")
    summary = {k: v for k, v in result.items() if k != "predictions"}
    with open(os.path.join(folder, "metrics.json"), "w") as handle:
        json.dump(summary, handle, indent=1, default=str)


# -- MEGNet: parent pretraining and the from-scratch baseline --------------------------

@dataclass
class MEGNetConfig:
    """Settings of a MEGNet training run. ``model`` overrides :class:`MEGNet` defaults
    (the paper's parent: 3 blocks, 5 A, 100 Gaussians, Set2Set)."""

    model: Dict[str, Any] = field(default_factory=dict)
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_schedule: str = "plateau"
    lr_patience: int = 20
    loss: str = "mae"
    max_epochs: int = 1000
    patience: int = PAPER_PATIENCE
    max_time: Optional[str] = None  # Lightning's "DD:HH:MM:SS" budget
    normalise_targets: bool = True
    init_from: Optional[str] = None
    accelerator: str = "cpu"
    devices: Any = 1
    strategy: str = "auto"
    num_workers: int = 0
    pin_memory: bool = False
    trainer_options: Dict[str, Any] = field(default_factory=dict)


def train_megnet(data, split: Split, config: MEGNetConfig, seed: int = 0, output_dir: Optional[str] = None,
                 resume: bool = True, progress: bool = False, graph_root: Optional[str] = None,
                 info: Optional[Dict[str, Any]] = None, callbacks: Optional[list] = None,
                 shuffle: bool = True) -> Dict[str, Any]:
    """Train a MEGNet on ``data`` (structures) with early stopping on ``split.val``,
    evaluate the best checkpoint on ``split.test``, and export it as a parent.

    With ``output_dir`` the run keeps ``last.ckpt`` after every epoch and, if that file
    is there when the run starts (and ``resume``), continues from it without losing
    finished epochs; the best checkpoint is ``best.ckpt`` and the exported parent
    ``parent.pt`` (load it with :func:`~torch_atomsets.load_parent`).
    """
    from .lightning.megnet import GraphDataModule, MEGNetModule, predict_graphs

    pl.seed_everything(seed, workers=True, verbose=False)
    cutoff = float(config.model.get("cutoff", 5.0))
    if config.init_from:
        from .parent import load_parent

        cutoff = load_parent(config.init_from).model.cutoff
    datamodule = GraphDataModule(data, split, cutoff, config.batch_size, config.num_workers, config.pin_memory,
                                 root=graph_root, progress=progress, shuffle=shuffle)
    datamodule.prepare_data()
    datamodule.setup()
    mean, std = datamodule.target_statistics() if config.normalise_targets else (0.0, 1.0)
    run_info = dict(model="MEGNet", dataset=data.name, unit=data.unit, target=data.target_name,
                    task_type=data.task_type, split=split.name, seed=seed, fidelity=data.fidelity)
    run_info.update(info or {})
    module = MEGNetModule(dict(config.model), config.loss, config.learning_rate, config.lr_schedule,
                          config.lr_patience, config.max_epochs, mean, std, config.init_from, info=run_info)
    workdir = output_dir or tempfile.mkdtemp(prefix="atomsets-megnet-")
    os.makedirs(workdir, exist_ok=True)
    checkpoint = pl.callbacks.ModelCheckpoint(dirpath=workdir, filename="best", monitor="val_mae", mode="min",
                                              save_top_k=1, save_last=True, enable_version_counter=False)
    clock = _EpochClock()
    history = _History()
    callbacks = [history, pl.callbacks.EarlyStopping(monitor="val_mae", mode="min", patience=config.patience,
                                            check_finite=False), checkpoint, clock] + list(callbacks or [])
    if progress:
        callbacks.append(_RunBar(config.max_epochs, f"MEGNet {data.name} {split.name}"))
    options = dict(max_epochs=config.max_epochs, max_time=config.max_time, accelerator=config.accelerator,
                   devices=config.devices, strategy=config.strategy, callbacks=callbacks, logger=False,
                   enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                   default_root_dir=workdir)
    options.update(config.trainer_options)
    last = os.path.join(workdir, "last.ckpt")
    resume_from = last if resume and os.path.exists(last) else None
    start = time.perf_counter()
    with quiet_lightning():
        trainer = pl.Trainer(**options)
        trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from)
        fit_seconds = time.perf_counter() - start
        best_path = checkpoint.best_model_path or last
        tested = trainer.test(module, datamodule=datamodule, ckpt_path=best_path, verbose=False)
    result: Dict[str, Any] = dict(run_info)
    result.update(metric="mae", test=float(tested[0]["test_mae"]),
                  val=float(checkpoint.best_model_score) if checkpoint.best_model_score is not None else float("nan"),
                  best_epoch=_best_epoch(best_path), epochs=trainer.current_epoch, fit_seconds=fit_seconds,
                  seconds_per_epoch=float(np.median(clock.seconds)) if clock.seconds else float("nan"),
                  n_train=len(datamodule.items["train"]), n_val=len(datamodule.items["val"]),
                  n_test=len(datamodule.items["test"]),
                  n_dropped=int(len(split.train) + len(split.val) + len(split.test)
                                - sum(len(v) for v in datamodule.items.values())),
                  resumed_from=resume_from, config=asdict(config), history=history.rows,
                  max_epochs_reached=trainer.current_epoch >= config.max_epochs)
    if trainer.is_global_zero:
        with quiet_lightning():
            best = MEGNetModule.load_from_checkpoint(best_path, map_location="cpu").eval()
        positions, predictions = predict_graphs(best, datamodule.test_dataloader())
        result["predictions"] = {"position": positions.tolist(), "index": data.index[positions].tolist(),
                                 "target": data.targets[positions].tolist(), "prediction": predictions.tolist()}
        if output_dir:
            result["checkpoint"] = best_path
            result["parent"] = best.export_parent(os.path.join(output_dir, "parent.pt"), overwrite=True)
            _write_run(output_dir, result)
    return result
