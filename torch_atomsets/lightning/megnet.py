"""Training a MEGNet (a parent, or the from-scratch baseline) with Lightning."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import pytorch_lightning as pl
import torch
import torchmetrics
from torch import Tensor, nn
from torch_geometric.loader import DataLoader

from ..data.graph_dataset import graph_dataset
from ..data.splits import Split
from ..models.megnet import MEGNet
from .child import SplitDataModule

LOSSES = {"mae": nn.L1Loss, "mse": nn.MSELoss, "huber": nn.SmoothL1Loss}


class MEGNetModule(pl.LightningModule):
    """Trains a :class:`~torch_atomsets.models.MEGNet` on crystal graphs.

    The loss is computed on standardised targets (``(y - mean) / std`` of the training
    set, when ``normalise_targets``); the mean and standard deviation are written into
    the model's own ``target_mean`` / ``target_std`` buffers, so the trained model
    predicts in the target's unit wherever it goes (as a parent, in ``atomsets
    predict``). Adam with a learning-rate schedule; validation and test MAE from
    torchmetrics, synchronised across DDP ranks.

    Args:
        model_config: :class:`MEGNet` keyword arguments (default: the paper's parent,
            3 blocks, 5 A cutoff, 100 Gaussians, Set2Set readouts).
        loss: ``"mae"`` (default), ``"mse"`` or ``"huber"``.
        learning_rate: Adam's initial learning rate (1e-3, as megnet).
        lr_schedule: ``"plateau"`` (halve after ``lr_patience`` epochs without a better
            validation MAE; default), ``"cosine"`` (to 1% over ``max_epochs``) or
            ``"none"``.
        target_mean, target_std: target normalisation (from the training set).
        init_from: fine-tune: a parent name or path whose weights start the training
            (its architecture replaces ``model_config``).
        info: metadata kept with the checkpoint (dataset, unit, target).
    """

    def __init__(self, model_config: Optional[Dict[str, Any]] = None, loss: str = "mae",
                 learning_rate: float = 1e-3, lr_schedule: str = "plateau", lr_patience: int = 20,
                 max_epochs: int = 1000, target_mean: float = 0.0, target_std: float = 1.0,
                 init_from: Optional[str] = None, weight_decay: float = 0.0, info: Optional[Dict[str, Any]] = None):
        super().__init__()
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        if lr_schedule not in ("plateau", "cosine", "none"):
            raise ValueError(f"lr_schedule must be plateau, cosine or none, got {lr_schedule!r}")
        start = None
        if init_from:
            from ..parent import load_parent

            start = load_parent(init_from).model
            model_config = dict(start.config)
            info = dict(info or {}, fine_tuned_from=init_from)
        self.save_hyperparameters()
        # the architecture is in model_config now: reloading a checkpoint must not need the start model
        self.hparams.init_from = None
        self.model = MEGNet(**(model_config or {}))
        if start is not None:
            state = {k: v for k, v in start.state_dict().items() if not k.startswith("target_")}
            self.model.load_state_dict(state, strict=False)
        self.model.set_target_normalisation(target_mean, target_std if target_std > 0 else 1.0)
        self.loss_fn = LOSSES[loss]()
        self.val_mae = torchmetrics.MeanAbsoluteError()
        self.test_mae = torchmetrics.MeanAbsoluteError()

    monitor = "val_mae"

    def forward(self, batch) -> Tensor:
        """Predictions ``(B,)`` in the target's unit."""
        out = self.model(batch.z, batch.edge_index, batch.edge_distance, batch.state, batch.batch, batch.num_graphs)
        return out.prediction[:, 0]

    def _scaled(self, value: Tensor) -> Tensor:
        return (value - self.model.target_mean[0]) / self.model.target_std[0]

    def training_step(self, batch, batch_idx: int) -> Tensor:
        loss = self.loss_fn(self._scaled(self(batch)), self._scaled(batch.y))
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=batch.num_graphs, sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        prediction = self(batch)
        self.val_mae.update(prediction, batch.y)
        self.log("val_mae", self.val_mae, on_step=False, on_epoch=True, batch_size=batch.num_graphs)

    def test_step(self, batch, batch_idx: int) -> None:
        self.test_mae.update(self(batch), batch.y)
        self.log("test_mae", self.test_mae, on_step=False, on_epoch=True, batch_size=batch.num_graphs)

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0):
        return batch.position, self(batch)

    def configure_optimizers(self):
        hp = self.hparams
        optimiser = torch.optim.Adam(self.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay)
        if hp.lr_schedule == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, mode="min", factor=0.5,
                                                                   patience=hp.lr_patience, min_lr=1e-6)
            return {"optimizer": optimiser, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_mae"}}
        if hp.lr_schedule == "cosine":
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, hp.max_epochs),
                                                                   eta_min=hp.learning_rate * 0.01)
            return {"optimizer": optimiser, "lr_scheduler": scheduler}
        return optimiser

    def export_parent(self, path: str, overwrite: bool = False) -> str:
        """Write the trained model as a parent file (:meth:`MEGNet.save`), usable by
        :func:`~torch_atomsets.load_parent` and ``atomsets predict --model PATH``."""
        info = dict(self.hparams.info or {})
        metadata = {"unit": info.get("unit", ""), "target": info.get("target", "prediction"),
                    "description": f"MEGNet trained by torch_atomsets on {info.get('dataset', '?')}",
                    "training": info}
        self.model.save(path, metadata, overwrite=overwrite)
        return path


