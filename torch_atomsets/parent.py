"""A MEGNet parent ready to use on structures: graphs, batched prediction, features."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .data.errors import StructureError
from .data.graph import CrystalGraphConverter
from .data.structures import StructureLike, describe
from .models.megnet import ATOM_LEVELS, MEGNet, MEGNetOutput, STRUCTURE_LEVELS
from .utils import progress_bar

ALL_LEVELS = ATOM_LEVELS + STRUCTURE_LEVELS
#: Bonds per batch at which a batch closes (see :meth:`Parent.iter_outputs`). A batch
#: of ~16k bonds keeps each (bonds x 64) float32 activation at 4 MiB, near the L2 cache
#: size; measured on matbench phonons + dielectric (2 cores) 8k-32k are within 10%,
#: 128 structures regardless of size is 30% slower.
DEFAULT_MAX_BONDS = 16384


@dataclass
class GraphBatch:
    """Concatenated crystal graphs of several structures, as plain tensors."""

    z: Tensor
    edge_index: Tensor
    edge_distance: Tensor
    batch: Tensor
    atom_ptr: np.ndarray
    num_graphs: int

    @classmethod
    def from_arrays(cls, arrays: Sequence[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
                    ) -> "GraphBatch":
        """Collate ``(z, neighbour, centre, distance)`` arrays from
        :meth:`CrystalGraphConverter.arrays`; cheaper than PyG's ``Batch`` for
        inference, where no other attributes travel."""
        counts = np.fromiter((len(a[0]) for a in arrays), dtype=np.int64, count=len(arrays))
        atom_ptr = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum(counts, out=atom_ptr[1:])
        edge_counts = np.fromiter((len(a[3]) for a in arrays), dtype=np.int64, count=len(arrays))
        offsets = np.repeat(atom_ptr[:-1], edge_counts)
        neighbour = np.concatenate([a[1] for a in arrays]) + offsets
        centre = np.concatenate([a[2] for a in arrays]) + offsets
        return cls(
            z=torch.from_numpy(np.concatenate([a[0] for a in arrays])),
            edge_index=torch.from_numpy(np.stack([neighbour, centre])),
            edge_distance=torch.from_numpy(np.concatenate([a[3] for a in arrays])),
            batch=torch.from_numpy(np.repeat(np.arange(len(arrays), dtype=np.int64), counts)),
            atom_ptr=atom_ptr,
            num_graphs=len(arrays),
        )


@dataclass
class Features:
    """Hierarchical parent features of a list of structures.

    Per-atom levels (``V0``..``V3``) are stored concatenated over all structures,
    ``(total_atoms, F)``, with ``atom_ptr`` giving each structure's rows
    (``atom_ptr[i]:atom_ptr[i + 1]``); per-structure levels (``u1``..``u3``, ``f``,
    ``v_r``) and ``prediction`` are ``(num_structures, F)``.
    """

    names: List[str]
    atom_ptr: np.ndarray
    atomic_numbers: np.ndarray
    arrays: Dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, key: Union[int, str]):
        """``features["V1"]`` is a whole level; ``features[i]`` a dict for structure ``i``."""
        if isinstance(key, str):
            return self.arrays[key]
        lo, hi = self.atom_ptr[key], self.atom_ptr[key + 1]
        out = {"name": self.names[key], "atomic_numbers": self.atomic_numbers[lo:hi]}
        for level, values in self.arrays.items():
            out[level] = values[lo:hi] if level in ATOM_LEVELS else values[key]
        return out

    def save(self, path: str, overwrite: bool = False) -> str:
        """Write everything to one ``.npz`` file; never replaces a file unless told to."""
        if not path.endswith(".npz"):
            path += ".npz"
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{path} exists; choose another name or allow overwriting")
        tmp = f"{path}.tmp-{os.getpid()}.npz"
        np.savez(tmp, names=np.array(self.names), atom_ptr=self.atom_ptr,
                 atomic_numbers=self.atomic_numbers, **self.arrays)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str) -> "Features":
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k not in ("names", "atom_ptr", "atomic_numbers")}
            return cls([str(n) for n in data["names"]], data["atom_ptr"], data["atomic_numbers"], arrays)


def _labels(structures: Sequence, names: Optional[Sequence[str]]) -> List[str]:
    if names is not None:
        if len(names) != len(structures):
            raise ValueError(f"{len(names)} names for {len(structures)} structures")
        return [str(n) for n in names]
    return [f"structure #{i} ({describe(s)})" for i, s in enumerate(structures)]


class Parent:
    """A MEGNet parent (published or trained here) with its graph settings.

    Use :func:`load_parent` to get one. ``parent.model`` is the
    :class:`~torch_atomsets.models.MEGNet`, ``parent.converter`` builds its graphs.
    """

    def __init__(self, model: MEGNet, metadata: Optional[dict] = None, device: Union[str, torch.device] = "cpu"):
        self.model = model.eval().to(device)
        self.metadata = dict(metadata or {})
        self.device = torch.device(device)
        self.converter = CrystalGraphConverter(model.cutoff, max_z=model.max_z, state_dim=model.state_dim)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    def __repr__(self) -> str:
        return (f"Parent({self.metadata.get('name', 'MEGNet')}, cutoff={self.model.cutoff:g} A, "
                f"blocks={self.model.num_blocks}, unit={self.metadata.get('unit', '?')})")

    @property
    def unit(self) -> str:
        return self.metadata.get("unit", "")

    def iter_outputs(self, structures: Sequence[StructureLike], names: Optional[Sequence[str]] = None,
                     batch_size: int = 256, progress: Optional[bool] = None,
                     max_bonds: int = DEFAULT_MAX_BONDS,
                     ) -> Iterator[Tuple[range, GraphBatch, MEGNetOutput]]:
        """Run the parent over ``structures`` in batches, in order.

        A batch closes at ``batch_size`` structures or once it holds ``max_bonds``
        bonds, whichever comes first: batches whose per-bond tensors fit in the CPU
        cache run markedly faster than large ones. Yields ``(indices, graphs, output)``
        per batch. A structure that cannot be converted raises
        :class:`~torch_atomsets.data.errors.StructureError` naming it (its position, and
        its name when ``names`` is given).
        """
        structures = list(structures)
        labels = _labels(structures, names)
        bar = progress_bar(total=len(structures), desc="featurising", unit="structure", enable=progress)
        try:
            start = 0
            pending: list = []
            bonds = 0
            for i, (structure, label) in enumerate(zip(structures, labels)):
                arrays = self.converter.arrays(structure, label)
                pending.append(arrays)
                bonds += len(arrays[3])
                if len(pending) >= batch_size or bonds >= max_bonds or i == len(structures) - 1:
                    graphs = GraphBatch.from_arrays(pending)
                    output = self._forward(graphs)
                    bar.update(len(pending))
                    yield range(start, start + len(pending)), graphs, output
                    start += len(pending)
                    pending, bonds = [], 0
        finally:
            bar.close()

    def _forward(self, graphs: GraphBatch) -> MEGNetOutput:
        with torch.inference_mode():
            return self.model(graphs.z.to(self.device), graphs.edge_index.to(self.device),
                              graphs.edge_distance.to(self.device), None,
                              graphs.batch.to(self.device), graphs.num_graphs)

    def predict(self, structures: Iterable[StructureLike], names: Optional[Sequence[str]] = None,
                batch_size: int = 256, progress: Optional[bool] = None,
                max_bonds: int = DEFAULT_MAX_BONDS) -> np.ndarray:
        """Predictions for each structure, ``(n,)`` (or ``(n, out_dim)``), in the parent's
        unit (``parent.unit``; eV/atom for the published parents)."""
        chunks = [out.prediction.cpu().numpy() for _, _, out in
                  self.iter_outputs(list(structures), names, batch_size, progress, max_bonds)]
        values = np.concatenate(chunks) if chunks else np.zeros((0, self.model.config["out_dim"]), np.float32)
        return values[:, 0] if values.shape[1] == 1 else values

    def featurize(self, structures: Iterable[StructureLike], levels: Sequence[str] = ALL_LEVELS,
                  names: Optional[Sequence[str]] = None, batch_size: int = 256,
                  progress: Optional[bool] = None, max_bonds: int = DEFAULT_MAX_BONDS) -> Features:
        """The hierarchical features of each structure (see :class:`Features`).

        ``levels`` picks among ``V0``..``V3`` (per atom), ``u1``..``u3``, ``f``,
        ``v_r`` (per structure); the prediction is always included.
        """
        structures = list(structures)
        levels = check_levels(levels, self.model.num_blocks)
        labels = _labels(structures, names)
        parts: Dict[str, List[np.ndarray]] = {level: [] for level in levels}
        parts["prediction"] = []
        z_parts, ptr_parts = [], [np.zeros(1, dtype=np.int64)]
        for _, graphs, output in self.iter_outputs(structures, labels, batch_size, progress, max_bonds):
            for level in parts:
                parts[level].append(output.level(level).cpu().numpy())
            z_parts.append(graphs.z.numpy())
            ptr_parts.append(graphs.atom_ptr[1:] + ptr_parts[-1][-1])
        arrays = {k: np.concatenate(v) if v else np.zeros((0,), np.float32) for k, v in parts.items()}
        if "prediction" in arrays and arrays["prediction"].ndim == 2 and arrays["prediction"].shape[1] == 1:
            arrays["prediction"] = arrays["prediction"][:, 0]
        return Features(labels, np.concatenate(ptr_parts),
                        np.concatenate(z_parts) if z_parts else np.zeros(0, np.int64), arrays)


def check_levels(levels: Sequence[str], num_blocks: int = 3) -> List[str]:
    """Validate feature level names, e.g. ``["V0", "V1", "f"]``."""
    if isinstance(levels, str):
        levels = [level.strip() for level in levels.split(",") if level.strip()]
    valid = [f"V{i}" for i in range(num_blocks + 1)] + [f"u{i}" for i in range(1, num_blocks + 1)] + ["f", "v_r"]
    bad = [level for level in levels if level not in valid]
    if bad:
        raise ValueError(f"unknown feature level(s) {bad}; choose from {valid}")
    return list(dict.fromkeys(levels))


def load_parent(name_or_path: Optional[str] = None, weights_dir: Optional[str] = None,
                allow_download: bool = True, device: Union[str, torch.device] = "cpu") -> Parent:
    """A parent by registry name or alias (default ``"mp-2019.4.1"``, alias
    ``"Eform_MP_2019"``), or by path: a megnet Keras ``.hdf5`` (with its ``.json``
    sidecar beside it) or a file written by :meth:`MEGNet.save`."""
    from . import pretrained

    if name_or_path and (os.path.sep in name_or_path or os.path.exists(name_or_path)):
        path = name_or_path
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such model file")
        if path.endswith((".hdf5", ".h5")):
            model, metadata = pretrained.megnet_from_keras(path)
        else:
            model, metadata = MEGNet.from_file(path)
        metadata.setdefault("name", os.path.basename(path))
        return Parent(model, metadata, device)
    model, metadata = pretrained.load_pretrained(name_or_path, weights_dir, allow_download)
    return Parent(model, metadata, device)


def predict(structures: Iterable[StructureLike], parent: Union[str, Parent, None] = None, **kwargs) -> np.ndarray:
    """Shortcut: ``load_parent(parent).predict(structures, **kwargs)``."""
    if not isinstance(parent, Parent):
        parent = load_parent(parent)
    return parent.predict(structures, **kwargs)


def featurize(structures: Iterable[StructureLike], levels: Sequence[str] = ALL_LEVELS,
              parent: Union[str, Parent, None] = None, **kwargs) -> Features:
    """Shortcut: ``load_parent(parent).featurize(structures, levels, **kwargs)``."""
    if not isinstance(parent, Parent):
        parent = load_parent(parent)
    return parent.featurize(structures, levels, **kwargs)
