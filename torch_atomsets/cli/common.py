"""Helpers shared by the subcommands: options, inputs, output tables."""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import Any, List, Optional, Sequence, Tuple


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the cores left free by other work)")


def add_parent_options(parser: argparse.ArgumentParser, model_help: str) -> None:
    parser.add_argument("--model", default=None, help=model_help)
    parser.add_argument("--weights-dir", default=None,
                        help="folder holding megnet/<version>/formation_energy.hdf5 or registered parents (default: "
                             "$TORCH_ATOMSETS_WEIGHTS, <home>/models, the download cache)")
    parser.add_argument("--offline", action="store_true", help="never download weights")
    parser.add_argument("--batch-size", type=int, default=256, help="structures per batch at most (256)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    add_threads_option(parser)


def apply_threads(requested: Optional[int], processes: int = 1) -> int:
    from ..utils.threads import set_threads

    return set_threads(requested, processes)


def read_inputs(entries: Sequence[str], formulas: bool = False) -> Tuple[List[str], List[Any], List[str]]:
    """Structures from files (every structure of each), and, with ``formulas``, entries that
    are not files as formulas. Returns ``(labels, items, errors)``: unreadable files and
    entries that are neither are reported by name, not fatal."""
    from ..data.inputs.structures import read_structures
    from ..errors import StructureError

    labels, items, errors = [], [], []
    for entry in entries:
        if os.path.exists(entry):
            try:
                for label, structure in read_structures(entry):
                    labels.append(label)
                    items.append(structure)
            except StructureError as exc:
                errors.append(str(exc))
        elif formulas:
            labels.append(entry)
            items.append(entry)
        else:
            errors.append(not_a_file_message(entry))
    return labels, items, errors


def not_a_file_message(entry: str) -> str:
    if _is_formula(entry):
        return (f"{entry}: not a file; the parent predicts from crystal structures (CIF, POSCAR, pymatgen JSON, "
                "...). A formula needs a child trained on compositions (--model RUN/best.ckpt)")
    return f"{entry}: no such file"


_FILE_SUFFIXES = (".cif", ".json", ".gz", ".vasp", ".xyz", ".extxyz", ".poscar", ".contcar", ".xml", ".traj")


def _is_formula(text: str) -> bool:
    """Whether ``text`` reads as a chemical formula rather than a (missing) file name."""
    if os.path.basename(text) != text or text.lower().endswith(_FILE_SUFFIXES):
        return False
    try:
        from pymatgen.core import Composition

        return len(Composition(text)) > 0
    except Exception:  # pymatgen raises several types for what is not a formula
        return False


def report(errors: Sequence[str]) -> None:
    for message in errors:
        print(f"error: {message}", file=sys.stderr)


def formula_and_size(item) -> Tuple[str, int]:
    from pymatgen.core import Composition

    if isinstance(item, str):
        try:
            composition = Composition(item)
            return composition.reduced_formula, int(round(composition.num_atoms))
        except Exception:  # reported by the predictor already
            return item, 0
    return item.composition.reduced_formula, len(item)


def emit_predictions(args, rows: List[tuple], header: str, unit: str, std: bool = False) -> None:
    """The predictions as a table (or JSON) on stdout, always; and as a CSV when asked
    (``rows``: input, formula, size, value[, std]). With no row at all nothing is printed or
    written (the errors say why), so a failed run leaves no empty table or file behind."""
    if not rows:
        print("error: no input could be predicted; nothing written", file=sys.stderr)
        return
    names = ["input", "formula", "n_sites", f"prediction ({unit})"] + ([f"std ({unit})"] if std else [])
    if args.json:
        keys = ["input", "formula", "n_sites", "prediction"] + (["std"] if std else [])
        print(json.dumps([dict(zip(keys, r), unit=unit) for r in rows], indent=1))
    else:
        width = max([len(r[0]) for r in rows] + [5])
        print(f"{'input':{width}s}  {'formula':12s} {'sites':>5s}  {header} ({unit})")
        for r in rows:
            value = f"{r[3]: .6f}" + (f" ± {r[4]:.6f}" if std else "")
            print(f"{r[0]:{width}s}  {r[1]:12s} {r[2]:5d}  {value}")
    if args.output:
        with open(args.output, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            writer.writerows(rows)
        print(f"wrote {args.output}", file=sys.stderr)
