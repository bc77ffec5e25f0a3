"""Datasets: MatBench tasks and extras, users' CSV tables, and their splits."""
from .matbench import (
           EXTRA_DATASETS,
           MATBENCH_SEED,
           TASKS,
           MatbenchTask,
           known_names,
           load_task,
           resolve_task_name,
)
from .splits import Split, carve_validation, make_splits, matbench_folds, paper_split
from .table import MaterialsData, parse_targets
from .user import load_csv

__all__ = ["EXTRA_DATASETS", "MATBENCH_SEED", "TASKS", "MaterialsData", "MatbenchTask", "Split",
           "carve_validation", "known_names", "load_csv", "load_task", "make_splits", "matbench_folds",
           "paper_split", "parse_targets", "resolve_task_name"]
