"""Small shared helpers."""
from __future__ import annotations

import hashlib
import os
from typing import List, Optional


def cache_dir() -> str:
    """Folder for downloads and other generated files (``$TORCH_ATOMSETS_CACHE``, default
    ``~/.cache/torch_atomsets``)."""
    return os.environ.get("TORCH_ATOMSETS_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "torch_atomsets")


def lookup_dirs(explicit: Optional[str], env_var: str, subfolder: str) -> List[str]:
    """Folders to search, in order: ``explicit`` (a flag), ``$<env_var>``,
    ``$TORCH_ATOMSETS_HOME/<subfolder>``, then the cache's ``<subfolder>``."""
    dirs = [explicit] if explicit else []
    if os.environ.get(env_var):
        dirs.append(os.environ[env_var])
    if os.environ.get("TORCH_ATOMSETS_HOME"):
        dirs.append(os.path.join(os.environ["TORCH_ATOMSETS_HOME"], subfolder))
    dirs.append(os.path.join(cache_dir(), subfolder))
    return dirs


def sha256sum(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: Optional[int], desc: str, unit: str = "it", enable: Optional[bool] = None,
                 min_total: int = 500):
    """A tqdm bar on stderr, or a no-op.

    ``enable=None`` shows it for long jobs (``total >= min_total``) when stderr is a
    terminal; ``True`` always; ``False`` never.
    """
    if enable is False or (enable is None and (total is not None and total < min_total)):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=None if enable is None else False,
                dynamic_ncols=True)
