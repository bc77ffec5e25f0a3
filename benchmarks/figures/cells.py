"""The engine of the figure benchmarks (fig2.py, fig3.py, fig4.py, grid.py): a *cell* is one
model trained on one deterministic split of one dataset, with a budget; each finished cell
is one JSON file with its scores (test predictions where the figure plots them) and provenance, so every figure can be
filled over several sessions, drawn from whatever cells exist, and never redoes one.

A figure script says which cells it wants (``Cell``), how to split a dataset for a cell
(``parts``: named position arrays ``train``, ``val`` and one or more test sets), and how
to draw the figure from the records.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pool import run_jobs  # noqa: E402
from provenance import RESULTS, provenance  # noqa: E402

#: Budgets. "paper": the paper's (patience 200, up to 10,000 epochs; MEGNet up to 1,000).
#: Anything else is a reduced budget and is marked as such in every table and figure.
BUDGETS = {"paper": {"patience": 200, "max_epochs": 10000, "megnet_max_epochs": 1000},
           "megnet-300": {"patience": 200, "max_epochs": 10000, "megnet_max_epochs": 300},
           "quick": {"patience": 50, "max_epochs": 2000, "megnet_max_epochs": 100}}
#: Training parts larger than this use batch 128 (the reference implementation's default),
#: smaller ones the package's default by task type.
LARGE_TRAINING_PART = 10000


@dataclass
class Cell:
    figure: str
    dataset: str
    model: str
    key: str  # what distinguishes the cell within (figure, dataset, model): size, fraction, draw...
    seed: int
    budget: str = "paper"
    options: Dict = field(default_factory=dict)  # extra ChildConfig.of options (grid)
    #: Keep the test predictions in the record (Fig. 4 plots them; elsewhere the scores are
    #: enough and ~10,000 predictions per cell would make the results folders large).
    keep_predictions: bool = False

    def path(self) -> str:
        safe = self.model.replace("/", "_")
        return os.path.join(RESULTS, self.figure, "runs", self.dataset, safe, f"{self.key}.json")

    def done(self) -> bool:
        return os.path.exists(self.path())


def run_cell(cell: Cell, parts: Dict[str, np.ndarray], data, threads: int = 1) -> dict:
    """Train ``cell.model`` on ``parts['train']`` with early stopping on ``parts['val']``,
    score every other part (a test set), and write the record."""
    import torch

    torch.set_num_threads(threads)
    from torch_atomsets.data.datasets import Split
    from torch_atomsets.training import ChildConfig, MEGNetConfig, train_child, train_megnet
    from torch_atomsets.training.metrics import score

    tests = {name: np.sort(p) for name, p in parts.items() if name not in ("train", "val")}
    split = Split(np.sort(parts["train"]), np.sort(parts["val"]), np.sort(np.concatenate(list(tests.values()))),
                  name=cell.key)
    budget = BUDGETS[cell.budget]
    options = dict(cell.options)
    if len(split.train) > LARGE_TRAINING_PART:
        options.setdefault("batch_size", 128)
    start = time.perf_counter()
    if cell.model == "MEGNet":
        trainer = {"max_epochs": budget["megnet_max_epochs"], "logger": False}
        config = MEGNetConfig(patience=budget["patience"], batch_size=options.get("batch_size", 128), trainer=trainer)
        result = train_megnet(data, split, config, seed=cell.seed)
        max_epochs = budget["megnet_max_epochs"]
    else:
        config = ChildConfig.of(model=cell.model, patience=budget["patience"], max_epochs=budget["max_epochs"],
                                trainer={"logger": False}, **options)
        result = train_child(data, split, config, seed=cell.seed)
        max_epochs = budget["max_epochs"]
    predicted = dict(zip(result["predictions"]["positions"], result["predictions"]["prediction"]))
    scores, predictions = {}, {}
    for name, positions in tests.items():
        kept = [p for p in positions.tolist() if p in predicted]
        values = np.array([predicted[p] for p in kept])
        scores[name] = score(data.task_type, data.targets[kept], values) if kept else float("nan")
        predictions[name] = {"index": data.index[kept].tolist(), "target": data.targets[kept].tolist(),
                             "prediction": values.tolist()}
    record = dict(asdict(cell), dataset_fidelity=data.fidelity, metric=result["metric"], scores=scores,
                  val=result["val"], epochs=result["epochs"], best_epoch=result.get("best_epoch"),
                  n_train=result["n_train"], n_val=result["n_val"], max_epochs=max_epochs,
                  max_epochs_reached=result.get("max_epochs_reached"), seconds=time.perf_counter() - start,
                  batch_size=options.get("batch_size"), provenance=provenance(threads=threads))
    if cell.keep_predictions:
        record["predictions"] = predictions
    path = cell.path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as handle:
        json.dump(record, handle)
    os.replace(path + ".tmp", path)
    return record


_DATA: Dict[str, object] = {}


def dataset(name: str):
    from torch_atomsets.data.datasets import load_task

    if name not in _DATA:
        _DATA[name] = load_task(name, allow_download=False)
    return _DATA[name]


def _worker(payload):
    module, cell, threads = payload
    import importlib

    figure = importlib.import_module(module)
    data = dataset(cell.dataset)
    return run_cell(cell, figure.parts(data, cell), data, threads)


def run_all(cells: List[Cell], module: str, jobs: int = 1, threads: int = 1, describe: Optional[Callable] = None):
    """Run the cells not done yet (``jobs`` processes, ``threads`` each), in order; returns
    the number of cells that failed."""
    todo = [c for c in cells if not c.done()]
    print(f"{len(todo)} of {len(cells)} cells to run ({jobs} at a time, {threads} thread(s) each)")
    if not todo:
        return 0

    def finished(cell, record):
        return (f"{cell.dataset} {cell.model} {cell.key}: " + ", ".join(f"{k} {v:.4g}" for k, v in record["scores"].items())
                + f" ({record['seconds']:.0f} s)")

    return run_jobs(_worker, [(module, cell, threads) for cell in todo], jobs,
                    lambda payload, record: finished(payload[1], record),
                    lambda payload: f"{payload[1].dataset} {payload[1].model} {payload[1].key}", unit="cell")


def figure_parser(doc: str, datasets=None, models=None, draws: Optional[int] = None):
    """The command line every figure script shares: what to run (``--datasets``,
    ``--models``, ``--draws``, ``--budget``), how (``--jobs``, ``--threads``) or only the
    report from finished cells (``--report``)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    if datasets is not None:
        parser.add_argument("--datasets", default=",".join(datasets))
    if models is not None:
        parser.add_argument("--models", default=",".join(models))
    if draws is not None:
        parser.add_argument("--draws", default=f"0-{draws - 1}")
    parser.add_argument("--budget", default="paper", help=f"{', '.join(BUDGETS)} (all but paper marked as reduced)")
    parser.add_argument("--jobs", type=int, default=1, help="cells in parallel (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell (default 1)")
    parser.add_argument("--report", action="store_true", help="only the results file and figure, from finished cells")
    return parser


