"""The ``atomsets`` command."""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np

from . import __version__


def _add_parent_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="a parent: registry name (default mp-2019.4.1, alias Eform_MP_2019), a name "
                             "registered by `atomsets pretrain --name`, or a path (.hdf5, parent.pt, .ckpt); "
                             "for predict also a child checkpoint (best.ckpt from `atomsets train`)")
    parser.add_argument("--weights-dir", default=None,
                        help="folder holding megnet/<version>/formation_energy.hdf5 (default: "
                             "$TORCH_ATOMSETS_WEIGHTS, $TORCH_ATOMSETS_HOME/models, then the "
                             "download cache)")
    parser.add_argument("--offline", action="store_true", help="never download weights")
    parser.add_argument("--batch-size", type=int, default=256, help="structures per batch at most (256)")


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


def _refuse_overwrite(path: str, force: bool) -> None:
    if os.path.exists(path) and not force:
        raise SystemExit(f"error: {path} exists; use --force to overwrite it")


def _report(errors: List[str]) -> None:
    for message in errors:
        print(f"error: {message}", file=sys.stderr)


def cmd_models(args: argparse.Namespace) -> int:
    from .parent import local_model_dirs
    from .pretrained import DEFAULT_PARENT, REGISTRY

    for entry in REGISTRY.values():
        default = " (default)" if entry.name == DEFAULT_PARENT else ""
        print(f"{entry.name}{default}  aliases: {', '.join(entry.aliases)}\n    {entry.description}\n"
              f"    {entry.url(entry.weights_file)}")
    seen = set()
    for folder in local_model_dirs(getattr(args, "weights_dir", None)):
        if os.path.basename(folder) != "local" or not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".pt") and name[:-3] not in seen:
                seen.add(name[:-3])
                print(f"{name[:-3]}  (trained here)\n    {os.path.join(folder, name)}")
    return 0


def _is_child_checkpoint(model: Optional[str]) -> bool:
    """A checkpoint of a trained child (a MEGNet training checkpoint is a parent)."""
    if not model or not model.endswith(".ckpt") or not os.path.isfile(model):
        return False
    import torch

    try:
        payload = torch.load(model, map_location="cpu", weights_only=False)
    except Exception:  # unreadable: let the loader report it with its own message
        return True
    return "model_kind" in (payload.get("hyper_parameters") or {})


def cmd_predict(args: argparse.Namespace) -> int:
    if _is_child_checkpoint(args.model):
        return _predict_child(args)
    from .parent import load_parent

    labels, structures, errors = _read_inputs(args.files)
    parent = load_parent(args.model, args.weights_dir, allow_download=not args.offline)
    failures: list = []
    values = parent.predict(structures, names=labels, batch_size=args.batch_size, failures=failures)
    errors += [message for _, message in failures]
    unit = parent.unit or "model units"
    rows = [(label, s.composition.reduced_formula, len(s), float(v))
            for label, s, v in zip(labels, structures, values) if np.isfinite(v)]
    _print_predictions(args, rows, parent.metadata.get("target", "prediction"), unit, "n_sites")
    _report(errors)
    return 1 if errors else 0


def _print_predictions(args, rows, target: str, unit: str, size_name: str) -> None:
    if args.output:
        _refuse_overwrite(args.output, args.force)
        with open(args.output, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["input", "formula", size_name, f"prediction ({unit})"])
            writer.writerows(rows)
    if args.json:
        print(json.dumps([{"input": r[0], "formula": r[1], size_name: r[2], "prediction": r[3],
                           "unit": unit} for r in rows], indent=1))
        return
    width = max([len(r[0]) for r in rows] + [5])
    print(f"{'input':{width}s}  {'formula':12s} {'sites':>5s}  {target} ({unit})")
    for label, formula, n, value in rows:
        print(f"{label:{width}s}  {formula:12s} {n:5d}  {value: .6f}")


