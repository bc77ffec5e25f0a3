"""MatBench v0.1 tasks, the extra datasets of ``../shared/data``, and users' own tables.

Where files are looked for, in order: ``data_dir`` (``--data-dir``),
``$TORCH_ATOMSETS_DATA``, ``$TORCH_ATOMSETS_HOME/data``, then the download cache
``$TORCH_ATOMSETS_CACHE/data``. Inside a folder a task file sits at
``matbench/<task>.json.gz`` or ``<task>.json.gz``; extras at ``compositions/...`` and
``mp_approx/...`` (the layout of ``../shared/data``). An official file is verified by
sha256 when its bytes are the official ones; a local copy that is not byte-identical is
checked for its columns and row count instead, and its fidelity is recorded.
"""
from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..utils import sha256sum
from .errors import AtomSetsInputError, TargetError

MATBENCH_URL = "https://ml.materialsproject.org/projects/{name}.json.gz"
MATBENCH_SEED = 18012019


@dataclass(frozen=True)
class MatbenchTask:
    """One MatBench v0.1 task (metadata from matminer's ``dataset_metadata.json``)."""

    name: str
    input_type: str  # "composition" or "structure"
    target: str
    unit: str
    task_type: str  # "regression" or "classification"
    n_samples: int
    sha256: str
    description: str = ""

    @property
    def url(self) -> str:
        return MATBENCH_URL.format(name=self.name)

    @property
    def is_classification(self) -> bool:
        return self.task_type == "classification"


_T = MatbenchTask
TASKS: Dict[str, MatbenchTask] = {t.name: t for t in [
    _T("matbench_steels", "composition", "yield strength", "MPa", "regression", 312,
       "473bc4957b2ea5e6465aef84bc29bb48ac34db27d69ea4ec5f508745c6fae252", "steel yield strength"),
    _T("matbench_jdft2d", "structure", "exfoliation_en", "meV/atom", "regression", 636,
       "26057dc4524e193e32abffb296ce819b58b6e11d1278cae329a2f97817a4eddf", "exfoliation energy (JARVIS-DFT 2D)"),
    _T("matbench_phonons", "structure", "last phdos peak", "cm^-1", "regression", 1265,
       "4db551f21ec5f577e6202725f10e34dfc509aa7df3a6bdaac497da7f6dbbb9b3", "highest phonon DOS peak frequency"),
    _T("matbench_dielectric", "structure", "n", "unitless", "regression", 4764,
       "83befa09bc2ec2f4b6143afc413157827a90e5e2e42c1eb507ccfa01bf26a1d6", "refractive index"),
    _T("matbench_expt_gap", "composition", "gap expt", "eV", "regression", 4604,
       "783e7d1461eb83b00b2f2942da4b95fda5e58a0d1ae26b581c24cf8a82ca75b2", "experimental band gap"),
    _T("matbench_expt_is_metal", "composition", "is_metal", "", "classification", 4921,
       "8f2a4f9bacdcbc5c2c73615629ee7986f09d39bed40ba7db52b61b2889730887", "experimental metallicity"),
    _T("matbench_glass", "composition", "gfa", "", "classification", 5680,
       "36beb654e2a463ee2a6572105bea0ca2961eee7c7b26a25377bff2c3b338e53a", "metallic glass forming ability"),
    _T("matbench_log_kvrh", "structure", "log10(K_VRH)", "log10(GPa)", "regression", 10987,
       "44b113ddb7e23aa18731a62c74afa7e5aa654199e0db5f951c8248a00955c9cd", "bulk modulus (DFT, VRH)"),
    _T("matbench_log_gvrh", "structure", "log10(G_VRH)", "log10(GPa)", "regression", 10987,
       "098af941f4c663270f1fe21abf20ffad6fb85ecbfcba5786ceac03983ac29da7", "shear modulus (DFT, VRH)"),
    _T("matbench_perovskites", "structure", "e_form", "eV/cell", "regression", 18928,
       "4641e2417f8ec8b50096d2230864468dfa08278dc9d257c327f65d0305278483",
       "formation energy of the 5-atom perovskite cell"),
    _T("matbench_mp_gap", "structure", "gap pbe", "eV", "regression", 106113,
       "58b65746bd88329986ed66031a2ac1369c7c522f7bc9f9081528e07097c2c057", "PBE band gap (Materials Project)"),
    _T("matbench_mp_is_metal", "structure", "is_metal", "", "classification", 106113,
       "9a028ed5750a4c76ca36e9f3c8d48fe0bf3fb21b76ec2289e58ae7048d527919", "PBE metallicity (Materials Project)"),
    _T("matbench_mp_e_form", "structure", "e_form", "eV/atom", "regression", 132752,
       "dedcb1d4ba2e3e50dbdd45ba5bc647a00e9c2bcf8f8bf556dc8e92caa39eb21f",
       "formation energy (Materials Project)"),
]}


