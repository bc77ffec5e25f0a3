"""Training a ``GBT-<levels>`` child: gradient-boosted trees on frozen per-structure features.

The trees are grown by scikit-learn's ``HistGradientBoostingRegressor`` /
``HistGradientBoostingClassifier`` (leaves of at most 31 nodes, at least 20 samples each,
256 bins) on the same feature store, split and target scaling as an MLP child, and stopped
early like one: boosting rounds play the part of epochs, each round is scored on the
validation part, and growth stops ``patience`` rounds after the best (at most
``max_epochs`` rounds); the trees up to the best round are kept. The learning rate is the
boosting shrinkage (default :data:`DEFAULT_LEARNING_RATE`); the loss is ``mae``
(absolute error) or ``mse`` (squared error) for regression, log-loss for classification.
A classifier's probabilities are Platt-scaled on the validation part, as a network child's.

The result is an ordinary :class:`~torch_atomsets.lightning.ChildModule` whose network is a
:class:`~torch_atomsets.models.trees.GradientBoostedTrees` (tensors only), written as
``best.ckpt`` with ``metrics.json`` and ``predictions.csv`` like any child's split.
"""
from __future__ import annotations

import os
import shutil
import time
from typing import Any, Dict, Optional

import numpy as np
import pytorch_lightning as pl
import torch

from ..data.datasets.splits import Split
from ..data.datasets.table import MaterialsData
from ..errors import ConfigError, TargetError
from ..hub.checkpoints import CHILD, mark_checkpoint
from ..lightning.base import TARGET_TRANSFORMS
from ..lightning.callbacks import fit_platt
from ..lightning.child import ChildModule
from ..models.trees import GradientBoostedTrees
from ..utils.files import write_json
from .child import _classification_scores, child_datamodule, run_info
from .config import ChildConfig
from .metrics import score
from .runner import METRICS_FILE, write_predictions

#: Boosting shrinkage when no learning rate is given.
DEFAULT_LEARNING_RATE = 0.05
#: Rounds grown between two looks at the validation score.
ROUNDS_PER_STEP = 50
#: Training samples per OpenMP thread: below this, threads cost more than they give
#: (a round on a few thousand samples takes milliseconds).
SAMPLES_PER_THREAD = 5000
LOSSES = {"mae": "absolute_error", "mse": "squared_error"}


