"""Parent features of a whole dataset, computed once and kept on disk.

One pass of the frozen parent writes every level that needs a forward pass (V1..Vn per
site; u1..un, f, v_r, e_r per structure; :func:`torch_atomsets.levels.cached_levels`) into
memory-mapped ``.npy`` files, batch by batch: graphs are built, used and dropped, so 130k
structures never need all their graphs in memory. Each dataset gets a folder under
``$TORCH_ATOMSETS_CACHE/features/<parent key>/``, named by the dataset and the fingerprint
of its content; the folder appears only when complete (written under a temporary name,
then renamed), so an interrupted run leaves no half-written cache behind. Every child run
on that dataset reads the same folder. Under DDP the folder is written by one process
(the data module's ``prepare_data``) and read by all.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from ...errors import AtomSetsInputError
from ...levels import cached_levels, level
from ...utils.paths import cache_dir
from .extract import run_parent

#: Bumped whenever the numbers a cache holds would change (layout, or the parent's
#: arithmetic): an older cache is then rebuilt instead of read.
FORMAT = "torch_atomsets.features/4"


class StoredFeatures(NamedTuple):
    """A cache folder, opened: ``atom_ptr`` (rows of sample i: ``atom_ptr[i]:atom_ptr[i+1]``),
    ``valid`` (samples the parent could featurise), memory-mapped ``arrays`` per level, the
    ``failures`` (position, message) and ``meta``."""

    atom_ptr: np.ndarray
    valid: np.ndarray
    arrays: Dict[str, np.ndarray]
    failures: List[Tuple[int, str]]
    meta: dict


def _n_sites(item) -> int:
    if isinstance(item, dict) and "sites" in item:
        return len(item["sites"])
    return len(item)


class FeatureCache:
    """Feature cache of one parent (see the module docstring).

    Args:
        model: the parent network (a :class:`~torch_atomsets.models.MEGNet`, frozen).
        key: identifies the parent's weights (its name and checksum); caches are kept per key.
        root: cache folder (default ``$TORCH_ATOMSETS_CACHE/features``).
    """

    def __init__(self, model, key: str, root: Optional[str] = None):
        self.model = model
        self.key = key
        self.root = root or os.path.join(cache_dir(), "features")
        self.levels = cached_levels(model.num_blocks)

    def path(self, data) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", data.name)
        return os.path.join(self.root, self.key, f"{safe}-{data.fingerprint[:16]}")

    def exists(self, data) -> bool:
        meta = os.path.join(self.path(data), "meta.json")
        if not os.path.isfile(meta):
            return False
        with open(meta) as handle:
            return json.load(handle).get("format") == FORMAT

    def load(self, data, progress: Optional[bool] = None) -> StoredFeatures:
        """The cached features of ``data``, built first if missing."""
        if not self.exists(data):
            self.build(data, progress)
        folder = self.path(data)
        with open(os.path.join(folder, "meta.json")) as handle:
            meta = json.load(handle)
        if meta.get("n") != len(data):
            raise AtomSetsInputError(f"{folder}: feature cache holds {meta.get('n')} rows, the dataset {len(data)}; "
                                     "delete the folder to rebuild it")
        arrays = {name: np.load(os.path.join(folder, f"{name}.npy"), mmap_mode="r") for name in meta["levels"]}
        return StoredFeatures(np.load(os.path.join(folder, "atom_ptr.npy")), np.load(os.path.join(folder, "valid.npy")),
                              arrays, [tuple(f) for f in meta["failures"]], meta)

    def build(self, data, progress: Optional[bool] = None) -> str:
        """Featurise ``data`` with the parent and write the cache folder."""
        if data.input_type != "structure":
            raise AtomSetsInputError(f"{data.name}: parent features beyond V0 need crystal structures, and this "
                                     "dataset holds compositions")
        final = self.path(data)
        tmp = f"{final}.partial-{os.getpid()}"
        if os.path.exists(tmp):
            shutil.rmtree(tmp)
        os.makedirs(tmp)
        start = time.time()
        n = len(data)
        atom_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([_n_sites(item) for item in data.inputs], out=atom_ptr[1:])
        config = self.model.config
        shapes = {name: ((int(atom_ptr[-1]) if level(name).per_atom else n), level(name).width(config))
                  for name in self.levels}
        out = {name: np.lib.format.open_memmap(os.path.join(tmp, f"{name}.npy"), mode="w+", dtype=np.float32,
                                               shape=shapes[name]) for name in self.levels}
        valid = np.zeros(n, dtype=bool)
        failures: list = []
        try:
            for positions, _, output in run_parent(self.model, data.inputs, data.all_labels(), progress=progress,
                                                   failures=failures):
                valid[positions] = True
                rows = np.concatenate([np.arange(atom_ptr[p], atom_ptr[p + 1]) for p in positions])
                for name in self.levels:
                    values = output.level(name).float().cpu().numpy()
                    out[name][rows if level(name).per_atom else positions] = values
            for array in out.values():
                array.flush()
            del out
            np.save(os.path.join(tmp, "atom_ptr.npy"), atom_ptr)
            np.save(os.path.join(tmp, "valid.npy"), valid)
            meta = {"format": FORMAT, "n": n, "levels": list(self.levels), "parent": self.key, "dataset": data.name,
                    "fingerprint": data.fingerprint, "source": os.path.basename(data.source),
                    "seconds": time.time() - start, "n_atoms": int(atom_ptr[-1]), "n_failed": len(failures),
                    "failures": failures}
            with open(os.path.join(tmp, "meta.json"), "w") as handle:
                json.dump(meta, handle, indent=1)
            os.makedirs(os.path.dirname(final), exist_ok=True)
            if self.exists(data):  # another process (a DDP rank, a benchmark worker) finished it first:
                return final       # keep that one, which the other process may be reading already
            if os.path.exists(final):  # an older format: replaced by the new one
                shutil.rmtree(final)
            try:
                os.rename(tmp, final)
            except OSError:  # another process finished the same cache first
                if not self.exists(data):
                    raise
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
        return final
