"""Tabulated element properties: the feature level ``E`` (and ``E-stats``).

The parent's embedding ``V0`` knows elements through one target (formation energy, 16
numbers each). ``E`` adds what a chemist would look up: position in the table, mass, radius,
electronegativity, melting point, molar volume, electron affinity, first ionisation energy
and the valence-shell occupancy (the quantities composition descriptors such as Magpie are
built from). It needs no parent, and joins any other level (``AtomSets-V0+E``,
``AtomSets-V1+E``, ``MLP-V0-stats+E-stats``).

The raw values live in ``element_properties.csv`` beside this module, written once from
pymatgen's periodic table by ``python -m torch_atomsets.data.inputs.elements --write`` (the
pymatgen version is in the file's first line), so a trained child reads the same numbers
whatever pymatgen a user has. :func:`element_table` standardises each column over the
elements that have a value (mean 0, std 1) and puts 0 (the mean) where pymatgen has none
(e.g. no Pauling electronegativity for He, Ne, Ar).
"""
from __future__ import annotations

import argparse
import csv
import functools
import os
import sys
from typing import List, Optional

import numpy as np

from ...errors import AtomSetsInputError
from .compositions import MAX_Z

TABLE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "element_properties.csv")

#: Columns of the table, in order: name, what it is.
PROPERTIES = (
    ("Z", "atomic number"),
    ("row", "period"),
    ("group", "group (1-18)"),
    ("X", "Pauling electronegativity"),
    ("atomic_mass", "atomic mass (amu)"),
    ("atomic_radius", "empirical atomic radius (A)"),
    ("mendeleev_no", "Mendeleev number (Pettifor)"),
    ("melting_point", "melting point (K)"),
    ("molar_volume", "molar volume (cm^3/mol)"),
    ("electron_affinity", "electron affinity (eV)"),
    ("ionization_energy", "first ionisation energy (eV)"),
    ("valence_s", "electrons in the outermost s shell"),
    ("valence_p", "electrons in the outermost p shell"),
    ("valence_d", "electrons in the (n-1) d shell"),
    ("valence_f", "electrons in the (n-2) f shell"),
    ("valence", "valence electrons (s + p + d + f above)"),
    ("unfilled_s", "empty places in the outermost s shell"),
    ("unfilled_p", "empty places in the outermost p shell (0 when it holds none)"),
    ("unfilled_d", "empty places in the (n-1) d shell (0 when it holds none)"),
    ("unfilled_f", "empty places in the (n-2) f shell (0 when it holds none)"),
    ("block_s", "1 for an s-block element"),
    ("block_p", "1 for a p-block element"),
    ("block_d", "1 for a d-block element"),
    ("block_f", "1 for an f-block element"),
)
WIDTH = len(PROPERTIES)


def _properties_of(z: int) -> List[float]:
    """The raw properties of element ``z`` from pymatgen (NaN where it has none)."""
    import warnings

    from pymatgen.core import Element

    element = Element.from_Z(z)

    def value(name):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = getattr(element, name)
            return float(v) if v is not None else float("nan")
        except (AttributeError, TypeError, ValueError):
            return float("nan")

    shells = element.full_electronic_structure
    n = max(shell for shell, _, _ in shells)
    count = {("s", 0): 0, ("p", 0): 0, ("d", 1): 0, ("f", 2): 0}
    for shell, orbital, electrons in shells:
        if (orbital, n - shell) in count:
            count[(orbital, n - shell)] += electrons
    s, p, d, f = count[("s", 0)], count[("p", 0)], count[("d", 1)], count[("f", 2)]
    unfilled = [2 - s, 6 - p if p else 0, 10 - d if d else 0, 14 - f if f else 0]
    return ([float(z)] + [value(name) for name, _ in PROPERTIES[1:11]] + [s, p, d, f, s + p + d + f] + unfilled
            + [float(element.block == b) for b in "spdf"])


def write_table(path: str = TABLE_FILE) -> str:
    """Write the raw table (Z = 1..MAX_Z) from the installed pymatgen."""
    import pymatgen.core

    version = getattr(pymatgen.core, "__version__", "unknown")
    with open(path, "w", newline="") as handle:
        handle.write(f"# element properties from pymatgen {version}; regenerate with "
                     "python -m torch_atomsets.data.inputs.elements --write\n")
        writer = csv.writer(handle)
        writer.writerow([name for name, _ in PROPERTIES])
        for z in range(1, MAX_Z + 1):
            writer.writerow(["" if np.isnan(v) else f"{v:.10g}" for v in _properties_of(z)])
    return path


@functools.lru_cache(maxsize=None)
def _raw_table(path: str = TABLE_FILE) -> np.ndarray:
    try:
        with open(path, newline="") as handle:
            rows = [r for r in csv.reader(line for line in handle if not line.startswith("#"))]
    except OSError as exc:
        raise AtomSetsInputError(f"element property table {path} cannot be read ({exc}); reinstall torch_atomsets "
                                 "or regenerate it with python -m torch_atomsets.data.inputs.elements --write") from exc
    header, body = rows[0], rows[1:]
    if tuple(header) != tuple(name for name, _ in PROPERTIES) or len(body) != MAX_Z:
        raise AtomSetsInputError(f"element property table {path} is corrupted: expected {WIDTH} columns "
                                 f"({PROPERTIES[0][0]}..{PROPERTIES[-1][0]}) and {MAX_Z} rows, found "
                                 f"{len(header)} columns and {len(body)} rows")
    table = np.array([[float(v) if v else np.nan for v in row] for row in body], dtype=np.float64)
    if not np.array_equal(table[:, 0], np.arange(1, MAX_Z + 1)):
        raise AtomSetsInputError(f"element property table {path} is corrupted: rows are not Z = 1..{MAX_Z} in order")
    return table


def element_table(path: Optional[str] = None) -> np.ndarray:
    """``(MAX_Z + 1, WIDTH)`` float32 standardised properties; row ``Z`` is element ``Z``
    (row 0 is unused and zero). Missing values are the column mean (0)."""
    raw = _raw_table(path or TABLE_FILE)
    mean = np.nanmean(raw, axis=0)
    std = np.nanstd(raw, axis=0)
    std[std == 0] = 1.0
    out = np.zeros((MAX_Z + 1, WIDTH), dtype=np.float32)
    out[1:] = np.nan_to_num((raw - mean) / std, nan=0.0)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="The element property table of the level E.")
    parser.add_argument("--write", action="store_true", help=f"regenerate {os.path.basename(TABLE_FILE)} from pymatgen")
    args = parser.parse_args(argv)
    if args.write:
        print(f"wrote {write_table()}")
    table = _raw_table.__wrapped__(TABLE_FILE)
    missing = {name: int(np.isnan(table[:, k]).sum()) for k, (name, _) in enumerate(PROPERTIES)}
    print(f"{TABLE_FILE}: {table.shape[0]} elements x {table.shape[1]} properties; missing values: "
          + ", ".join(f"{k} {v}" for k, v in missing.items() if v))
    return 0


__all__ = ["PROPERTIES", "TABLE_FILE", "WIDTH", "element_table", "write_table"]

if __name__ == "__main__":
    sys.exit(main())
