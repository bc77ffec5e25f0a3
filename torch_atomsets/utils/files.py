"""Files: checksums, downloads, and writes that never leave half a file behind."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from typing import Any, Optional

from ..errors import ChecksumError


def sha256sum(path: str) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: str, expected: str) -> None:
    """Raise :class:`~torch_atomsets.errors.ChecksumError` unless ``path`` has sha256 ``expected``."""
    actual = sha256sum(path)
    if actual != expected:
        raise ChecksumError(
            f"{path}: sha256 {actual} does not match the published {expected}; the file is corrupted or not "
            "the official one. Delete it (or fix the folder) and retry.")


def download(url: str, destination: str, sha256: Optional[str] = None, timeout: float = 60.0) -> str:
    """Download ``url`` to ``destination`` atomically, verifying ``sha256`` first.

    An existing file at ``destination`` is never replaced by a failed or corrupted download.
    """
    folder = os.path.dirname(destination) or "."
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".download-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        if sha256 is not None:
            actual = sha256sum(tmp)
            if actual != sha256:
                raise ChecksumError(f"download of {url}: sha256 {actual} does not match the published {sha256}")
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return destination


def write_atomic(path: str, text: str) -> str:
    """Write ``text`` to ``path`` through a temporary file in the same folder, so readers
    never see half of it."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=folder)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_json(path: str, payload: Any) -> str:
    """:func:`write_atomic` of ``payload`` as indented JSON."""
    return write_atomic(path, json.dumps(payload, indent=1, default=str) + "\n")


def check_writable(path: str, force: bool = False, what: str = "output") -> None:
    """Fail early, before any work, if ``path`` cannot be written: its folder is missing, or
    it exists and ``force`` is off. Raises :class:`~torch_atomsets.errors.AtomSetsInputError`."""
    from ..errors import AtomSetsInputError

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise AtomSetsInputError(f"{path}: the folder {os.path.dirname(path) or '.'} does not exist; create it "
                                 f"or choose another {what} path")
    if os.path.isdir(path):
        raise AtomSetsInputError(f"{path}: is a directory; give a file name for the {what}")
    if os.path.exists(path) and not force:
        raise AtomSetsInputError(f"{path} exists; use --force to overwrite it or choose another name")
    if not os.access(folder, os.W_OK):
        raise AtomSetsInputError(f"{path}: the folder is not writable")
