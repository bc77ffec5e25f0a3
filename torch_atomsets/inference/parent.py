"""A MEGNet parent ready to use on structures: batched prediction and hierarchical features."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import torch

from ..data.features.extract import run_parent
from ..data.graphs.converter import CrystalGraphConverter
from ..data.inputs.structures import StructureLike, describe
from ..errors import ConfigError
from ..hub.parents import load_parent_model
from ..levels import level, parent_output_levels, split_level_list
from ..models.megnet import MEGNet


@dataclass
class Features:
    """Hierarchical parent features of a list of structures.

    Per-atom levels (``V0``..``Vn``) are stored concatenated over all structures,
    ``(total_atoms, F)``, with ``atom_ptr`` giving each structure's rows
    (``atom_ptr[i]:atom_ptr[i + 1]``); per-structure levels (``u1``..``un``, ``f``,
    ``v_r``, ``e_r``) and ``prediction`` are ``(num_structures, F)``.
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
        for name, values in self.arrays.items():
            per_atom = name != "prediction" and level(name).per_atom
            out[name] = values[lo:hi] if per_atom else values[key]
        return out

    def save(self, path: str, overwrite: bool = False) -> str:
        """Write everything to one ``.npz`` file; never replaces a file unless told to."""
        if not path.endswith(".npz"):
            path += ".npz"
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{path} exists; choose another name or allow overwriting")
        tmp = f"{path}.tmp-{os.getpid()}.npz"
        np.savez(tmp, names=np.array(self.names), atom_ptr=self.atom_ptr, atomic_numbers=self.atomic_numbers,
                 **self.arrays)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str) -> "Features":
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if k not in ("names", "atom_ptr", "atomic_numbers")}
            return cls([str(n) for n in data["names"]], data["atom_ptr"], data["atomic_numbers"], arrays)


class _DefaultLabels:
    """``structure #i (formula)`` for messages, made only when one is printed."""

    def __init__(self, structures: Sequence):
        self.structures = structures

    def __len__(self) -> int:
        return len(self.structures)

    def __getitem__(self, i: int):
        return lambda: f"structure #{i} ({describe(self.structures[i])})"


def _labels(structures: Sequence, names: Optional[Sequence[str]]):
    if names is not None:
        if len(names) != len(structures):
            raise ConfigError(f"{len(names)} names for {len(structures)} structures")
        return [str(n) for n in names]
    return _DefaultLabels(structures)