def save_figure(fig, path: str, dpi: int = 100) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def records(figure: str) -> List[dict]:
    out = []
    base = os.path.join(RESULTS, figure, "runs")
    for root, _, files in os.walk(base):
        for name in sorted(files):
            if name.endswith(".json"):
                with open(os.path.join(root, name)) as handle:
                    out.append(json.load(handle))
    return out


def summarise(values: List[float]) -> Dict[str, float]:
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std()), "n": int(len(values))}


def cell_mean(table: List[dict], axis: str, dataset: str, model: str, value) -> Optional[float]:
    """The mean over draws of (dataset, model) at ``axis`` == ``value`` in a report table."""
    for row in table:
        if (row["dataset"], row["model"], row[axis]) == (dataset, model, value):
            return row["mean"]
    return None


def count_ahead(table: List[dict], axis: str, datasets, ahead: str, behind: str, higher_is_better=lambda d: False):
    """How many (dataset, ``axis`` value) pairs that have both models put ``ahead`` before
    ``behind`` (lower MAE, or higher AUC where ``higher_is_better(dataset)``): a verdict
    string, or None where no pair has both."""
    verdicts = []
    for d in datasets:
        for value in sorted({row[axis] for row in table if row["dataset"] == d}):
            a, b = cell_mean(table, axis, d, ahead, value), cell_mean(table, axis, d, behind, value)
            if a is not None and b is not None:
                verdicts.append(a > b if higher_is_better(d) else a < b)
    return None if not verdicts else f"{sum(verdicts)} of {len(verdicts)} (dataset, {axis}) pairs"


def model_is_structural(model: str) -> bool:
    from torch_atomsets.models import model_spec

    return model == "MEGNet" or model_spec(model).levels.needs_forward
