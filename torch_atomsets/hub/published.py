"""Published MEGNet parents: registry, local lookup, and download with checksum.

Where files are looked for, in order (first hit wins; every hit is checksum-verified):

1. ``weights_dir`` given by the caller (``--weights-dir`` on the command line),
2. ``$TORCH_ATOMSETS_WEIGHTS``,
3. ``$TORCH_ATOMSETS_HOME/models``,
4. the download cache, ``$TORCH_ATOMSETS_CACHE/models`` (default
   ``~/.cache/torch_atomsets/models``).

Inside each folder a parent's files sit at ``megnet/<version>/<file>`` (the layout of
megnet's ``mvl_models``) or ``<version>/<file>``. If no folder has them, they are
downloaded from GitHub into the cache and verified.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..errors import ChecksumError, ConfigError, WeightsNotFoundError
from ..utils.files import download, verify
from ..utils.paths import cache_dir, lookup_dirs


@dataclass(frozen=True)
class PretrainedParent:
    """One published MEGNet parent."""

    name: str
    aliases: Tuple[str, ...]
    description: str
    files: Dict[str, str]  # file name -> sha256
    base_url: str
    weights_file: str = "formation_energy.hdf5"
    unit: str = "eV/atom"
    target: str = "formation energy"
    extra: Dict[str, str] = field(default_factory=dict)

    def url(self, filename: str) -> str:
        return f"{self.base_url}/{filename}"

    @property
    def sidecar_file(self) -> str:
        return self.weights_file + ".json"


_MEGNET_RAW = "https://github.com/materialsvirtuallab/megnet/raw/master/mvl_models"

REGISTRY: Dict[str, PretrainedParent] = {
    "mp-2019.4.1": PretrainedParent(
        name="mp-2019.4.1",
        aliases=("Eform_MP_2019", "2019", "eform_mp_2019"),
        description="MEGNet formation energy, 133,420 Materials Project crystals (2019.4.1); "
                    "test MAE 0.026 eV/atom; the AtomSets paper's parent",
        files={
            "formation_energy.hdf5": "51de7e372f9fdbd10a519c3fd3cbf6fcd1039cc58e092c85b0f4fef49964f57b",
            "formation_energy.hdf5.json": "8727d8d0ab2686c4ac1c06f9ed8bdba7e63abaeac1287cff2e3c7263bf0b4b5b",
        },
        base_url=f"{_MEGNET_RAW}/mp-2019.4.1",
    ),
    "mp-2018.6.1": PretrainedParent(
        name="mp-2018.6.1",
        aliases=("Eform_MP_2018", "2018", "eform_mp_2018"),
        description="MEGNet formation energy, 69,239 Materials Project crystals (2018.6.1); "
                    "test MAE 0.028 eV/atom",
        files={
            "formation_energy.hdf5": "82363f6ef74747f67bccd75fa0237dfaab5f0da519bf5f9cf8f4bcc11c53712b",
            "formation_energy.hdf5.json": "46566670b0c5ab13ebe6497ea3383fe772e90fe62517282448387694896cabd0",
        },
        base_url=f"{_MEGNET_RAW}/mp-2018.6.1",
    ),
}

DEFAULT_PARENT = "mp-2019.4.1"


def resolve_name(name: Optional[str]) -> PretrainedParent:
    """The registry entry for a version name or an alias (case-insensitive)."""
    name = name or DEFAULT_PARENT
    for entry in REGISTRY.values():
        if name == entry.name or name.lower() in {a.lower() for a in entry.aliases}:
            return entry
    known = ", ".join(f"{e.name} ({', '.join(e.aliases[:1])})" for e in REGISTRY.values())
    raise ConfigError(f"unknown pretrained parent {name!r}; known: {known}, a name registered with "
                      "`atomsets pretrain --name`, or a path to a model file")


def find(name: Optional[str]) -> Optional[PretrainedParent]:
    """The registry entry for ``name`` (or the default for ``None``), or ``None``."""
    try:
        return resolve_name(name)
    except ConfigError:
        return None


def search_dirs(weights_dir: Optional[str] = None) -> List[str]:
    """Model folders in lookup order (see the module docstring)."""
    return lookup_dirs(weights_dir, "TORCH_ATOMSETS_WEIGHTS", "models")


def locate(entry: PretrainedParent, weights_dir: Optional[str] = None,
           allow_download: bool = True) -> Dict[str, str]:
    """Paths of a parent's files, verified; downloads them when no folder has them."""
    searched = []
    for base in search_dirs(weights_dir):
        for sub in (os.path.join(base, "megnet", entry.name), os.path.join(base, entry.name)):
            searched.append(sub)
            paths = {f: os.path.join(sub, f) for f in entry.files}
            if all(os.path.isfile(p) for p in paths.values()):
                for f, p in paths.items():
                    verify(p, entry.files[f])
                return paths
            if os.path.isfile(paths[entry.weights_file]):
                missing = [f for f, p in paths.items() if not os.path.isfile(p)]
                raise WeightsNotFoundError(f"{sub}: has {entry.weights_file} but not {missing}")
    if not allow_download:
        raise WeightsNotFoundError(
            f"pretrained parent {entry.name} not found in: {', '.join(searched)}; point "
            "--weights-dir or TORCH_ATOMSETS_WEIGHTS at a folder holding "
            f"megnet/{entry.name}/{entry.weights_file}")
    target = os.path.join(cache_dir(), "models", "megnet", entry.name)
    paths = {}
    for f, sha in entry.files.items():
        try:
            paths[f] = download(entry.url(f), os.path.join(target, f), sha)
        except ChecksumError:
            raise
        except OSError as exc:  # no network, HTTP errors, timeouts
            raise WeightsNotFoundError(
                f"pretrained parent {entry.name}: not in any local folder ({', '.join(searched)}) "
                f"and the download of {entry.url(f)} failed ({exc}). Without internet, point "
                "--weights-dir or TORCH_ATOMSETS_WEIGHTS at a folder holding "
                f"megnet/{entry.name}/{entry.weights_file}") from exc
    return paths
