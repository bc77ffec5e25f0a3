"""Device tests: run where a GPU is present (skipped elsewhere; they need no shared data
beyond the parent). Forwards and steps run under torch.cuda.set_sync_debug_mode('error'),
so any device-to-host sync fails them."""
import contextlib

import numpy as np
import pytest
import torch
from child_data import classification_data, regression_data

pytestmark = [pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"), pytest.mark.shared]


@contextlib.contextmanager
def no_syncs():
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_parent_on_cuda_without_syncs(weights_dir, small_structures, li2o):
    from torch_atomsets import load_parent
    from torch_atomsets.data.graphs import GraphBatch

    parent = load_parent("mp-2019.4.1", weights_dir=weights_dir, allow_download=False, device="cuda")
    graphs = GraphBatch.from_arrays([parent.converter.arrays(s) for s in small_structures], pin_memory=True).to("cuda")
    state = torch.zeros(graphs.num_graphs, 2, device="cuda")
    with no_syncs(), torch.no_grad():
        out = parent.model(graphs.z, graphs.edge_index, graphs.edge_distance, state, graphs.batch, graphs.num_graphs)
    assert out.prediction.device.type == "cuda"
    assert abs(parent.predict([li2o])[0] - (-2.0152957)) < 1e-5
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16):
        half = parent.model(graphs.z, graphs.edge_index, graphs.edge_distance, state, graphs.batch, graphs.num_graphs)
    assert torch.isfinite(half.prediction).all()


@pytest.mark.parametrize("data", [regression_data(60), classification_data(60)], ids=["regression", "classification"])
def test_child_steps_on_cuda_without_syncs(data):
    from torch_atomsets.data.datasets import paper_split
    from torch_atomsets.lightning import ChildDataModule, ChildModule

    datamodule = ChildDataModule(data, "Z", paper_split(len(data), 0), batch_size=16)
    datamodule.setup()
    module = ChildModule(model="AtomSets", task_type=data.task_type)
    module.hparams.update(datamodule.facts())
    module.configure_model()
    module = module.cuda()
    batch = next(iter(datamodule.train_dataloader())).to("cuda")
    with no_syncs():
        module.training_step(batch, 0).backward()
        module.validation_step(batch, 0)
        _, predictions = module.predict_step(batch, 0)
    assert predictions.dtype == torch.float32


def test_child_training_and_prediction_on_cuda(tmp_path):
    from torch_atomsets.data.datasets import paper_split
    from torch_atomsets.inference import ChildPredictor
    from torch_atomsets.training import ChildConfig, train_child

    data = regression_data(200)
    result = train_child(data, paper_split(len(data), 0), ChildConfig.of(model="AtomSets", max_epochs=3,
                                                                          accelerator="gpu", precision="bf16-mixed"),
                         seed=0, run_dir=str(tmp_path / "run"))
    assert np.isfinite(result["test"]) and result["devices"] == 1
    values, failures = ChildPredictor(str(tmp_path / "run" / "best.ckpt"), device="cuda").predict(["Fe2O3", "NaCl"])
    assert not failures and values.dtype == np.float32
