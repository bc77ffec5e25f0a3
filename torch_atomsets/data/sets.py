"""Feature sets for AtomSets children, batched by concatenation + index vectors.

A *set store* holds every sample of a dataset at one feature level as concatenated rows
(``x``, ``weight``) with offsets ``ptr``; a batch is a gather plus an index vector, so an
epoch touches only tensors. A *vector store* holds one vector per sample (u1..u3, f,
v_r, V0-stats) for the MLP children.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional

import numpy as np
import torch
from torch import Tensor

from .errors import AtomSetsInputError

#: Feature levels: per row of a set, or per sample.
SET_LEVELS = ("Z", "V0", "V1", "V2", "V3")
VECTOR_LEVELS = ("u1", "u2", "u3", "f", "v_r", "V0-stats")
PARENT_LEVELS = ("V1", "V2", "V3", "u1", "u2", "u3", "f", "v_r")  # need a forward pass of the parent

#: The models of Table 1: name -> (child kind, feature level).
MODELS: Dict[str, tuple] = {
    "AtomSets": ("atomsets", "Z"),
    "AtomSets-V0": ("atomsets", "V0"),
    "AtomSets-V1": ("atomsets", "V1"),
    "AtomSets-V2": ("atomsets", "V2"),
    "AtomSets-V3": ("atomsets", "V3"),
    "MLP-V0-stats": ("mlp", "V0-stats"),
    "MLP-u1": ("mlp", "u1"),
    "MLP-u2": ("mlp", "u2"),
    "MLP-u3": ("mlp", "u3"),
    "MLP-f": ("mlp", "f"),
    "MLP-v_r": ("mlp", "v_r"),
}


class SetBatch(NamedTuple):
    """A batch: ``x`` ``(rows, F)`` (or ``(rows,)`` atomic numbers, or ``(B, F)`` vectors),
    ``index`` set of each row (``None`` for vectors), ``weight`` per row, ``y`` ``(B,)``,
    ``ids`` positions of the samples in their dataset."""

    x: Tensor
    index: Optional[Tensor]
    weight: Optional[Tensor]
    y: Tensor
    ids: Tensor
    num_sets: int

    def to(self, device) -> "SetBatch":
        return SetBatch(*(t.to(device, non_blocking=True) if isinstance(t, Tensor) else t for t in self))


def gather_sets(ptr: Tensor, ids: Tensor):
    """Row indices and set index of the sets ``ids`` in a concatenated store."""
    starts = ptr[ids]
    counts = ptr[ids + 1] - starts
    index = torch.repeat_interleave(torch.arange(len(ids)), counts)
    first_row_of_set = torch.cumsum(counts, 0) - counts
    rows = starts[index] + torch.arange(int(counts.sum())) - first_row_of_set[index]
    return rows, index


@dataclass
class SetStore:
    """Every sample of a dataset as a weighted set of rows (see the module docstring)."""

    x: Tensor
    weight: Tensor
    ptr: Tensor
    y: Tensor
    valid: Tensor
    level: str

    def __len__(self) -> int:
        return len(self.y)

    @property
    def in_channels(self) -> Optional[int]:
        """Row feature size; ``None`` when rows are atomic numbers (trainable embedding)."""
        return None if self.x.dtype == torch.long else int(self.x.shape[1])

    def batch(self, ids) -> SetBatch:
        ids = torch.as_tensor(ids, dtype=torch.long)
        rows, index = gather_sets(self.ptr, ids)
        return SetBatch(self.x[rows], index, self.weight[rows], self.y[ids], ids, len(ids))


@dataclass
class VectorStore:
    """One feature vector per sample."""

    x: Tensor
    y: Tensor
    valid: Tensor
    level: str

    def __len__(self) -> int:
        return len(self.y)

    @property
    def in_channels(self) -> int:
        return int(self.x.shape[1])

    def batch(self, ids) -> SetBatch:
        ids = torch.as_tensor(ids, dtype=torch.long)
        return SetBatch(self.x[ids], None, None, self.y[ids], ids, len(ids))


def weighted_statistics(x: Tensor, weight: Tensor, ptr: Tensor) -> Tensor:
    """Per set: weighted mean, weighted standard deviation, min, max and range of the
    rows (``V0-stats``: 5 x 16 = 80 features). Fractions and amounts give the same."""
    from torch_geometric.utils import scatter

    n = len(ptr) - 1
    index = torch.repeat_interleave(torch.arange(n), ptr[1:] - ptr[:-1])
    w = weight.reshape(-1, 1).to(x.dtype)
    total = scatter(w, index, 0, dim_size=n, reduce="sum").clamp_min(1e-30)
    mean = scatter(w * x, index, 0, dim_size=n, reduce="sum") / total
    var = scatter(w * (x - mean[index]) ** 2, index, 0, dim_size=n, reduce="sum") / total
    low = scatter(x, index, 0, dim_size=n, reduce="min")
    high = scatter(x, index, 0, dim_size=n, reduce="max")
    return torch.cat([mean, var.clamp_min(0).sqrt(), low, high, high - low], dim=1)


def level_of(model: str) -> str:
    if model not in MODELS:
        import difflib

        close = difflib.get_close_matches(model, list(MODELS) + ["MEGNet"], n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise AtomSetsInputError(f"unknown model {model!r}{hint} (models: {', '.join(MODELS)}, MEGNet)")
    return MODELS[model][1]


def _rows_of(data, max_z: int):
    from .composition import element_sets, site_sets

    labels = [f"{data.name} row {i}" for i in data.index]
    if data.input_type == "composition":
        return element_sets(data.inputs, labels, max_z)
    return site_sets(data.inputs, labels, max_z)


def build_store(data, level: str, parent=None, cache=None, progress: Optional[bool] = None,
                in_memory: bool = False):
    """The store of ``data`` (a :class:`~torch_atomsets.data.matbench.MaterialsData`) at a
    feature level: ``Z`` (atomic numbers, for the trainable embedding), ``V0`` (the
    parent's embedding rows), ``V1``..``V3`` (per site), ``u1``..``u3``, ``f``, ``v_r``
    (per structure) or ``V0-stats``.

    Levels other than ``Z`` need ``parent``; ``V1``..``v_r`` need a structure dataset and
    come from a :class:`~torch_atomsets.data.feature_cache.FeatureCache` (computed once
    and kept on disk), or, with ``in_memory=True`` (a few new structures to predict),
    straight from the parent, every structure required to be valid.
    """
    y = torch.as_tensor(data.targets, dtype=torch.float32)
    if level == "Z":
        z, w, ptr = _rows_of(data, max_z=103)
        return SetStore(torch.from_numpy(z), torch.from_numpy(w), torch.from_numpy(ptr), y,
                        torch.ones(len(y), dtype=torch.bool), level)
    if parent is None:
        raise AtomSetsInputError(f"level {level} needs a parent model")
    if level in ("V0", "V0-stats"):
        z, w, ptr = _rows_of(data, max_z=parent.model.max_z)
        x = parent.model.embedding.weight.detach()[torch.from_numpy(z)].float().clone()
        store = SetStore(x, torch.from_numpy(w), torch.from_numpy(ptr), y, torch.ones(len(y), dtype=torch.bool), "V0")
        if level == "V0":
            return store
        return VectorStore(weighted_statistics(store.x, store.weight, store.ptr), y, store.valid, level)
    if level not in PARENT_LEVELS:
        raise AtomSetsInputError(f"unknown feature level {level!r}; choose from {SET_LEVELS + VECTOR_LEVELS}")
    if data.input_type != "structure":
        raise AtomSetsInputError(f"{data.name}: level {level} needs structures, but this dataset holds "
                                 "compositions only (use Z, V0 or V0-stats)")
    if in_memory:
        features = parent.featurize(data.inputs, [level], names=[f"{data.name} row {i}" for i in data.index],
                                    progress=progress)
        atom_ptr, valid, arrays = features.atom_ptr, np.ones(len(data), dtype=bool), features.arrays
    else:
        from .feature_cache import FeatureCache

        stored = (cache or FeatureCache(parent)).load(data, progress=progress)
        atom_ptr, valid, arrays = stored.atom_ptr, stored.valid, stored.arrays
    valid = torch.from_numpy(valid.copy())
    if level in ("V1", "V2", "V3"):
        x = torch.from_numpy(np.array(arrays[level]))  # into memory: batches gather rows at random
        return SetStore(x, torch.ones(len(x)), torch.from_numpy(atom_ptr.copy()), y, valid, level)
    return VectorStore(torch.from_numpy(np.array(arrays[level])), y, valid, level)


def describe_store(store) -> Dict[str, Any]:
    info = {"level": store.level, "samples": len(store), "valid": int(store.valid.sum())}
    if isinstance(store, SetStore):
        info["rows"] = int(store.ptr[-1])
    info["in_channels"] = store.in_channels
    return info


__all__: List[str] = ["MODELS", "SetBatch", "SetStore", "VectorStore", "build_store", "gather_sets",
                      "level_of", "weighted_statistics"]
