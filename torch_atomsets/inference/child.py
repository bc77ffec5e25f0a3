"""Predictions of a trained child (a ``best.ckpt`` written by ``atomsets train``)."""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..data.datasets.table import MaterialsData
from ..data.features.sets import build_store
from ..errors import AtomSetsInputError, CheckpointError
from ..hub.checkpoints import CHILD, ENSEMBLE_FILE, FINETUNE, checkpoint_kind
from ..hub.parents import load_parent_model
from ..levels import parse_levels
from ..lightning.child import ChildModule
from ..lightning.quiet import quiet_lightning


def load_child(checkpoint: str, device: Union[str, torch.device] = "cpu") -> ChildModule:
    """A trained child from its checkpoint, in eval mode on ``device`` (loaded with
    ``weights_only=True``: a checkpoint cannot run code)."""
    if checkpoint_kind(checkpoint) != CHILD:
        raise CheckpointError(f"{checkpoint}: a MEGNet checkpoint, not a trained child; use it as a parent "
                              "(--model with predict, --parent with train)")
    with quiet_lightning():
        module = ChildModule.load_from_checkpoint(checkpoint, map_location=torch.device(device), weights_only=True)
    return module.eval()


class ChildPredictor:
    """A trained child with what it needs to featurise new inputs.

    Args:
        checkpoint: path of a ``best.ckpt`` written by ``atomsets train`` (or
            :func:`~torch_atomsets.training.train_child`).
        weights_dir, allow_download: where to find the parent the child was trained on.
        device: ``"cpu"``, ``"cuda"``, ...
    """

    def __init__(self, checkpoint: str, weights_dir: Optional[str] = None, allow_download: bool = True,
                 device: Union[str, torch.device] = "cpu"):
        self.checkpoint = checkpoint
        self.device = torch.device(device)
        self.module = load_child(checkpoint, self.device)
        hp = self.module.hparams
        self.info = dict(hp.info or {})
        self.levels = parse_levels(self.module.level)
        self.model = self.key = None
        if self.levels.needs_parent:
            model, metadata = load_parent_model(hp.parent, weights_dir, allow_download)
            if hp.parent_key and metadata["key"] != hp.parent_key:
                raise CheckpointError(f"{checkpoint}: trained on parent {hp.parent_key}, but {hp.parent!r} is now "
                                      f"{metadata['key']}; point --weights-dir at the original weights")
            self.model, self.key = model.to(self.device), metadata["key"]

    @property
    def name(self) -> str:
        return self.module.hparams.model

    @property
    def is_classification(self) -> bool:
        return self.module.is_classification

    @property
    def unit(self) -> str:
        return "probability" if self.is_classification else self.info.get("unit", "")

    @property
    def target(self) -> str:
        return self.info.get("target") or "prediction"

    @property
    def needs_structures(self) -> bool:
        """Whether inputs must be crystal structures (a level beyond V0), not formulas."""
        return self.levels.needs_forward

    def predict(self, inputs: Sequence[Any], names: Optional[Sequence[str]] = None, batch_size: int = 1024
                ) -> Tuple[np.ndarray, List[Tuple[int, str]]]:
        """Predictions (target unit) or probabilities (classification) for formulas,
        compositions or structures (pymatgen objects or their dicts).

        Returns ``(values, failures)``: ``values`` is float32 with NaN for inputs that could
        not be predicted, ``failures`` lists ``(position, message)`` naming each of them.
        """
        items = list(inputs)
        labels = [str(n) for n in names] if names is not None else [
            str(i) if isinstance(i, str) else f"input {k}" for k, i in enumerate(items)]
        values = np.full(len(items), np.nan, dtype=np.float32)
        if not items:
            return values, []
        failures: List[Tuple[int, str]] = []
        if self.needs_structures:
            keep = []
            for k, item in enumerate(items):
                if isinstance(item, str):
                    failures.append((k, f"{labels[k]}: {self.name} reads {self.levels.name} features and needs a "
                                        "crystal structure (a file), not a formula"))
                else:
                    keep.append(k)
            kind = "structure"
        else:
            keep = list(range(len(items)))
            kind = "composition"
            items = [i if isinstance(i, str) else getattr(i, "composition", i) for i in items]
        if keep:
            data = MaterialsData(name="input", input_type=kind, inputs=[items[k] for k in keep],
                                 targets=np.zeros(len(keep)), task_type=self.module.hparams.task_type, unit=self.unit,
                                 target_name=self.target, index=np.arange(len(keep)), n_total=len(keep),
                                 fidelity="user", fingerprint="", matbench_rows=False, labels=[labels[k] for k in keep])
            store = build_store(data, self.levels, self.model, self.key, in_memory=True)
            ok = store.valid.clone()
            failures += [(keep[i], message) for i, message in store.failures]
            for i, message in self._unseen_elements(store, ok, data):
                ok[i] = False
                failures.append((keep[i], message))
            positions = torch.nonzero(ok).flatten()
            with torch.no_grad():
                for start in range(0, len(positions), batch_size):
                    chunk = positions[start:start + batch_size]
                    batch = store.batch(chunk).to(self.device)
                    values[np.asarray(keep)[chunk.numpy()]] = self.module.predict_batch(batch).cpu().numpy()
        return values, sorted(failures)

    def _unseen_elements(self, store, ok, data) -> List[Tuple[int, str]]:
        seen = self.module.hparams.seen_elements
        if not self.levels.is_atomic_numbers or not seen:
            return []
        from pymatgen.core import Element

        seen = set(seen)
        out = []
        for i in torch.nonzero(ok).flatten().tolist():
            rows = store.x[int(store.ptr[i]):int(store.ptr[i + 1])].tolist()
            unseen = sorted({z for z in rows if z not in seen})
            if unseen:
                symbols = ", ".join(Element.from_Z(z).symbol for z in unseen)
                out.append((i, f"{data.label(i)}: contains {symbols}, which {self.name} never saw in training (its "
                               "embedding of them is untrained); retrain with such data, or use AtomSets-V0, whose "
                               "element features come from the parent"))
        return out


