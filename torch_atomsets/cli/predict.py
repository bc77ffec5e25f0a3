"""``atomsets predict``: a parent's formation energies, or a trained child's predictions."""
from __future__ import annotations

import argparse

from .common import add_parent_options, apply_threads, emit_predictions, formula_and_size, read_inputs, report

MODEL_HELP = ("a parent: published name (default mp-2019.4.1, alias Eform_MP_2019), a name registered by `atomsets "
              "pretrain --name`, or a file (.hdf5, parent.pt, a pretraining .ckpt); or a trained child: its best.ckpt "
              "from `atomsets train`, or the split folder of an ensemble (--ensemble K): mean ± std")


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="predict with a parent (formation energy, eV/atom) or a trained child",
                       description="Predict for structure files (CIF, POSCAR/CONTCAR, pymatgen JSON, anything ASE "
                                   "reads) and, with a composition child, formulas. Inputs that cannot be predicted "
                                   "are reported by name on stderr and the exit code is 1; the others are printed.")
    p.add_argument("inputs", nargs="+", help="structure files; formulas too for a child trained on compositions")
    add_parent_options(p, MODEL_HELP)
    p.add_argument("--output", "-o", help="also write a CSV here (never overwrites without --force)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.set_defaults(func=run)


def is_child_model(model) -> bool:
    """Whether ``--model`` names a trained child (a checkpoint, read safely; or an ensemble's
    folder)."""
    import os

    from ..hub.checkpoints import CHILD, FINETUNE, checkpoint_kind, looks_like_path

    if model and os.path.isdir(model):
        return True
    if not model or not looks_like_path(model) or not model.lower().endswith(".ckpt"):
        return False
    return checkpoint_kind(model) in (CHILD, FINETUNE)


def run(args: argparse.Namespace) -> int:
    from ..utils.files import check_writable

    if args.output:
        check_writable(args.output, args.force)
    apply_threads(args.threads)
    if is_child_model(args.model):
        return _predict_child(args)
    from ..inference.parent import load_parent

    parent = load_parent(args.model, args.weights_dir, allow_download=not args.offline, device=args.device)
    labels, structures, errors = read_inputs(args.inputs)
    failures: list = []
    values = parent.predict(structures, names=labels, batch_size=args.batch_size, failures=failures)
    errors += [message for _, message in failures]
    rows = [(label, s.composition.reduced_formula, len(s), float(v))
            for label, s, v in zip(labels, structures, values) if v == v]
    emit_predictions(args, rows, parent.metadata.get("target", "prediction"), parent.unit or "model units")
    report(errors)
    return 1 if errors else 0


def _predict_child(args: argparse.Namespace) -> int:
    from ..inference.child import EnsemblePredictor, load_predictor

    predictor = load_predictor(args.model, args.weights_dir, allow_download=not args.offline, device=args.device)
    labels, items, errors = read_inputs(args.inputs, formulas=not predictor.needs_structures)
    ensemble = isinstance(predictor, EnsemblePredictor)
    if ensemble:
        values, spread, failures = predictor.predict(items, names=labels)
    else:
        (values, failures), spread = predictor.predict(items, names=labels), None
    errors += [message for _, message in failures]
    rows = []
    for k, (label, item, value) in enumerate(zip(labels, items, values)):
        if value == value:
            formula, size = formula_and_size(item)
            rows.append((label, formula, size, float(value)) + ((float(spread[k]),) if ensemble else ()))
    emit_predictions(args, rows, f"{predictor.target} [{predictor.name}]", predictor.unit, std=ensemble)
    report(errors)
    return 1 if errors else 0