class Parent:
    """A MEGNet parent (published or trained here) with its graph settings.

    Use :func:`load_parent` to get one. ``parent.model`` is the
    :class:`~torch_atomsets.models.MEGNet` (frozen, in eval mode), ``parent.converter``
    builds its graphs, ``parent.key`` identifies its weights.
    """

    def __init__(self, model: MEGNet, metadata: Optional[dict] = None, device: Union[str, torch.device] = "cpu"):
        self.model = model.eval().to(device)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.metadata = dict(metadata or {})
        self.key = self.metadata.get("key") or f"{self.metadata.get('name', 'megnet')}-unknown"
        self.device = torch.device(device)
        self.converter = CrystalGraphConverter.for_model(model)

    def __repr__(self) -> str:
        return (f"Parent({self.metadata.get('name', 'MEGNet')}, cutoff={self.model.cutoff:g} A, "
                f"blocks={self.model.num_blocks}, unit={self.metadata.get('unit', '?')}, device={self.device})")

    @property
    def levels(self) -> List[str]:
        """Feature levels of this parent: V0..Vn, u1..un, f, v_r, e_r."""
        return list(parent_output_levels(self.model.num_blocks))

    @property
    def unit(self) -> str:
        return self.metadata.get("unit", "")

    def predict(self, structures: Iterable[StructureLike], names: Optional[Sequence[str]] = None,
                batch_size: int = 256, progress: Optional[bool] = None, max_bonds: Optional[int] = None,
                failures: Optional[list] = None, compressed: bool = True) -> np.ndarray:
        """Predictions for each structure, ``(n,)`` (or ``(n, out_dim)``), in the parent's
        unit (``parent.unit``; eV/atom for the published parents).

        A structure the parent cannot take raises an error naming it; with a ``failures``
        list it gets NaN instead and ``(position, message)`` is appended to the list.
        ``compressed`` runs each batch on its symmetry-compressed graph (the same numbers to
        float32 rounding, for about half the work; :mod:`torch_atomsets.data.graphs.compress`).
        """
        structures = list(structures)
        out_dim = self.model.config["out_dim"]
        values = np.full((len(structures), out_dim), np.nan, dtype=np.float32)
        for positions, _, out in run_parent(self.model, structures, _labels(structures, names), batch_size, max_bonds,
                                            failures, progress, self.converter, compressed):
            values[positions] = out.prediction.float().cpu().numpy()
        return values[:, 0] if out_dim == 1 else values

    def featurize(self, structures: Iterable[StructureLike], levels: Optional[Sequence[str]] = None,
                  names: Optional[Sequence[str]] = None, batch_size: int = 256, progress: Optional[bool] = None,
                  max_bonds: Optional[int] = None, failures: Optional[list] = None, compressed: bool = True) -> Features:
        """The hierarchical features of each structure (see :class:`Features`).

        ``levels`` picks among ``V0``..``Vn`` (per atom), ``u1``..``un``, ``f``, ``v_r``,
        ``e_r`` (per structure); default: all. The prediction is always included. With a
        ``failures`` list, structures the parent cannot take are left out (and listed
        there) instead of raising. ``compressed``: as for :meth:`predict`.
        """
        structures = list(structures)
        wanted = split_level_list(self.levels if levels is None else levels, self.model.num_blocks)
        labels = _labels(structures, names)
        parts: Dict[str, List[np.ndarray]] = {name: [] for name in wanted + ["prediction"]}
        z_parts, ptr_parts, kept = [], [np.zeros(1, dtype=np.int64)], []
        for positions, graphs, output in run_parent(self.model, structures, labels, batch_size, max_bonds, failures,
                                                    progress, self.converter, compressed):
            kept.extend(positions.tolist())
            for name in parts:
                parts[name].append(output.level(name).float().cpu().numpy())
            z_parts.append(graphs.z.cpu().numpy())
            ptr_parts.append(graphs.atom_ptr[1:] + ptr_parts[-1][-1])
        arrays = {k: np.concatenate(v) if v else np.zeros((0,), np.float32) for k, v in parts.items()}
        if arrays["prediction"].ndim == 2 and arrays["prediction"].shape[1] == 1:
            arrays["prediction"] = arrays["prediction"][:, 0]
        names = [labels[i] if isinstance(labels, list) else f"structure #{i}" for i in kept]
        return Features(names, np.concatenate(ptr_parts),
                        np.concatenate(z_parts) if z_parts else np.zeros(0, np.int64), arrays)


def load_parent(name_or_path: Optional[str] = None, weights_dir: Optional[str] = None, allow_download: bool = True,
                device: Union[str, torch.device] = "cpu") -> Parent:
    """A parent by registry name or alias (default ``"mp-2019.4.1"``, alias
    ``"Eform_MP_2019"``), by the name a trained parent was registered under, or by path (a
    megnet Keras ``.hdf5`` with its ``.json`` sidecar, a ``parent.pt``, or a
    ``MEGNetModule`` checkpoint), on ``device`` (``"cpu"``, ``"cuda"``, ...). Graph
    settings (cutoff, Gaussians) come with the model. See :mod:`torch_atomsets.hub.parents`."""
    model, metadata = load_parent_model(name_or_path, weights_dir, allow_download)
    return Parent(model, metadata, device)


def predict(structures: Iterable[StructureLike], parent: Union[str, Parent, None] = None, **kwargs) -> np.ndarray:
    """Shortcut: ``load_parent(parent).predict(structures, **kwargs)``."""
    if not isinstance(parent, Parent):
        parent = load_parent(parent)
    return parent.predict(structures, **kwargs)


def featurize(structures: Iterable[StructureLike], levels: Optional[Sequence[str]] = None,
              parent: Union[str, Parent, None] = None, **kwargs) -> Features:
    """Shortcut: ``load_parent(parent).featurize(structures, levels, **kwargs)``."""
    if not isinstance(parent, Parent):
        parent = load_parent(parent)
    return parent.featurize(structures, levels, **kwargs)


__all__ = ["Features", "Parent", "featurize", "load_parent", "predict"]
