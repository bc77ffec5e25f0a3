"""``atomsets export``: a parent or a trained child as an exported program (.pt2, .onnx)."""
from __future__ import annotations

import argparse
import os

from .common import add_threads_option, apply_threads

FORMATS = ("pt2", "onnx")


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export a parent or a trained child to torch.export (.pt2) and ONNX",
                       description="Write MODEL as OUTPUT.pt2 (torch.export; load with torch.export.load) and "
                                   "OUTPUT.onnx (ONNX; needs the export extra), with OUTPUT.json saying what they "
                                   "take and return. Atom, bond and set counts are dynamic.")
    p.add_argument("model", nargs="?", default=None,
                   help="a parent (name or file; default mp-2019.4.1) or a trained child (its best.ckpt)")
    p.add_argument("--output", "-o", required=True, help="output path without suffix, e.g. exports/parent")
    p.add_argument("--formats", default="pt2,onnx", help="comma-separated: pt2, onnx (default both)")
    p.add_argument("--weights-dir", default=None, help="folder holding the parent's weights")
    p.add_argument("--offline", action="store_true", help="never download weights")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    add_threads_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..utils.files import check_writable
    from .predict import is_child_model

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ConfigError(f"--formats: choose from {', '.join(FORMATS)}, got {args.formats!r}")
    paths = {f: f"{args.output}.{f}" for f in formats}
    for path in list(paths.values()) + [f"{args.output}.json"]:
        check_writable(path, args.force)
    apply_threads(args.threads)
    from ..hub.parents import load_parent_model
    from ..inference import export

    if is_child_model(args.model):
        from ..inference.child import load_child

        module = load_child(args.model)
        parent = None
        if module.hparams.parent_key:
            parent, metadata = load_parent_model(module.hparams.parent, args.weights_dir, not args.offline)
            if metadata["key"] != module.hparams.parent_key:
                raise ConfigError(f"{args.model}: trained on parent {module.hparams.parent_key}, found {metadata['key']}")
        program = export.child_program(module, parent)
        arguments = export.graph_arguments(export.example_graphs(parent), parent.state_dim) \
            if program.levels.needs_forward else export.set_arguments()
        info = {"model": module.hparams.model, "level": module.level, "unit": "probability" if
                module.is_classification else (module.hparams.info or {}).get("unit", ""),
                "target": (module.hparams.info or {}).get("target"), "source": os.path.basename(args.model)}
        kind, outputs = "child", ["prediction"]
    else:
        parent, metadata = load_parent_model(args.model, args.weights_dir, not args.offline)
        program = export.ParentProgram(parent)
        arguments = export.graph_arguments(export.example_graphs(parent), parent.state_dim)
        info = {"parent": metadata["name"], "key": metadata["key"], "unit": metadata.get("unit", ""),
                "cutoff_angstrom": parent.cutoff}
        kind, outputs = "parent", program.outputs
    written = export.export_program(program, arguments, program.inputs if kind == "child" else export.GRAPH_INPUTS,
                                    paths.get("pt2"), paths.get("onnx"), outputs)
    export.write_description(f"{args.output}.json", export.describe(program, kind, info))
    print(f"wrote {', '.join(written.values())} and {args.output}.json ({kind}: inputs "
          f"{', '.join(program.inputs if kind == 'child' else export.GRAPH_INPUTS)})")
    return 0