def _predict_child(args: argparse.Namespace) -> int:
    """A trained child: formulas and/or structure files."""
    from .data.errors import AtomSetsInputError
    from .predictor import ChildPredictor

    predictor = ChildPredictor(args.model, args.weights_dir, allow_download=not args.offline)
    labels, items, errors = [], [], []
    for entry in args.files:
        if os.path.exists(entry):
            found, structures, problems = _read_inputs([entry])
            labels += found
            items += structures
            errors += problems
        elif predictor.input_type == "composition" or predictor.level in ("Z", "V0", "V0-stats"):
            labels.append(entry)
            items.append(entry)
        else:
            errors.append(f"{entry}: no such file (this model needs structures)")
    rows = []
    # one at a time only where needed, so one bad input does not hide the others' results
    try:
        values = predictor.predict(items, names=labels) if items else []
        good = list(zip(labels, items, values))
    except AtomSetsInputError:
        good = []
        for label, item in zip(labels, items):
            try:
                good.append((label, item, predictor.predict([item], names=[label])[0]))
            except AtomSetsInputError as exc:
                errors.append(str(exc))
    for label, item, value in good:
        formula, size = _formula_and_size(item)
        rows.append((label, formula, size, float(value)))
    info = predictor.info
    _print_predictions(args, rows, f"{info.get('target') or 'prediction'} [{info.get('model')}]", predictor.unit,
                       "n_sites")
    _report(errors)
    return 1 if errors else 0


def _formula_and_size(item) -> tuple:
    from pymatgen.core import Composition

    if isinstance(item, str):
        try:
            composition = Composition(item)
            return composition.reduced_formula, int(round(composition.num_atoms))
        except Exception:  # the error was already reported by predict
            return item, 0
    return item.composition.reduced_formula, len(item)


def cmd_featurize(args: argparse.Namespace) -> int:
    from .parent import check_levels, load_parent

    levels = check_levels(args.levels)
    output = args.output if args.output.endswith(".npz") else args.output + ".npz"
    _refuse_overwrite(output, args.force)
    labels, structures, errors = _read_inputs(args.files)
    parent = load_parent(args.model, args.weights_dir, allow_download=not args.offline)
    failures: list = []
    features = parent.featurize(structures, levels, names=labels, batch_size=args.batch_size, failures=failures)
    errors += [message for _, message in failures]
    if not len(features):
        _report(errors)
        print("error: no structure could be featurised; nothing written", file=sys.stderr)
        return 1
    features.save(output, overwrite=args.force)
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in features.arrays.items())
    print(f"wrote {output}: {len(features)} structures; {shapes}")
    _report(errors)
    return 1 if errors else 0


def _parse_ints(text: Optional[str]) -> Optional[list]:
    if text is None:
        return None
    values = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            values += list(range(int(low), int(high) + 1))
        elif part.strip():
            values.append(int(part))
    return values


def _load_config_file(path: Optional[str]) -> dict:
    if not path:
        return {}
    import yaml

    with open(path) as handle:
        values = yaml.safe_load(handle) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of option names to values")
    return {key.replace("-", "_"): value for key, value in values.items()}


