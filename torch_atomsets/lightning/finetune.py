"""End-to-end fine-tuning: a parent and a child head trained together on crystal graphs."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Union

import torch
from torch import Tensor

from ..errors import ConfigError
from ..hub.checkpoints import FINETUNE, mark_checkpoint
from ..data.inputs.elements import element_table
from ..levels import TABLE_SOURCES, parse_levels
from ..models.megnet import MEGNet
from ..models.registry import child_input
from .base import AtomSetsModule
from .child import ChildModule
from .parent import parent_forward


class FineTuneModule(AtomSetsModule):
    """A child of the parent's convolution levels (V1.., u1.., f, ...) whose parent is
    trained with it, end to end on crystal graphs.

    The head starts as a child trained on the frozen features (the warm-up: the frozen
    features are the starting point) and the parent from its weights; the parent learns at
    ``parent_learning_rate_factor`` times the head's rate (discriminative learning rates),
    and may stay frozen for ``freeze_parent_epochs`` more epochs. Build one with
    :meth:`from_child`; ``FineTuneModule.load_from_checkpoint(path)`` rebuilds a trained one
    (its hyperparameters hold the head's configuration and the parent's architecture).

    Args:
        child: the head's :class:`ChildModule` hyperparameters (facts included).
        parent_config: the parent's :class:`MEGNet` configuration.
        parent_learning_rate_factor: the parent's learning rate relative to the head's (0.1).
        freeze_parent_epochs: epochs of training the head alone first (0: the head was
            trained on frozen features already).
        loss, optimizer, learning_rate, weight_decay, scheduler, scheduler_patience: as
            :class:`~torch_atomsets.lightning.base.AtomSetsModule` (learning rate 1e-3).
        compress_graphs: the parent runs on each batch's graph compressed by symmetry on a
            CPU, as in :class:`~torch_atomsets.lightning.MEGNetModule` (the head still sees
            every atom).
    """

    def __init__(self, child: Dict[str, Any], parent_config: Dict[str, Any], parent_learning_rate_factor: float = 0.1,
                 freeze_parent_epochs: int = 0, loss: Union[str, Callable] = "mae", optimizer: str = "adam",
                 learning_rate: Optional[float] = 1e-3, weight_decay: float = 0.0, scheduler: str = "none",
                 scheduler_patience: int = 20, compress_graphs: bool = True, info: Optional[Dict[str, Any]] = None):
        super().__init__(loss, optimizer, learning_rate, weight_decay, scheduler, scheduler_patience)
        if parent_learning_rate_factor < 0:
            raise ConfigError(f"parent_learning_rate_factor must be 0 or more, got {parent_learning_rate_factor}")
        self.save_hyperparameters(ignore=["loss"] if callable(loss) else None)
        head = ChildModule(**{k: v for k, v in child.items() if k != "loss"}, loss=child.get("loss", "mae"))
        head.configure_model()
        self.levels = parse_levels(head.level)
        if not self.levels.needs_forward:
            raise ConfigError(f"fine-tuning needs a child of the parent's convolution levels, not {head.level}")
        self.head = head
        self.parent = MEGNet(**parent_config)
        if any(p.source in TABLE_SOURCES for p in self.levels.parts):  # E, E-stats: a constant table
            self.register_buffer("elements", torch.from_numpy(element_table()), persistent=False)
        self.build_metrics(head.task_type)

    @classmethod
    def from_child(cls, child: ChildModule, parent: MEGNet, **options) -> "FineTuneModule":
        """A fine-tuning module starting from a trained child and its parent's weights."""
        module = cls(dict(child.hparams), dict(parent.config), **options)
        module.head.load_state_dict(child.state_dict())
        module.parent.load_state_dict(parent.state_dict())
        return module

    @property
    def level(self) -> str:
        return self.head.level

    def on_save_checkpoint(self, checkpoint: Dict[str, Any]) -> None:
        mark_checkpoint(checkpoint, FINETUNE)

    def on_train_epoch_start(self) -> None:
        frozen = self.current_epoch < self.hparams.freeze_parent_epochs
        for parameter in self.parent.parameters():
            parameter.requires_grad_(not frozen)

    def forward(self, batch) -> Tensor:
        out = parent_forward(self.parent, batch, self.hparams.get("compress_graphs", True))
        tables = {"elements": self.elements} if hasattr(self, "elements") else None
        x = child_input(out, self.levels, batch.batch, batch.z, tables, batch.num_graphs)
        network = self.head.network
        if self.levels.per == "structure":
            return network(x).squeeze(-1)
        return network(x, batch.batch, x.new_ones(x.shape[0]), batch.num_graphs).squeeze(-1)

    def output(self, raw: Tensor) -> Tensor:
        return self.head.output(raw)

    def selection_output(self, raw: Tensor) -> Tensor:
        return self.head.selection_output(raw)

    def scaled_target(self, y: Tensor) -> Tensor:
        return self.head.scaled_target(y)

    def configure_optimizers(self):
        from .base import OPTIMIZERS, TASK_TYPE_DEFAULTS

        hp = self.hparams
        learning_rate = hp.learning_rate or TASK_TYPE_DEFAULTS[self.task_type]["learning_rate"]
        groups = [{"params": list(self.head.parameters()), "lr": learning_rate},
                  {"params": list(self.parent.parameters()), "lr": learning_rate * hp.parent_learning_rate_factor}]
        return OPTIMIZERS[hp.optimizer](groups, lr=learning_rate, weight_decay=hp.weight_decay)

    def predict_graphs(self, graphs) -> Tensor:
        """Predictions (target unit, or probabilities) of a graph batch, float32."""
        return self.output(self(graphs))


__all__ = ["FineTuneModule"]
