"""Predict with a trained child (a checkpoint written by ``atomsets train``)."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import torch

from .data.errors import AtomSetsInputError
from .data.matbench import MaterialsData
from .data.sets import build_store


class ChildPredictor:
    """A trained child with what it needs to featurise new inputs.

    Args:
        checkpoint: path of a ``best.ckpt`` written by ``atomsets train`` /
            :func:`~torch_atomsets.training.train_child`.
        weights_dir: where to find the parent the child was trained on.
    """

    def __init__(self, checkpoint: str, weights_dir: Optional[str] = None, allow_download: bool = True):
        from .lightning.child import ChildModule
        from .training import quiet_lightning

        try:
            with quiet_lightning():
                self.module = ChildModule.load_from_checkpoint(checkpoint, map_location="cpu").eval()
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise AtomSetsInputError(f"{checkpoint}: not a child checkpoint written by atomsets train ({exc})") from exc
        self.checkpoint = checkpoint
        self.info = dict(self.module.hparams.info or {})
        self.level = self.info.get("level", "Z")
        self.parent = None
        if self.level != "Z":
            from .parent import load_parent

            parent = load_parent(self.info.get("parent_source") or self.info.get("parent"), weights_dir, allow_download)
            if self.info.get("parent_key") and parent.key != self.info["parent_key"]:
                raise AtomSetsInputError(f"{checkpoint}: trained on parent {self.info['parent_key']}, but "
                                         f"{parent.key} was found")
            self.parent = parent

    @property
    def unit(self) -> str:
        return "probability" if self.module.is_classification else self.info.get("unit", "")

    @property
    def input_type(self) -> str:
        return self.info.get("input_type", "composition")

    def predict(self, inputs: Sequence[Any], names: Optional[Sequence[str]] = None, batch_size: int = 1024
                ) -> np.ndarray:
        """Predictions (target unit) or probabilities (classification) for formulas,
        compositions or structures (pymatgen objects or their dicts; a child on V1..V3,
        u, f or v_r features needs structures)."""
        items = list(inputs)
        if not items:
            return np.zeros(0, dtype=np.float32)
        structure_level = self.level not in ("Z", "V0", "V0-stats")
        kind = "structure" if structure_level or not all(isinstance(i, str) for i in items) else "composition"
        if structure_level and any(isinstance(i, str) for i in items):
            raise AtomSetsInputError(f"{self.info.get('model')} uses {self.level} features and needs structures, "
                                     "not formulas")
        if kind == "structure" and not structure_level:
            items = [getattr(i, "composition", i) for i in items]
            kind = "composition"
        labels = list(names) if names is not None else [str(i) if isinstance(i, str) else f"input {k}"
                                                         for k, i in enumerate(items)]
        data = MaterialsData(name="input", input_type=kind, inputs=items, targets=np.zeros(len(items)),
                             task_type=self.module.hparams.task_type, unit=self.unit, target_name="",
                             index=np.arange(len(items)), n_total=len(items), fidelity="user", fingerprint="",
                             matbench_rows=False)
        from .data.errors import CompositionError

        try:
            store = build_store(data, self.level, self.parent, in_memory=True)
        except CompositionError as exc:
            row = str(exc).split(":", 1)
            raise AtomSetsInputError(f"{_relabel(row[0], labels)}:{row[1] if len(row) > 1 else ''}") from exc
        outputs = []
        with torch.no_grad():
            for start in range(0, len(items), batch_size):
                batch = store.batch(torch.arange(start, min(start + batch_size, len(items))))
                outputs.append(self.module.predict_batch(batch))
        return torch.cat(outputs).numpy()


def _relabel(location: str, labels: Sequence[str]) -> str:
    """'input row 3' -> the user's own label for input 3."""
    try:
        return labels[int(location.rsplit(" ", 1)[1])]
    except (ValueError, IndexError):
        return location
