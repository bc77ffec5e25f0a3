"""``atomsets pretrain``: train a MEGNet parent on structures, resumably, with Lightning's parser.

Options: the data (``--task`` / ``--csv``), the architecture as ``--model.NAME`` (every
argument of :class:`~torch_atomsets.models.MEGNet`, default the paper's parent; short
forms ``--blocks``, ``--cutoff``, ``--gaussians``, ``--gaussian-stop``,
``--set2set-steps``), the optimisation (``--batch_size``, ``--learning_rate``,
``--scheduler``, ``--patience``, ``--init_from``), the run (``--output``, ``--name``,
``--seed``) and every Trainer option as ``--trainer.NAME`` (``--max-time``, ``--accelerator``,
``--devices``, ``--strategy``, ``--num-nodes`` for short). ``--config`` / ``--print_config``
as for ``atomsets train``.
"""
from __future__ import annotations

import os
import sys
from typing import Optional, Sequence

from .train import TRAINER_SHORT_FORMS, build_parser, parse, processes, trainer_values

#: Short forms of the architecture options (the names of 0.1's flags).
ARCHITECTURE_SHORT_FORMS = {"blocks": "model.num_blocks", "cutoff": "model.cutoff",
                            "gaussians": "model.num_gaussians", "gaussian_stop": "model.gaussian_stop",
                            "set2set_steps": "model.set2set_steps"}


def main(argv: Optional[Sequence[str]] = None) -> int:
    from ..models.megnet import MEGNet
    from ..training.config import MEGNET_TRAINER_DEFAULTS, DataOptions, MEGNetConfig, PretrainOptions

    argv = list(sys.argv[1:] if argv is None else argv)
    renamed = []
    for arg in argv:
        name, eq, value = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        key = name.replace("-", "_")
        renamed.append(f"--{ARCHITECTURE_SHORT_FORMS[key]}{eq}{value}" if key in ARCHITECTURE_SHORT_FORMS else arg)
    classes = [DataOptions, PretrainOptions]
    parser = build_parser("atomsets pretrain", "train a MEGNet parent on structures (resumable; DDP through "
                                               "Lightning)", classes, MEGNET_TRAINER_DEFAULTS)
    parser.add_class_arguments(MEGNetConfig, nested_key=None, as_group=True, skip={"model", "trainer"})
    parser.add_class_arguments(MEGNet, nested_key="model", as_group=True)
    cfg = parse(parser, renamed, classes + [MEGNetConfig], TRAINER_SHORT_FORMS + ("max_time",))
    return run(cfg)


def _model_overrides(cfg) -> dict:
    """The architecture options that differ from MEGNet's defaults."""
    import inspect

    from ..models.megnet import MEGNet

    defaults = {k: p.default for k, p in inspect.signature(MEGNet.__init__).parameters.items()}
    values = cfg.model.as_dict() if hasattr(cfg.model, "as_dict") else dict(cfg.model)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()
            if k in defaults and v != defaults[k] and not (isinstance(v, (list, tuple)) and
                                                         list(v) == list(defaults[k] or []))}


def run(cfg) -> int:
    from ..data.datasets.splits import paper_split
    from ..errors import ConfigError
    from ..hub.parents import register_parent
    from ..training.config import DataOptions, MEGNetConfig, PretrainOptions, dataclass_values
    from ..training.parent import PARENT_FILE, train_megnet
    from .common import apply_threads

    values = {k: v for k, v in vars(cfg).items() if k not in ("trainer", "model", "config", "__default_config__")}
    data_options = dataclass_values(DataOptions, values)
    options = dataclass_values(PretrainOptions, values)
    config = dataclass_values(MEGNetConfig, values)
    config.model = _model_overrides(cfg)
    config.trainer = trainer_values(cfg)
    threads = apply_threads(options.threads, processes(config.trainer_options()))
    data = data_options.load()
    if data.input_type != "structure":
        raise ConfigError(f"{data.name} holds compositions; a MEGNet parent needs crystal structures")
    output = options.output or os.path.join("runs", f"pretrain-{data.name}")
    finished = os.path.exists(os.path.join(output, PARENT_FILE))
    resumable = os.path.exists(os.path.join(output, "last.ckpt")) and not options.no_resume
    if finished and not options.force:
        raise ConfigError(f"{output} holds a finished run; use --force to start over, or another --output")
    if finished or (options.no_resume and os.path.exists(output)):
        if os.listdir(output) and not options.force:
            raise ConfigError(f"{output} holds an unfinished run; drop --no_resume to continue it, or add --force "
                              "to start over")
        import shutil

        shutil.rmtree(output)
        resumable = False
    split = paper_split(len(data), options.seed)
    print(f"{data.name}: {len(data)} structures ({data.fidelity}); split seed {options.seed}; output {output}; "
          f"{threads} thread(s)" + ("; resuming from last.ckpt" if resumable else ""))
    result = train_megnet(data, split, config, seed=options.seed, run_dir=output, resume=True,
                          progress=not options.quiet)
    print(f"test MAE {result['test']:.4g} {data.unit} (val {result['val']:.4g}; best epoch {result['best_epoch']} of "
          f"{result['epochs']}; {result['seconds_per_epoch']:.1f} s/epoch); parent: {result.get('parent')}")
    if options.name and result.get("parent"):
        target = register_parent(result["parent"], options.name, options.weights_dir, overwrite=options.force)
        print(f"registered as {options.name!r} ({target}); use it with --parent {options.name} / --model "
              f"{options.name}")
    return 0