def _estimator(task_type: str, loss: str, learning_rate: float, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    options = dict(learning_rate=learning_rate, max_iter=0, warm_start=True, early_stopping=False,
                   random_state=seed)
    if task_type == "classification":
        return HistGradientBoostingClassifier(**options)
    if loss not in LOSSES:
        raise ConfigError(f"GBT children train with loss mae or mse, not {loss!r}")
    return HistGradientBoostingRegressor(loss=LOSSES[loss], **options)


def _check_options(config: ChildConfig) -> None:
    o = config.optim
    unused = [f"--{name} {value}" for name, value, default in
              (("optimizer", o.optimizer, "adam"), ("scheduler", o.scheduler, "none"),
               ("weight_decay", o.weight_decay, 0.0)) if value != default]
    if unused:
        raise ConfigError(f"{config.model}: boosted trees have no {', '.join(unused)} (they take --learning_rate, "
                          "--loss mae/mse, --target_transform, --patience and --max_epochs as boosting rounds)")


def train_trees(data: MaterialsData, split: Split, config: ChildConfig, seed: int = 0,
                run_dir: Optional[str] = None, parent=None, weights_dir: Optional[str] = None,
                allow_download: bool = True, progress: bool = False, record: Optional[Dict[str, Any]] = None,
                callbacks=(), test: bool = True) -> Dict[str, Any]:
    """Grow ``config.model`` (a ``GBT-<levels>`` child) on ``split.train`` with early stopping
    on ``split.val`` and evaluate it on ``split.test`` (see the module docstring).

    Returns the same result dict as :func:`~torch_atomsets.training.train_child` (boosting
    rounds for epochs); with ``run_dir`` the split's folder gets ``best.ckpt``,
    ``metrics.json`` and ``predictions.csv``. ``test=False`` never touches ``split.test``.
    The same ``seed`` gives the same trees.
    """
    from threadpoolctl import threadpool_limits

    _check_options(config)
    if callbacks:
        raise ConfigError(f"{config.model}: boosted trees are not trained by a Lightning Trainer and take no callbacks")
    pl.seed_everything(seed, workers=True, verbose=False)
    datamodule = child_datamodule(data, split, config, parent, weights_dir, allow_download, progress)
    datamodule.setup("fit")
    o = config.optim
    transform = o.target_transform if data.task_type == "regression" else "none"
    facts = datamodule.facts(transform)
    store, positions = datamodule.store, datamodule.positions
    x = {part: store.x[torch.from_numpy(positions[part])].float() for part in positions}
    y = {part: data.targets[positions[part]].astype(np.float64) for part in positions}
    forward, inverse = TARGET_TRANSFORMS[transform]
    if data.task_type == "regression":
        fit_target = ((forward(torch.as_tensor(y["train"])) - facts["target_mean"]) / facts["target_std"]).numpy()
    else:
        fit_target = y["train"].astype(int)
        classes = np.unique(fit_target)
        if len(classes) < 2:
            raise TargetError(f"{config.model} on {data.name}: all {len(fit_target)} training samples are of class "
                              f"{int(classes[0])}; boosted trees need both classes (0 and 1) in the training part")
    learning_rate = o.learning_rate or DEFAULT_LEARNING_RATE
    max_rounds = int(config.trainer_options().get("max_epochs") or 10000)
    estimator = _estimator(data.task_type, o.loss, learning_rate, seed)

    def unit(raw: np.ndarray) -> np.ndarray:  # raw output -> what the validation score reads
        if data.task_type == "classification":
            return raw
        scaled = torch.as_tensor(raw, dtype=torch.float64) * facts["target_std"] + facts["target_mean"]
        return inverse(scaled).numpy()

    x_train, x_val = x["train"].numpy().astype(np.float64), x["val"]
    raw_val, scores, baseline = None, [], 0.0
    start = time.perf_counter()
    threads = max(1, min(torch.get_num_threads(), len(x_train) // SAMPLES_PER_THREAD))
    with threadpool_limits(limits=threads):
        while len(scores) < max_rounds:
            estimator.max_iter = min(len(scores) + ROUNDS_PER_STEP, max_rounds)
            estimator.fit(x_train, fit_target)
            new = [trees[0] for trees in estimator._predictors[len(scores):]]
            if not new:
                break
            baseline = float(np.ravel(estimator._baseline_prediction)[0])
            step = GradientBoostedTrees(x_val.shape[1], *GradientBoostedTrees.shape_of(new)).load_trees(new, 0.0)
            with torch.no_grad():
                cumulative = np.cumsum(step.contributions(x_val).double().numpy(), axis=1)
            if raw_val is None:
                raw_val = np.full(len(x_val), baseline)
            for k in range(cumulative.shape[1]):
                scores.append(score(data.task_type, y["val"], unit(raw_val + cumulative[:, k])))
            raw_val = raw_val + cumulative[:, -1]
            best = int(np.argmax(scores) if data.task_type == "classification" else np.argmin(scores))
            if len(scores) - 1 - best >= o.patience:
                break
    fit_seconds = time.perf_counter() - start
    best = int(np.argmax(scores) if data.task_type == "classification" else np.argmin(scores))
    kept = [trees[0] for trees in estimator._predictors[:best + 1]]
    module = ChildModule(model=config.model, loss=o.loss, learning_rate=learning_rate,
                         target_transform=o.target_transform, trees=GradientBoostedTrees.shape_of(kept), **facts)
    module.configure_model()
    module.network.load_trees(kept, baseline)
    module.eval()
    with torch.no_grad():
        if data.is_classification:
            params = fit_platt(module(store.batch(positions["val"])), torch.as_tensor(y["val"]))
            if params is not None:
                module.calibration.copy_(params.float())
        predicted = {part: module.predict_batch(store.batch(positions[part])).double().numpy()
                     for part in ("val", "test")}
    sizes = {part: len(positions[part]) for part in positions}
    result: Dict[str, Any] = run_info(data, split, config, seed, record)
    result.update(
        metric=module.test_metric_name.split("_")[1],
        test=score(data.task_type, y["test"], predicted["test"]) if test and sizes["test"] else None,
        val=float(scores[best]), best_epoch=best, epochs=len(scores), fit_seconds=fit_seconds,
        seconds_per_epoch=fit_seconds / max(1, len(scores)),
        n_train=sizes["train"], n_val=sizes["val"], n_test=sizes["test"],
        dropped=[message for _, message in datamodule.dropped], max_epochs_reached=len(scores) >= max_rounds,
        resumed_from=None, devices=1,
        predictions={"positions": positions["test"].tolist() if test else [],
                     "prediction": predicted["test"].tolist() if test else []})
    if data.is_classification:
        result["val_predictions"] = {"positions": positions["val"].tolist(), "prediction": predicted["val"].tolist()}
        _classification_scores(data, result)
    if run_dir is not None:
        work = f"{run_dir}.partial"
        if os.path.exists(work):
            shutil.rmtree(work)
        os.makedirs(work)
        save_trees(module, os.path.join(work, "best.ckpt"), best)
        result["checkpoint"] = os.path.join(run_dir, "best.ckpt")
        if test:
            write_predictions(work, data, positions["test"], predicted["test"])
        write_json(os.path.join(work, METRICS_FILE),
                   {k: v for k, v in result.items() if k not in ("predictions", "val_predictions")})
        if os.path.exists(run_dir):
            shutil.rmtree(run_dir)
        os.replace(work, run_dir)
    return result


def save_trees(module: ChildModule, path: str, best_round: int) -> str:
    """A grown GBT child as a checkpoint that ``ChildModule.load_from_checkpoint`` (and
    ``atomsets predict``) read like any child's: tensors and plain values only."""
    checkpoint = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                  "epoch": best_round, "global_step": best_round + 1, "pytorch-lightning_version": pl.__version__}
    mark_checkpoint(checkpoint, CHILD)
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(checkpoint, tmp)
    os.replace(tmp, path)
    return path


__all__ = ["DEFAULT_LEARNING_RATE", "save_trees", "train_trees"]
