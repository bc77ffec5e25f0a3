"""MatBench v0.1 tasks and the extra datasets of ``../shared/data``.

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
import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from ...errors import AtomSetsInputError, ChecksumError
from ...utils.files import download, sha256sum
from ...utils.paths import cache_dir, lookup_dirs
from .table import MaterialsData, parse_targets

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


def data_dirs(data_dir: Optional[str] = None) -> List[str]:
    """Data folders in lookup order (see the module docstring)."""
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
    target = os.path.join(cache_dir(), "data", "matbench", f"{task.name}.json.gz")
    try:
        return download(task.url, target, task.sha256, timeout=120)
    except ChecksumError:
        raise
    except OSError as exc:  # urllib's errors are OSErrors: no network, HTTP errors, timeouts
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
    targets = parse_targets([row[ti] for row in rows], task.task_type, f"{path} column {target_column!r}",
                            [f"row {i}" for i in index])
    if input_column == "composition":
        for i, formula in enumerate(inputs):
            if not isinstance(formula, str) or not formula.strip():
                raise AtomSetsInputError(f"{path}: row {index[i]} has an empty composition")
    return MaterialsData(
        name=name, input_type=input_column, inputs=inputs, targets=targets, task_type=task.task_type,
        unit=task.unit, target_name=target_column, index=index.astype(np.int64), n_total=task.n_samples,
        fidelity=fidelity, fingerprint=fingerprint, source=path, matbench_task=task.name,
        matbench_rows=matbench_rows)