@dataclass(frozen=True)
class ExtraDataset:
    """A dataset of ``../shared/data`` beyond the official files."""

    name: str
    path: str  # relative to a data folder
    task: str  # the MatBench task whose targets it holds
    input_column: str
    target: str
    fidelity: str
    sha256: Optional[str] = None
    matbench_rows: bool = True  # ``index`` is the MatBench row number


def _extras() -> Dict[str, ExtraDataset]:
    out = {}
    for task in TASKS.values():
        name = f"{task.name}_composition"
        out[name] = ExtraDataset(name, f"compositions/{name}.json.gz", task.name, "composition", task.target,
                                 "composition-only")
    approx = [("matbench_mp_e_form_approx", "mp_approx/matbench_mp_e_form_approx.json.gz", "matbench_mp_e_form"),
              ("matbench_mp_gap_approx", "mp_approx/matbench_mp_gap_approx.json.gz", "matbench_mp_gap"),
              ("matbench_mp_is_metal_approx", "mp_approx/matbench_mp_gap_approx.json.gz", "matbench_mp_is_metal"),
              ("matbench_log_kvrh_approx", "mp_approx/matbench_elastic_approx.json.gz", "matbench_log_kvrh"),
              ("matbench_log_gvrh_approx", "mp_approx/matbench_elastic_approx.json.gz", "matbench_log_gvrh")]
    for name, path, task in approx:
        out[name] = ExtraDataset(name, path, task, "structure", TASKS[task].target, "approximate")
    return out


EXTRA_DATASETS = _extras()


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
        matbench_rows: ``index`` holds MatBench row numbers (false for a file whose rows
            are in another order, and for user tables).
        fidelity: ``original``, ``content-checked``, ``composition-only``, ``approximate``,
            ``user`` ... (see ``../shared/data/README.md``).
        fingerprint: sha256 identifying the source (keys feature caches).
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
    matbench_rows: bool = True  # ``index`` holds MatBench row numbers
    extra: Dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def is_classification(self) -> bool:
        return self.task_type == "classification"

    def subset(self, rows: Sequence[int]) -> "MaterialsData":
        """The samples at positions ``rows`` (positions, not ``index`` values)."""
        rows = np.asarray(rows, dtype=np.int64)
        return MaterialsData(
            self.name, self.input_type, [self.inputs[i] for i in rows], self.targets[rows], self.task_type,
            self.unit, self.target_name, self.index[rows], self.n_total, self.fidelity,
            hashlib.sha256((self.fingerprint + ",".join(map(str, rows.tolist()))).encode()).hexdigest(),
            self.source, self.matbench_task, self.matbench_rows, dict(self.extra))


def data_dirs(data_dir: Optional[str] = None) -> List[str]:
    """Data folders in lookup order (see the module docstring)."""
    from ..utils import lookup_dirs

    return lookup_dirs(data_dir, "TORCH_ATOMSETS_DATA", "data")


def known_names() -> List[str]:
    return sorted(TASKS) + sorted(EXTRA_DATASETS)


def resolve_task_name(name: str) -> str:
    """Canonical dataset name (``steels`` -> ``matbench_steels``); a clear error with
    suggestions for an unknown one."""
    candidates = known_names()
    for option in (name, f"matbench_{name}"):
        if option in candidates:
            return option
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5) or \
        difflib.get_close_matches(f"matbench_{name}", candidates, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(TASKS))}"
    raise AtomSetsInputError(f"unknown task or dataset {name!r}{hint}")


