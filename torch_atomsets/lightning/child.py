"""The LightningModule of an AtomSets child (any model of the registry but MEGNet)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Union

import torch
from torch import Tensor

from ..errors import ConfigError
from ..hub.checkpoints import CHILD, mark_checkpoint
from ..models.hyperparameters import DEFAULTS, ChildHyperparameters
from ..models.registry import GBT, build_child, model_spec
from .base import CLASSIFICATION, REGRESSION, TARGET_TRANSFORMS, AtomSetsModule


class ChildModule(AtomSetsModule):
    """Trains an AtomSets child: a model of :mod:`torch_atomsets.models.registry` on the
    feature sets of a :class:`~torch_atomsets.lightning.ChildDataModule`.

    The network is built from the data module's facts in :meth:`setup` (its input width,
    the task type, the training targets' mean and standard deviation, the parent), or from
    those facts passed in; they are saved with the hyperparameters, so
    ``ChildModule.load_from_checkpoint(path)`` rebuilds the trained child with no other
    argument. Regression trains on standardised targets and predicts in the target's unit;
    classification trains on logits and predicts probabilities ``sigmoid(a * logit + b)``,
    with ``(a, b)`` fitted on the validation part by
    :class:`~torch_atomsets.lightning.ProbabilityCalibration` (``(1, 0)`` until then).

    Args:
        model: a model name (``AtomSets-V0``, ``AtomSets-V1+f``, ``MLP-f``, ...).
        n_layer_before_readout, n_layer_after_readout, n_neurons, readout, activation,
            embedding_dim, n_layer, set2set_steps: the architecture, see
            :class:`~torch_atomsets.models.hyperparameters.ChildHyperparameters`.
        loss, optimizer, learning_rate, weight_decay, scheduler, scheduler_patience: see
            :class:`~torch_atomsets.lightning.base.AtomSetsModule`.
        target_transform: ``none``, ``log1p`` or ``log`` (:data:`TARGET_TRANSFORMS`): a
            regression child learns the transformed, standardised target and predicts in the
            target's unit.
        task_type, in_channels, target_mean, target_std: facts of the data (``None``: from
            the data module, training part only).
        parent: the parent's name or path, ``parent_key`` the key of its weights (the
            features a trained child expects); ``None`` for the model ``AtomSets``.
        seen_elements: atomic numbers present in the training data (a trained embedding
            knows nothing of the others).
        info: free-form metadata kept in the checkpoint (dataset, unit, target).
        trees: ``[n_trees, n_nodes, depth]`` of a ``GBT-<levels>`` child, whose trees are
            grown by :func:`~torch_atomsets.training.trees.train_trees` (not by a Trainer)
            and kept as buffers.
    """

    def __init__(self, model: str = "AtomSets-V0",
                 n_layer_before_readout: int = DEFAULTS.n_layer_before_readout,
                 n_layer_after_readout: int = DEFAULTS.n_layer_after_readout,
                 n_neurons: int = DEFAULTS.n_neurons, readout: str = DEFAULTS.readout,
                 activation: str = DEFAULTS.activation, embedding_dim: int = DEFAULTS.embedding_dim,
                 n_layer: int = DEFAULTS.n_layer, set2set_steps: int = DEFAULTS.set2set_steps,
                 loss: Union[str, Callable] = "mae", optimizer: str = "adam", learning_rate: Optional[float] = None,
                 weight_decay: float = 0.0, scheduler: str = "none", scheduler_patience: int = 20,
                 target_transform: str = "none", task_type: Optional[str] = None, in_channels: Optional[int] = None,
                 target_mean: Optional[float] = None, target_std: Optional[float] = None,
                 parent: Optional[str] = None, parent_key: Optional[str] = None,
                 seen_elements: Optional[List[int]] = None, info: Optional[Dict[str, Any]] = None,
                 trees: Optional[List[int]] = None):
        super().__init__(loss, optimizer, learning_rate, weight_decay, scheduler, scheduler_patience)
        self.spec = model_spec(model)
        if not self.spec.is_child:
            raise ConfigError(f"{model} is not a child model; train it with MEGNetModule")
        if task_type not in (None, REGRESSION, CLASSIFICATION):
            raise ConfigError(f"task_type must be regression or classification, got {task_type!r}")
        if target_transform not in TARGET_TRANSFORMS:
            raise ConfigError(f"target_transform must be one of {', '.join(TARGET_TRANSFORMS)}, got "
                              f"{target_transform!r}")
        if target_transform != "none" and task_type == CLASSIFICATION:
            raise ConfigError("a target transform applies to regression only")
        self._forward_transform, self._inverse_transform = TARGET_TRANSFORMS[target_transform]
        self.architecture = ChildHyperparameters(n_layer_before_readout, n_layer_after_readout, n_neurons, readout,
                                                 activation, embedding_dim, n_layer, set2set_steps)
        self.save_hyperparameters(ignore=["loss"] if callable(loss) else None)
        self.network: Optional[torch.nn.Module] = None
        self.register_buffer("target_mean", torch.tensor(0.0))
        self.register_buffer("target_std", torch.tensor(1.0))
        self.register_buffer("calibration", torch.tensor([1.0, 0.0]))
        if task_type is not None:
            self.build_metrics(task_type)

    # -- built from the data's facts ----------------------------------------------------
    @property
    def level(self) -> str:
        return self.spec.level

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if datamodule is None or not hasattr(datamodule, "facts"):
            return
        facts = datamodule.facts(self.hparams.target_transform)
        if datamodule.level != self.level:
            raise ConfigError(f"the data module holds level {datamodule.level}, the model {self.hparams.model} "
                              f"reads {self.level}")
        for key, value in facts.items():
            if self.hparams.get(key) is None:
                self.hparams[key] = value

    def configure_model(self) -> None:
        """Build the network once the facts are known (called by Lightning after
        :meth:`setup`, and by ``load_from_checkpoint``)."""
        if self.network is not None:
            return
        hp = self.hparams
        if hp.task_type is None or (hp.in_channels is None and self.level != "Z"):
            raise ConfigError("ChildModule needs the data's facts (task_type, in_channels): train it with a "
                              "ChildDataModule, or pass them")
        if self.spec.kind == GBT and hp.get("trees") is None:
            raise ConfigError(f"{hp.model}: boosted trees are grown by torch_atomsets.training.train_trees "
                              "(atomsets train), not by a Lightning Trainer")
        self.network = build_child(self.spec, hp.in_channels, self.architecture, trees=hp.get("trees"))
        self.build_metrics(hp.task_type)
        if hp.target_mean is not None:
            self.target_mean.fill_(float(hp.target_mean))
        if hp.target_std is not None and hp.target_std > 0:
            self.target_std.fill_(float(hp.target_std))

    def on_save_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        mark_checkpoint(checkpoint, CHILD)

    # -- the maths ----------------------------------------------------------------------
    def forward(self, batch) -> Tensor:
        """Raw output ``(B,)``: standardised value, or logit."""
        if batch.index is None:
            out = self.network(batch.x)
        else:
            out = self.network(batch.x, batch.index, batch.weight, batch.num_sets)
        return out.squeeze(-1)

    def output(self, raw: Tensor) -> Tensor:
        """Standardised value -> target unit; logit -> calibrated probability; float32."""
        raw = raw.float()
        if self.is_classification:
            return torch.sigmoid(raw * self.calibration[0] + self.calibration[1])
        return self._inverse_transform(raw * self.target_std + self.target_mean)

    def scaled_target(self, y: Tensor) -> Tensor:
        return (self._forward_transform(y) - self.target_mean) / self.target_std

    def selection_output(self, raw: Tensor) -> Tensor:
        """Uncalibrated for classification: which epoch is best must not depend on the
        calibration fitted along the way (AUC ignores it but for float32 ties)."""
        if self.is_classification:
            return torch.sigmoid(raw.float())
        return self.output(raw)

    def predict_batch(self, batch) -> Tensor:
        """Predictions (target unit, or probabilities) of one batch, float32."""
        return self.output(self(batch))
