"""Callbacks: probability calibration of classifiers, epoch timing, interrupt bookkeeping."""
from __future__ import annotations

import time
from typing import List, Optional

import pytorch_lightning as pl
import torch
from torch import Tensor, nn


def fit_platt(logits: Tensor, labels: Tensor) -> Optional[Tensor]:
    """Platt scaling: ``(a, b)`` of ``sigmoid(a * logit + b)`` fitted to held-out labels by
    maximum likelihood (float64, L-BFGS). ``None`` when there is nothing to fit (fewer than
    2 samples or a single class) or the fit is not an increasing, finite map."""
    logits = logits.detach().double().reshape(-1).cpu()
    labels = labels.detach().double().reshape(-1).cpu()
    if labels.numel() < 2 or labels.min() == labels.max():
        return None
    params = torch.tensor([1.0, 0.0], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([params], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(logits * params[0] + params[1], labels)
        loss.backward()
        return loss

    with torch.enable_grad():
        optimiser.step(closure)
    if not torch.isfinite(params).all() or params[0] <= 0:
        return None
    return params.detach()


def _gather(values: List[Tensor], trainer: "pl.Trainer") -> Tensor:
    local = torch.cat(values).cpu() if values else torch.zeros(0)
    if trainer.world_size <= 1:
        return local
    import torch.distributed as dist

    gathered: list = [None] * trainer.world_size
    dist.all_gather_object(gathered, local)
    return torch.cat(gathered)


class ProbabilityCalibration(pl.Callback):
    """Fits Platt scaling of a classifier's logits on the validation part, each time the
    monitored metric improves, and stores ``(a, b)`` in the module's ``calibration`` buffer
    before the checkpoint of that epoch is written (Lightning runs checkpoint callbacks last).

    Selecting a checkpoint by ROC-AUC, as the paper does, says nothing about how well its
    probabilities are scaled (AUC only ranks), and a model that keeps training after its
    best AUC grows over-confident: the calibration makes ``predict`` return probabilities
    that match observed frequencies. It is monotone, so it leaves the AUC unchanged.
    """

    def __init__(self):
        self.best: Optional[float] = None
        self._logits: List[Tensor] = []
        self._labels: List[Tensor] = []

    def on_validation_epoch_start(self, trainer, module) -> None:
        self._logits, self._labels = [], []

    def on_validation_batch_end(self, trainer, module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if isinstance(outputs, dict) and "raw" in outputs:
            self._logits.append(outputs["raw"].detach())
            self._labels.append(outputs["y"].detach())

    def on_validation_end(self, trainer, module) -> None:
        if trainer.sanity_checking or not getattr(module, "is_classification", False):
            return
        logits, labels = _gather(self._logits, trainer), _gather(self._labels, trainer)
        score = trainer.callback_metrics.get(module.monitor)
        if score is None:
            return
        score = float(score)
        improved = self.best is None or (score > self.best if module.monitor_mode == "max" else score < self.best)
        if not improved:
            return
        self.best = score
        params = fit_platt(logits, labels)
        module.calibration.copy_(params.to(module.calibration) if params is not None else
                                 torch.tensor([1.0, 0.0], device=module.calibration.device))

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state_dict) -> None:
        self.best = state_dict.get("best")


class EpochTimer(pl.Callback):
    """Wall time of each training epoch, whole (``seconds``): from the start of one epoch to
    the start of the next (the last: to the end of training), so its validation, logging,
    early stopping and the checkpoint written on an improvement are all in it. (Lightning
    runs checkpoint callbacks after every other callback, so an epoch timed to this
    callback's own ``on_train_epoch_end`` would leave the checkpoint out.)"""

    def __init__(self):
        self.seconds: List[float] = []
        self._start: Optional[float] = None

    def _lap(self) -> float:
        now = time.perf_counter()
        if self._start is not None:
            self.seconds.append(now - self._start)
        return now

    def on_train_epoch_start(self, trainer, module) -> None:
        self._start = self._lap()

    def on_train_end(self, trainer, module) -> None:
        self._lap()
        self._start = None


class InterruptRecorder(pl.Callback):
    """Remembers whether a run ended with Ctrl-C (Lightning turns a ``KeyboardInterrupt``
    inside ``fit`` into ``sys.exit(1)``; the runner uses this to say what happened)."""

    def __init__(self):
        self.interrupted = False

    def on_exception(self, trainer, module, exception: BaseException) -> None:
        if isinstance(exception, KeyboardInterrupt):
            self.interrupted = True
