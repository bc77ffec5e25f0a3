"""One dataset in memory: inputs, targets, and what the rows are called."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ...errors import TargetError

TASK_TYPES = ("regression", "classification")


@dataclass
class MaterialsData:
    """Inputs and targets of one dataset.

    Attributes:
        name: dataset name (a MatBench task, an extra dataset, or the file of a user table).
        input_type: ``"composition"`` (formula strings) or ``"structure"`` (pymatgen dicts
            or ``Structure`` objects).
        inputs: one per sample.
        targets: ``(n,)`` float64; 0/1 for classification.
        task_type, unit, target_name: as the task defines them.
        index: ``(n,)`` row ids (MatBench row numbers where the file keeps them).
        n_total: size of the complete MatBench task (for the official folds of a subset).
        fidelity: ``original``, ``content-checked``, ``composition-only``, ``approximate``,
            ``user`` ... (see ``../shared/data/README.md``).
        fingerprint: sha256 identifying the content (keys feature caches and run identities).
        source: the file it was read from.
        matbench_task: the MatBench task whose targets it holds, if any.
        matbench_rows: ``index`` holds MatBench row numbers (false for a file whose rows
            are in another order, and for user tables).
        labels: what each sample is called in messages (a file name, ``mine.csv line 7``);
            default ``<name> row <index>``.
        state: ``(n, d)`` global state per sample (e.g. temperature), for a MEGNet trained
            here; ``None``: zeros.
    """

    name: str
    input_type: str
    inputs: List[Any]
    targets: np.ndarray
    task_type: str
    unit: str
    target_name: str
    index: np.ndarray
    n_total: int
    fidelity: str
    fingerprint: str
    source: str = ""
    matbench_task: Optional[str] = None
    matbench_rows: bool = True
    labels: Optional[List[str]] = None
    state: Optional[np.ndarray] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def is_classification(self) -> bool:
        return self.task_type == "classification"

    def label(self, position: int) -> str:
        """The name of the sample at ``position`` in messages."""
        if self.labels is not None:
            return self.labels[position]
        return f"{self.name} row {int(self.index[position])}"

    def all_labels(self) -> List[str]:
        return [self.label(i) for i in range(len(self))]

    def subset(self, rows: Sequence[int]) -> "MaterialsData":
        """The samples at positions ``rows`` (positions, not ``index`` values)."""
        rows = np.asarray(rows, dtype=np.int64)
        digest = hashlib.sha256((self.fingerprint + ",".join(map(str, rows.tolist()))).encode()).hexdigest()
        return replace(self, inputs=[self.inputs[i] for i in rows], targets=self.targets[rows], index=self.index[rows],
                       fingerprint=digest, labels=None if self.labels is None else [self.labels[i] for i in rows],
                       state=None if self.state is None else self.state[rows], extra=dict(self.extra))

    def with_targets(self, targets: np.ndarray) -> "MaterialsData":
        """The same inputs with other targets (the fingerprint follows them)."""
        targets = np.asarray(targets, dtype=np.float64)
        digest = hashlib.sha256(self.fingerprint.encode() + targets.tobytes()).hexdigest()
        return replace(self, targets=targets, fingerprint=digest)


def parse_targets(values: Sequence[Any], task_type: str, where: str, row_names: Sequence[str]) -> np.ndarray:
    """Targets as float64, checked: numbers, finite, 0/1 for classification.

    ``where`` names the column (``mine.csv column 'y'``), ``row_names[i]`` the row
    (``line 7``) in error messages.
    """
    if task_type not in TASK_TYPES:
        from ...errors import ConfigError

        raise ConfigError(f"task type must be regression or classification, got {task_type!r}")
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if isinstance(value, bool):
            value = float(value)
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            raise TargetError(f"{where}: {row_names[i]} has target {value!r}, not a number") from None
    bad = ~np.isfinite(out)
    if bad.any():
        rows = ", ".join(row_names[i] for i in np.flatnonzero(bad)[:5])
        raise TargetError(f"{where}: {int(bad.sum())} missing or NaN target(s), e.g. {rows}; remove or fill them")
    if task_type == "classification":
        wrong = ~np.isin(out, (0.0, 1.0))
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise TargetError(f"{where}: classification targets must be 0/1 (or true/false); {row_names[i]} is "
                              f"{values[i]!r}")
        if len(out) and len(np.unique(out)) < 2:
            raise TargetError(f"{where}: all {len(out)} targets are {int(out[0])}; a classifier needs samples of "
                              f"both classes (0 and 1)")
    return out
