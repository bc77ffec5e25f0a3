"""What makes two runs the same run: their full configuration, the fingerprint of their
data, the parent's key and the split. A finished run is reused only when all of these
match; change any and it is a new run, in a new folder (nothing finished is overwritten).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Optional

from ..version import __version__


def canonical(value: Any) -> str:
    """A stable JSON text of ``value`` (sorted keys; floats as Python writes them)."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def run_identity(config: Dict[str, Any], data, parent_key: Optional[str], protocol: str) -> Dict[str, Any]:
    """The identity of a run configuration on a dataset (all its splits share it)."""
    return {"config": config, "dataset": data.name, "data_fingerprint": data.fingerprint, "parent": parent_key,
            "protocol": protocol, "package": __version__.split(".")[0] + "." + __version__.split(".")[1]}


def identity_hash(identity: Dict[str, Any], length: int = 10) -> str:
    """A short hash of an identity, used in folder names."""
    return hashlib.sha256(canonical(identity).encode()).hexdigest()[:length]


def split_identity(identity: Dict[str, Any], split_name: str, seed: int) -> str:
    """The full hash of one split of a run (stored in its ``metrics.json``)."""
    return hashlib.sha256(canonical({"run": identity, "split": split_name, "seed": seed}).encode()).hexdigest()
