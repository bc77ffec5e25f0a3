"""What every torch_atomsets LightningModule shares: the loss (by name or a callable), the
optimiser and schedule (by name), torchmetrics for every stage, and float32 predictions
in the target's unit.

A subclass says how a batch becomes raw outputs (:meth:`AtomSetsModule.forward`), how raw
outputs become predictions (:meth:`AtomSetsModule.output`) and how targets are scaled for
the loss (:meth:`AtomSetsModule.scaled_target`). Metrics are updated per step and computed
once per epoch by torchmetrics, which synchronises them across DDP processes (each sample
of a validation or test set counted once: the data modules shard those sets without
padding).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Union

import pytorch_lightning as pl
import torch
import torchmetrics
from torch import Tensor, nn

from ..errors import ConfigError

#: Regression losses by name (on standardised targets).
LOSSES: Dict[str, Callable[[], nn.Module]] = {"mae": nn.L1Loss, "mse": nn.MSELoss, "huber": nn.SmoothL1Loss}
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
SCHEDULERS = ("none", "plateau", "cosine")

#: Training defaults that depend on the task type (``batch_size`` is the data module's):
#: chosen by validation error, see ``benchmarks/screening/``.
TASK_TYPE_DEFAULTS = {"regression": {"batch_size": 16, "learning_rate": 3e-3},
                      "classification": {"batch_size": 128, "learning_rate": 1e-3}}
REGRESSION, CLASSIFICATION = "regression", "classification"

#: Transforms of a regression target the network learns in place of the target itself
#: (then standardised); predictions are mapped back. ``log1p`` suits heavy-tailed,
#: non-negative targets (exfoliation energies, moduli).
TARGET_TRANSFORMS: Dict[str, tuple] = {"none": (lambda y: y, lambda t: t), "log1p": (torch.log1p, torch.expm1),
                                       "log": (torch.log, torch.exp)}


def resolve_loss(loss: Union[str, Callable]) -> Callable:
    """A loss module from a name in :data:`LOSSES`, or a callable ``loss(input, target)``
    used as is."""
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ConfigError(f"loss must be one of {', '.join(LOSSES)} or a callable, got {loss!r}")
    return LOSSES[loss]()


class AtomSetsModule(pl.LightningModule):
    """Base of :class:`~torch_atomsets.lightning.ChildModule` and
    :class:`~torch_atomsets.lightning.MEGNetModule`.

    Args:
        loss: regression loss, a name of :data:`LOSSES` (``"mae"``) or a callable (not
            saved with the checkpoint). Classification always uses binary cross-entropy on
            logits.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"``.
        learning_rate: the optimiser's learning rate; ``None``: by task type
            (:data:`TASK_TYPE_DEFAULTS`).
        weight_decay: the optimiser's weight decay.
        scheduler: ``"none"``, ``"plateau"`` (halve after ``scheduler_patience`` epochs without
            a better monitored metric) or ``"cosine"`` (to 1% over ``max_epochs``).
        scheduler_patience: see ``scheduler``.
    """

    def __init__(self, loss: Union[str, Callable] = "mae", optimizer: str = "adam",
                 learning_rate: Optional[float] = None, weight_decay: float = 0.0, scheduler: str = "none",
                 scheduler_patience: int = 20):
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        if scheduler not in SCHEDULERS:
            raise ConfigError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {scheduler!r}")
        if learning_rate is not None and learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, got {learning_rate}")
        self.regression_loss = resolve_loss(loss)
        self.metrics: Optional[nn.ModuleDict] = None
        self._task_type: Optional[str] = None

    # -- what subclasses provide --------------------------------------------------------
    @property
    def task_type(self) -> Optional[str]:
        return self._task_type

    @property
    def is_classification(self) -> bool:
        return self.task_type == CLASSIFICATION

    def forward(self, batch) -> Tensor:  # pragma: no cover - abstract
        """Raw outputs ``(B,)``: a standardised value or a logit."""
        raise NotImplementedError

    def output(self, raw: Tensor) -> Tensor:  # pragma: no cover - abstract
        """Raw outputs -> predictions in the target's unit (or probabilities), float32."""
        raise NotImplementedError

    def scaled_target(self, y: Tensor) -> Tensor:
        """The target as the loss sees it (standardised for regression)."""
        return y

    def selection_output(self, raw: Tensor) -> Tensor:
        """What the validation metric (early stopping, checkpoint choice) scores; by default
        the predictions themselves."""
        return self.output(raw)

    @staticmethod
    def batch_targets(batch) -> Tensor:
        return batch.y

    @staticmethod
    def batch_size_of(batch) -> int:
        return int(batch.num_sets) if hasattr(batch, "num_sets") else int(batch.num_graphs)

    @staticmethod
    def batch_ids(batch) -> Tensor:
        return batch.ids if hasattr(batch, "ids") else batch.position

    # -- metrics ------------------------------------------------------------------------
    @property
    def monitor(self) -> str:
        """The metric early stopping and checkpoints watch."""
        return "val_auc" if self.is_classification else "val_mae"

    @property
    def monitor_mode(self) -> str:
        return "max" if self.is_classification else "min"

    @property
    def test_metric_name(self) -> str:
        return "test_auc" if self.is_classification else "test_mae"

    def build_metrics(self, task_type: str) -> None:
        """Create the metrics of every stage once the task type is known."""
        self._task_type = task_type
        if self.metrics is not None:
            return
        # No checks on the device's values inside a step (each would wait for the device):
        # a NaN loss shows as a NaN epoch mean instead.
        def score():
            if task_type == CLASSIFICATION:
                return torchmetrics.classification.BinaryAUROC(validate_args=False)
            return torchmetrics.MeanAbsoluteError()

        def mean():
            return torchmetrics.MeanMetric(nan_strategy="disable")

        self.metrics = nn.ModuleDict({"train_loss": mean(), "val_loss": mean(), "test_loss": mean(),
                                      "val_score": score(), "test_score": score()})

    def compute_loss(self, raw: Tensor, y: Tensor) -> Tensor:
        raw = raw.float()
        if self.is_classification:
            return nn.functional.binary_cross_entropy_with_logits(raw, y)
        return self.regression_loss(raw, self.scaled_target(y))

    # -- steps --------------------------------------------------------------------------
    def training_step(self, batch, batch_idx: int) -> Tensor:
        y = self.batch_targets(batch)
        loss = self.compute_loss(self(batch), y)
        self.metrics["train_loss"].update(loss.detach(), self.batch_size_of(batch))
        return loss

    def _evaluate(self, batch, stage: str) -> Dict[str, Tensor]:
        raw = self(batch)
        y = self.batch_targets(batch)
        n = self.batch_size_of(batch)
        self.metrics[f"{stage}_loss"].update(self.compute_loss(raw, y).detach(), n)
        scored = self.selection_output(raw) if stage == "val" else self.output(raw)
        self.metrics[f"{stage}_score"].update(scored, y.long() if self.is_classification else y)
        return {"raw": raw.detach().float(), "y": y}

    def validation_step(self, batch, batch_idx: int) -> Dict[str, Tensor]:
        return self._evaluate(batch, "val")

    def test_step(self, batch, batch_idx: int) -> Dict[str, Tensor]:
        return self._evaluate(batch, "test")

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0):
        """``(ids, predictions)``: positions of the samples in their dataset and float32
        predictions in the target's unit (probabilities for classification)."""
        return self.batch_ids(batch), self.output(self(batch))

    def _log_epoch(self, stage: str) -> None:
        # torchmetrics' compute() gathers every process's state: values are global already,
        # and logging them with sync_dist averages identical numbers.
        name = self.monitor.split("_")[1]
        values = {f"{stage}_loss": self.metrics[f"{stage}_loss"]}
        if stage != "train":
            values[f"{stage}_{name}"] = self.metrics[f"{stage}_score"]
        for key, metric in values.items():
            if metric.update_count:
                self.log(key, metric.compute(), prog_bar=key == self.monitor, sync_dist=True)
            metric.reset()

    def on_train_epoch_end(self) -> None:
        self._log_epoch("train")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch("test")

    # -- optimisation -------------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        learning_rate = hp.learning_rate or TASK_TYPE_DEFAULTS[self.task_type or REGRESSION]["learning_rate"]
        optimizer = OPTIMIZERS[hp.optimizer](self.parameters(), lr=learning_rate, weight_decay=hp.weight_decay)
        if hp.scheduler == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=self.monitor_mode, factor=0.5,
                                                                   patience=hp.scheduler_patience, min_lr=1e-6)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": self.monitor}}
        if hp.scheduler == "cosine":
            epochs = self.trainer.max_epochs if self.trainer is not None and self.trainer.max_epochs else 1000
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs),
                                                                   eta_min=learning_rate * 0.01)
            return {"optimizer": optimizer, "lr_scheduler": scheduler}
        return optimizer

    def hyperparameters(self) -> Dict[str, Any]:
        """The saved hyperparameters as a plain dict."""
        return dict(self.hparams)
