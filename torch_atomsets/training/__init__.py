"""Training runs: one source of configuration, and one runner (fit, test, predict, write)
for children and MEGNets alike."""
from ..lightning.quiet import quiet_lightning
from .child import train_child
from .config import (
                     CHILD_TRAINER_DEFAULTS,
                     MEGNET_TRAINER_DEFAULTS,
                     PAPER_PATIENCE,
                     ChildConfig,
                     DataOptions,
                     MEGNetConfig,
                     OptimisationOptions,
                     RunOptions,
                     SplitOptions,
                     parse_int_list,
)
from .ensemble import train_ensemble
from .finetune import train_model
from .parent import train_megnet
from .runner import fit_evaluate
from .runs import ChildRun, run_child

__all__ = ["CHILD_TRAINER_DEFAULTS", "ChildConfig", "ChildRun", "DataOptions", "MEGNET_TRAINER_DEFAULTS",
           "MEGNetConfig", "OptimisationOptions", "train_ensemble", "PAPER_PATIENCE", "RunOptions", "SplitOptions", "fit_evaluate",
           "parse_int_list", "quiet_lightning", "run_child", "train_child", "train_megnet", "train_model"]
