"""One source of configuration for training runs.

The command line (``atomsets train`` / ``pretrain``), their YAML files (``--config``,
``--print_config``) and the benchmark scripts all build runs from these dataclasses; each
default is written once, here or where the thing it configures lives (the architecture of
a child in :mod:`torch_atomsets.models.hyperparameters`, batch size and learning rate by
task type in :mod:`torch_atomsets.lightning.base`).

Options of the Lightning ``Trainer`` (``max_epochs``, ``accelerator``, ``devices``,
``strategy``, ``precision``, loggers, callbacks, ...) are passed through as a dict; the
defaults a run starts from are :data:`CHILD_TRAINER_DEFAULTS` and
:data:`MEGNET_TRAINER_DEFAULTS`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional, Union

from ..errors import ConfigError
from ..lightning.base import LOSSES, OPTIMIZERS, SCHEDULERS, TARGET_TRANSFORMS
from ..models.hyperparameters import ChildHyperparameters

#: The paper's early-stopping patience (epochs without a better validation metric).
PAPER_PATIENCE = 200
DEFAULT_MODEL = "AtomSets-V0"
PROTOCOLS = ("paper", "matbench")

#: Trainer settings every child run starts from (the paper's budget: stop early, at most
#: 10,000 epochs); anything given on the command line or in a file replaces them.
CHILD_TRAINER_DEFAULTS: Dict[str, Any] = {"max_epochs": 10000, "accelerator": "auto", "devices": 1,
                                          "deterministic": True, "num_sanity_val_steps": 0,
                                          "enable_model_summary": False, "logger": True}
#: Trainer settings of a MEGNet run (parent pretraining or the from-scratch baseline).
MEGNET_TRAINER_DEFAULTS: Dict[str, Any] = {"max_epochs": 1000, "accelerator": "auto", "devices": 1,
                                           "num_sanity_val_steps": 0, "enable_model_summary": False,
                                           "logger": True}
#: Trainer options that may be given without ``trainer.`` (``--max-epochs`` on the command line).
TRAINER_SHORT_FORMS = ("max_epochs", "accelerator", "devices", "strategy", "precision", "num_nodes")
#: Trainer options that do not change a run's numbers (left out of its identity).
NOT_IN_IDENTITY = ("logger", "enable_progress_bar", "enable_model_summary", "default_root_dir", "log_every_n_steps",
                   "profiler", "enable_checkpointing")


@dataclass
class DataOptions:
    """Where the samples come from: a named task, or a user's CSV.

    Args:
        task: MatBench task or extra dataset (``steels``, ``matbench_phonons``,
            ``matbench_mp_e_form_approx``).
        csv: a user's table: a formula or structure-file column and a target column.
        target: the target column of ``csv``.
        input_column: the input column of ``csv`` (default: formula, composition,
            structure, path, file or cif).
        task_type: ``regression`` or ``classification`` (``csv`` only).
        unit: the unit of the ``csv`` target, for reports.
        data_dir: folder holding ``matbench/<task>.json.gz`` (default:
            ``$TORCH_ATOMSETS_DATA``, ``<home>/data``, the download cache).
        offline: never download data or weights.
    """

    task: Optional[str] = None
    csv: Optional[str] = None
    target: Optional[str] = None
    input_column: Optional[str] = None
    task_type: str = "regression"
    unit: str = ""
    data_dir: Optional[str] = None
    offline: bool = False

    def load(self):
        """The dataset these options name (a :class:`MaterialsData`)."""
        from ..data.datasets.matbench import load_task
        from ..data.datasets.user import load_csv

        if bool(self.task) == bool(self.csv):
            raise ConfigError("give either --task NAME (a MatBench task or extra dataset) or --csv FILE with --target")
        if self.csv:
            if not self.target:
                raise ConfigError("--csv needs --target COLUMN (the column to learn)")
            return load_csv(self.csv, self.target, self.input_column, self.task_type, self.unit)
        return load_task(self.task, self.data_dir, allow_download=not self.offline)


@dataclass
class ModelOptions:
    """Which child, and the parent it learns from.

    Args:
        model: AtomSets, AtomSets-V0..V3, MLP-V0-stats, MLP-u1..u3, MLP-f, MLP-v_r, or any
            AtomSets-<levels> / MLP-<levels> (e.g. AtomSets-V0+V1), GBT-<levels> (boosted trees on
            per-structure levels, e.g. GBT-V0-stats+E-stats); `atomsets models` lists them.
        parent: the parent whose features the child reads: a published name (default
            mp-2019.4.1), a name registered by `atomsets pretrain --name`, or a file.
        weights_dir: folder holding the parent's weights.
    """

    model: str = DEFAULT_MODEL
    parent: Optional[str] = None
    weights_dir: Optional[str] = None


@dataclass
class SplitOptions:
    """How samples are split.

    Args:
        protocol: ``paper`` (random 80/10/10, one split per seed) or ``matbench`` (the
            official 5 folds, validation carved from each training fold).
        seeds: paper protocol seeds: ``0-4``, ``0,2``, ``3``, or a list.
        folds: MatBench folds to run (default all: ``0-4``).
    """

    protocol: str = "paper"
    seeds: Union[int, str, List[int]] = "0-4"
    folds: Union[int, str, List[int], None] = None

    def make(self, data) -> tuple:
        """``(splits, seeds)`` of ``data``: one per paper seed, or per MatBench fold (whose
        seed is the fold number)."""
        from ..data.datasets.splits import make_splits

        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {self.protocol!r}")
        if self.protocol == "paper":
            seeds = parse_int_list(self.seeds, "seeds")
            return make_splits(data, "paper", seeds=seeds), seeds
        folds = parse_int_list(self.folds, "folds") if self.folds is not None else list(range(5))
        if any(k > 4 for k in folds):
            raise ConfigError(f"folds: MatBench has folds 0-4, got {folds}")
        return make_splits(data, "matbench", folds=folds), folds


@dataclass
class OptimisationOptions:
    """How a child is trained.

    Args:
        batch_size: samples per batch (default: 16 for regression, 128 for classification).
        learning_rate: Adam's learning rate (default: 3e-3 for regression, 1e-3 for
            classification); for GBT children the boosting shrinkage (default 0.05).
        weight_decay: the optimiser's weight decay.
        loss: regression loss: ``mae``, ``mse`` or ``huber`` (GBT: ``mae`` or ``mse``).
        optimizer: ``adam``, ``adamw`` or ``sgd``.
        scheduler: ``none``, ``plateau`` or ``cosine``.
        patience: early stopping: epochs (GBT: boosting rounds) without a better validation
            metric (paper: 200).
        target_transform: regression only: learn ``log1p(y)`` (``log1p``) or ``log(y)``
            (``log``) instead of ``y``; predictions stay in the target's unit.
        ensemble: train this many children per split (different seeds and validation parts)
            and predict their mean, with their spread as an uncertainty.
    """

    batch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    weight_decay: float = 0.0
    loss: str = "mae"
    optimizer: str = "adam"
    scheduler: str = "none"
    patience: int = PAPER_PATIENCE
    target_transform: str = "none"
    ensemble: int = 1

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.patience < 1:
            raise ConfigError(f"patience must be at least 1 epoch, got {self.patience}")
        if self.ensemble < 1:
            raise ConfigError(f"ensemble must be at least 1 member, got {self.ensemble}")
        if self.target_transform not in TARGET_TRANSFORMS:
            raise ConfigError(f"target_transform must be one of {', '.join(TARGET_TRANSFORMS)}, got "
                              f"{self.target_transform!r}")


@dataclass
class RunOptions:
    """Where results go and how the run behaves (none of it changes the numbers).

    Args:
        results_dir: runs are written to ``<results_dir>/<dataset>/<model>-<id>/<split>/``.
        force: redo splits that already have results for this configuration.
        threads: torch threads per process (default: the cores left free by other work,
            shared among this run's processes).
        quiet: no progress bars.
    """

    results_dir: str = "results"
    force: bool = False
    threads: Optional[int] = None
    quiet: bool = False


@dataclass
class ChildConfig:
    """Everything that defines a child run but the data and the split."""

    model: str = DEFAULT_MODEL
    hyper: ChildHyperparameters = field(default_factory=ChildHyperparameters)
    optim: OptimisationOptions = field(default_factory=OptimisationOptions)
    trainer: Dict[str, Any] = field(default_factory=dict)
    parent: Optional[str] = None

    @classmethod
    def of(cls, **options) -> "ChildConfig":
        """A config from flat options, named as on the command line: ``model``,
        ``parent``, the fields of :class:`ChildHyperparameters` and
        :class:`OptimisationOptions`, Trainer options (``max_epochs``, ``accelerator``,
        ``devices``, ``strategy``, ``precision``, or a ``trainer`` dict)."""
        hyper_names = {f.name for f in fields(ChildHyperparameters)}
        optim_names = {f.name for f in fields(OptimisationOptions)}
        hyper, optim, trainer = {}, {}, dict(options.pop("trainer", None) or {})
        top = {k: options.pop(k) for k in ("model", "parent") if k in options}
        for key, value in options.items():
            if key in hyper_names:
                hyper[key] = value
            elif key in optim_names:
                optim[key] = value
            elif key in TRAINER_SHORT_FORMS:
                trainer[key] = value
            else:
                raise ConfigError(f"unknown child option {key!r}")
        return cls(hyper=ChildHyperparameters(**hyper), optim=OptimisationOptions(**optim), trainer=trainer, **top)

    def trainer_options(self) -> Dict[str, Any]:
        """:data:`CHILD_TRAINER_DEFAULTS` updated with ``trainer``."""
        return {**CHILD_TRAINER_DEFAULTS, **self.trainer}

    def as_dict(self) -> Dict[str, Any]:
        out = asdict(self)
        out["trainer"] = identity_trainer_options(self.trainer_options())
        return out


@dataclass
class MEGNetConfig:
    """A MEGNet run (parent pretraining, or the from-scratch baseline).

    Args:
        model: :class:`~torch_atomsets.models.MEGNet` keyword arguments over the paper's
            parent (3 blocks, 5 A, 100 Gaussians, Set2Set).
        batch_size: structures per batch (128, as megnet).
        learning_rate, loss, optimizer, weight_decay, scheduler, scheduler_patience:
            optimisation (Adam 1e-3, MAE, halving after 20 epochs without progress).
        patience: early stopping (epochs).
        normalise_targets: train on standardised targets.
        init_from: fine-tune from this parent (name or path).
        compress_graphs: on a CPU, step on each batch's symmetry-compressed graph (the same
            losses and gradients to float32 rounding, about 2x faster; see
            :class:`~torch_atomsets.lightning.MEGNetModule`).
        trainer: Lightning Trainer options over :data:`MEGNET_TRAINER_DEFAULTS`.
    """

    model: Dict[str, Any] = field(default_factory=dict)
    batch_size: int = 128
    learning_rate: float = 1e-3
    loss: str = "mae"
    optimizer: str = "adam"
    weight_decay: float = 0.0
    scheduler: str = "plateau"
    scheduler_patience: int = 20
    patience: int = PAPER_PATIENCE
    normalise_targets: bool = True
    init_from: Optional[str] = None
    compress_graphs: bool = True
    trainer: Dict[str, Any] = field(default_factory=dict)

    def trainer_options(self) -> Dict[str, Any]:
        return {**MEGNET_TRAINER_DEFAULTS, **self.trainer}

    def as_dict(self) -> Dict[str, Any]:
        out = asdict(self)
        out["trainer"] = identity_trainer_options(self.trainer_options())
        return out


@dataclass
class PretrainOptions:
    """Where a MEGNet run goes and what happens to its result.

    Args:
        seed: seed of the random 80/10/10 split and of training.
        output: the run folder (default ``runs/pretrain-<dataset>``); an unfinished run
            there is continued.
        no_resume: start over instead of continuing from the folder's ``last.ckpt``.
        name: register the trained parent under this name (see ``atomsets models``).
        weights_dir: models folder to register into (default: the cache's).
        force: start over in a finished run folder, or replace a registered name.
        threads: torch threads per process (default: the cores left free by other work).
        quiet: no progress bars.
    """

    seed: int = 0
    output: Optional[str] = None
    no_resume: bool = False
    name: Optional[str] = None
    weights_dir: Optional[str] = None
    force: bool = False
    threads: Optional[int] = None
    quiet: bool = False


def identity_trainer_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """The Trainer options that can change a run's numbers, as plain values."""
    out = {}
    for key, value in sorted(options.items()):
        if key in NOT_IN_IDENTITY:
            continue
        out[key] = value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else repr(value)
    return out


def instantiate(value: Any) -> Any:
    """Objects from ``{"class_path": ..., "init_args": {...}}`` configurations (as
    jsonargparse and LightningCLI write them), recursively through lists; other values as
    they are."""
    if isinstance(value, list):
        return [instantiate(v) for v in value]
    if isinstance(value, dict) and "class_path" in value:
        import importlib

        module_name, _, class_name = value["class_path"].rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot import {value['class_path']!r} ({exc})") from None
        args = {k: instantiate(v) for k, v in (value.get("init_args") or {}).items()}
        return cls(**args)
    return value


def parse_int_list(value: Union[None, int, str, List[int]], what: str) -> Optional[List[int]]:
    """``3``, ``"0-4"``, ``"0,2,5-6"`` or ``[0, 1]`` as a list of ints (``None`` stays
    ``None``); clear errors for ``"3-1"``, ``"abc"`` and negatives."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected numbers like 0-4 or 0,2, got {value!r}")
    if isinstance(value, int):
        values = [value]
    elif isinstance(value, (list, tuple)):
        values = []
        for item in value:
            values += parse_int_list(item, what)
    else:
        values = []
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            low, dash, high = part.partition("-")
            try:
                bounds = [int(low), int(high)] if dash else [int(part)]
            except ValueError:
                raise ConfigError(f"{what}: {part!r} is not a number or a range like 0-4") from None
            if len(bounds) == 2 and bounds[1] < bounds[0]:
                raise ConfigError(f"{what}: range {part!r} runs backwards; write {bounds[1]}-{bounds[0]}")
            values += list(range(bounds[0], bounds[-1] + 1))
    if not values:
        raise ConfigError(f"{what}: no value given")
    if any(v < 0 for v in values):
        raise ConfigError(f"{what}: values must be 0 or more, got {value!r}")
    return list(dict.fromkeys(values))


def dataclass_values(cls, values: Dict[str, Any]):
    """An instance of dataclass ``cls`` from the keys of ``values`` that are its fields."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


__all__ = ["CHILD_TRAINER_DEFAULTS", "ChildConfig", "DEFAULT_MODEL", "DataOptions", "ModelOptions", "MEGNET_TRAINER_DEFAULTS", "MEGNetConfig",
           "OptimisationOptions", "PAPER_PATIENCE", "PretrainOptions", "RunOptions", "SplitOptions", "dataclass_values",
           "identity_trainer_options", "instantiate", "parse_int_list"]
