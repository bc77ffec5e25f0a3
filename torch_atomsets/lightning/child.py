"""LightningModule and LightningDataModule for AtomSets children."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np
import pytorch_lightning as pl
import torch
import torchmetrics
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from ..data.sets import SetBatch, build_store
from ..data.splits import Split
from ..models.atomsets import build_child

LOSSES = {"mae": nn.L1Loss, "mse": nn.MSELoss, "huber": nn.SmoothL1Loss}


class ChildModule(pl.LightningModule):
    """Trains an :class:`~torch_atomsets.models.AtomSets` or
    :class:`~torch_atomsets.models.FeatureMLP` child.

    Regression targets are standardised with the training set's mean and standard
    deviation, which are stored with the module (so a checkpoint predicts in the
    target's unit); the validation and test metric is the MAE in that unit. Binary
    classification trains on logits with a cross-entropy loss; the metric is ROC-AUC;
    :meth:`predict_batch` returns probabilities, ``sigmoid(a * logit + b)`` with ``a, b``
    from :meth:`fit_calibration` (Platt scaling on the validation set; 1 and 0 until
    then). Selecting the checkpoint by ROC-AUC, as the paper does, says nothing about
    how well the probabilities are scaled (AUC only ranks), hence the calibration; it is
    monotone, so it leaves the AUC unchanged.

    Args:
        model_kind: ``"atomsets"`` or ``"mlp"``.
        model_config: keyword arguments of the model.
        task_type: ``"regression"`` or ``"classification"``.
        loss: regression loss, ``"mae"`` (default), ``"mse"`` or ``"huber"``.
        learning_rate: Adam's learning rate (1e-3).
        weight_decay: Adam's weight decay (0).
        target_mean, target_std: standardisation of regression targets.
        info: free-form metadata kept in the checkpoint (model name, feature level,
            parent, dataset, unit), used by ``atomsets predict``.
    """

    def __init__(self, model_kind: str, model_config: Dict[str, Any], task_type: str = "regression",
                 loss: str = "mae", learning_rate: float = 1e-3, weight_decay: float = 0.0,
                 target_mean: float = 0.0, target_std: float = 1.0, info: Optional[Dict[str, Any]] = None):
        super().__init__()
        if task_type not in ("regression", "classification"):
            raise ValueError(f"task_type must be regression or classification, got {task_type!r}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        self.save_hyperparameters()
        self.model = build_child(model_kind, **model_config)
        self.is_classification = task_type == "classification"
        self.loss_fn = nn.BCEWithLogitsLoss() if self.is_classification else LOSSES[loss]()
        self.register_buffer("target_mean", torch.tensor(float(target_mean)))
        self.register_buffer("target_std", torch.tensor(float(target_std) if target_std > 0 else 1.0))
        self.register_buffer("calibration", torch.tensor([1.0, 0.0]))
        metric = torchmetrics.classification.BinaryAUROC if self.is_classification else torchmetrics.MeanAbsoluteError
        self.val_metric = metric()
        self.test_metric = metric()

    # -- the quantity early stopping and checkpoints watch ---------------------------------
    @property
    def monitor(self) -> str:
        return "val_auc" if self.is_classification else "val_mae"

    @property
    def monitor_mode(self) -> str:
        return "max" if self.is_classification else "min"

    def forward(self, batch: SetBatch) -> Tensor:
        """Raw model output ``(B,)``: standardised value, or logit."""
        if batch.index is None:
            out = self.model(batch.x)
        else:
            out = self.model(batch.x, batch.index, batch.weight, batch.num_sets)
        return out.squeeze(-1)

    def to_output(self, raw: Tensor) -> Tensor:
        """Standardised value -> target unit; logit -> probability."""
        if self.is_classification:
            return torch.sigmoid(raw * self.calibration[0] + self.calibration[1])
        return raw * self.target_std + self.target_mean

    @torch.no_grad()
    def fit_calibration(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Platt scaling: fit ``a, b`` of ``sigmoid(a * logit + b)`` to held-out labels by
        maximum likelihood; keeps ``(1, 0)`` if the fit is not increasing or not finite."""
        logits, labels = logits.detach().double().reshape(-1), labels.detach().double().reshape(-1)
        if labels.numel() < 2 or labels.min() == labels.max():
            return self.calibration
        params = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
        optimiser = torch.optim.LBFGS([params], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(logits * params[0] + params[1], labels)
            loss.backward()
            return loss

        with torch.enable_grad():
            optimiser.step(closure)
        if torch.isfinite(params).all() and params[0] > 0:
            self.calibration.copy_(params.detach().to(self.calibration))
        return self.calibration

    def predict_batch(self, batch: SetBatch) -> Tensor:
        return self.to_output(self(batch))

    def _loss(self, raw: Tensor, y: Tensor) -> Tensor:
        if self.is_classification:
            return self.loss_fn(raw, y)
        return self.loss_fn(raw, (y - self.target_mean) / self.target_std)

    def training_step(self, batch: SetBatch, batch_idx: int) -> Tensor:
        loss = self._loss(self(batch), batch.y)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=batch.num_sets)
        return loss

    def _evaluate(self, batch: SetBatch, metric: torchmetrics.Metric, name: str) -> None:
        raw = self(batch)
        output = self.to_output(raw)
        metric.update(output, batch.y.long() if self.is_classification else batch.y)
        self.log(name, metric, on_step=False, on_epoch=True, batch_size=batch.num_sets)
        self.log(name.split("_")[0] + "_loss", self._loss(raw, batch.y), on_step=False, on_epoch=True,
                 batch_size=batch.num_sets, sync_dist=True)

    def validation_step(self, batch: SetBatch, batch_idx: int) -> None:
        self._evaluate(batch, self.val_metric, self.monitor)

    def test_step(self, batch: SetBatch, batch_idx: int) -> None:
        self._evaluate(batch, self.test_metric, "test_auc" if self.is_classification else "test_mae")

    def predict_step(self, batch: SetBatch, batch_idx: int, dataloader_idx: int = 0):
        return batch.ids, self.predict_batch(batch)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate,
                                weight_decay=self.hparams.weight_decay)


