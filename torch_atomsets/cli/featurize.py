"""``atomsets featurize``: a parent's hierarchical features of structure files, to an .npz."""
from __future__ import annotations

import argparse
import sys

from .common import add_parent_options, apply_threads, read_inputs, report


def add_parser(sub) -> None:
    p = sub.add_parser("featurize", help="write a parent's hierarchical features to an .npz file")
    p.add_argument("inputs", nargs="+", help="structure files, as for predict")
    p.add_argument("--output", "-o", required=True, help="output .npz file")
    p.add_argument("--levels", default=None, help="comma-separated feature levels (default: all: V0..V3, u1..u3, f, "
                                                  "v_r, e_r)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    add_parent_options(p, "a parent (name or path; default mp-2019.4.1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference.parent import load_parent
    from ..levels import split_level_list
    from ..utils.files import check_writable

    output = args.output if args.output.endswith(".npz") else args.output + ".npz"
    check_writable(output, args.force)
    apply_threads(args.threads)
    parent = load_parent(args.model, args.weights_dir, allow_download=not args.offline, device=args.device)
    levels = split_level_list(args.levels, parent.model.num_blocks) if args.levels else None
    labels, structures, errors = read_inputs(args.inputs)
    failures: list = []
    features = parent.featurize(structures, levels, names=labels, batch_size=args.batch_size, failures=failures)
    errors += [message for _, message in failures]
    if not len(features):
        report(errors)
        print("error: no structure could be featurised; nothing written", file=sys.stderr)
        return 2
    features.save(output, overwrite=args.force)
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in features.arrays.items())
    print(f"wrote {output}: {len(features)} structures; {shapes}")
    report(errors)
    return 1 if errors else 0
