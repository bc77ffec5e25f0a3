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
from .models.megnet import ATOM_LEVELS, MEGNet, MEGNetOutput
from .utils import cache_dir, progress_bar, sha256sum

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
        #: identifies the weights (feature caches are kept per key)
        self.key = f"{self.metadata.get('name', 'megnet')}-{str(self.metadata.get('sha256', 'unknown'))[:12]}"
        self.device = torch.device(device)
        self.converter = CrystalGraphConverter(model.cutoff, max_z=model.max_z, state_dim=model.state_dim)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)

    def __repr__(self) -> str:
        return (f"Parent({self.metadata.get('name', 'MEGNet')}, cutoff={self.model.cutoff:g} A, "
                f"blocks={self.model.num_blocks}, unit={self.metadata.get('unit', '?')})")

    @property
    def levels(self) -> List[str]:
        """Feature levels of this parent: V0..Vn, u1..un, f, v_r."""
        n = self.model.num_blocks
        return [f"V{i}" for i in range(n + 1)] + [f"u{i}" for i in range(1, n + 1)] + ["f", "v_r"]

    @property
    def unit(self) -> str:
        return self.metadata.get("unit", "")

    def iter_outputs(self, structures: Sequence[StructureLike], names: Optional[Sequence[str]] = None,
                     batch_size: int = 256, progress: Optional[bool] = None,
                     max_bonds: int = DEFAULT_MAX_BONDS, failures: Optional[list] = None,
                     ) -> Iterator[Tuple[np.ndarray, GraphBatch, MEGNetOutput]]:
        """Run the parent over ``structures`` in batches, in order.

        A batch closes at ``batch_size`` structures or once it holds ``max_bonds``
        bonds, whichever comes first: batches whose per-bond tensors fit in the CPU
        cache run markedly faster than large ones. Yields ``(positions, graphs, output)``
        per batch, ``positions`` being the structures' places in the input.

        A structure that cannot be converted raises
        :class:`~torch_atomsets.data.errors.StructureError` naming it (its position, and
        its name when ``names`` is given); with a ``failures`` list it is skipped instead
        and ``(position, message)`` appended to the list.
        """
        structures = list(structures)
        labels = _labels(structures, names)
        bar = progress_bar(total=len(structures), desc="featurising", unit="structure", enable=progress)
        try:
            pending: list = []
            positions: list = []
            bonds = reported = 0
            for i, (structure, label) in enumerate(zip(structures, labels)):
                try:
                    arrays = self.converter.arrays(structure, label)
                except StructureError as exc:
                    if failures is None:
                        raise
                    failures.append((i, str(exc)))
                    arrays = None
                if arrays is not None:
                    pending.append(arrays)
                    positions.append(i)
                    bonds += len(arrays[3])
                last = i == len(structures) - 1
                if pending and (len(pending) >= batch_size or bonds >= max_bonds or last):
                    graphs = GraphBatch.from_arrays(pending)
                    output = self._forward(graphs)
                    yield np.asarray(positions, dtype=np.int64), graphs, output
                    pending, positions, bonds = [], [], 0
                if last or (i + 1) % 64 == 0:
                    bar.update(i + 1 - reported)
                    reported = i + 1
        finally:
            bar.close()

    def _forward(self, graphs: GraphBatch) -> MEGNetOutput:
        with torch.inference_mode():
            return self.model(graphs.z.to(self.device), graphs.edge_index.to(self.device),
                              graphs.edge_distance.to(self.device), None,
                              graphs.batch.to(self.device), graphs.num_graphs)

    def predict(self, structures: Iterable[StructureLike], names: Optional[Sequence[str]] = None,
                batch_size: int = 256, progress: Optional[bool] = None,
                max_bonds: int = DEFAULT_MAX_BONDS, failures: Optional[list] = None) -> np.ndarray:
        """Predictions for each structure, ``(n,)`` (or ``(n, out_dim)``), in the parent's
        unit (``parent.unit``; eV/atom for the published parents).

        A structure the parent cannot take raises an error naming it; with a ``failures``
        list it gets NaN instead and ``(position, message)`` is appended to the list.
        """
        structures = list(structures)
        out_dim = self.model.config["out_dim"]
        values = np.full((len(structures), out_dim), np.nan, dtype=np.float32)
        for positions, _, out in self.iter_outputs(structures, names, batch_size, progress, max_bonds, failures):
            values[positions] = out.prediction.cpu().numpy()
        return values[:, 0] if out_dim == 1 else values

    def featurize(self, structures: Iterable[StructureLike], levels: Optional[Sequence[str]] = None,
                  names: Optional[Sequence[str]] = None, batch_size: int = 256,
                  progress: Optional[bool] = None, max_bonds: int = DEFAULT_MAX_BONDS,
                  failures: Optional[list] = None) -> Features:
        """The hierarchical features of each structure (see :class:`Features`).

        ``levels`` picks among ``V0``..``V3`` (per atom), ``u1``..``u3``, ``f``,
        ``v_r`` (per structure); default: all the model has. The prediction is always
        included. With a ``failures`` list, structures the parent cannot take are left
        out (and listed there) instead of raising.
        """
        structures = list(structures)
        levels = check_levels(self.levels if levels is None else levels, self.model.num_blocks)
        labels = _labels(structures, names)
        parts: Dict[str, List[np.ndarray]] = {level: [] for level in levels}
        parts["prediction"] = []
        z_parts, ptr_parts, kept = [], [np.zeros(1, dtype=np.int64)], []
        for positions, graphs, output in self.iter_outputs(structures, labels, batch_size, progress, max_bonds,
                                                           failures):
            kept.extend(positions.tolist())
            for level in parts:
                parts[level].append(output.level(level).cpu().numpy())
            z_parts.append(graphs.z.numpy())
            ptr_parts.append(graphs.atom_ptr[1:] + ptr_parts[-1][-1])
        arrays = {k: np.concatenate(v) if v else np.zeros((0,), np.float32) for k, v in parts.items()}
        if "prediction" in arrays and arrays["prediction"].ndim == 2 and arrays["prediction"].shape[1] == 1:
            arrays["prediction"] = arrays["prediction"][:, 0]
        return Features([labels[i] for i in kept], np.concatenate(ptr_parts),
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


def local_model_dirs(weights_dir: Optional[str] = None) -> List[str]:
    """Folders where parents trained here are registered by name (``<name>.pt``), in
    lookup order: ``weights_dir``, ``$TORCH_ATOMSETS_WEIGHTS``, ``$TORCH_ATOMSETS_HOME/models``
    and the cache's ``models`` folder, each also with a ``local/`` subfolder."""
    from . import pretrained

    dirs = []
    for base in pretrained.search_dirs(weights_dir):
        dirs += [os.path.join(base, "local"), base]
    return dirs


def register_parent(path: str, name: str, weights_dir: Optional[str] = None, overwrite: bool = False) -> str:
    """Copy a parent file (``parent.pt`` from a pretraining run) to
    ``<models folder>/local/<name>.pt`` so ``load_parent(name)`` finds it; the folder is
    ``weights_dir`` or, by default, the cache's ``models`` folder."""
    import re
    import shutil

    from . import pretrained

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in pretrained.REGISTRY:
        raise ValueError(f"invalid parent name {name!r}: use letters, digits, '.', '_' or '-', "
                         "and not a published parent's name")
    MEGNet.from_file(path)  # refuse to register something that is not a parent
    base = weights_dir or os.path.join(cache_dir(), "models")
    target = os.path.join(base, "local", f"{name}.pt")
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(f"{target} exists; choose another name or allow overwriting")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(path, target + ".tmp")
    os.replace(target + ".tmp", target)
    return target


def _model_from_lightning_checkpoint(path: str):
    import torch as _torch

    payload = _torch.load(path, map_location="cpu", weights_only=False)
    hparams = payload.get("hyper_parameters", {})
    if "state_dict" not in payload or not any(k.startswith("model.") for k in payload["state_dict"]):
        raise ValueError(f"{path}: not a MEGNet training checkpoint")
    config = hparams.get("model_config") or {}
    if hparams.get("init_from") and not config:
        raise ValueError(f"{path}: fine-tuning checkpoint without its model configuration")
    model = MEGNet(**config)
    model.load_state_dict({k[len("model."):]: v for k, v in payload["state_dict"].items() if k.startswith("model.")})
    info = dict(hparams.get("info") or {})
    return model, {"unit": info.get("unit", ""), "target": info.get("target", "prediction"), "training": info}


def load_parent(name_or_path: Optional[str] = None, weights_dir: Optional[str] = None,
                allow_download: bool = True, device: Union[str, torch.device] = "cpu") -> Parent:
    """A parent by registry name or alias (default ``"mp-2019.4.1"``, alias
    ``"Eform_MP_2019"``), by the name a trained parent was registered under
    (:func:`register_parent`), or by path: a megnet Keras ``.hdf5`` (with its ``.json``
    sidecar beside it), a file written by :meth:`MEGNet.save` (``parent.pt``), or a
    Lightning checkpoint of :class:`~torch_atomsets.lightning.MEGNetModule`. Graph
    settings (cutoff, Gaussians) come with the model."""
    from . import pretrained

    path = name_or_path
    if name_or_path and not (os.path.sep in name_or_path or os.path.exists(name_or_path)):
        try:
            pretrained.resolve_name(name_or_path)
        except KeyError:
            found = [os.path.join(d, f"{name_or_path}.pt") for d in local_model_dirs(weights_dir)]
            found = [f for f in found if os.path.isfile(f)]
            if not found:
                raise
            path = found[0]
    if path and (os.path.sep in path or os.path.exists(path)):
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such model file")
        if path.endswith((".hdf5", ".h5")):
            model, metadata = pretrained.megnet_from_keras(path)
        elif path.endswith(".ckpt"):
            model, metadata = _model_from_lightning_checkpoint(path)
        else:
            model, metadata = MEGNet.from_file(path)
        metadata.setdefault("name", os.path.splitext(os.path.basename(path))[0])
        metadata["sha256"] = sha256sum(path)
        metadata["path"] = os.path.abspath(path)
        return Parent(model, metadata, device)
    model, metadata = pretrained.load_pretrained(name_or_path, weights_dir, allow_download)
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
