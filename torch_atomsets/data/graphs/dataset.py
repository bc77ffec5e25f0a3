"""Crystal graphs of a whole dataset, built once and read from disk: a PyG ``Dataset``."""
from __future__ import annotations

import json
import os
import re
import shutil
from typing import Optional

import numpy as np
import torch
from torch_geometric.data import Data, Dataset

from ...errors import StructureError
from ...utils.paths import cache_dir
from ...utils.progress import progress_bar
from .converter import CrystalGraphConverter

FORMAT = "torch_atomsets.graphs/1"
_FILES = ("z", "neighbour", "centre", "distance")
_DTYPES = {"z": np.int8, "neighbour": np.int32, "centre": np.int32, "distance": np.float32}


class CrystalGraphDataset(Dataset):
    r"""The crystal graphs of a :class:`~torch_atomsets.data.matbench.MaterialsData`, in
    PyG's dataset layout (``root/processed``), streamed from disk.

    ``process()`` runs once: it converts the structures one by one and appends atomic
    numbers, bond endpoints and bond lengths to flat binary files (``int8``, ``int32``,
    ``float32``), so no more than one graph is ever held in memory while building, and
    the dataset can exceed memory. ``get(i)`` slices the memory-mapped files into a
    :class:`~torch_geometric.data.Data` like those of
    :class:`~torch_atomsets.data.CrystalGraphConverter` (with ``y``). Structures the
    converter rejects (no bond within the cutoff, Z > 94, disordered sites) are left out
    and listed in ``processed/meta.json``; ``positions`` maps dataset items back to rows
    of the source.

    Each graph carries the sample's global state ``state`` ``(1, state_dim)``: the
    dataset's ``state`` column when it has one (e.g. temperature and pressure of a user
    table), else zeros (the input of the published parents).

    Args:
        root: folder for this dataset (one per dataset and cutoff;
            :func:`graph_dataset` picks one in the cache).
        data: the structures and targets.
        cutoff: bond cutoff in Angstrom.
        state_dim: width of the state vector when the data has none (2, the parents').
        progress: progress bar while processing (default: on a terminal, for long lists).
    """

    def __init__(self, root: str, data, cutoff: float = 5.0, state_dim: int = 2, progress: Optional[bool] = None,
                 transform=None):
        if data.input_type != "structure":
            raise ValueError(f"{data.name}: crystal graphs need structures")
        self.source = data
        self.cutoff = float(cutoff)
        self.progress = progress
        super().__init__(root, transform=transform, log=False)
        folder = self.processed_dir
        with open(os.path.join(folder, "meta.json")) as handle:
            self.meta = json.load(handle)
        if self.meta.get("fingerprint") != data.fingerprint or self.meta.get("cutoff") != self.cutoff:
            raise RuntimeError(f"{folder}: built for another dataset or cutoff; delete it to rebuild")
        n_atoms, n_edges = self.meta["n_atoms"], self.meta["n_edges"]
        self._arrays = {name: np.memmap(os.path.join(folder, f"{name}.bin"), dtype=_DTYPES[name], mode="r",
                                        shape=(n_atoms if name == "z" else n_edges,))
                        if (n_atoms if name == "z" else n_edges) else np.zeros(0, _DTYPES[name])
                        for name in _FILES}
        self.atom_ptr = np.load(os.path.join(folder, "atom_ptr.npy"))
        self.edge_ptr = np.load(os.path.join(folder, "edge_ptr.npy"))
        self.positions = np.load(os.path.join(folder, "positions.npy"))
        self.y = torch.as_tensor(np.asarray(data.targets)[self.positions], dtype=torch.float32)
        if data.state is not None:
            self.state = torch.as_tensor(np.asarray(data.state, dtype=np.float32)[self.positions])
        else:
            self.state = torch.zeros(len(self.positions), int(state_dim))

    @property
    def state_dim(self) -> int:
        return int(self.state.shape[1])

    @property
    def raw_file_names(self):
        return []

    @property
    def processed_file_names(self):
        return ["meta.json", "atom_ptr.npy", "edge_ptr.npy", "positions.npy"] + [f"{n}.bin" for n in _FILES]

    def download(self):  # inputs come from the MaterialsData, not from files
        pass

    def process(self):
        converter = CrystalGraphConverter(self.cutoff)
        tmp = self.processed_dir + ".partial"
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
        os.makedirs(tmp)
        handles = {name: open(os.path.join(tmp, f"{name}.bin"), "wb") for name in _FILES}
        atom_ptr, edge_ptr, positions, failures = [0], [0], [], []
        bar = progress_bar(len(self.source), f"graphs of {self.source.name}", "structure", self.progress)
        try:
            for i, item in enumerate(self.source.inputs):
                try:
                    z, neighbour, centre, distance = converter.arrays(item, f"{self.source.name} row "
                                                                            f"{self.source.index[i]}")
                except StructureError as exc:
                    failures.append((i, str(exc)))
                    bar.update(1)
                    continue
                handles["z"].write(z.astype(np.int8).tobytes())
                handles["neighbour"].write(neighbour.astype(np.int32).tobytes())
                handles["centre"].write(centre.astype(np.int32).tobytes())
                handles["distance"].write(distance.astype(np.float32).tobytes())
                atom_ptr.append(atom_ptr[-1] + len(z))
                edge_ptr.append(edge_ptr[-1] + len(distance))
                positions.append(i)
                bar.update(1)
        finally:
            bar.close()
            for handle in handles.values():
                handle.close()
        np.save(os.path.join(tmp, "atom_ptr.npy"), np.asarray(atom_ptr, dtype=np.int64))
        np.save(os.path.join(tmp, "edge_ptr.npy"), np.asarray(edge_ptr, dtype=np.int64))
        np.save(os.path.join(tmp, "positions.npy"), np.asarray(positions, dtype=np.int64))
        meta = {"format": FORMAT, "dataset": self.source.name, "fingerprint": self.source.fingerprint,
                "cutoff": self.cutoff, "n": len(positions), "n_source": len(self.source), "n_atoms": atom_ptr[-1],
                "n_edges": edge_ptr[-1], "n_failed": len(failures), "failures": failures[:100]}
        with open(os.path.join(tmp, "meta.json"), "w") as handle:
            json.dump(meta, handle, indent=1)
        if os.path.exists(self.processed_dir):
            shutil.rmtree(self.processed_dir)
        os.rename(tmp, self.processed_dir)
        if failures:
            import warnings

            warnings.warn(f"{self.source.name}: {len(failures)} of {len(self.source)} structures have no graph "
                          f"and are left out (first: {failures[0][1]})", stacklevel=2)

    def len(self) -> int:
        return len(self.positions)

    def get(self, idx: int) -> Data:
        a0, a1 = self.atom_ptr[idx], self.atom_ptr[idx + 1]
        e0, e1 = self.edge_ptr[idx], self.edge_ptr[idx + 1]
        edge_index = np.stack([self._arrays["neighbour"][e0:e1], self._arrays["centre"][e0:e1]]).astype(np.int64)
        return Data(z=torch.from_numpy(self._arrays["z"][a0:a1].astype(np.int64)),
                    edge_index=torch.from_numpy(edge_index),
                    edge_distance=torch.from_numpy(np.array(self._arrays["distance"][e0:e1])),
                    state=self.state[idx:idx + 1], y=self.y[idx:idx + 1], position=torch.tensor([self.positions[idx]]),
                    num_nodes=int(a1 - a0))

    def subset_of_positions(self, positions) -> np.ndarray:
        """Dataset items whose source positions are in ``positions`` (e.g. a split part)."""
        return np.flatnonzero(np.isin(self.positions, np.asarray(positions)))


def graph_dataset(data, cutoff: float = 5.0, root: Optional[str] = None, state_dim: int = 2,
                  progress: Optional[bool] = None) -> CrystalGraphDataset:
    """The :class:`CrystalGraphDataset` of ``data`` in the cache
    (``$TORCH_ATOMSETS_CACHE/graphs/<name>-<fingerprint>-r<cutoff>``), built if missing."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.name)
    folder = os.path.join(root or os.path.join(cache_dir(), "graphs"), f"{safe}-{data.fingerprint[:16]}-r{cutoff:g}")
    return CrystalGraphDataset(folder, data, cutoff, state_dim, progress)
