"""A parent by name or by path: published (Keras weights, downloaded and verified),
registered here by name after pretraining, or a file.

Names are looked up in this order: the published registry (``mp-2019.4.1``, aliases such
as ``Eform_MP_2019``), then ``<models folder>/local/<name>.pt`` and ``<models folder>/<name>.pt``
in each models folder (``--weights-dir``, ``$TORCH_ATOMSETS_WEIGHTS``,
``<home>/models``, the cache's ``models``). Anything that looks like a path is a file.
"""
from __future__ import annotations

import os
import re
import shutil
from typing import Dict, List, Optional, Tuple

from ..errors import CheckpointError, ConfigError
from ..models.megnet import MEGNet
from ..utils.files import sha256sum
from ..utils.paths import cache_dir
from . import published
from .checkpoints import looks_like_path, parent_from_checkpoint, read_parent
from .keras import megnet_from_keras


def parent_key(metadata: Dict) -> str:
    """Identifies a parent's weights (feature caches and run identities are kept per key)."""
    return f"{metadata.get('name', 'megnet')}-{str(metadata.get('sha256', 'unknown'))[:12]}"


def local_model_dirs(weights_dir: Optional[str] = None) -> List[str]:
    """Folders where parents trained here are registered by name (``<name>.pt``), in lookup
    order: each models folder's ``local/`` subfolder, then the folder itself."""
    dirs = []
    for base in published.search_dirs(weights_dir):
        dirs += [os.path.join(base, "local"), base]
    return dirs


def registered_parents(weights_dir: Optional[str] = None) -> List[Tuple[str, str]]:
    """``(name, path)`` of every parent registered by name, first hit per name."""
    found: Dict[str, str] = {}
    for folder in local_model_dirs(weights_dir):
        if os.path.basename(folder) == "local" and os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.endswith(".pt"):
                    found.setdefault(name[:-3], os.path.join(folder, name))
    return sorted(found.items())


def register_parent(path: str, name: str, weights_dir: Optional[str] = None, overwrite: bool = False) -> str:
    """Copy a parent file (``parent.pt`` of a pretraining run) to
    ``<models folder>/local/<name>.pt`` so ``load_parent(name)`` finds it; the folder is
    ``weights_dir`` or, by default, the cache's ``models`` folder."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or published.find(name) is not None:
        raise ConfigError(f"invalid parent name {name!r}: use letters, digits, '.', '_' or '-', and not a "
                          "published parent's name")
    read_parent(path)  # refuse to register something that is not a parent
    base = weights_dir or os.path.join(cache_dir(), "models")
    target = os.path.join(base, "local", f"{name}.pt")
    if os.path.exists(target) and not overwrite:
        raise CheckpointError(f"{target} exists; choose another name or use --force to replace it")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(path, target + ".tmp")
    os.replace(target + ".tmp", target)
    return target


def _from_file(path: str) -> Tuple[MEGNet, Dict]:
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such file")
    lower = path.lower()
    if lower.endswith((".hdf5", ".h5")):
        model, metadata = megnet_from_keras(path)
    elif lower.endswith(".ckpt"):
        model, metadata = parent_from_checkpoint(path)
    else:
        model, metadata = read_parent(path)
    metadata.setdefault("name", os.path.splitext(os.path.basename(path))[0])
    metadata["sha256"] = sha256sum(path)
    metadata["path"] = os.path.abspath(path)
    return model, metadata


def load_parent_model(name_or_path: Optional[str] = None, weights_dir: Optional[str] = None,
                      allow_download: bool = True) -> Tuple[MEGNet, Dict]:
    """``(model, metadata)`` of a parent: a published name or alias (default
    ``mp-2019.4.1``), a name registered with :func:`register_parent`, or a path (a megnet
    ``.hdf5`` with its ``.json`` sidecar, a ``parent.pt``, or a ``MEGNetModule`` checkpoint).

    ``metadata`` holds at least ``name``, ``sha256``, ``key`` (:func:`parent_key`), ``unit``
    and ``target``; the model is in eval mode.
    """
    entry = published.find(name_or_path)
    if entry is not None and not (name_or_path and os.path.exists(name_or_path)):
        paths = published.locate(entry, weights_dir, allow_download)
        model, metadata = megnet_from_keras(paths[entry.weights_file], paths[entry.sidecar_file])
        metadata.update(name=entry.name, description=entry.description, unit=entry.unit, target=entry.target,
                        sha256=entry.files[entry.weights_file])
    elif looks_like_path(name_or_path):
        model, metadata = _from_file(name_or_path)
    else:
        candidates = [os.path.join(folder, f"{name_or_path}.pt") for folder in local_model_dirs(weights_dir)]
        found = [path for path in candidates if os.path.isfile(path)]
        if not found:
            published.resolve_name(name_or_path)  # raises the "unknown parent" error with the known names
        model, metadata = _from_file(found[0])
        metadata["name"] = name_or_path
    metadata["key"] = parent_key(metadata)
    return model.eval(), metadata
