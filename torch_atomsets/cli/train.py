"""``atomsets train``: train a child on every split of a task, with Lightning's parser.

Options are the fields of :mod:`torch_atomsets.training.config` (``--task``, ``--model``,
``--n_neurons``, ...; dashes work too: ``--n-neurons``) plus every Lightning ``Trainer``
option as ``--trainer.NAME`` (``--trainer.max_epochs``, ``--trainer.devices``,
``--trainer.strategy``, ``--trainer.logger``, ``--trainer.callbacks``); ``--max-epochs``,
``--accelerator``, ``--devices``, ``--strategy``, ``--precision`` and ``--num-nodes`` are
short for their ``--trainer.`` forms. ``--config run.yaml`` reads the same options from a
file, and ``--print_config`` prints a complete file that ``--config`` accepts back.
``--preset NAME`` applies a named setting (``atomsets models`` lists them); options given
next to it win.
"""
from __future__ import annotations

import sys
from typing import List, Optional, Sequence

from ..training.config import TRAINER_SHORT_FORMS


def boolean_fields(option_classes: Sequence) -> set:
    """Names of the dataclass fields that are plain ``bool`` switches."""
    import dataclasses

    return {f.name for cls in option_classes for f in dataclasses.fields(cls) if f.type in (bool, "bool")}


def normalise_argv(argv: Sequence[str], short_forms: Sequence[str] = TRAINER_SHORT_FORMS,
                   switches: Sequence[str] = ()) -> List[str]:
    """``--n-neurons`` -> ``--n_neurons``, ``--max-epochs`` -> ``--trainer.max_epochs``, and a
    bare switch ``--quiet`` -> ``--quiet=true`` (option names only; values are left alone)."""
    out = []
    for k, arg in enumerate(argv):
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if "." not in name:
                name = name.replace("-", "_")
                if name in short_forms:
                    name = f"trainer.{name}"
                following = argv[k + 1] if k + 1 < len(argv) else None
                if name in switches and not eq and (following is None or following.startswith("-")):
                    eq, value = "=", "true"
            arg = f"--{name}{eq}{value}"
        out.append(arg)
    return out


def build_parser(prog: str, description: str, option_classes: Sequence, trainer_defaults: dict):
    """A Lightning argument parser with the dataclasses' fields at the top level and the
    Trainer's options under ``trainer.``."""
    import pytorch_lightning as pl
    from jsonargparse import ActionConfigFile
    from pytorch_lightning.cli import LightningArgumentParser

    parser = LightningArgumentParser(prog=prog, description=description, exit_on_error=False,
                                     default_env=False)
    parser.add_argument("-c", "--config", action=ActionConfigFile,
                        help="a YAML file of these options (write one with --print_config)")
    for cls in option_classes:
        parser.add_class_arguments(cls, nested_key=None, as_group=True)
    parser.add_lightning_class_args(pl.Trainer, "trainer")
    parser.set_defaults({f"trainer.{k}": v for k, v in trainer_defaults.items()})
    return parser


def expand_preset(argv: Sequence[str]) -> List[str]:
    """``--preset NAME`` -> the preset's options, placed first so that options given next to
    it win (:mod:`torch_atomsets.training.presets`)."""
    from ..training.presets import preset_arguments

    rest, presets = [], []
    argv = list(argv)
    k = 0
    while k < len(argv):
        arg = argv[k]
        if arg == "--preset" and k + 1 < len(argv):
            presets.append(argv[k + 1])
            k += 2
            continue
        if arg.startswith("--preset="):
            presets.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        k += 1
    return [a for name in presets for a in preset_arguments(name)] + rest


def parse(parser, argv: Sequence[str], option_classes: Sequence, short_forms: Sequence[str] = TRAINER_SHORT_FORMS):
    """Parse, turning the parser's errors into one line (exit 2) instead of a usage dump."""
    from jsonargparse import ArgumentError

    argv = expand_preset(argv)
    try:
        return parser.parse_args(normalise_argv(argv, short_forms, boolean_fields(option_classes)))
    except ArgumentError as exc:
        lines = str(exc).strip().splitlines()
        message = lines[0] if lines else str(exc)
        if "Problems parsing config" in message:
            files = [argv[k + 1] for k, a in enumerate(argv[:-1]) if a in ("-c", "--config")]
            message = f"{', '.join(files) or 'config'}: not valid YAML ({message.split(':', 1)[1].strip()})"
        print(f"error: {message}; see `{parser.prog} --help`", file=sys.stderr)
        raise SystemExit(2) from None


