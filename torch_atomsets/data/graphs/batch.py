"""Batches of crystal graphs for inference: concatenation plus index vectors, closed by a
budget of bonds so each batch's per-bond tensors stay a predictable size."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from ...errors import StructureError
from .converter import CrystalGraphConverter

#: Bonds per batch at which a batch closes, per device type. On a CPU a batch of ~16k
#: bonds keeps each (bonds x 64) float32 activation at 4 MiB, near the L2 cache size
#: (measured on matbench phonons + dielectric, 2 cores: 8k-32k within 10%, 128 structures
#: regardless of size 30% slower). A GPU wants large batches to fill its cores.
MAX_BONDS = {"cpu": 16384, "cuda": 1 << 20}


def max_bonds_for(device) -> int:
    """The default bond budget of a batch on ``device`` (see :data:`MAX_BONDS`)."""
    return MAX_BONDS.get(torch.device(device).type, MAX_BONDS["cuda"])


@dataclass
class GraphBatch:
    """Concatenated crystal graphs of several structures, as plain tensors (no PyG
    ``Batch`` bookkeeping: inference needs nothing else).

    ``atom_ptr`` (numpy) gives the rows of structure ``i``: ``atom_ptr[i]:atom_ptr[i + 1]``.
    """

    z: Tensor
    edge_index: Tensor
    edge_distance: Tensor
    batch: Tensor
    atom_ptr: np.ndarray
    num_graphs: int

    @classmethod
    def from_arrays(cls, arrays: Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                    pin_memory: bool = False) -> "GraphBatch":
        """Collate ``(z, neighbour, centre, distance)`` arrays from
        :meth:`CrystalGraphConverter.arrays`. ``pin_memory`` puts the tensors in
        page-locked memory, so a copy to a GPU can overlap with work."""
        counts = np.fromiter((len(a[0]) for a in arrays), dtype=np.int64, count=len(arrays))
        atom_ptr = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum(counts, out=atom_ptr[1:])
        edge_counts = np.fromiter((len(a[3]) for a in arrays), dtype=np.int64, count=len(arrays))
        offsets = np.repeat(atom_ptr[:-1], edge_counts)
        neighbour = np.concatenate([a[1] for a in arrays]) + offsets
        centre = np.concatenate([a[2] for a in arrays]) + offsets
        tensors = dict(z=torch.from_numpy(np.concatenate([a[0] for a in arrays])),
                       edge_index=torch.from_numpy(np.stack([neighbour, centre])),
                       edge_distance=torch.from_numpy(np.concatenate([a[3] for a in arrays])),
                       batch=torch.from_numpy(np.repeat(np.arange(len(arrays), dtype=np.int64), counts)))
        if pin_memory:
            tensors = {k: v.pin_memory() for k, v in tensors.items()}
        return cls(atom_ptr=atom_ptr, num_graphs=len(arrays), **tensors)

    def to(self, device, non_blocking: bool = True) -> "GraphBatch":
        """The same batch on ``device`` (asynchronous from pinned memory)."""
        move = {k: getattr(self, k).to(device, non_blocking=non_blocking)
                for k in ("z", "edge_index", "edge_distance", "batch")}
        return GraphBatch(atom_ptr=self.atom_ptr, num_graphs=self.num_graphs, **move)


def iter_graph_batches(structures: Sequence, converter: CrystalGraphConverter, labels: Sequence[str],
                       batch_size: int = 256, max_bonds: int = MAX_BONDS["cpu"],
                       failures: Optional[List[Tuple[int, str]]] = None, progress=None,
                       pin_memory: bool = False) -> Iterator[Tuple[np.ndarray, GraphBatch]]:
    """Graphs of ``structures`` in batches, in order: ``(positions, batch)`` pairs.

    A batch closes at ``batch_size`` structures or once it holds ``max_bonds`` bonds. A
    structure the converter rejects raises its :class:`~torch_atomsets.errors.StructureError`
    (naming ``labels[i]``); with a ``failures`` list it is skipped and ``(i, message)``
    appended instead. ``progress`` is a bar with ``update(n)`` (or ``None``).
    """
    pending: list = []
    positions: list = []
    bonds = reported = 0
    n = len(structures)
    for i, structure in enumerate(structures):
        try:
            arrays = converter.arrays(structure, labels[i])
        except StructureError as exc:
            if failures is None:
                raise
            failures.append((i, str(exc)))
            arrays = None
        if arrays is not None:
            pending.append(arrays)
            positions.append(i)
            bonds += len(arrays[3])
        last = i == n - 1
        if pending and (len(pending) >= batch_size or bonds >= max_bonds or last):
            yield np.asarray(positions, dtype=np.int64), GraphBatch.from_arrays(pending, pin_memory)
            pending, positions, bonds = [], [], 0
        if progress is not None and (last or (i + 1) % 64 == 0):
            progress.update(i + 1 - reported)
            reported = i + 1
