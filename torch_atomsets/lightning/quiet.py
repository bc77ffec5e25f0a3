"""Quiet Lightning: its banners and tips drown a run's own lines on a terminal."""
from __future__ import annotations

import contextlib
import logging
import warnings


@contextlib.contextmanager
def quiet_lightning():
    """Silence Lightning's informational chatter (device banners, tips, checkpoint
    restores) for the duration; warnings about the run itself still show."""
    names = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            for pattern in (".*does not have many workers.*", ".*number of training batches.*", ".*LeafSpec.*",
                            ".*exists and is not empty.*", ".*Checkpoint directory.*", ".*srun.*",
                            ".*predict returns predictions.*", ".*is not available as a logger.*"):
                warnings.filterwarnings("ignore", pattern)
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
