"""Parent pretraining (issue 5): loss falls, export/reload, resume, DDP, use as a parent."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from torch_atomsets import load_parent
from torch_atomsets.data.datasets import Split, load_task
from torch_atomsets.errors import CheckpointError
from torch_atomsets.hub.parents import register_parent
from torch_atomsets.training import MEGNetConfig, train_megnet

pytestmark = pytest.mark.shared

SMALL = dict(num_blocks=2, channels=16, encoder_hidden=32, conv_hidden=(32, 32), ff_hidden=32, num_gaussians=40,
             set2set_hidden=8)


@pytest.fixture(scope="module")
def phonons48(data_dir):
    data = load_task("matbench_phonons", allow_download=False)
    return data.subset(np.arange(48))


def fixed_split():
    return Split(np.arange(0, 32), np.arange(32, 40), np.arange(40, 48), name="fixed")


def test_short_pretraining_lowers_the_loss_and_exports_a_parent(tmp_path, phonons48):
    config = MEGNetConfig(model=SMALL, batch_size=8, learning_rate=3e-3, trainer={"max_epochs": 12}, patience=50)
    result = train_megnet(phonons48, fixed_split(), config, run_dir=str(tmp_path / "run"),
                          graph_root=str(tmp_path / "graphs"))
    losses = [row["train_loss"] for row in result["history"]]
    assert losses[-1] < 0.85 * losses[0], losses
    assert np.isfinite(result["test"]) and result["n_test"] == 8
    parent_file = tmp_path / "run" / "parent.pt"
    assert parent_file.exists() and (tmp_path / "run" / "best.ckpt").exists()

    # the exported parent and the best checkpoint give identical features, in target units
    structures = phonons48.inputs[40:44]
    from_file = load_parent(str(parent_file))
    from_ckpt = load_parent(str(tmp_path / "run" / "best.ckpt"))
    a, b = from_file.featurize(structures), from_ckpt.featurize(structures)
    for level in ("V1", "V2", "u1", "f", "prediction"):
        assert np.array_equal(a[level], b[level]), level
    assert from_file.model.cutoff == 5.0 and from_file.model.num_blocks == 2
    assert from_file.unit == "cm^-1"
    predicted = from_file.predict(structures)
    assert np.allclose(predicted, np.asarray(result["predictions"]["prediction"])[:4], atol=1e-3)


def test_registered_parent_feeds_a_child_and_the_cli(tmp_path, phonons48, capsys):
    config = MEGNetConfig(model=SMALL, batch_size=16, trainer={"max_epochs": 2}, patience=50)
    result = train_megnet(phonons48, fixed_split(), config, run_dir=str(tmp_path / "run"),
                          graph_root=str(tmp_path / "graphs"))
    models = tmp_path / "models"
    register_parent(result["parent"], "toy-parent", weights_dir=str(models))
    with pytest.raises(CheckpointError, match="exists"):
        register_parent(result["parent"], "toy-parent", weights_dir=str(models))
    parent = load_parent("toy-parent", weights_dir=str(models))
    assert parent.model.num_blocks == 2

    from torch_atomsets.data.features.sets import build_store

    store = build_store(phonons48, "V2", parent.model, parent.key, cache_root=str(tmp_path / "features"))
    assert store.in_channels == 16 and bool(store.valid.all())

    from torch_atomsets.cli import main

    path = tmp_path / "s.json"
    path.write_text(json.dumps(phonons48.inputs[0]))
    assert main(["predict", str(path), "--model", "toy-parent", "--weights-dir", str(models)]) == 0
    assert "cm^-1" in capsys.readouterr().out


class _Interrupt(pl.Callback):
    def on_train_epoch_end(self, trainer, module):
        if trainer.current_epoch == 2:
            raise RuntimeError("simulated crash")


def test_an_interrupted_run_resumes(tmp_path, phonons48):
    config = MEGNetConfig(model=SMALL, batch_size=16, trainer={"max_epochs": 5}, patience=50)
    run = str(tmp_path / "run")
    with pytest.raises(RuntimeError, match="simulated crash"):
        train_megnet(phonons48, fixed_split(), config, run_dir=run, graph_root=str(tmp_path / "graphs"),
                     callbacks=[_Interrupt()])
    assert os.path.exists(os.path.join(run, "last.ckpt"))
    result = train_megnet(phonons48, fixed_split(), config, run_dir=run, graph_root=str(tmp_path / "graphs"))
    assert result["resumed_from"].endswith("last.ckpt")
    assert [row["epoch"] for row in result["history"]] == [0, 1, 2, 3, 4]  # the log of both starts is kept
    log_of_second_start = (tmp_path / "run" / "logs" / "version_1" / "metrics.csv").read_text().splitlines()
    assert {line.split(",")[0] for line in log_of_second_start[1:]} >= {"2", "3", "4"}
    assert "0" not in {line.split(",")[0] for line in log_of_second_start[1:]}  # epochs 0 and 1 were not redone
    assert result["epochs"] == 5


@pytest.mark.slow
def test_ddp_two_processes_match_one_process(tmp_path, phonons48):
    script = os.path.join(os.path.dirname(__file__), "ddp_pretrain_script.py")
    completed = subprocess.run([sys.executable, script, str(tmp_path)], capture_output=True, text=True,
                               timeout=900, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    single = json.loads((tmp_path / "single.json").read_text())
    ddp = [json.loads((tmp_path / f"ddp_rank{r}.json").read_text()) for r in (0, 1)]
    assert {d["world_size"] for d in ddp} == {2} and {d["backend"] for d in ddp} == {"gloo"}
    assert ddp[0]["val"] == pytest.approx(ddp[1]["val"])  # synchronised across ranks
    assert ddp[0]["val"] == pytest.approx(single["val"], rel=1e-3)
    assert ddp[0]["test"] == pytest.approx(single["test"], rel=1e-3)
    assert os.listdir(tmp_path / "ddp") .count("best.ckpt") == 1  # written once


def test_cli_predicts_with_a_megnet_training_checkpoint(tmp_path, phonons48, capsys):
    config = MEGNetConfig(model=SMALL, batch_size=16, trainer={"max_epochs": 1}, patience=50)
    train_megnet(phonons48, fixed_split(), config, run_dir=str(tmp_path / "run"), graph_root=str(tmp_path / "g"))
    path = tmp_path / "s.json"
    path.write_text(json.dumps(phonons48.inputs[3]))
    from torch_atomsets.cli import main

    assert main(["predict", str(path), "--model", str(tmp_path / "run" / "best.ckpt")]) == 0
    assert "cm^-1" in capsys.readouterr().out


def test_a_real_global_state_reaches_the_model(tmp_path, phonons48):
    from dataclasses import replace

    rng = np.random.RandomState(0)
    with_state = replace(phonons48, state=rng.uniform(0, 1, size=(48, 3)).astype(np.float32),
                         fingerprint=phonons48.fingerprint[:-8] + "state003")
    config = MEGNetConfig(model=dict(SMALL, state_dim=3), batch_size=16, trainer={"max_epochs": 2}, patience=50)
    result = train_megnet(with_state, fixed_split(), config, run_dir=str(tmp_path / "run"),
                          graph_root=str(tmp_path / "graphs"))
    assert np.isfinite(result["test"])
    from torch_atomsets.lightning.datamodules import GraphDataModule

    datamodule = GraphDataModule(with_state, fixed_split(), root=str(tmp_path / "graphs"))
    datamodule.setup()
    batch = next(iter(datamodule.test_dataloader()))
    assert batch.state.shape == (8, 3) and torch.equal(batch.state, torch.from_numpy(with_state.state[40:48]))
    wrong = MEGNetConfig(model=SMALL, batch_size=16, trainer={"max_epochs": 1}, patience=50)  # state_dim 2
    with pytest.raises(Exception, match="3 values per structure, the model expects 2"):
        train_megnet(with_state, fixed_split(), wrong, graph_root=str(tmp_path / "graphs"))


def test_steps_on_compressed_graphs_give_the_full_graphs_loss_and_gradients(phonons48, monkeypatch):
    """MEGNetModule (and so pretraining, MEGNet from scratch and fine-tuning) steps on each
    batch's symmetry-compressed graph on a CPU: the same loss and gradients as the full
    graph, on fewer atoms."""
    from torch_geometric.data import Batch

    import torch_atomsets.lightning.parent as parent_module
    from torch_atomsets.data.graphs import CrystalGraphConverter
    from torch_atomsets.lightning import MEGNetModule

    converter = CrystalGraphConverter()
    graphs = [converter.convert(s, y=torch.tensor([float(y)])) for s, y in zip(phonons48.inputs[:16],
                                                                                phonons48.targets[:16])]
    batch = Batch.from_data_list(graphs)
    seen = []
    compress = parent_module.forward_compressed

    def spy(model, graphs, state=None, device=None):
        out = compress(model, graphs, state, device)
        seen.append(out)
        return out

    monkeypatch.setattr(parent_module, "forward_compressed", spy)
    losses, grads = [], []
    for compressed in (False, True):
        torch.manual_seed(0)
        module = MEGNetModule(SMALL, target_mean=float(phonons48.targets.mean()), target_std=100.0,
                              compress_graphs=compressed)
        loss = module.compute_loss(module(batch), batch.y)
        loss.backward()
        losses.append(float(loss))
        grads.append(torch.cat([p.grad.flatten() for p in module.parameters() if p.grad is not None]))
    assert len(seen) == 1  # the compressed pass ran once, for the second module
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    scale = float(grads[0].abs().max())  # float32 summation order: ~1e-5 of the largest gradient
    assert torch.allclose(grads[0], grads[1], rtol=1e-3, atol=1e-4 * scale)