def cmd_train(args: argparse.Namespace) -> int:
    from .data.splits import make_splits
    from .training import ChildConfig, train_child

    data = _load_data(args)
    splits = make_splits(data, args.protocol, _parse_ints(args.seeds), _parse_ints(args.folds))
    config = ChildConfig(
        model=args.model, n_layer_before_readout=args.n_layer_before_readout,
        n_layer_after_readout=args.n_layer_after_readout, n_neurons=args.n_neurons, readout=args.readout,
        activation=args.activation, n_layer=args.n_layer, batch_size=args.batch_size,
        learning_rate=args.learning_rate, loss=args.loss, max_epochs=args.max_epochs, patience=args.patience,
        parent=args.parent, accelerator=args.accelerator, devices=args.devices, strategy=args.strategy,
        num_workers=args.num_workers)
    base = os.path.join(args.results_dir, data.name, args.model)
    print(f"{data.name}: {len(data)} samples ({data.input_type}, {data.task_type}, fidelity: {data.fidelity}); "
          f"model {args.model}; {len(splits)} split(s), protocol {args.protocol}; results in {base}")
    results = []
    for k, split in enumerate(splits):
        seed = (_parse_ints(args.seeds) or list(range(5)))[k] if args.protocol == "paper" else k
        folder = os.path.join(base, split.name.replace(" ", "-"))
        metrics_file = os.path.join(folder, "metrics.json")
        if os.path.exists(metrics_file) and not args.force:
            with open(metrics_file) as handle:
                result = json.load(handle)
            print(f"  {split.name}: done before, {result['metric']} {result['test']:.4g} (--force to redo)")
            results.append(result)
            continue
        result = train_child(data, split, config, seed=seed, output_dir=folder, weights_dir=args.weights_dir,
                             progress=not args.quiet)
        results.append(result)
        print(f"  {split.name}: test {result['metric']} {result['test']:.4g} {data.unit} (val {result['val']:.4g}, "
              f"best epoch {result['best_epoch']} of {result['epochs']}, {result['seconds_per_epoch'] * 1000:.1f} ms/epoch)")
    tests = np.array([r["test"] for r in results])
    summary = {"dataset": data.name, "model": args.model, "protocol": args.protocol, "metric": results[0]["metric"],
               "unit": data.unit, "mean": float(tests.mean()), "std": float(tests.std()), "n_splits": len(tests),
               "splits": [r["split"] for r in results], "fidelity": data.fidelity,
               "checkpoints": [r.get("checkpoint") for r in results]}
    with open(os.path.join(base, f"summary-{args.protocol}.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    print(f"{data.name} {args.model}: test {summary['metric']} {summary['mean']:.4g} +- {summary['std']:.4g} "
          f"{data.unit} over {len(tests)} split(s)")
    return 0


def _load_data(args: argparse.Namespace):
    from .data.matbench import load_csv, load_task

    if bool(args.task) == bool(args.csv):
        raise SystemExit("error: give either --task NAME or --csv FILE (with --target)")
    if args.csv:
        if not args.target:
            raise SystemExit("error: --csv needs --target COLUMN")
        return load_csv(args.csv, args.target, args.input_column, args.task_type, args.unit or "")
    return load_task(args.task, args.data_dir, allow_download=not args.offline)


def cmd_pretrain(args: argparse.Namespace) -> int:
    from .data.splits import paper_split
    from .parent import register_parent
    from .training import MEGNetConfig, train_megnet

    data = _load_data(args)
    if data.input_type != "structure":
        raise SystemExit(f"error: {data.name} holds compositions; a MEGNet parent needs structures")
    model = {k: v for k, v in dict(num_blocks=args.blocks, cutoff=args.cutoff, num_gaussians=args.gaussians,
                                    gaussian_stop=args.gaussian_stop, set2set_steps=args.set2set_steps).items()
             if v is not None}
    config = MEGNetConfig(model=model, batch_size=args.batch_size, learning_rate=args.learning_rate,
                          lr_schedule=args.lr_schedule, loss=args.loss, max_epochs=args.max_epochs,
                          patience=args.patience, max_time=args.max_time, init_from=args.init_from,
                          accelerator=args.accelerator, devices=args.devices, strategy=args.strategy,
                          num_workers=args.num_workers)
    split = paper_split(len(data), args.seed)
    output = args.output or os.path.join("runs", f"pretrain-{data.name}")
    if os.path.exists(os.path.join(output, "last.ckpt")) and not args.no_resume:
        print(f"resuming from {os.path.join(output, 'last.ckpt')}")
    elif os.path.exists(os.path.join(output, "parent.pt")) and not args.force:
        raise SystemExit(f"error: {output} holds a finished run; use --force to start over or another --output")
    print(f"{data.name}: {len(data)} structures ({data.fidelity}); split seed {args.seed}; output {output}")
    result = train_megnet(data, split, config, seed=args.seed, output_dir=output, resume=not args.no_resume,
                          progress=not args.quiet)
    print(f"test MAE {result['test']:.4g} {data.unit} (val {result['val']:.4g}; best epoch {result['best_epoch']} "
          f"of {result['epochs']}; {result['seconds_per_epoch']:.1f} s/epoch); parent: {result.get('parent')}")
    if args.name and result.get("parent"):
        target = register_parent(result["parent"], args.name, args.weights_dir, overwrite=args.force)
        print(f"registered as {args.name!r} ({target}); use it with --parent {args.name} / --model {args.name}")
    return 0


def _add_data_options(p: argparse.ArgumentParser) -> None:
    source = p.add_argument_group("data")
    source.add_argument("--task", help="MatBench task or extra dataset, e.g. matbench_steels (or steels)")
    source.add_argument("--csv", help="your own table: a formula/structure column and a target column")
    source.add_argument("--target", help="target column of --csv")
    source.add_argument("--input-column", help="input column of --csv (default: formula/composition/structure/path)")
    source.add_argument("--task-type", default="regression", choices=["regression", "classification"])
    source.add_argument("--unit", help="unit of the --csv target, for reports")
    source.add_argument("--data-dir", help="folder with matbench/<task>.json.gz (default: $TORCH_ATOMSETS_DATA, "
                                           "$TORCH_ATOMSETS_HOME/data, download cache)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atomsets",
        description="AtomSets: hierarchical transfer learning from MEGNet parents (PyTorch Geometric).")
    parser.add_argument("--version", action="version", version=f"torch_atomsets {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list the published parents and those registered here")
    p.add_argument("--weights-dir", default=None)
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("predict", help="predict with a parent (formation energy, eV/atom) or a trained child")
    p.add_argument("files", nargs="+", help="CIF, POSCAR/CONTCAR, pymatgen JSON, or ASE-readable files; "
                                            "formulas too for a composition child (--model best.ckpt)")
    _add_parent_options(p)
    p.add_argument("--output", "-o", help="also write a CSV here")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.set_defaults(func=cmd_predict)

    from .training import ChildConfig

    defaults = ChildConfig()
    p = sub.add_parser("train", help="train a child (Table 1 model) on a MatBench task or your own CSV")
    p.add_argument("--config", help="YAML file of option values (keys as the long options; flags override)")
    _add_data_options(p)
    p.add_argument("--model", default="AtomSets-V0",
                   help="AtomSets, AtomSets-V0..V3, MLP-V0-stats, MLP-u1..u3, MLP-f, MLP-v_r (default AtomSets-V0)")
    p.add_argument("--protocol", default="paper", choices=["paper", "matbench"],
                   help="paper: random 80/10/10 per seed; matbench: the official 5 folds")
    p.add_argument("--seeds", default="0-4", help="paper protocol seeds (default 0-4)")
    p.add_argument("--folds", default=None, help="matbench folds to run (default all: 0-4)")
    hyper = p.add_argument_group("hyperparameters (Table S2)")
    hyper.add_argument("--n-layer-before-readout", type=int, default=defaults.n_layer_before_readout)
    hyper.add_argument("--n-layer-after-readout", type=int, default=defaults.n_layer_after_readout)
    hyper.add_argument("--n-neurons", type=int, default=defaults.n_neurons)
    hyper.add_argument("--readout", default=defaults.readout, choices=["mean", "set2set"])
    hyper.add_argument("--activation", default=defaults.activation)
    hyper.add_argument("--n-layer", type=int, default=defaults.n_layer, help="hidden layers of MLP models")
    fit = p.add_argument_group("training")
    fit.add_argument("--batch-size", type=int, default=defaults.batch_size,
                     help="default: 16 for regression, 128 for classification")
    fit.add_argument("--learning-rate", type=float, default=defaults.learning_rate,
                     help="default: 3e-3 for regression, 1e-3 for classification")
    fit.add_argument("--loss", default=defaults.loss, choices=["mae", "mse", "huber"])
    fit.add_argument("--max-epochs", type=int, default=defaults.max_epochs)
    fit.add_argument("--patience", type=int, default=defaults.patience,
                     help="early-stopping patience in epochs (paper: 200)")
    fit.add_argument("--accelerator", default="cpu")
    fit.add_argument("--devices", default=1, type=lambda v: int(v) if v.isdigit() else v)
    fit.add_argument("--strategy", default="auto", help="e.g. ddp")
    fit.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--parent", default=None, help="parent name or path (default mp-2019.4.1)")
    p.add_argument("--weights-dir", default=None, help="folder holding the parent weights")
    p.add_argument("--offline", action="store_true", help="never download")
    p.add_argument("--results-dir", default="results", help="where runs are written (default ./results)")
    p.add_argument("--force", action="store_true", help="redo splits that already have results")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("pretrain", help="train a MEGNet parent on structures (resumable; DDP through Lightning)")
    p.add_argument("--config", help="YAML file of option values (keys as the long options; flags override)")
    _add_data_options(p)
    arch = p.add_argument_group("architecture (default: the paper's parent)")
    arch.add_argument("--blocks", type=int, default=None, help="graph-network blocks (3)")
    arch.add_argument("--cutoff", type=float, default=None, help="bond cutoff in Angstrom (5.0)")
    arch.add_argument("--gaussians", type=int, default=None, help="Gaussians of the bond basis (100)")
    arch.add_argument("--gaussian-stop", type=float, default=None, help="last Gaussian centre, Angstrom (6.0)")
    arch.add_argument("--set2set-steps", type=int, default=None, help="Set2Set steps (2)")
    arch.add_argument("--init-from", default=None, help="fine-tune: start from this parent (name or path)")
    fit = p.add_argument_group("training")
    fit.add_argument("--seed", type=int, default=0, help="seed of the random 80/10/10 split and of training")
    fit.add_argument("--batch-size", type=int, default=128)
    fit.add_argument("--learning-rate", type=float, default=1e-3)
    fit.add_argument("--lr-schedule", default="plateau", choices=["plateau", "cosine", "none"])
    fit.add_argument("--loss", default="mae", choices=["mae", "mse", "huber"])
    fit.add_argument("--max-epochs", type=int, default=1000)
    fit.add_argument("--max-time", default=None, help="wall-time budget, DD:HH:MM:SS (e.g. 00:02:00:00)")
    fit.add_argument("--patience", type=int, default=200)
    fit.add_argument("--accelerator", default="cpu")
    fit.add_argument("--devices", default=1, type=lambda v: int(v) if v.isdigit() else v)
    fit.add_argument("--strategy", default="auto", help="e.g. ddp")
    fit.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--output", help="run folder (default runs/pretrain-<dataset>); an unfinished run there resumes")
    p.add_argument("--no-resume", action="store_true", help="do not continue from the run folder's last.ckpt")
    p.add_argument("--name", help="register the trained parent under this name (see `atomsets models`)")
    p.add_argument("--weights-dir", default=None, help="models folder to register into (default: the cache)")
    p.add_argument("--offline", action="store_true", help="never download")
    p.add_argument("--force", action="store_true", help="start over in a finished run folder / replace a name")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_pretrain)

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
    if getattr(args, "config", None):
        # the file's values become the subcommand's defaults; flags still win
        values = _load_config_file(args.config)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[args.command]
        unknown = sorted(set(values) - {a.dest for a in sub._actions})
        if unknown:
            raise SystemExit(f"error: {args.config}: unknown option(s) {unknown}")
        sub.set_defaults(**values)
        args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:  # incl. AtomSetsInputError
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
