"""The LightningModule of a MEGNet: a parent pretrained here, or the from-scratch baseline."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Union

import torch
from torch import Tensor

from ..data.graphs.compress import forward_compressed
from ..errors import ConfigError
from ..hub.checkpoints import MEGNET, mark_checkpoint, save_parent
from ..hub.parents import load_parent_model
from ..models.megnet import MEGNet, MEGNetOutput, is_tracing
from .base import CLASSIFICATION, REGRESSION, AtomSetsModule


def parent_forward(model: MEGNet, batch, compressed: bool = True) -> MEGNetOutput:
    """``model`` on a batch of crystal graphs (a PyG ``Batch`` with ``state``), on its
    compressed graph where that is exact and cheaper: on the CPU, outside tracing."""
    if compressed and batch.z.device.type == "cpu" and not is_tracing():
        return forward_compressed(model, batch, batch.state)
    return model(batch.z, batch.edge_index, batch.edge_distance, batch.state, batch.batch, batch.num_graphs)


class MEGNetModule(AtomSetsModule):
    """Trains a :class:`~torch_atomsets.models.MEGNet` on crystal graphs.

    The loss is computed on standardised targets (``(y - mean) / std`` of the training
    part); the mean and standard deviation live in the model's own ``target_mean`` /
    ``target_std`` buffers, so the trained model predicts in the target's unit wherever it
    goes (as a parent, in ``atomsets predict``).

    Args:
        model_config: :class:`MEGNet` keyword arguments (default: the paper's parent, 3
            blocks, 5 A cutoff, 100 Gaussians, Set2Set readouts). ``state_dim`` must match
            the data's global state (2 zeros unless the data module feeds one).
        loss, optimizer, learning_rate, weight_decay, scheduler, scheduler_patience: see
            :class:`~torch_atomsets.lightning.base.AtomSetsModule` (defaults: MAE, Adam,
            1e-3 as megnet, halving on a plateau of 20 epochs).
        target_mean, target_std: target normalisation (``None``: from the data module's
            training part; ``normalise_targets=False``: 0 and 1).
        init_from: fine-tune: a parent name or path whose weights start the training (its
            architecture replaces ``model_config``; the checkpoint keeps the architecture,
            not the reference).
        task_type: ``regression`` (default) or ``classification`` (the head gives a logit,
            trained with binary cross-entropy; predictions are probabilities; no target
            normalisation).
        compress_graphs: on a CPU, run every step on the batch's graph compressed by
            symmetry (:func:`~torch_atomsets.data.graphs.forward_compressed`): the same
            function of the weights, so the same losses and gradients to float32 rounding,
            in about half the time (``benchmarks/speed/pretrain.py``). Batches on other
            devices run as they are.
        info: metadata kept with the checkpoint (dataset, unit, target).
    """

    def __init__(self, model_config: Optional[Dict[str, Any]] = None, loss: Union[str, Callable] = "mae",
                 optimizer: str = "adam", learning_rate: Optional[float] = 1e-3, weight_decay: float = 0.0,
                 scheduler: str = "plateau", scheduler_patience: int = 20, normalise_targets: bool = True,
                 target_mean: Optional[float] = None, target_std: Optional[float] = None,
                 init_from: Optional[str] = None, task_type: str = REGRESSION, compress_graphs: bool = True,
                 info: Optional[Dict[str, Any]] = None):
        super().__init__(loss, optimizer, learning_rate, weight_decay, scheduler, scheduler_patience)
        start = None
        if init_from:
            start, _ = load_parent_model(init_from)
            model_config = dict(start.config)
            info = dict(info or {}, fine_tuned_from=init_from)
        self.save_hyperparameters(ignore=["loss"] if callable(loss) else None)
        # the architecture is in model_config now: reloading must not need the start model
        self.hparams.init_from = None
        self.hparams.model_config = dict(model_config or {})
        self.model = MEGNet(**self.hparams.model_config)
        if start is not None:
            state = {k: v for k, v in start.state_dict().items() if not k.startswith("target_")}
            self.model.load_state_dict(state, strict=False)
        if task_type not in (REGRESSION, CLASSIFICATION):
            raise ConfigError(f"task_type must be regression or classification, got {task_type!r}")
        if task_type == CLASSIFICATION:
            self.hparams.normalise_targets = False
        self.build_metrics(task_type)
        self._apply_target_statistics()
        # sigmoid(a * logit + b), fitted on validation by ProbabilityCalibration (classification)
        self.register_buffer("calibration", torch.tensor([1.0, 0.0]))

    def _apply_target_statistics(self) -> None:
        hp = self.hparams
        if hp.target_mean is not None:
            std = hp.target_std if hp.target_std and hp.target_std > 0 else 1.0
            self.model.set_target_normalisation(hp.target_mean, std)

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if datamodule is None:
            return
        state_dim = getattr(datamodule, "state_dim", self.model.state_dim)
        if state_dim != self.model.state_dim:
            raise ConfigError(f"the data's global state has {state_dim} values per structure, the model expects "
                              f"{self.model.state_dim}; set model_config state_dim={state_dim}")
        if self.hparams.target_mean is not None:
            return
        mean, std = datamodule.target_statistics() if self.hparams.normalise_targets else (0.0, 1.0)
        self.hparams.target_mean, self.hparams.target_std = mean, std
        self._apply_target_statistics()

    def on_save_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        mark_checkpoint(checkpoint, MEGNET)

    def forward(self, batch) -> Tensor:
        """Predictions ``(B,)`` in the target's unit (logits for classification)."""
        return parent_forward(self.model, batch, self.hparams.get("compress_graphs", True)).prediction[:, 0]

    def output(self, raw: Tensor) -> Tensor:
        if self.is_classification:
            return torch.sigmoid(raw.float() * self.calibration[0] + self.calibration[1])
        return raw.float()

    def selection_output(self, raw: Tensor) -> Tensor:
        return torch.sigmoid(raw.float()) if self.is_classification else raw.float()

    def scaled_target(self, y: Tensor) -> Tensor:
        return (y - self.model.target_mean[0]) / self.model.target_std[0]

    def compute_loss(self, raw: Tensor, y: Tensor) -> Tensor:
        if self.is_classification:
            return super().compute_loss(raw, y)
        return self.regression_loss(self.scaled_target(raw.float()), self.scaled_target(y))

    def export_parent(self, path: str, overwrite: bool = False) -> str:
        """Write the trained model as a parent file (``parent.pt``), usable by
        :func:`~torch_atomsets.load_parent` and ``atomsets predict --model PATH``."""
        info = dict(self.hparams.info or {})
        metadata = {"unit": info.get("unit", ""), "target": info.get("target", "prediction"),
                    "description": f"MEGNet trained by torch_atomsets on {info.get('dataset', '?')}",
                    "training": info}
        return save_parent(self.model, path, metadata, overwrite=overwrite)