class _Positions(Dataset):
    """Sample positions; a list of them is gathered into one batch at once
    (``__getitems__``), so a batch costs one vectorised gather, not one call per sample."""

    def __init__(self, store, positions: np.ndarray):
        self.store = store
        self.positions = np.asarray(positions, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: int) -> SetBatch:
        return self.store.batch([int(self.positions[i])])

    def __getitems__(self, indices: List[int]) -> SetBatch:
        return self.store.batch(torch.from_numpy(self.positions[indices]))


def _keep_batch(batch):
    return batch


class SplitDataModule(pl.LightningDataModule):
    """Loaders of the train / val / test parts; subclasses build them in ``_loader``.
    Prediction runs on the test part."""

    shuffle = True

    def _loader(self, part: str, shuffle: bool):
        raise NotImplementedError

    def train_dataloader(self):
        return self._loader("train", self.shuffle)

    def val_dataloader(self):
        return self._loader("val", False)

    def test_dataloader(self):
        return self._loader("test", False)

    def predict_dataloader(self):
        return self._loader("test", False)

    def transfer_batch_to_device(self, batch, device, dataloader_idx: int):
        # A SetBatch is a flat tuple of tensors: moving it directly skips Lightning's
        # generic collection walk, a sizeable share of a small child's step time.
        if isinstance(batch, SetBatch):
            return batch.to(device)
        return super().transfer_batch_to_device(batch, device, dataloader_idx)


class ChildDataModule(SplitDataModule):
    """Feature sets of one dataset at one level, split into train / val / test.

    ``prepare_data`` (run once, on the main process) computes and caches parent features
    if the level needs them; ``setup`` builds the store on every process. Samples the
    parent could not featurise are left out of all three parts.

    Args:
        data: a :class:`~torch_atomsets.data.matbench.MaterialsData`.
        level: feature level (``Z``, ``V0``..``V3``, ``u1``..``u3``, ``f``, ``v_r``,
            ``V0-stats``).
        split: positions of train / val / test samples.
        parent: a :class:`~torch_atomsets.parent.Parent`, or a name/path for
            :func:`~torch_atomsets.load_parent` (not needed for ``Z``).
        weights_dir: where to find a named parent.
        batch_size: samples per batch (128).
        num_workers, pin_memory: as for ``torch.utils.data.DataLoader``.
    """

    def __init__(self, data, level: str, split: Split, parent=None, weights_dir: Optional[str] = None,
                 batch_size: int = 128, num_workers: int = 0, pin_memory: bool = False,
                 progress: Optional[bool] = None):
        super().__init__()
        self.data = data
        self.level = level
        self.split = split
        self._parent = parent
        self.weights_dir = weights_dir
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.progress = progress
        self.store = None

    @property
    def parent(self):
        if self._parent is None or isinstance(self._parent, str):
            if self.level == "Z":
                return None
            from ..parent import load_parent

            self._parent = load_parent(self._parent, self.weights_dir)
        return self._parent

    def prepare_data(self) -> None:
        from ..data.feature_cache import FeatureCache
        from ..data.sets import PARENT_LEVELS

        if self.level in PARENT_LEVELS:
            FeatureCache(self.parent).load(self.data, progress=self.progress)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.store is None:
            self.store = build_store(self.data, self.level, self.parent, progress=self.progress)
            valid = self.store.valid.numpy()
            self.positions = {name: part[valid[part]] for name, part in
                              (("train", self.split.train), ("val", self.split.val), ("test", self.split.test))}

    @property
    def in_channels(self) -> Optional[int]:
        self.setup()
        return self.store.in_channels

    def _loader(self, part: str, shuffle: bool) -> DataLoader:
        return DataLoader(_Positions(self.store, self.positions[part]), batch_size=self.batch_size,
                          shuffle=shuffle, collate_fn=_keep_batch, num_workers=self.num_workers,
                          pin_memory=self.pin_memory, persistent_workers=self.num_workers > 0)


    def target_statistics(self) -> tuple:
        """Mean and standard deviation of the training targets."""
        self.setup()
        y = self.store.y[torch.from_numpy(self.positions["train"])]
        return float(y.mean()), float(y.std()) if len(y) > 1 else 1.0
