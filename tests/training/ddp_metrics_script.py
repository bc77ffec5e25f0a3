"""Run by tests/training/test_ddp.py (Lightning re-launches it for rank 1).

1. The launching process trains AtomSets-V1 for a few epochs on 60 phonons structures
   (one process), and tests its best checkpoint on an 11-sample test part.
2. Then both processes test the same checkpoint with DDP (2 CPU processes, gloo), with a
   fresh feature cache: each rank records how many times it featurised the dataset.
"""
import json
import os
import sys

import numpy as np
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from conftest import shared_dir  # noqa: E402

os.environ.setdefault("TORCH_ATOMSETS_HOME", str(shared_dir()))

import pytorch_lightning as pl  # noqa: E402

from torch_atomsets.data.datasets import Split, load_task  # noqa: E402
from torch_atomsets.data.features.cache import FeatureCache  # noqa: E402
from torch_atomsets.lightning import ChildDataModule, ChildModule  # noqa: E402
from torch_atomsets.training import ChildConfig, train_child  # noqa: E402

BUILDS = []
_build = FeatureCache.build


def counting_build(self, data, progress=None):
    BUILDS.append(data.name)
    return _build(self, data, progress)


FeatureCache.build = counting_build

if __name__ == "__main__":
    out = sys.argv[1]
    data = load_task("matbench_phonons", allow_download=False).subset(np.arange(60))
    split = Split(np.arange(0, 40), np.arange(40, 49), np.arange(49, 60), name="fixed")  # 11 test samples
    if os.environ.get("LOCAL_RANK") is None:  # the launching process: train and test alone
        result = train_child(data, split, ChildConfig.of(model="AtomSets-V1", max_epochs=3, batch_size=8), seed=0,
                             run_dir=os.path.join(out, "single"))
        with open(os.path.join(out, "single.json"), "w") as handle:
            json.dump({"test": result["test"], "n_test": result["n_test"]}, handle)
    BUILDS.clear()  # count only what the DDP part featurises
    checkpoint = os.path.join(out, "single", "best.ckpt")
    datamodule = ChildDataModule(data, "V1", split, batch_size=4, cache_root=os.path.join(out, "fresh-cache"))
    trainer = pl.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False, enable_progress_bar=False)
    tested = trainer.test(ChildModule.load_from_checkpoint(checkpoint), datamodule=datamodule, verbose=False)
    rank = dist.get_rank()
    with open(os.path.join(out, f"ddp_rank{rank}.json"), "w") as handle:
        json.dump({"test": tested[0]["test_mae"], "builds": len(BUILDS), "world_size": dist.get_world_size(),
                   "backend": dist.get_backend(), "shard": len(trainer.test_dataloaders.sampler)}, handle)
    # Tear the gloo group down before the interpreter exits: left alive, its threads can be
    # destroyed while joinable at exit ("terminate called without an active exception", SIGABRT).
    dist.barrier()
    dist.destroy_process_group()
