"""Structures in at the edges: pymatgen objects, ASE Atoms, dicts and files."""
from __future__ import annotations

import json
import os
from typing import Any, List, Tuple, Union

from ...errors import StructureError

StructureLike = Union["Structure", "Atoms", dict, str, os.PathLike]  # noqa: F821


def describe(obj: Any) -> str:
    """A short label for an input, for error messages."""
    if isinstance(obj, (str, os.PathLike)):
        return os.fspath(obj)
    formula = getattr(obj, "formula", None)
    if isinstance(formula, str):
        return formula
    if callable(getattr(obj, "get_chemical_formula", None)):
        return obj.get_chemical_formula()
    return type(obj).__name__


def _is_ase_atoms(obj: Any) -> bool:
    try:
        from ase import Atoms
    except ImportError:
        return False
    return isinstance(obj, Atoms)


def label_of(label, obj: Any) -> str:
    """``label`` as text: a string, a zero-argument function giving one (labels cost a
    formula each, so they are made only when a message needs them), or ``None`` for
    :func:`describe` of ``obj``."""
    if callable(label):
        return label()
    return label or describe(obj)


def to_structure(obj: StructureLike, label=None):
    """Return a pymatgen ``Structure`` for a ``Structure``, an ASE ``Atoms``, a
    ``Structure.as_dict()`` dict, or a path to a file holding exactly one structure.
    ``label`` names it in error messages (see :func:`label_of`)."""
    from pymatgen.core import Structure

    if isinstance(obj, Structure):
        return obj
    label = label_of(label, obj)
    if isinstance(obj, dict):
        try:
            return Structure.from_dict(obj)
        except Exception as exc:
            raise StructureError(f"{label}: not a pymatgen Structure dict ({exc})") from exc
    if isinstance(obj, (str, os.PathLike)):
        structures = read_structures(obj)
        if len(structures) != 1:
            raise StructureError(f"{label}: holds {len(structures)} structures, expected one")
        return structures[0][1]
    if _is_ase_atoms(obj):
        from pymatgen.io.ase import AseAtomsAdaptor

        if not all(obj.get_pbc()):
            raise StructureError(f"{label}: ASE Atoms must be periodic in all three directions "
                                 f"(pbc={list(obj.get_pbc())})")
        return AseAtomsAdaptor.get_structure(obj)
    if type(obj).__name__ == "Molecule":
        raise StructureError(f"{label}: a Molecule has no lattice; the parents need periodic crystals")
    raise StructureError(f"{label}: cannot make a structure from a {type(obj).__name__}")


def _structures_from_json(payload, path: str) -> List:
    from pymatgen.core import Structure

    if isinstance(payload, dict) and "structure" in payload and "lattice" not in payload:
        payload = payload["structure"]
    items = payload if isinstance(payload, list) else [payload]
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Structure.from_dict(item))
        except Exception as exc:
            where = f"{path} item {i}" if isinstance(payload, list) else path
            raise StructureError(f"{where}: not a pymatgen Structure dict ({exc})") from exc
    return out


def read_structures(path: Union[str, os.PathLike]) -> List[Tuple[str, Any]]:
    """Read every structure in a file, as ``(label, Structure)`` pairs.

    CIF (all data blocks), POSCAR/CONTCAR/vasprun, pymatgen JSON (one
    ``Structure.as_dict()`` or a list of them, optionally ``.gz``), and anything else
    ASE can read (``.xyz``/``.extxyz`` with a cell, ...). Labels are the path, with
    ``#k`` appended when a file holds more than one structure.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise StructureError(f"{path}: no such file")
    if os.path.isdir(path):
        raise StructureError(f"{path}: is a directory, expected a structure file")
    if os.path.getsize(path) == 0:
        raise StructureError(f"{path}: file is empty")
    lower = path.lower()
    name = os.path.basename(lower)
    structures: List = []
    try:
        if lower.endswith((".json", ".json.gz")):
            from monty.io import zopen

            with zopen(path, "rt") as handle:
                text = handle.read()
            try:
                payload = json.loads(text)
            except json.JSONDecodeError as exc:
                raise StructureError(f"{path}: not valid JSON ({exc})") from exc
            structures = _structures_from_json(payload, path)
        elif lower.endswith((".cif", ".mcif", ".cif.gz")):
            import warnings

            from pymatgen.io.cif import CifParser

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                structures = CifParser(path).parse_structures(primitive=False)
        elif "poscar" in name or "contcar" in name or name.endswith(".vasp") or "vasprun" in name:
            from pymatgen.core import Structure

            structures = [Structure.from_file(path)]
        else:
            from ase.io import read as ase_read

            structures = [to_structure(a, path) for a in ase_read(path, index=":")]
    except StructureError:
        raise
    except Exception as exc:
        raise StructureError(f"{path}: could not read a structure ({type(exc).__name__}: {exc})") from exc
    if not structures:
        raise StructureError(f"{path}: no structure found in the file")
    if len(structures) == 1:
        return [(path, structures[0])]
    return [(f"{path}#{k}", s) for k, s in enumerate(structures)]