def _read_split_json(path: str) -> dict:
    try:
        with gzip.open(path, "rt") as handle:
            table = json.load(handle)
    except (OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AtomSetsInputError(f"{path}: not a readable gzipped JSON table ({exc})") from exc
    if not isinstance(table, dict) or not {"columns", "data"} <= set(table):
        raise AtomSetsInputError(f"{path}: not in MatBench's 'split' layout (columns/index/data)")
    table.setdefault("index", list(range(len(table["data"]))))
    return table


def _find(relative_paths: Sequence[str], data_dir: Optional[str]) -> Optional[str]:
    for base in data_dirs(data_dir):
        for rel in relative_paths:
            path = os.path.join(base, rel)
            if os.path.isfile(path):
                return path
    return None


def _column(table: dict, name: str, path: str) -> int:
    if name not in table["columns"]:
        raise AtomSetsInputError(f"{path}: no column {name!r} (columns: {table['columns']})")
    return table["columns"].index(name)


def _targets(values: Sequence[Any], task_type: str, label: str, index: Sequence[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if isinstance(value, bool):
            value = float(value)
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            raise TargetError(f"{label}: target of row {index[i]} is {value!r}, not a number") from None
    bad = ~np.isfinite(out)
    if bad.any():
        rows = [index[i] for i in np.flatnonzero(bad)[:5]]
        raise TargetError(f"{label}: {int(bad.sum())} missing or NaN target(s), e.g. rows {rows}")
    if task_type == "classification":
        wrong = ~np.isin(out, (0.0, 1.0))
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise TargetError(f"{label}: classification targets must be 0/1 (or true/false); row {index[i]} "
                              f"is {values[i]!r}")
    return out


def load_task(name: str, data_dir: Optional[str] = None, allow_download: bool = True) -> MaterialsData:
    """A MatBench task or an extra dataset by name (see the module docstring)."""
    name = resolve_task_name(name)
    if name in EXTRA_DATASETS:
        return _load_extra(EXTRA_DATASETS[name], data_dir)
    task = TASKS[name]
    path = _find([f"matbench/{name}.json.gz", f"{name}.json.gz"], data_dir)
    if path is None:
        if not allow_download:
            alternatives = [n for n in EXTRA_DATASETS if EXTRA_DATASETS[n].task == name]
            raise AtomSetsInputError(
                f"{name}: no local file matbench/{name}.json.gz in {', '.join(data_dirs(data_dir))} and "
                f"downloads are off; available instead: {', '.join(alternatives)}")
        path = _download_task(task)
    digest = sha256sum(path)
    table = _read_split_json(path)
    if digest == task.sha256:
        fidelity = "original"
    else:
        fidelity = "content-checked"
        expected = {task.input_type, task.target}
        if not expected <= set(table["columns"]) or len(table["data"]) != task.n_samples:
            raise AtomSetsInputError(
                f"{path}: not the official {name} (sha256 differs, and it has {len(table['data'])} rows with "
                f"columns {table['columns']}; expected {task.n_samples} rows with {sorted(expected)})")
    matbench_rows = name != "matbench_perovskites" or fidelity == "original"
    if not matbench_rows:
        fidelity = "source-exact (row order differs from MatBench)"
    return _from_table(table, name, task.input_type, task.target, task, fidelity, path, digest,
                       matbench_rows=matbench_rows)


def _download_task(task: MatbenchTask) -> str:
    from ..pretrained import download
    from ..utils import cache_dir

    target = os.path.join(cache_dir(), "data", "matbench", f"{task.name}.json.gz")
    try:
        return download(task.url, target, task.sha256, timeout=120)
    except Exception as exc:
        if type(exc).__name__ == "ChecksumError":
            raise
        raise AtomSetsInputError(
            f"{task.name}: no local copy and the download of {task.url} failed ({exc}); point --data-dir or "
            "TORCH_ATOMSETS_DATA at a folder holding matbench/<task>.json.gz") from exc


def _load_extra(extra: ExtraDataset, data_dir: Optional[str]) -> MaterialsData:
    path = _find([extra.path, os.path.basename(extra.path)], data_dir)
    if path is None:
        raise AtomSetsInputError(f"{extra.name}: file {extra.path} not found in {', '.join(data_dirs(data_dir))}")
    task = TASKS[extra.task]
    table = _read_split_json(path)
    digest = sha256sum(path) + ":" + extra.name
    return _from_table(table, extra.name, extra.input_column, extra.target, task, extra.fidelity, path, digest,
                       matbench_rows=extra.matbench_rows)


def _from_table(table: dict, name: str, input_column: str, target_column: str, task: MatbenchTask,
                fidelity: str, path: str, fingerprint: str, matbench_rows: bool) -> MaterialsData:
    ci = _column(table, input_column, path)
    ti = _column(table, target_column, path)
    rows = table["data"]
    index = np.asarray(table["index"])
    inputs = [row[ci] for row in rows]
    targets = _targets([row[ti] for row in rows], task.task_type, f"{path} column {target_column!r}", index)
    if input_column == "composition":
        for i, formula in enumerate(inputs):
            if not isinstance(formula, str) or not formula.strip():
                raise AtomSetsInputError(f"{path}: row {index[i]} has an empty composition")
    return MaterialsData(
        name=name, input_type=input_column, inputs=inputs, targets=targets, task_type=task.task_type,
        unit=task.unit, target_name=target_column, index=index.astype(np.int64), n_total=task.n_samples,
        fidelity=fidelity, fingerprint=fingerprint, source=path, matbench_task=task.name,
        matbench_rows=matbench_rows)


def load_csv(path: str, target: str, input_column: Optional[str] = None,
             task_type: str = "regression", unit: str = "") -> MaterialsData:
    """A user's table: a CSV with a column of formulas (``formula`` / ``composition``) or of
    structure file paths (``structure`` / ``path`` / ``file``, relative to the CSV's
    folder), and a ``target`` column.
    """
    import csv

    if not os.path.isfile(path):
        raise AtomSetsInputError(f"{path}: no such file")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        columns = reader.fieldnames or []
    if not rows:
        raise AtomSetsInputError(f"{path}: no rows")
    if target not in columns:
        raise AtomSetsInputError(f"{path}: no target column {target!r} (columns: {columns})")
    if input_column is None:
        for option in ("formula", "composition", "structure", "path", "file", "cif"):
            if option in columns:
                input_column = option
                break
        else:
            raise AtomSetsInputError(f"{path}: no input column; name one of formula, composition, structure, path, "
                                     f"file (columns: {columns})")
    if input_column not in columns:
        raise AtomSetsInputError(f"{path}: no input column {input_column!r} (columns: {columns})")
    if task_type not in ("regression", "classification"):
        raise AtomSetsInputError(f"task type must be regression or classification, got {task_type!r}")
    kind = "composition" if input_column in ("formula", "composition") else "structure"
    base = os.path.dirname(os.path.abspath(path))
    index = np.arange(len(rows))
    values = []
    for row in rows:
        raw = (row.get(target) or "").strip()
        if raw.lower() in ("true", "false"):
            raw = "1" if raw.lower() == "true" else "0"
        values.append(raw if raw else float("nan"))
    targets = _targets(values, task_type, f"{path} column {target!r}", list(index + 2))  # +2: 1-based, header
    inputs: List[Any] = []
    digest = hashlib.sha256(open(path, "rb").read())
    for i, row in enumerate(rows):
        value = (row.get(input_column) or "").strip()
        if not value:
            raise AtomSetsInputError(f"{path}: line {i + 2} has an empty {input_column!r}")
        if kind == "composition":
            inputs.append(value)
        else:
            from .structures import read_structures

            file_path = value if os.path.isabs(value) else os.path.join(base, value)
            found = read_structures(file_path)
            if len(found) != 1:
                raise AtomSetsInputError(f"{path}: line {i + 2}: {value} holds {len(found)} structures, expected one")
            inputs.append(found[0][1])
            stat = os.stat(file_path)
            digest.update(f"{file_path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return MaterialsData(
        name=os.path.splitext(os.path.basename(path))[0], input_type=kind, inputs=inputs, targets=targets,
        task_type=task_type, unit=unit, target_name=target, index=index, n_total=len(rows), fidelity="user",
        fingerprint=digest.hexdigest(), source=path, matbench_rows=False)
