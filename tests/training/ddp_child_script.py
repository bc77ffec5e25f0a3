"""Run by tests/training/test_child_training.py: one child trained with Lightning DDP on 2 CPU
processes (gloo). Lightning re-launches this script for rank 1."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch.distributed as dist  # noqa: E402
from child_data import regression_data  # noqa: E402

from torch_atomsets.data.datasets import paper_split  # noqa: E402
from torch_atomsets.training import ChildConfig, train_child  # noqa: E402

if __name__ == "__main__":
    out = sys.argv[1]
    data = regression_data(300)
    config = ChildConfig.of(model="AtomSets", max_epochs=8, patience=50, batch_size=32, strategy="ddp", devices=2,
                            accelerator="cpu")
    result = train_child(data, paper_split(len(data), 0), config, seed=0, run_dir=os.path.join(out, "run"))
    info = {"rank": dist.get_rank() if dist.is_initialized() else -1,
            "world_size": dist.get_world_size() if dist.is_initialized() else 1,
            "backend": dist.get_backend() if dist.is_initialized() else None,
            "test": result["test"], "epochs": result["epochs"],
            "n_predictions": len(result.get("predictions", {}).get("prediction", []))}
    with open(os.path.join(out, f"rank{info['rank']}.json"), "w") as handle:
        json.dump(info, handle)
