"""Feature sets for AtomSets children, batched by concatenation + index vectors.

A *set store* holds every sample of a dataset at one feature level as concatenated rows
(``x``, ``weight``) with offsets ``ptr``; a batch is a gather plus an index vector, so an
epoch touches only tensors. A *vector store* holds one vector per sample (u1..un, f, v_r,
V0-stats) for the MLP children. Levels are named by :mod:`torch_atomsets.levels`; a level
expression such as ``V0+V1`` or ``V1+f`` builds the concatenated rows (structure levels
broadcast to the rows of their sample).

Samples a level cannot represent (a formula with an element beyond the parent's table, a
structure the parent cannot take) are marked invalid and listed in ``failures`` with
their label and reason, for every level alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ...errors import AtomSetsInputError, CompositionError
from ...levels import LevelSet, level, parse_levels
from ...nn.weighted_mean import weighted_statistics_by_index
from ..inputs.compositions import MAX_Z, element_set, site_sets
from ..inputs.elements import element_table
from .cache import FeatureCache
from .extract import run_parent


class SetBatch(NamedTuple):
    """A batch: ``x`` ``(rows, F)`` (or ``(rows,)`` atomic numbers, or ``(B, F)`` vectors),
    ``index`` set of each row (``None`` for vectors), ``weight`` per row, ``y`` ``(B,)``,
    ``ids`` positions of the samples in their dataset, ``num_sets`` B (a Python int, so no
    forward needs a device sync to learn it)."""

    x: Tensor
    index: Optional[Tensor]
    weight: Optional[Tensor]
    y: Tensor
    ids: Tensor
    num_sets: int

    def to(self, device, non_blocking: bool = True) -> "SetBatch":
        return SetBatch(*(t.to(device, non_blocking=non_blocking) if isinstance(t, Tensor) else t for t in self))

    def pin_memory(self) -> "SetBatch":
        """Page-locked copies (called by ``DataLoader(pin_memory=True)``)."""
        return SetBatch(*(t.pin_memory() if isinstance(t, Tensor) else t for t in self))


def gather_sets(ptr: Tensor, ids: Tensor) -> Tuple[Tensor, Tensor]:
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
    failures: List[Tuple[int, str]] = field(default_factory=list)

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

    def rows_of(self, positions) -> Tensor:
        """All rows of the samples at ``positions``."""
        rows, _ = gather_sets(self.ptr, torch.as_tensor(positions, dtype=torch.long))
        return self.x[rows]


@dataclass
class VectorStore:
    """One feature vector per sample."""

    x: Tensor
    y: Tensor
    valid: Tensor
    level: str
    failures: List[Tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def in_channels(self) -> int:
        return int(self.x.shape[1])

    def batch(self, ids) -> SetBatch:
        ids = torch.as_tensor(ids, dtype=torch.long)
        return SetBatch(self.x[ids], None, None, self.y[ids], ids, len(ids))


Store = Union[SetStore, VectorStore]


def weighted_statistics(x: Tensor, weight: Tensor, ptr: Tensor) -> Tensor:
    """Per set: weighted mean, weighted standard deviation, min, max and range of the
    rows (``V0-stats``: 5 x 16 = 80 features). Fractions and amounts give the same.
    Sets are given by offsets ``ptr`` (rows of set i: ``ptr[i]:ptr[i + 1]``)."""
    n = len(ptr) - 1
    index = torch.repeat_interleave(torch.arange(n), ptr[1:] - ptr[:-1])
    return weighted_statistics_by_index(x, weight, index, n)


#: Statistics levels and the per-row source they summarise.
STATISTICS_OF = {"statistics": "embedding", "element-statistics": "elements"}


def element_tables(levels: LevelSet, model=None) -> Dict[str, Tensor]:
    """The per-element tables the element levels of ``levels`` read, by source:
    ``"embedding"`` (the parent's V0, for V0 and V0-stats) and ``"elements"`` (the
    property table, for E and E-stats); each ``(max_z + 1, width)`` float32, row Z."""
    sources = {STATISTICS_OF.get(p.source, p.source) for p in levels.parts}
    out = {}
    if "embedding" in sources:
        out["embedding"] = model.embedding.weight.detach().cpu().float()
    if "elements" in sources:
        out["elements"] = torch.from_numpy(element_table())
    return out


def _element_rows(data, max_z: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """``(z, weight, ptr, valid, failures)`` of every sample as a set of elements (a
    formula) or of sites (a structure, weighted by occupancy); a sample that cannot be
    represented gets no rows, ``valid`` false and a failure naming it."""
    n = len(data)
    zs, ws = [], []
    valid = np.ones(n, dtype=bool)
    failures = []
    for i, item in enumerate(data.inputs):
        label = data.label(i)
        try:
            if data.input_type == "composition":
                z, w = element_set(item, label, max_z)
            else:
                z, w, _ = site_sets([item], [label], max_z)
        except CompositionError as exc:
            z, w = np.zeros(0, np.int64), np.zeros(0, np.float32)
            valid[i] = False
            failures.append((i, str(exc)))
        zs.append(z)
        ws.append(w)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(z) for z in zs], out=ptr[1:])
    z = np.concatenate(zs) if zs else np.zeros(0, np.int64)
    w = np.concatenate(ws) if ws else np.zeros(0, np.float32)
    return z, w, ptr, valid, failures


def _parent_arrays(data, names, model, key, cache_root, in_memory, progress):
    """``(atom_ptr, valid, arrays, failures)`` of the forward-pass levels ``names``."""
    if data.input_type != "structure":
        raise AtomSetsInputError(f"{data.name}: level(s) {', '.join(names)} need crystal structures, and this "
                                 "dataset holds compositions (use Z, V0, V0-stats, E or E-stats)")
    if not in_memory:
        stored = FeatureCache(model, key, cache_root).load(data, progress=progress)
        return stored.atom_ptr, stored.valid, stored.arrays, stored.failures
    n = len(data)
    failures: list = []
    parts = {name: [] for name in names}
    counts = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    kept = []
    for positions, graphs, output in run_parent(model, data.inputs, data.all_labels(), progress=progress,
                                                failures=failures):
        kept.append(positions)
        valid[positions] = True
        counts[positions] = np.diff(graphs.atom_ptr)
        for name in names:
            parts[name].append(output.level(name).float().cpu().numpy())
    atom_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=atom_ptr[1:])
    arrays = {}
    order = np.concatenate(kept) if kept else np.zeros(0, np.int64)
    for name, chunks in parts.items():
        values = np.concatenate(chunks) if chunks else np.zeros((0, level(name).width(model.config)), np.float32)
        if not level(name).per_atom:  # per structure: back to input positions
            full = np.zeros((n,) + values.shape[1:], np.float32)
            full[order] = values
            values = full
        arrays[name] = values
    return atom_ptr, valid, arrays, failures


def build_store(data, levels: Union[str, LevelSet], model=None, key: Optional[str] = None,
                cache_root: Optional[str] = None, in_memory: bool = False,
                progress: Optional[bool] = None) -> Store:
    """The store of ``data`` (a :class:`~torch_atomsets.data.datasets.MaterialsData`) at a
    feature level or level expression (:func:`torch_atomsets.levels.parse_levels`).

    ``Z``, ``E`` and ``E-stats`` need nothing else. Other levels need the parent ``model``
    (its embedding for ``V0`` / ``V0-stats``); forward-pass levels (V1.., u1.., f, v_r, e_r) need structures
    and come from the :class:`~torch_atomsets.data.features.cache.FeatureCache` of ``key``
    (computed once and kept on disk), or, with ``in_memory=True`` (a few new structures to
    predict), straight from the model.
    """
    levels = parse_levels(levels) if isinstance(levels, str) else levels
    y = torch.as_tensor(data.targets, dtype=torch.float32)
    if levels.is_atomic_numbers:
        z, w, ptr, valid, failures = _element_rows(data, MAX_Z)
        return SetStore(torch.from_numpy(z), torch.from_numpy(w), torch.from_numpy(ptr), y,
                        torch.from_numpy(valid), levels.name, failures)
    if model is None and levels.needs_parent:
        raise AtomSetsInputError(f"level {levels.name} needs a parent model")
    n = len(data)
    valid = np.ones(n, dtype=bool)
    failures: list = []
    columns: List[Tensor] = []  # per-row blocks (atom levels) or per-sample blocks (structure levels)
    per_row: List[bool] = []
    ptr = weight = None
    tables = element_tables(levels, model)
    if tables:
        z, w, ptr_np, ok, bad = _element_rows(data, min(len(t) for t in tables.values()) - 1)
        valid &= ok
        failures += bad
        z_t = torch.from_numpy(z)
        rows = {source: table[z_t].clone() for source, table in tables.items()}
        ptr, weight = torch.from_numpy(ptr_np), torch.from_numpy(w)
    forward = [p.name for p in levels.parts if p.needs_forward]
    arrays = {}
    if forward:
        atom_ptr, ok, arrays, bad = _parent_arrays(data, forward, model, key, cache_root, in_memory, progress)
        valid &= ok
        failures += bad
        atom_ptr = torch.from_numpy(np.ascontiguousarray(atom_ptr))
        if any(p.per_atom and p.needs_forward for p in levels.parts):
            if ptr is not None:
                mismatch = torch.from_numpy(valid) & ((ptr[1:] - ptr[:-1]) != (atom_ptr[1:] - atom_ptr[:-1]))
                for i in torch.nonzero(mismatch).flatten().tolist():
                    valid[i] = False
                    failures.append((i, f"{data.label(i)}: has partially occupied sites, which the parent's "
                                        "per-site features cannot represent"))
            ptr, weight = atom_ptr, None
    for part in levels.parts:
        if part.source in ("embedding", "elements"):
            columns.append(rows[part.source])
            per_row.append(True)
        elif part.source in STATISTICS_OF:
            x = rows[STATISTICS_OF[part.source]]
            columns.append(weighted_statistics(x, torch.from_numpy(w), torch.from_numpy(ptr_np)))
            per_row.append(False)
        else:
            columns.append(torch.from_numpy(np.array(arrays[part.name], dtype=np.float32)))
            per_row.append(part.per_atom)
    failures.sort()
    valid_t = torch.from_numpy(valid)
    if levels.per == "structure":
        return VectorStore(torch.cat(columns, dim=1) if len(columns) > 1 else columns[0], y, valid_t, levels.name,
                           failures)
    n_rows = int(ptr[-1])
    sample_of_row = torch.repeat_interleave(torch.arange(n), ptr[1:] - ptr[:-1])
    blocks = [c if row else c[sample_of_row] for c, row in zip(columns, per_row)]
    x = torch.cat(blocks, dim=1) if len(blocks) > 1 else blocks[0]
    if weight is None:
        weight = torch.ones(n_rows)
    return SetStore(x, weight, ptr, y, valid_t, levels.name, failures)


__all__ = ["STATISTICS_OF", "SetBatch", "SetStore", "Store", "VectorStore", "build_store", "element_tables", "gather_sets", "weighted_statistics",
           "weighted_statistics_by_index"]
