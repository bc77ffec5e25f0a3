"""The ``atomsets`` command."""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import List, Optional, Sequence, Tuple

from . import __version__


def _add_parent_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="parent: a registry name (default mp-2019.4.1, alias Eform_MP_2019; "
                             "see `atomsets models`) or a path to a .hdf5 / saved MEGNet file")
    parser.add_argument("--weights-dir", default=None,
                        help="folder holding megnet/<version>/formation_energy.hdf5 (default: "
                             "$TORCH_ATOMSETS_WEIGHTS, $TORCH_ATOMSETS_HOME/models, then the "
                             "download cache)")
    parser.add_argument("--offline", action="store_true", help="never download weights")
    parser.add_argument("--batch-size", type=int, default=128, help="structures per batch (128)")


def _read_inputs(paths: Sequence[str]) -> Tuple[List[str], list, List[str]]:
    """Structures from files; unreadable files are reported, not fatal."""
    from .data.errors import StructureError
    from .data.structures import read_structures

    labels, structures, errors = [], [], []
    for path in paths:
        try:
            for label, structure in read_structures(path):
                labels.append(label)
                structures.append(structure)
        except StructureError as exc:
            errors.append(str(exc))
    return labels, structures, errors


def _convertible(parent, labels, structures, errors):
    """Keep the structures whose graph builds; report the others by name."""
    from .data.errors import StructureError

    keep_labels, keep = [], []
    for label, structure in zip(labels, structures):
        try:
            parent.converter.arrays(structure, label)
        except StructureError as exc:
            errors.append(str(exc))
            continue
        keep_labels.append(label)
        keep.append(structure)
    return keep_labels, keep


def _refuse_overwrite(path: str, force: bool) -> None:
    if os.path.exists(path) and not force:
        raise SystemExit(f"error: {path} exists; use --force to overwrite it")


def _report(errors: List[str]) -> None:
    for message in errors:
        print(f"error: {message}", file=sys.stderr)


def cmd_models(args: argparse.Namespace) -> int:
    from .pretrained import DEFAULT_PARENT, REGISTRY

    for entry in REGISTRY.values():
        default = " (default)" if entry.name == DEFAULT_PARENT else ""
        print(f"{entry.name}{default}  aliases: {', '.join(entry.aliases)}\n    {entry.description}\n"
              f"    {entry.url(entry.weights_file)}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .parent import load_parent

    labels, structures, errors = _read_inputs(args.files)
    parent = load_parent(args.model, args.weights_dir, allow_download=not args.offline)
    labels, structures = _convertible(parent, labels, structures, errors)
    values = parent.predict(structures, names=labels, batch_size=args.batch_size) if structures else []
    unit = parent.unit or "model units"
    rows = [(label, s.composition.reduced_formula, len(s), float(v))
            for label, s, v in zip(labels, structures, values)]
    if args.output:
        _refuse_overwrite(args.output, args.force)
        with open(args.output, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["input", "formula", "n_sites", f"prediction ({unit})"])
            writer.writerows(rows)
    if args.json:
        print(json.dumps([{"input": r[0], "formula": r[1], "n_sites": r[2], "prediction": r[3],
                           "unit": unit} for r in rows], indent=1))
    else:
        width = max([len(r[0]) for r in rows] + [5])
        target = parent.metadata.get("target", "prediction")
        print(f"{'input':{width}s}  {'formula':12s} {'sites':>5s}  {target} ({unit})")
        for label, formula, n, value in rows:
            print(f"{label:{width}s}  {formula:12s} {n:5d}  {value: .6f}")
    _report(errors)
    return 1 if errors else 0


def cmd_featurize(args: argparse.Namespace) -> int:
    from .parent import check_levels, load_parent

    levels = check_levels(args.levels)
    output = args.output if args.output.endswith(".npz") else args.output + ".npz"
    _refuse_overwrite(output, args.force)
    labels, structures, errors = _read_inputs(args.files)
    parent = load_parent(args.model, args.weights_dir, allow_download=not args.offline)
    labels, structures = _convertible(parent, labels, structures, errors)
    if not structures:
        _report(errors)
        print("error: no structure could be featurised; nothing written", file=sys.stderr)
        return 1
    features = parent.featurize(structures, levels, names=labels, batch_size=args.batch_size)
    features.save(output, overwrite=args.force)
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in features.arrays.items())
    print(f"wrote {output}: {len(features)} structures; {shapes}")
    _report(errors)
    return 1 if errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atomsets",
        description="AtomSets: hierarchical transfer learning from MEGNet parents (PyTorch Geometric).")
    parser.add_argument("--version", action="version", version=f"torch_atomsets {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list the published parents")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("predict", help="predict with a parent (formation energy, eV/atom) for structure files")
    p.add_argument("files", nargs="+", help="CIF, POSCAR/CONTCAR, pymatgen JSON, or ASE-readable files")
    _add_parent_options(p)
    p.add_argument("--output", "-o", help="also write a CSV here")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("featurize", help="write the parent's hierarchical features to an .npz file")
    p.add_argument("files", nargs="+", help="structure files, as for predict")
    p.add_argument("--output", "-o", required=True, help="output .npz file")
    p.add_argument("--levels", default="V0,V1,V2,V3,u1,u2,u3,f,v_r",
                   help="comma-separated feature levels (default: all)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    _add_parent_options(p)
    p.set_defaults(func=cmd_featurize)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