def trainer_values(cfg) -> dict:
    """The Trainer options of a parsed configuration, as plain values (class_path dicts for
    loggers and callbacks), without those left at Lightning's own defaults."""
    import inspect

    import pytorch_lightning as pl

    defaults = {k: p.default for k, p in inspect.signature(pl.Trainer.__init__).parameters.items()}
    values = cfg.trainer.as_dict() if hasattr(cfg.trainer, "as_dict") else dict(cfg.trainer)
    return {k: v for k, v in values.items() if k not in defaults or v != defaults[k]}


def processes(trainer: dict) -> int:
    """Processes this machine runs for these Trainer options (CPU DDP: one per device)."""
    devices = trainer.get("devices", 1)
    accelerator = str(trainer.get("accelerator", "auto"))
    if isinstance(devices, int) and devices > 1 and accelerator in ("cpu", "auto"):
        import torch

        if accelerator == "cpu" or not torch.cuda.is_available():
            return devices
    return 1


def train_parser():
    """The parser of ``atomsets train`` and the option classes it is built from."""
    from ..models.hyperparameters import ChildHyperparameters
    from ..training.config import (
        CHILD_TRAINER_DEFAULTS,
        DataOptions,
        ModelOptions,
        OptimisationOptions,
        RunOptions,
        SplitOptions,
    )

    classes = [DataOptions, SplitOptions, ModelOptions, ChildHyperparameters, OptimisationOptions, RunOptions]
    parser = build_parser("atomsets train", __doc__.split("\n\n")[0].split(": ", 1)[1], classes,
                          CHILD_TRAINER_DEFAULTS)
    return parser, classes


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser, classes = train_parser()
    cfg = parse(parser, list(sys.argv[1:] if argv is None else argv), classes)
    return run(cfg)


def run(cfg) -> int:
    from ..models.hyperparameters import ChildHyperparameters
    from ..models.registry import model_spec
    from ..training.config import (
        ChildConfig,
        DataOptions,
        ModelOptions,
        OptimisationOptions,
        RunOptions,
        SplitOptions,
        dataclass_values,
    )
    from ..training.runs import run_child
    from ..utils.threads import LAST_CHOICE
    from .common import apply_threads

    values = {k: v for k, v in vars(cfg).items() if k not in ("trainer", "config", "__default_config__")}
    data_options = dataclass_values(DataOptions, values)
    split_options = dataclass_values(SplitOptions, values)
    model = dataclass_values(ModelOptions, values)
    run_options = dataclass_values(RunOptions, values)
    trainer = trainer_values(cfg)
    spec = model_spec(model.model)
    if not spec.is_child and spec.kind != "finetune":
        from ..errors import ConfigError

        raise ConfigError(f"{model.model} is not a child model; train a MEGNet with `atomsets pretrain`")
    config = ChildConfig(model=model.model, hyper=dataclass_values(ChildHyperparameters, values),
                         optim=dataclass_values(OptimisationOptions, values), trainer=trainer, parent=model.parent)
    _check_trainer(config.trainer_options())
    threads = apply_threads(run_options.threads, processes(config.trainer_options()))
    data = data_options.load()
    splits, seeds = split_options.make(data)
    parent = None
    if spec.levels.needs_parent:
        from ..inference.parent import load_parent

        parent = load_parent(model.parent, model.weights_dir, allow_download=not data_options.offline)
    print(f"{data.name}: {len(data)} samples ({data.input_type}, {data.task_type}, fidelity: {data.fidelity}); "
          f"model {spec.name}; {len(splits)} split(s), protocol {split_options.protocol}; {threads} thread(s) "
          f"({LAST_CHOICE.get('reason', '')})")
    # The parent goes on by name, not as the object loaded above (that only named its key and
    # failed early): each split loads it after seeding, as train_child and every benchmark do,
    # so the same seed gives the same numbers from the command line and from Python.
    run = run_child(data, splits, seeds, config, run_options.results_dir, parent.key if parent else None,
                    split_options.protocol, force=run_options.force, parent=model.parent,
                    weights_dir=model.weights_dir,
                    allow_download=not data_options.offline, progress=not run_options.quiet, report=print)
    dropped = sorted({m for r in run.results for m in r.get("dropped", [])})
    if dropped:
        print(f"warning: {len(dropped)} sample(s) left out (the level cannot represent them); first: {dropped[0]}",
              file=sys.stderr)
    summary = run.summary()
    print(f"{data.name} {spec.name}: test {summary['metric']} {summary['mean']:.4g} ± {summary['std']:.4g} "
          f"{data.unit} over {summary['n_splits']} split(s); results in {run.folder}")
    return 0


def _check_trainer(options: dict) -> None:
    from ..errors import ConfigError

    max_epochs = options.get("max_epochs")
    if max_epochs is not None and max_epochs != -1 and max_epochs < 1:
        raise ConfigError(f"--max-epochs must be at least 1 (or -1 for no limit), got {max_epochs}")
