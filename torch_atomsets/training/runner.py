"""One split of one run, for children and MEGNets alike: fit with early stopping, test the
best checkpoint, predict the test part with it, write the results.

A split is written to ``<run_dir>.partial`` while it runs and renamed to ``run_dir`` when
its results are complete, so a folder named like a split is always a finished split; an
interrupted or failed child split leaves nothing behind. A resumable run (parent
pretraining) writes straight into ``run_dir`` and keeps ``last.ckpt`` there to continue
from; it is finished when ``metrics.json`` is there.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from typing import Any, Callable, Dict, Iterable, List, Optional

import numpy as np
import pytorch_lightning as pl
import torch

from ..errors import RunInterrupted
from ..hub.checkpoints import read_checkpoint
from ..lightning.callbacks import EpochTimer, InterruptRecorder, ProbabilityCalibration
from ..lightning.quiet import quiet_lightning
from ..utils.files import write_atomic, write_json
from .config import instantiate

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.csv"


def is_finished(run_dir: str) -> bool:
    return os.path.isfile(os.path.join(run_dir, METRICS_FILE))


def read_metrics(run_dir: str) -> Dict[str, Any]:
    import json

    with open(os.path.join(run_dir, METRICS_FILE)) as handle:
        return json.load(handle)


def _logger(option, folder: str, resume: bool):
    """``True`` -> a CSV log in the run folder; a resumable run gets a new
    ``logs/version_k`` per start (Lightning's CSV writer empties a log it reopens)."""
    if option is True:
        return pl.loggers.CSVLogger(folder, name="logs", version=None if resume else "")
    return option


def _gather_predictions(outputs: List, trainer: pl.Trainer):
    ids = torch.cat([o[0].cpu() for o in outputs]) if outputs else torch.zeros(0, dtype=torch.long)
    values = torch.cat([o[1].float().cpu() for o in outputs]) if outputs else torch.zeros(0)
    if trainer.world_size > 1:
        import torch.distributed as dist

        gathered: list = [None] * trainer.world_size
        dist.all_gather_object(gathered, (ids, values))
        ids = torch.cat([g[0] for g in gathered])
        values = torch.cat([g[1] for g in gathered])
    order = torch.argsort(ids)
    return ids[order].numpy(), values[order].numpy()


def write_predictions(folder: str, data, ids: np.ndarray, predictions: np.ndarray,
                      std: Optional[np.ndarray] = None) -> str:
    """``predictions.csv``: MatBench/dataset row id, target and prediction (and the
    ensemble's standard deviation), one line per sample."""
    header = "index,target,prediction" + (",std" if std is not None else "")
    lines = [header]
    for k, (position, value) in enumerate(zip(ids, predictions)):
        line = f"{int(data.index[position])},{float(data.targets[position]):.10g},{float(value):.10g}"
        if std is not None:
            line += f",{float(std[k]):.6g}"
        lines.append(line)
    return write_atomic(os.path.join(folder, PREDICTIONS_FILE), "\n".join(lines) + "\n")


class _Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a fit, test or predict (Lightning stops at the next batch and
    raises ``SIGTERMException``, a ``SystemExit`` that would exit with status 0)."""


def fit_evaluate(module: pl.LightningModule, datamodule: pl.LightningDataModule, run_dir: Optional[str],
                 trainer_options: Dict[str, Any], patience: int, record: Optional[Dict[str, Any]] = None,
                 callbacks: Iterable[pl.Callback] = (), resume: bool = False, progress: bool = False,
                 keep_checkpoint: bool = True, test: bool = True, predict_validation: bool = False,
                 finish: Optional[Callable[[Dict[str, Any]], None]] = None) -> Dict[str, Any]:
    """Fit ``module`` on ``datamodule``'s training part with early stopping on its
    validation metric (``patience`` epochs), then test and predict with the best checkpoint.

    Returns a dict: ``record`` plus the metric name, ``test`` and ``val`` scores, the best
    epoch, epochs run, timings, part sizes, dropped samples and the test predictions
    (``positions``, ``prediction``). With ``run_dir`` the split's folder gets
    ``metrics.json``, ``predictions.csv``, ``best.ckpt`` (unless not ``keep_checkpoint``)
    and the CSV logs. Ctrl-C, or SIGTERM (a scheduler's time limit, ``kill``), raises
    :class:`~torch_atomsets.errors.RunInterrupted` once Lightning has stopped.

    ``test=False`` never touches the test part (model selection: ``test`` is ``None``);
    ``predict_validation`` also returns the best checkpoint's predictions of the validation
    part (``val_predictions``), e.g. to choose a classifier's decision threshold there.
    ``finish(result)`` may complete the result before anything is written.
    """
    import tempfile

    if run_dir is None:
        work = tempfile.mkdtemp(prefix="atomsets-run-")
    else:
        work = run_dir if resume else f"{run_dir}.partial"
        if not resume and os.path.exists(work):
            shutil.rmtree(work)
        os.makedirs(work, exist_ok=True)
    options = {key: instantiate(value) for key, value in trainer_options.items()}
    logger = _logger(options.pop("logger", True), work, resume)
    if module.task_type is None:
        raise ValueError("the module must know its task type before fitting (pass task_type)")
    monitor, mode = module.monitor, module.monitor_mode
    timer, interrupts = EpochTimer(), InterruptRecorder()
    user_callbacks = list(options.pop("callbacks", None) or []) + list(callbacks)
    checkpoint = pl.callbacks.ModelCheckpoint(dirpath=work, filename="best", monitor=monitor, mode=mode, save_top_k=1,
                                              save_last=resume, enable_version_counter=False)
    stopping = pl.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience, check_finite=False)
    all_callbacks = [stopping, checkpoint, timer, interrupts] + user_callbacks
    if module.is_classification:
        all_callbacks.append(ProbabilityCalibration())
    options.setdefault("enable_progress_bar", progress)
    with quiet_lightning():
        trainer = pl.Trainer(**options, callbacks=all_callbacks, logger=logger, default_root_dir=work)
    last = os.path.join(work, "last.ckpt")
    resume_from = last if resume and os.path.exists(last) else None
    start = time.perf_counter()
    handler = signal.getsignal(signal.SIGINT)
    try:
        with quiet_lightning():
            try:
                trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from)
                if trainer.interrupted:
                    raise KeyboardInterrupt
                fit_seconds = time.perf_counter() - start
                tested = trainer.test(module, datamodule=datamodule, ckpt_path="best", verbose=False) if test else None
                outputs = trainer.predict(module, datamodule=datamodule, ckpt_path="best") if test else []
                validation = None
                if predict_validation:
                    part, datamodule.predict_part = datamodule.predict_part, "val"
                    validation = _gather_predictions(trainer.predict(module, datamodule=datamodule,
                                                                     ckpt_path="best"), trainer)
                    datamodule.predict_part = part
            except SystemExit:
                if interrupts.interrupted:
                    raise KeyboardInterrupt from None
                if trainer.received_sigterm:
                    raise _Terminated from None
                raise
    except KeyboardInterrupt as exc:
        if run_dir is not None and not resume:
            shutil.rmtree(work, ignore_errors=True)
            kept = "nothing of this split was kept"
        elif resume:
            kept = f"{last} kept: run the same command to continue from epoch {trainer.current_epoch}"
        else:
            kept = "nothing was kept"
        terminated = isinstance(exc, _Terminated)
        raise RunInterrupted("terminated (SIGTERM)" if terminated else "interrupted", kept,
                             signal.SIGTERM if terminated else signal.SIGINT) from None
    except BaseException:
        if run_dir is not None and not resume:
            shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        signal.signal(signal.SIGINT, handler if handler is not None else signal.default_int_handler)
    ids, predictions = _gather_predictions(outputs, trainer)
    best_path = checkpoint.best_model_path
    sizes = datamodule.part_sizes()
    result: Dict[str, Any] = dict(record or {})
    result.update(
        metric=module.test_metric_name.split("_")[1],
        test=float(tested[0][module.test_metric_name]) if tested else None,
        val=float(checkpoint.best_model_score) if checkpoint.best_model_score is not None else float("nan"),
        best_epoch=int(read_checkpoint(best_path).get("epoch", -1)) if best_path else None,
        epochs=trainer.current_epoch, fit_seconds=fit_seconds,
        seconds_per_epoch=float(np.median(timer.seconds)) if timer.seconds else float("nan"),
        n_train=sizes["train"], n_val=sizes["val"], n_test=sizes["test"],
        dropped=[message for _, message in getattr(datamodule, "dropped", [])],
        max_epochs_reached=bool(trainer.max_epochs and trainer.current_epoch >= trainer.max_epochs),
        resumed_from=resume_from, devices=trainer.world_size,
        predictions={"positions": ids.tolist(), "prediction": predictions.tolist()})
    if validation is not None:
        result["val_predictions"] = {"positions": validation[0].tolist(), "prediction": validation[1].tolist()}
    if finish is not None:
        finish(result)
    if run_dir is not None and trainer.is_global_zero:
        if not keep_checkpoint and best_path and os.path.exists(best_path):
            os.remove(best_path)
        result["checkpoint"] = os.path.join(run_dir, "best.ckpt") if keep_checkpoint else None
        if test:
            write_predictions(work, datamodule.data, ids, predictions)
        write_json(os.path.join(work, METRICS_FILE),
                   {k: v for k, v in result.items() if k not in ("predictions", "val_predictions")})
        if not resume:
            if os.path.exists(run_dir):
                shutil.rmtree(run_dir)
            os.replace(work, run_dir)
    elif run_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return result
