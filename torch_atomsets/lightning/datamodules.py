"""LightningDataModules: feature sets for children, crystal graphs for MEGNets.

Both split one dataset into train / val / test parts and own their loaders. Expensive
preparation (parent features, graphs on disk) happens in ``prepare_data``, which Lightning
runs once per node while the other processes wait; ``setup`` then opens what was written,
on every process. Validation, test and predict parts are sharded across DDP processes
without padding, so every sample is counted exactly once in a metric (Lightning's default
sampler would repeat samples to even out the shards).
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.overrides.distributed import UnrepeatedDistributedSampler
from torch.utils.data import DataLoader, Dataset
from torch_geometric.loader import DataLoader as GraphLoader

from ..data.datasets.matbench import load_task
from ..data.datasets.splits import Split, make_splits
from ..data.datasets.table import MaterialsData
from ..data.features.cache import FeatureCache
from ..data.features.sets import SetBatch, Store, build_store
from ..data.graphs.dataset import graph_dataset
from ..errors import AtomSetsInputError, ConfigError
from ..hub.parents import load_parent_model
from ..levels import parse_levels
from .base import TARGET_TRANSFORMS, TASK_TYPE_DEFAULTS

PARTS = ("train", "val", "test")


def resolve_data(data: Union[str, MaterialsData], data_dir: Optional[str] = None,
                 allow_download: bool = True) -> MaterialsData:
    """A :class:`MaterialsData`, or a task / dataset name loaded with :func:`load_task`."""
    if isinstance(data, MaterialsData):
        return data
    return load_task(str(data), data_dir, allow_download)


def resolve_split(data: MaterialsData, split: Optional[Split], protocol: str, seed: int,
                  fold: Optional[int]) -> Split:
    if split is not None:
        return split
    if protocol == "matbench":
        return make_splits(data, "matbench", folds=[0 if fold is None else fold])[0]
    return make_splits(data, protocol, seeds=[seed])[0]


class _Positions(Dataset):
    """Sample positions of a store; a list of them is gathered into one batch at once
    (``__getitems__``), so a batch costs one vectorised gather, not one call per sample."""

    def __init__(self, store: Store, positions: np.ndarray):
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
    """Loaders of the train / val / test parts of a split (subclasses say how a part
    becomes a ``Dataset`` and a loader). Prediction runs on ``predict_part``.

    ``num_workers`` and ``pin_memory`` default to what the device wants: no workers and no
    pinning on a CPU (batches are cheap gathers), pinned memory on a GPU.
    """

    shuffle = True

    def __init__(self, batch_size: Optional[int], num_workers: Optional[int], pin_memory: Optional[bool],
                 predict_part: str = "test"):
        super().__init__()
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if predict_part not in PARTS:
            raise ConfigError(f"predict_part must be one of {PARTS}, got {predict_part!r}")
        self._batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.predict_part = predict_part
        self.positions: Dict[str, np.ndarray] = {}

    # subclasses
    def _dataset(self, part: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def _make_loader(self, dataset, shuffle: bool, sampler, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def batch_size(self) -> int:
        return self._batch_size or 128

    def _on_gpu(self) -> bool:
        trainer = self.trainer
        return trainer is not None and trainer.strategy.root_device.type == "cuda"

    def _loader(self, part: str, shuffle: bool):
        dataset = self._dataset(part)
        sampler = None
        trainer = self.trainer
        if not shuffle and trainer is not None and trainer.world_size > 1:
            sampler = UnrepeatedDistributedSampler(dataset, num_replicas=trainer.world_size, rank=trainer.global_rank,
                                                   shuffle=False)
        on_gpu = self._on_gpu()
        workers = self.num_workers if self.num_workers is not None else (min(4, max(0, (os.cpu_count() or 1) - 1))
                                                                         if on_gpu else 0)
        pin = self.pin_memory if self.pin_memory is not None else on_gpu
        return self._make_loader(dataset, shuffle and sampler is None, sampler, num_workers=workers, pin_memory=pin,
                                 persistent_workers=workers > 0)

    def train_dataloader(self):
        return self._loader("train", self.shuffle)

    def val_dataloader(self):
        return self._loader("val", False)

    def test_dataloader(self):
        return self._loader("test", False)

    def predict_dataloader(self):
        return self._loader(self.predict_part, False)

    def part_sizes(self) -> Dict[str, int]:
        return {part: len(self.positions.get(part, ())) for part in PARTS}


class ChildDataModule(SplitDataModule):
    """Feature sets of one dataset at one level, split into train / val / test.

    ``prepare_data`` computes and caches the parent's features when the level needs a
    forward pass (once, on one process); ``setup`` opens them on every process. Samples the
    level cannot represent are left out of all three parts and listed in :attr:`dropped`.
    After ``setup`` the module knows the facts a child is built from (:meth:`facts`).

    Args:
        data: a :class:`~torch_atomsets.data.datasets.MaterialsData`, or a task / dataset
            name (``steels``, ``matbench_phonons``, ``matbench_mp_e_form_approx``).
        level: feature level or expression (:mod:`torch_atomsets.levels`): ``Z``, ``V0``,
            ``V1``, ``V0+V1``, ``f``, ...
        split: the train / val / test positions; default: from ``protocol`` (``paper``:
            random 80/10/10 of ``seed``; ``matbench``: official ``fold``).
        parent: a :class:`~torch_atomsets.inference.Parent`, or a parent name or path
            (default ``mp-2019.4.1``); unused for ``Z``.
        weights_dir, data_dir, allow_download: where parents and data are looked for.
        batch_size: samples per batch; ``None``: by task type (16 for regression, 128 for
            classification).
        num_workers, pin_memory: DataLoader settings (``None``: by device).
        cache_root: feature cache folder (default: the package cache).
    """

    def __init__(self, data: Union[str, MaterialsData], level: str = "V0", split: Optional[Split] = None,
                 protocol: str = "paper", seed: int = 0, fold: Optional[int] = None, parent: Any = None,
                 weights_dir: Optional[str] = None, data_dir: Optional[str] = None, allow_download: bool = True,
                 batch_size: Optional[int] = None, num_workers: Optional[int] = None,
                 pin_memory: Optional[bool] = None, predict_part: str = "test", cache_root: Optional[str] = None,
                 progress: Optional[bool] = None):
        super().__init__(batch_size, num_workers, pin_memory, predict_part)
        self.data = resolve_data(data, data_dir, allow_download)
        self.levels = parse_levels(level)
        self.split = resolve_split(self.data, split, protocol, seed, fold)
        self._parent_spec = parent
        self._parent: Optional[Tuple[Any, str, str]] = None
        self.weights_dir = weights_dir
        self.allow_download = allow_download
        self.cache_root = cache_root
        self.progress = progress
        self.store: Optional[Store] = None
        self.dropped: List[Tuple[int, str]] = []

    @property
    def level(self) -> str:
        return self.levels.name

    @property
    def batch_size(self) -> int:
        return self._batch_size or TASK_TYPE_DEFAULTS[self.data.task_type]["batch_size"]

    def parent(self) -> Optional[Tuple[Any, str, str]]:
        """``(model, key, source)`` of the parent, loaded once; ``None`` for level ``Z``."""
        if not self.levels.needs_parent:
            return None
        if self._parent is None:
            spec = self._parent_spec
            if hasattr(spec, "model") and hasattr(spec, "key"):  # a Parent object
                source = spec.metadata.get("path") or spec.metadata.get("name") if hasattr(spec, "metadata") else None
                self._parent = (spec.model, spec.key, source)
            else:
                model, metadata = load_parent_model(spec, self.weights_dir, self.allow_download)
                self._parent = (model, metadata["key"], spec or metadata["name"])
        return self._parent

    def prepare_data(self) -> None:
        if self.levels.needs_forward:
            model, key, _ = self.parent()
            FeatureCache(model, key, self.cache_root).load(self.data, progress=self.progress)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.store is not None:
            return
        parent = self.parent()
        model, key = (parent[0], parent[1]) if parent else (None, None)
        self.store = build_store(self.data, self.levels, model, key, self.cache_root, progress=self.progress)
        valid = self.store.valid.numpy()
        parts = {"train": self.split.train, "val": self.split.val, "test": self.split.test}
        self.positions = {name: part[valid[part]] for name, part in parts.items()}
        in_split = set(np.concatenate(list(parts.values())).tolist())
        self.dropped = [(i, message) for i, message in self.store.failures if i in in_split]
        if any(len(self.positions[p]) == 0 for p in ("train", "val")):
            raise AtomSetsInputError(f"{self.data.name}: no usable sample left in the training or validation part "
                                     f"at level {self.level} ({len(self.dropped)} dropped, first: "
                                     f"{self.dropped[0][1] if self.dropped else '-'})")

    def _require_setup(self) -> Store:
        if self.store is None:
            raise RuntimeError("ChildDataModule.setup() has not run yet (the Trainer runs it; call it first "
                               "to use the module on its own)")
        return self.store

    @property
    def in_channels(self) -> Optional[int]:
        """Row or vector feature size (after :meth:`setup`); ``None`` for atomic numbers."""
        return self._require_setup().in_channels

    def target_statistics(self, transform: str = "none") -> Tuple[float, float]:
        """Mean and standard deviation of the training part's targets (after ``transform``,
        a name of :data:`~torch_atomsets.lightning.base.TARGET_TRANSFORMS`)."""
        y = self._require_setup().y[torch.from_numpy(self.positions["train"])]
        if transform != "none":
            if transform in ("log1p", "log") and bool((y <= (-1.0 if transform == "log1p" else 0.0)).any()):
                raise ConfigError(f"{self.data.name}: target_transform {transform} needs targets above "
                                  f"{-1 if transform == 'log1p' else 0}; the training part has {float(y.min()):g}")
            y = TARGET_TRANSFORMS[transform][0](y)
        return float(y.mean()), float(y.std()) if len(y) > 1 else 1.0

    def seen_elements(self) -> Optional[List[int]]:
        """Atomic numbers in the training part (level ``Z`` only: what a trained embedding
        has learnt)."""
        store = self._require_setup()
        if not self.levels.is_atomic_numbers:
            return None
        return sorted(int(z) for z in torch.unique(store.rows_of(self.positions["train"])).tolist())

    def facts(self, target_transform: str = "none") -> Dict[str, Any]:
        """What a :class:`~torch_atomsets.lightning.ChildModule` is built from."""
        mean, std = self.target_statistics(target_transform if self.data.task_type == "regression" else "none")
        parent = self.parent()
        data = self.data
        return {"task_type": data.task_type, "in_channels": self.in_channels, "target_mean": mean,
                "target_std": std, "parent": parent[2] if parent else None, "parent_key": parent[1] if parent else None,
                "seen_elements": self.seen_elements(),
                "info": {"dataset": data.name, "input_type": data.input_type, "unit": data.unit,
                         "target": data.target_name, "fidelity": data.fidelity, "level": self.level}}

    def _dataset(self, part: str):
        return _Positions(self._require_setup(), self.positions[part])

    def _make_loader(self, dataset, shuffle: bool, sampler, **options):
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=shuffle, sampler=sampler,
                          collate_fn=_keep_batch, **options)

    def transfer_batch_to_device(self, batch, device, dataloader_idx: int):
        # A SetBatch is a flat tuple of tensors: moving it directly skips Lightning's
        # generic collection walk, a sizeable share of a small child's step time.
        if isinstance(batch, SetBatch):
            return batch.to(device)
        return super().transfer_batch_to_device(batch, device, dataloader_idx)


class GraphDataModule(SplitDataModule):
    """Crystal graphs of one dataset (PyG ``Data`` on disk), split into train / val / test.

    ``prepare_data`` builds the graphs into the on-disk cache
    (:func:`~torch_atomsets.data.graphs.graph_dataset`) once; ``setup`` opens them on every
    process. Each graph carries the dataset's global state (its ``state`` column, else
    ``state_dim`` zeros).

    Args:
        data, split, protocol, seed, fold, data_dir, allow_download: as
            :class:`ChildDataModule`.
        cutoff: bond cutoff in Angstrom (5.0).
        batch_size: structures per batch (128, as megnet).
        num_workers, pin_memory: DataLoader settings (``None``: by device).
        state_dim: width of the zero state when the data has none (2, the parents').
        shuffle: shuffle the training part each epoch (default; off makes a run's batches,
            and so a DDP run and a single-process run, comparable step by step).
        root: graph cache folder (default: the package cache).
    """

    def __init__(self, data: Union[str, MaterialsData], split: Optional[Split] = None, protocol: str = "paper",
                 seed: int = 0, fold: Optional[int] = None, cutoff: float = 5.0, batch_size: int = 128,
                 num_workers: Optional[int] = None, pin_memory: Optional[bool] = None, state_dim: int = 2,
                 shuffle: bool = True, root: Optional[str] = None, data_dir: Optional[str] = None,
                 allow_download: bool = True, predict_part: str = "test", progress: Optional[bool] = None):
        super().__init__(batch_size, num_workers, pin_memory, predict_part)
        self.data = resolve_data(data, data_dir, allow_download)
        if self.data.input_type != "structure":
            raise AtomSetsInputError(f"{self.data.name} holds compositions; a MEGNet needs crystal structures")
        self.split = resolve_split(self.data, split, protocol, seed, fold)
        self.cutoff = float(cutoff)
        self._state_dim = int(state_dim)
        self.shuffle = shuffle
        self.root = root
        self.progress = progress
        self.dataset = None

    @property
    def state_dim(self) -> int:
        return int(self.data.state.shape[1]) if self.data.state is not None else self._state_dim

    def prepare_data(self) -> None:
        graph_dataset(self.data, self.cutoff, self.root, self._state_dim, self.progress)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.dataset is None:
            self.dataset = graph_dataset(self.data, self.cutoff, self.root, self._state_dim, self.progress)
            parts = {"train": self.split.train, "val": self.split.val, "test": self.split.test}
            self.positions = {name: self.dataset.subset_of_positions(part) for name, part in parts.items()}

    @property
    def items(self) -> Dict[str, np.ndarray]:
        return self.positions

    def target_statistics(self) -> Tuple[float, float]:
        self.setup()
        y = self.dataset.y[torch.from_numpy(self.positions["train"])]
        return float(y.mean()), float(y.std()) if len(y) > 1 else 1.0

    def _dataset(self, part: str):
        return self.dataset.index_select(self.positions[part])

    def _make_loader(self, dataset, shuffle: bool, sampler, **options):
        return GraphLoader(dataset, batch_size=self.batch_size, shuffle=shuffle, sampler=sampler, **options)
