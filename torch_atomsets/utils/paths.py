"""Where the package looks for data, weights and its cache."""
from __future__ import annotations

import json
import os
import sys
from typing import List, Optional

#: Written by the repository's setup script (``scripts/ensure_env.sh``) into the virtual
#: environment, so ``atomsets`` run from that environment finds the shared data folder
#: without ``run.sh`` setting ``TORCH_ATOMSETS_HOME``.
SETTINGS_FILE = os.path.join("etc", "torch_atomsets.json")


def settings() -> dict:
    """The environment's settings file (``<sys.prefix>/etc/torch_atomsets.json``), or ``{}``
    when there is none; one that cannot be read is named in a warning and not used."""
    path = os.path.join(sys.prefix, SETTINGS_FILE)
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as handle:
            values = json.load(handle)
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        import warnings

        warnings.warn(f"{path}: not used, it cannot be read as settings ({exc}); rerun the setup script "
                      "(./test.sh or ./run.sh) to rewrite it", stacklevel=2)
        return {}
    return values


def home_dir() -> Optional[str]:
    """The folder holding ``data/`` and ``models/``: ``$TORCH_ATOMSETS_HOME``, else the
    ``home`` entry of :func:`settings`, else ``None``."""
    home = os.environ.get("TORCH_ATOMSETS_HOME") or settings().get("home")
    return home or None


def cache_dir() -> str:
    """Folder for downloads and other generated files (``$TORCH_ATOMSETS_CACHE``, default
    ``~/.cache/torch_atomsets``)."""
    return os.environ.get("TORCH_ATOMSETS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "torch_atomsets")


def lookup_dirs(explicit: Optional[str], env_var: str, subfolder: str) -> List[str]:
    """Folders to search, in order: ``explicit`` (a flag), ``$<env_var>``,
    ``<home>/<subfolder>`` (see :func:`home_dir`), then the cache's ``<subfolder>``."""
    dirs = [explicit] if explicit else []
    if os.environ.get(env_var):
        dirs.append(os.environ[env_var])
    home = home_dir()
    if home:
        dirs.append(os.path.join(home, subfolder))
    dirs.append(os.path.join(cache_dir(), subfolder))
    return dirs
