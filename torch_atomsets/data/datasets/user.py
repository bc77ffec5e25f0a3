"""A user's own table: a CSV of formulas or structure files with a target column."""
from __future__ import annotations

import csv
import hashlib
import os
from typing import Any, List, Optional, Sequence

import numpy as np

from ...errors import AtomSetsInputError, ConfigError, StructureError
from ..inputs.structures import read_structures
from .table import TASK_TYPES, MaterialsData, parse_targets

#: Column names taken as the input when none is named, in this order.
INPUT_COLUMNS = ("formula", "composition", "structure", "path", "file", "cif")
COMPOSITION_COLUMNS = ("formula", "composition")


def load_csv(path: str, target: str, input_column: Optional[str] = None, task_type: str = "regression",
             unit: str = "", state_columns: Sequence[str] = ()) -> MaterialsData:
    """A user's table: a CSV with a column of formulas (``formula`` / ``composition``) or of
    structure file paths (``structure`` / ``path`` / ``file`` / ``cif``, relative to the CSV's
    folder), and a ``target`` column; optionally ``state_columns`` (numbers per row, the
    global state of a MEGNet trained on it).

    Rows are named in messages by their line in the file (``mine.csv line 7``, the header
    being line 1) and, for structures, by the file they point at. The fingerprint covers the
    CSV's bytes and every structure file's bytes, so a changed file makes a new dataset.
    """
    if not os.path.isfile(path):
        raise AtomSetsInputError(f"{path}: no such file")
    if task_type not in TASK_TYPES:
        raise ConfigError(f"--task-type must be regression or classification, got {task_type!r}")
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AtomSetsInputError(f"{path}: not a readable CSV file ({exc})") from exc
    base_name = os.path.basename(path)
    if not rows:
        raise AtomSetsInputError(f"{path}: no rows under the header")
    if target not in columns:
        raise AtomSetsInputError(f"{path}: no target column {target!r} (columns: {', '.join(columns)})")
    if input_column is None:
        input_column = next((c for c in INPUT_COLUMNS if c in columns), None)
        if input_column is None:
            raise AtomSetsInputError(f"{path}: no input column; name one of {', '.join(INPUT_COLUMNS)} or pass "
                                     f"--input-column (columns: {', '.join(columns)})")
    if input_column not in columns:
        raise AtomSetsInputError(f"{path}: no input column {input_column!r} (columns: {', '.join(columns)})")
    missing = [c for c in state_columns if c not in columns]
    if missing:
        raise AtomSetsInputError(f"{path}: no state column(s) {', '.join(missing)} (columns: {', '.join(columns)})")
    kind = "composition" if input_column in COMPOSITION_COLUMNS else "structure"
    folder = os.path.dirname(os.path.abspath(path))
    lines = [f"line {i + 2}" for i in range(len(rows))]  # 1-based, after the header
    values = []
    for row in rows:
        raw = (row.get(target) or "").strip()
        if raw.lower() in ("true", "false"):
            raw = "1" if raw.lower() == "true" else "0"
        values.append(raw if raw else float("nan"))
    targets = parse_targets(values, task_type, f"{path} column {target!r}", lines)
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read())
    inputs: List[Any] = []
    labels: List[str] = []
    for line, row in zip(lines, rows):
        value = (row.get(input_column) or "").strip()
        if not value:
            raise AtomSetsInputError(f"{path}: {line} has an empty {input_column!r}")
        if kind == "composition":
            inputs.append(value)
            labels.append(f"{base_name} {line} ({value})")
            continue
        file_path = value if os.path.isabs(value) else os.path.join(folder, value)
        try:
            found = read_structures(file_path)
        except StructureError as exc:
            raise AtomSetsInputError(f"{path}: {line}: {exc}") from None
        if len(found) != 1:
            raise AtomSetsInputError(f"{path}: {line}: {value} holds {len(found)} structures, expected one")
        inputs.append(found[0][1])
        labels.append(f"{value} ({base_name} {line})")
        with open(file_path, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    state = None
    if state_columns:
        state = np.empty((len(rows), len(state_columns)), dtype=np.float32)
        for j, column in enumerate(state_columns):
            state[:, j] = parse_targets([row.get(column) or "nan" for row in rows], "regression",
                                        f"{path} column {column!r}", lines)
    return MaterialsData(
        name=os.path.splitext(base_name)[0], input_type=kind, inputs=inputs, targets=targets, task_type=task_type,
        unit=unit, target_name=target, index=np.arange(len(rows)), n_total=len(rows), fidelity="user",
        fingerprint=digest.hexdigest(), source=path, matbench_rows=False, labels=labels, state=state)
