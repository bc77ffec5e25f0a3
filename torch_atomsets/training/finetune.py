"""Fine-tuned children (``AtomSets-<levels>-FT``): a child trained on the frozen features,
then its parent and it trained end to end."""
from __future__ import annotations

import os
import shutil
from typing import Any, Dict, Optional

import pytorch_lightning as pl

from ..data.datasets.splits import Split
from ..data.datasets.table import MaterialsData
from ..hub.parents import load_parent_model
from ..lightning.child import ChildModule
from ..lightning.datamodules import GraphDataModule
from ..lightning.finetune import FineTuneModule
from ..lightning.quiet import quiet_lightning
from ..models.registry import model_spec
from ..utils.files import write_json
from .child import _classification_scores, train_child
from .config import ChildConfig
from .runner import METRICS_FILE, PREDICTIONS_FILE, fit_evaluate
from .trees import train_trees

#: The parent learns at this fraction of the head's learning rate.
PARENT_LEARNING_RATE_FACTOR = 0.1


def train_finetune(data: MaterialsData, split: Split, config: ChildConfig, seed: int = 0,
                   run_dir: Optional[str] = None, parent=None, weights_dir: Optional[str] = None,
                   allow_download: bool = True, progress: bool = False, record: Optional[Dict[str, Any]] = None,
                   callbacks=(), test: bool = True) -> Dict[str, Any]:
    """Stage 1: ``config``'s child on the frozen features (``run_dir/frozen``). Stage 2: the
    same child with its parent, trained end to end on crystal graphs from stage 1's best
    checkpoint, the parent at a tenth of the head's learning rate, early stopping on the
    validation part (``run_dir/tuned``). The split's ``metrics.json`` and ``predictions.csv``
    are stage 2's, with stage 1's scores beside them (``frozen_test``, ``frozen_val``)."""
    import tempfile

    spec = model_spec(config.model)
    frozen_config = ChildConfig(model=spec.frozen.name, hyper=config.hyper, optim=config.optim,
                                trainer=config.trainer, parent=config.parent)
    work = run_dir or tempfile.mkdtemp(prefix="atomsets-ft-")
    frozen = train_child(data, split, frozen_config, seed, os.path.join(work, "frozen"), parent, weights_dir,
                         allow_download, progress, record, test=test)
    with quiet_lightning():
        child = ChildModule.load_from_checkpoint(os.path.join(work, "frozen", "best.ckpt"))
    if parent is not None and hasattr(parent, "model"):
        model = type(parent.model)(**parent.model.config)
        model.load_state_dict(parent.model.state_dict())
    else:
        model, _ = load_parent_model(child.hparams.parent, weights_dir, allow_download)
    model.deduplicate_bonds = False  # its gradient flows through every bond
    pl.seed_everything(seed, workers=True, verbose=False)
    module = FineTuneModule.from_child(child, model, parent_learning_rate_factor=PARENT_LEARNING_RATE_FACTOR,
                                       loss=config.optim.loss, optimizer=config.optim.optimizer,
                                       learning_rate=config.optim.learning_rate, weight_decay=config.optim.weight_decay)
    datamodule = GraphDataModule(data, split, cutoff=model.cutoff, batch_size=child_batch_size(config, data),
                                 state_dim=model.state_dim, progress=progress)
    info = dict(frozen, model=config.model, frozen_test=frozen.get("test"), frozen_val=frozen.get("val"))
    info.pop("predictions", None)
    info.pop("val_predictions", None)
    result = fit_evaluate(module, datamodule, os.path.join(work, "tuned"), config.trainer_options(),
                          config.optim.patience, info, progress=progress, test=test,
                          predict_validation=data.is_classification,
                          finish=lambda r: _classification_scores(data, r), callbacks=callbacks)
    if run_dir is not None:
        for name in (METRICS_FILE, PREDICTIONS_FILE):
            if os.path.exists(os.path.join(work, "tuned", name)):
                shutil.copyfile(os.path.join(work, "tuned", name), os.path.join(work, name + ".tmp"))
                os.replace(os.path.join(work, name + ".tmp"), os.path.join(work, name))
        write_json(os.path.join(work, METRICS_FILE),
                   {k: v for k, v in result.items() if k not in ("predictions", "val_predictions")})
    else:
        shutil.rmtree(work, ignore_errors=True)
    return result


def child_batch_size(config: ChildConfig, data: MaterialsData) -> int:
    from ..lightning.base import TASK_TYPE_DEFAULTS

    return config.optim.batch_size or TASK_TYPE_DEFAULTS[data.task_type]["batch_size"]


def train_model(data: MaterialsData, split: Split, config: ChildConfig, *args, **kwargs) -> Dict[str, Any]:
    """:func:`train_finetune` for a fine-tuned model, :func:`~torch_atomsets.training.trees.train_trees`
    for boosted trees (``GBT-<levels>``), :func:`train_child` for any other child."""
    kind = model_spec(config.model).kind
    train = train_finetune if kind == "finetune" else train_trees if kind == "gbt" else train_child
    return train(data, split, config, *args, **kwargs)
