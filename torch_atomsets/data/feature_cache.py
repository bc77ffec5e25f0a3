"""Parent features of a whole dataset, computed once and kept on disk.

One pass of the frozen parent writes every transferable level (V1..V3 per site; u1..u3,
f, v_r per structure) into memory-mapped ``.npy`` files, batch by batch: graphs are
built, used and dropped, so 130k structures never need all their graphs in memory.
Each dataset gets a folder under ``$TORCH_ATOMSETS_CACHE/features/<parent key>/``, named
by the dataset and the fingerprint of its source; the folder appears only when complete
(written under a temporary name, then renamed), so an interrupted run leaves no
half-written cache behind. Every child run on that dataset reads the same folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from typing import Dict, NamedTuple, Optional

import numpy as np

from .sets import PARENT_LEVELS

FORMAT = "torch_atomsets.features/1"


class StoredFeatures(NamedTuple):
    atom_ptr: np.ndarray
    valid: np.ndarray
    arrays: Dict[str, np.ndarray]
    meta: dict


def _n_sites(item) -> int:
    if isinstance(item, dict) and "sites" in item:
        return len(item["sites"])
    return len(item)


class FeatureCache:
    """Feature cache of one parent (see the module docstring).

    Args:
        parent: a :class:`~torch_atomsets.parent.Parent`.
        root: cache folder (default ``$TORCH_ATOMSETS_CACHE/features``).
    """

    def __init__(self, parent, root: Optional[str] = None):
        from ..utils import cache_dir

        self.parent = parent
        self.root = root or os.path.join(cache_dir(), "features")

    def path(self, data) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.name)
        return os.path.join(self.root, self.parent.key, f"{safe}-{data.fingerprint[:16]}")

    def exists(self, data) -> bool:
        return os.path.isfile(os.path.join(self.path(data), "meta.json"))

    def load(self, data, progress: Optional[bool] = None) -> StoredFeatures:
        """The cached features of ``data``, built first if missing."""
        if not self.exists(data):
            self.build(data, progress)
        folder = self.path(data)
        with open(os.path.join(folder, "meta.json")) as handle:
            meta = json.load(handle)
        if meta.get("format") != FORMAT or meta.get("n") != len(data):
            raise RuntimeError(f"{folder}: feature cache does not match the dataset ({meta.get('n')} rows vs "
                               f"{len(data)}); delete the folder to rebuild it")
        arrays = {level: np.load(os.path.join(folder, f"{level}.npy"), mmap_mode="r") for level in meta["levels"]}
        return StoredFeatures(np.load(os.path.join(folder, "atom_ptr.npy")),
                              np.load(os.path.join(folder, "valid.npy")), arrays, meta)

    def build(self, data, progress: Optional[bool] = None) -> str:
        """Featurise ``data`` with the parent and write the cache folder."""
        if data.input_type != "structure":
            raise ValueError(f"{data.name}: parent features need structures")
        final = self.path(data)
        tmp = f"{final}.partial-{os.getpid()}"
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
        os.makedirs(tmp)
        start = time.time()
        n = len(data)
        atom_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([_n_sites(item) for item in data.inputs], out=atom_ptr[1:])
        model = self.parent.model
        width = model.config["channels"]
        readout = 2 * model.config["set2set_hidden"]
        n_atoms = int(atom_ptr[-1])
        shapes = {"V1": (n_atoms, width), "V2": (n_atoms, width), "V3": (n_atoms, width),
                  "u1": (n, width), "u2": (n, width), "u3": (n, width),
                  "f": (n, 2 * readout + width), "v_r": (n, readout)}
        levels = [level for level in PARENT_LEVELS if level[1:] not in ("1", "2", "3") or
                  int(level[1:]) <= model.num_blocks]
        out = {level: np.lib.format.open_memmap(os.path.join(tmp, f"{level}.npy"), mode="w+", dtype=np.float32,
                                                shape=shapes[level]) for level in levels}
        valid = np.zeros(n, dtype=bool)
        failures: list = []
        names = [f"{data.name} row {i}" for i in data.index]
        try:
            for positions, _, output in self.parent.iter_outputs(data.inputs, names, progress=progress,
                                                                      failures=failures):
                valid[positions] = True
                rows = np.concatenate([np.arange(atom_ptr[p], atom_ptr[p + 1]) for p in positions])
                for level in levels:
                    values = output.level(level).cpu().numpy()
                    if level[0] == "V":
                        out[level][rows] = values
                    else:
                        out[level][positions] = values
            for array in out.values():
                array.flush()
            del out
            np.save(os.path.join(tmp, "atom_ptr.npy"), atom_ptr)
            np.save(os.path.join(tmp, "valid.npy"), valid)
            meta = {"format": FORMAT, "n": n, "levels": levels, "parent": self.parent.key,
                    "dataset": data.name, "fingerprint": data.fingerprint, "source": os.path.basename(data.source),
                    "seconds": time.time() - start, "n_atoms": int(atom_ptr[-1]), "n_failed": len(failures),
                    "failures": failures[:100]}
            with open(os.path.join(tmp, "meta.json"), "w") as handle:
                json.dump(meta, handle, indent=1)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            try:
                os.rename(tmp, final)
            except OSError:  # another process finished the same cache first
                if not self.exists(data):
                    raise
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
        if failures:
            import warnings

            warnings.warn(f"{data.name}: {len(failures)} of {n} structures could not be featurised and are left "
                          f"out (first: {failures[0][1]})", stacklevel=2)
        return final
