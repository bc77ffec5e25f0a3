"""Lightning: one module base (steps, losses, metrics, optimiser) with the child and parent
modules on it, their data modules, and callbacks."""
from .base import LOSSES, TASK_TYPE_DEFAULTS, AtomSetsModule
from .callbacks import EpochTimer, InterruptRecorder, ProbabilityCalibration, fit_platt
from .child import ChildModule
from .datamodules import ChildDataModule, GraphDataModule
from .finetune import FineTuneModule
from .parent import MEGNetModule

__all__ = ["LOSSES", "TASK_TYPE_DEFAULTS", "AtomSetsModule", "ChildDataModule", "ChildModule", "EpochTimer", "FineTuneModule",
           "GraphDataModule", "InterruptRecorder", "MEGNetModule", "ProbabilityCalibration", "fit_platt"]
