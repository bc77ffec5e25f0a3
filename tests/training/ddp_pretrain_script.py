"""Run by tests/training/test_pretraining.py: the same short MEGNet training on one process and
with Lightning DDP on 2 CPU processes (gloo). Without shuffling, 2 ranks x 8 structures
per step see exactly the batches of one process x 16, so the metrics must agree."""
import json
import os
import sys

import numpy as np
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from conftest import shared_dir  # noqa: E402

os.environ.setdefault("TORCH_ATOMSETS_DATA", str(shared_dir() / "data"))

from test_pretraining import SMALL  # noqa: E402

from torch_atomsets.data.datasets import Split, load_task  # noqa: E402
from torch_atomsets.training import MEGNetConfig, train_megnet  # noqa: E402

if __name__ == "__main__":
    out = sys.argv[1]
    data = load_task("matbench_phonons", allow_download=False).subset(np.arange(48))
    split = Split(np.arange(0, 32), np.arange(32, 40), np.arange(40, 48), name="fixed")
    graphs = os.path.join(out, "graphs")
    if os.environ.get("LOCAL_RANK") is None:  # only the launching process runs the reference
        config = MEGNetConfig(model=SMALL, batch_size=16, trainer={"max_epochs": 3}, patience=50, scheduler="none")
        single = train_megnet(data, split, config, run_dir=os.path.join(out, "single"), graph_root=graphs,
                              shuffle=False)
        with open(os.path.join(out, "single.json"), "w") as handle:
            json.dump({"val": single["val"], "test": single["test"]}, handle)
    config = MEGNetConfig(model=SMALL, batch_size=8, patience=50, scheduler="none",
                          trainer={"max_epochs": 3, "strategy": "ddp", "devices": 2, "accelerator": "cpu"})
    result = train_megnet(data, split, config, run_dir=os.path.join(out, "ddp"), graph_root=graphs, shuffle=False)
    rank = dist.get_rank() if dist.is_initialized() else -1
    with open(os.path.join(out, f"ddp_rank{rank}.json"), "w") as handle:
        json.dump({"val": result["val"], "test": result["test"], "world_size": dist.get_world_size(),
                   "backend": dist.get_backend()}, handle)
