"""Model files, read and written in one place each.

==================  ==================================================  =====================
file                what                                                read / written by
==================  ==================================================  =====================
``*.hdf5``          a published megnet parent (Keras 2)                  :mod:`.keras`
``parent.pt``       a parent exported by a pretraining run              :func:`read_parent` /
                    (``{"format", "config", "state_dict",                :func:`save_parent`
                    "metadata"}``)
``*.ckpt`` (child)  a Lightning checkpoint of ``ChildModule``           ``ChildModule.load_from_checkpoint``
``*.ckpt`` (MEGNet) a Lightning checkpoint of ``MEGNetModule``          :func:`parent_from_checkpoint`
ensemble folder     ``ensemble.json`` (members' checkpoints, thresholds) training.ensemble /
                    and ``member-m/best.ckpt``                          inference.child
==================  ==================================================  =====================

Every file a user hands us is unpickled with ``torch.load(weights_only=True)``: tensors,
numbers, strings and plain containers only, so a crafted file cannot run code. Our Lightning
modules mark their checkpoints with a ``"torch_atomsets"`` entry (:data:`CHECKPOINT_KEY`)
saying which module wrote them; :func:`checkpoint_kind` reads that and nothing else.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

import torch

from ..errors import CheckpointError
from ..models.megnet import MEGNet

PARENT_FORMAT = "torch_atomsets.megnet/1"
#: The entry our LightningModules add to their checkpoints: ``{"kind": ..., "version": 1}``.
CHECKPOINT_KEY = "torch_atomsets"
CHILD = "child"
FINETUNE = "finetune"
#: The file that makes a folder an ensemble: ``{"members": [paths], "thresholds": [...]}``.
ENSEMBLE_FILE = "ensemble.json"
MEGNET = "megnet"
MODEL_SUFFIXES = (".ckpt", ".pt", ".pth", ".hdf5", ".h5")


def looks_like_path(text: Optional[str]) -> bool:
    """Whether a ``--model`` value is meant as a file (it exists, has a folder part, or a
    model file's suffix), as opposed to a registered name."""
    if not text:
        return False
    return os.path.exists(text) or os.sep in text or text.lower().endswith(MODEL_SUFFIXES)


def _torch_load(path: str) -> Any:
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CheckpointError(f"{path}: is a directory, expected a model file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors all mean "not a file we can read safely"
        text = str(exc)
        if "unsupported global" in text.lower():
            culprit = text.lower().split("unsupported global", 1)[1].split()[0:1]
            raise CheckpointError(f"{path}: holds Python objects beyond weights ({' '.join(culprit) or 'a global'}), "
                                  "which are never loaded (unpickling them could run code); not a torch_atomsets "
                                  "model file") from None
        raise CheckpointError(f"{path}: not a readable model file (not a torch file, or truncated or "
                              f"corrupted: {type(exc).__name__})") from None


def read_checkpoint(path: str) -> Dict[str, Any]:
    """The contents of a Lightning checkpoint, loaded safely (``weights_only=True``)."""
    payload = _torch_load(path)
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise CheckpointError(f"{path}: not a Lightning checkpoint (no state_dict)")
    return payload


def checkpoint_kind(path: str, payload: Optional[Dict[str, Any]] = None) -> str:
    """``"child"``, ``"finetune"`` or ``"megnet"`` for a checkpoint written by our modules; a
    :class:`~torch_atomsets.errors.CheckpointError` for anything else."""
    payload = read_checkpoint(path) if payload is None else payload
    mark = payload.get(CHECKPOINT_KEY)
    if not isinstance(mark, dict) or mark.get("kind") not in (CHILD, MEGNET, FINETUNE):
        raise CheckpointError(f"{path}: a Lightning checkpoint, but not one written by torch_atomsets' ChildModule, "
                              "FineTuneModule or MEGNetModule (a checkpoint from torch_atomsets 0.1 must be retrained)")
    return mark["kind"]


def mark_checkpoint(checkpoint: Dict[str, Any], kind: str) -> None:
    """Add :data:`CHECKPOINT_KEY` to a checkpoint being saved (``on_save_checkpoint``)."""
    checkpoint[CHECKPOINT_KEY] = {"kind": kind, "version": 1}


def save_parent(model: MEGNet, path: str, metadata: Optional[Dict[str, Any]] = None, overwrite: bool = False) -> str:
    """Write a parent file: the model's configuration, weights and ``metadata`` (plain
    values). Refuses to replace an existing file unless ``overwrite``."""
    if os.path.exists(path) and not overwrite:
        raise CheckpointError(f"{path} exists; pass overwrite=True (or --force) to replace it")
    payload = {"format": PARENT_FORMAT, "config": model.config, "state_dict": model.state_dict(),
               "metadata": dict(metadata or {})}
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def read_parent(path: str) -> Tuple[MEGNet, Dict[str, Any]]:
    """A parent file written by :func:`save_parent`: ``(model, metadata)``."""
    payload = _torch_load(path)
    if not isinstance(payload, dict) or payload.get("format") != PARENT_FORMAT:
        raise CheckpointError(f"{path}: not a torch_atomsets parent file (expected format {PARENT_FORMAT!r})")
    model = MEGNet(**payload["config"])
    model.load_state_dict(payload["state_dict"])
    return model.eval(), dict(payload.get("metadata") or {})


def parent_from_checkpoint(path: str) -> Tuple[MEGNet, Dict[str, Any]]:
    """The MEGNet of a ``MEGNetModule`` checkpoint, as a parent: ``(model, metadata)``."""
    payload = read_checkpoint(path)
    if checkpoint_kind(path, payload) != MEGNET:
        raise CheckpointError(f"{path}: a trained child's checkpoint, not a MEGNet; a parent must be a MEGNet "
                              "(a published name, parent.pt, or a checkpoint of `atomsets pretrain`)")
    hparams = payload.get("hyper_parameters") or {}
    model = MEGNet(**(hparams.get("model_config") or {}))
    prefix = "model."
    model.load_state_dict({k[len(prefix):]: v for k, v in payload["state_dict"].items() if k.startswith(prefix)})
    info = dict(hparams.get("info") or {})
    return model.eval(), {"unit": info.get("unit", ""), "target": info.get("target", "prediction"), "training": info}


__all__ = ["CHECKPOINT_KEY", "CHILD", "ENSEMBLE_FILE", "FINETUNE", "MEGNET", "PARENT_FORMAT", "checkpoint_kind", "looks_like_path",
           "mark_checkpoint", "parent_from_checkpoint", "read_checkpoint", "read_parent", "save_parent"]