class EnsemblePredictor:
    """An ensemble written by ``atomsets train --ensemble K`` (a split folder holding
    ``ensemble.json`` and ``member-m/best.ckpt``): the members' mean, and their standard
    deviation as the uncertainty."""

    def __init__(self, folder: str, weights_dir: Optional[str] = None, allow_download: bool = True,
                 device: Union[str, torch.device] = "cpu"):
        import json
        import os

        path = os.path.join(folder, ENSEMBLE_FILE)
        try:
            with open(path) as handle:
                spec = json.load(handle)
            members = [os.path.join(folder, member) for member in spec["members"]]
        except (OSError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{folder}: not an ensemble folder (no readable {ENSEMBLE_FILE}: {exc})") from None
        self.folder = folder
        self.members = [ChildPredictor(m, weights_dir, allow_download, device) for m in members]
        thresholds = [t for t in spec.get("thresholds", []) if t is not None]
        self.threshold = float(np.mean(thresholds)) if thresholds else None
        first = self.members[0]
        self.name, self.unit, self.target = f"{first.name} x{len(self.members)}", first.unit, first.target
        self.needs_structures, self.is_classification = first.needs_structures, first.is_classification

    def predict(self, inputs: Sequence[Any], names: Optional[Sequence[str]] = None
                ) -> Tuple[np.ndarray, np.ndarray, List[Tuple[int, str]]]:
        """``(mean, std, failures)`` over the members (NaN where an input failed)."""
        items = list(inputs)
        runs = [member.predict(items, names) for member in self.members]
        values = np.stack([values for values, _ in runs])
        failures = sorted({f for _, fs in runs for f in fs})
        return values.mean(axis=0).astype(np.float32), values.std(axis=0).astype(np.float32), failures


class FineTunePredictor:
    """A fine-tuned child (``AtomSets-<levels>-FT``, its ``tuned/best.ckpt``): its own parent
    and head, on crystal structures."""

    needs_structures = True

    def __init__(self, checkpoint: str, device: Union[str, torch.device] = "cpu"):
        from ..data.graphs.converter import CrystalGraphConverter
        from ..lightning.finetune import FineTuneModule

        self.device = torch.device(device)
        with quiet_lightning():
            self.module = FineTuneModule.load_from_checkpoint(checkpoint, map_location=self.device,
                                                              weights_only=True).eval()
        self.converter = CrystalGraphConverter.for_model(self.module.parent)
        head = self.module.hparams.child
        self.info = dict(head.get("info") or {})
        self.name = f"{head.get('model')}-FT"
        self.is_classification = self.module.is_classification
        self.unit = "probability" if self.is_classification else self.info.get("unit", "")
        self.target = self.info.get("target") or "prediction"

    def predict(self, inputs: Sequence[Any], names: Optional[Sequence[str]] = None, batch_size: int = 256
                ) -> Tuple[np.ndarray, List[Tuple[int, str]]]:
        from ..data.graphs.batch import iter_graph_batches

        items = list(inputs)
        labels = [str(n) for n in names] if names is not None else [f"input {k}" for k in range(len(items))]
        values = np.full(len(items), np.nan, dtype=np.float32)
        failures: List[Tuple[int, str]] = []
        structures = []
        for k, item in enumerate(items):
            if isinstance(item, str):
                failures.append((k, f"{labels[k]}: {self.name} needs a crystal structure (a file), not a formula"))
                structures.append(None)
            else:
                structures.append(item)
        keep = [k for k, s in enumerate(structures) if s is not None]
        state_dim = self.module.parent.state_dim
        graph_failures: List[Tuple[int, str]] = []  # positions within `keep`
        with torch.no_grad():
            for positions, graphs in iter_graph_batches([structures[k] for k in keep], self.converter,
                                                        [labels[k] for k in keep], batch_size, failures=graph_failures):
                graphs = graphs.to(self.device)
                graphs.state = torch.zeros(graphs.num_graphs, state_dim, device=self.device)
                values[np.asarray(keep)[positions]] = self.module.predict_graphs(graphs).cpu().numpy()
        failures += [(keep[i], message) for i, message in graph_failures]
        return values, sorted(failures)


def load_predictor(path: str, weights_dir: Optional[str] = None, allow_download: bool = True,
                   device: Union[str, torch.device] = "cpu"):
    """A :class:`ChildPredictor` for a child's checkpoint, a :class:`FineTunePredictor` for a
    fine-tuned one, an :class:`EnsemblePredictor` for an ensemble's folder."""
    import os

    if os.path.isdir(path):
        return EnsemblePredictor(path, weights_dir, allow_download, device)
    if checkpoint_kind(path) == FINETUNE:
        return FineTunePredictor(path, device)
    return ChildPredictor(path, weights_dir, allow_download, device)


def predict_inputs(checkpoint: str, inputs: Sequence[Any], **kwargs) -> np.ndarray:
    """Shortcut: predictions of a trained child; raises on the first input it cannot take."""
    values, failures = ChildPredictor(checkpoint).predict(inputs, **kwargs)
    if failures:
        raise AtomSetsInputError(failures[0][1])
    return values


__all__ = ["ChildPredictor", "EnsemblePredictor", "FineTunePredictor", "load_child", "load_predictor", "predict_inputs"]