class GraphDataModule(SplitDataModule):
    """Crystal graphs of one dataset, split into train / val / test.

    ``prepare_data`` (once, on the main process) builds the graphs into the on-disk
    cache (:func:`~torch_atomsets.data.graph_dataset.graph_dataset`); ``setup`` opens
    them on every process. Loaders are PyG ``DataLoader``s; Lightning shards them across
    DDP ranks.

    Args:
        data: a :class:`~torch_atomsets.data.matbench.MaterialsData` of structures.
        split: train / val / test positions.
        cutoff: bond cutoff (Angstrom).
        batch_size: structures per batch (128, as megnet).
        num_workers, pin_memory, persistent_workers: DataLoader settings.
        shuffle: shuffle the training set each epoch (default; off makes a run's batches,
            and so a DDP run and a single-process run, comparable step by step).
        root: graph cache folder (default: the package cache).
    """

    def __init__(self, data, split: Split, cutoff: float = 5.0, batch_size: int = 128, num_workers: int = 0,
                 pin_memory: bool = False, root: Optional[str] = None, progress: Optional[bool] = None,
                 shuffle: bool = True):
        super().__init__()
        self.shuffle = shuffle
        self.data = data
        self.split = split
        self.cutoff = cutoff
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.root = root
        self.progress = progress
        self.dataset = None

    def prepare_data(self) -> None:
        graph_dataset(self.data, self.cutoff, self.root, self.progress)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.dataset is None:
            self.dataset = graph_dataset(self.data, self.cutoff, self.root, self.progress)
            self.items = {name: self.dataset.subset_of_positions(part) for name, part in
                          (("train", self.split.train), ("val", self.split.val), ("test", self.split.test))}

    def target_statistics(self) -> tuple:
        self.setup()
        y = self.dataset.y[torch.from_numpy(self.items["train"])]
        return float(y.mean()), float(y.std()) if len(y) > 1 else 1.0

    def _loader(self, part: str, shuffle: bool) -> DataLoader:
        return DataLoader(self.dataset.index_select(self.items[part]), batch_size=self.batch_size, shuffle=shuffle,
                          num_workers=self.num_workers, pin_memory=self.pin_memory,
                          persistent_workers=self.num_workers > 0)



@torch.no_grad()
def predict_graphs(module: MEGNetModule, loader) -> tuple:
    positions, values = [], []
    for batch in loader:
        positions.append(batch.position)
        values.append(module(batch))
    if not positions:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return torch.cat(positions).numpy(), torch.cat(values).numpy()
