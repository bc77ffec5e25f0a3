import json
import os
import subprocess
import sys

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from child_data import classification_data, regression_data

from torch_atomsets.data.datasets import paper_split
from torch_atomsets.errors import RunInterrupted
from torch_atomsets.lightning import ChildModule, fit_platt
from torch_atomsets.lightning.datamodules import ChildDataModule
from torch_atomsets.training import ChildConfig, run_child, train_child


def test_child_learns_a_synthetic_target(tmp_path):
    data = regression_data(400)
    split = paper_split(len(data), 0)
    result = train_child(data, split, ChildConfig.of(model="AtomSets", max_epochs=150, patience=40, batch_size=32),
                         seed=0, run_dir=str(tmp_path / "run"))
    spread = np.abs(data.targets[split.test] - data.targets[split.train].mean()).mean()
    assert result["test"] < 0.15 * spread, (result["test"], spread)
    # what the run leaves behind: a finished folder, nothing partial
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == {"best.ckpt", "metrics.json", "predictions.csv", "logs"}
    assert not (tmp_path / "run.partial").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["metric"] == "mae" and metrics["n_test"] == len(split.test) and metrics["test"] == result["test"]
    lines = (run / "predictions.csv").read_text().splitlines()
    assert lines[0] == "index,target,prediction" and len(lines) == len(split.test) + 1
    logged = (run / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train_loss", "val_loss", "val_mae", "epoch"} <= set(logged)
    # the test predictions are those of the best checkpoint, in the target's unit
    mae = np.abs(np.asarray(result["predictions"]["prediction"]) - data.targets[result["predictions"]["positions"]])
    assert mae.mean() == pytest.approx(result["test"], rel=1e-5)


def test_same_seed_same_numbers():
    data = regression_data(200)
    split = paper_split(len(data), 1)
    config = ChildConfig.of(model="AtomSets", readout="set2set", max_epochs=15, patience=50)
    a = train_child(data, split, config, seed=7)
    b = train_child(data, split, config, seed=7)
    assert a["test"] == b["test"] and a["val"] == b["val"]
    assert a["predictions"]["prediction"] == b["predictions"]["prediction"]
    c = train_child(data, split, config, seed=8)
    assert c["test"] != a["test"]


def test_a_checkpoint_loads_and_predicts_with_no_other_argument(tmp_path):
    data = regression_data(150)
    split = paper_split(len(data), 0)
    result = train_child(data, split, ChildConfig.of(model="AtomSets", max_epochs=4, n_neurons=16), seed=0,
                         run_dir=str(tmp_path / "run"))
    module = ChildModule.load_from_checkpoint(tmp_path / "run" / "best.ckpt")
    hp = module.hparams
    assert hp.model == "AtomSets" and hp.n_neurons == 16 and hp.task_type == "regression"
    assert hp.in_channels is None and hp.seen_elements and hp.target_std > 0
    again = ChildModule(**dict(hp))  # the saved hyperparameters round-trip
    again.configure_model()
    assert sum(p.numel() for p in again.parameters()) == sum(p.numel() for p in module.parameters())
    datamodule = ChildDataModule(data, "Z", split)
    datamodule.setup()
    outputs = pl.Trainer(logger=False, enable_progress_bar=False).predict(module, datamodule=datamodule)
    predictions = torch.cat([o[1] for o in outputs]).numpy()
    assert predictions.dtype == np.float32
    assert np.allclose(predictions, result["predictions"]["prediction"], atol=1e-6)


def test_classification_calibration_is_fitted_on_validation(tmp_path):
    data = classification_data(1500)
    split = paper_split(len(data), 0, fractions=(0.6, 0.1, 0.3))
    config = ChildConfig.of(model="AtomSets", max_epochs=60, patience=30, batch_size=64, n_neurons=128)
    result = train_child(data, split, config, seed=0, run_dir=str(tmp_path / "run"))
    assert result["metric"] == "auc" and result["test"] > 0.75
    predicted = np.asarray(result["predictions"]["prediction"])
    assert predicted.min() >= 0.0 and predicted.max() <= 1.0
    # the stored calibration is the Platt fit of the best model's validation logits
    module = ChildModule.load_from_checkpoint(tmp_path / "run" / "best.ckpt").eval()
    datamodule = ChildDataModule(data, "Z", split, batch_size=64)
    datamodule.setup()
    with torch.no_grad():
        logits = torch.cat([module(b) for b in datamodule.val_dataloader()])
    labels = torch.as_tensor(data.targets[datamodule.positions["val"]], dtype=torch.float64)
    refit = fit_platt(logits, labels)
    assert refit is not None and torch.allclose(module.calibration.double(), refit, atol=1e-5)
    assert not torch.allclose(module.calibration, torch.tensor([1.0, 0.0]), atol=0.05)

    def log_loss(p):
        p = p.clamp(1e-7, 1 - 1e-7)
        return float(-(labels * p.log() + (1 - labels) * (1 - p).log()).mean())

    calibrated = torch.sigmoid(logits.double() * refit[0] + refit[1])
    assert log_loss(calibrated) < log_loss(torch.sigmoid(logits.double())) - 1e-3
    # and it is close to the true probabilities on the test part
    truth = data.extra["probability"][result["predictions"]["positions"]]
    assert np.abs(predicted - truth).mean() < 0.1


def test_platt_fit_recovers_a_known_scaling():
    generator = torch.Generator().manual_seed(0)
    true_logit = torch.randn(4000, generator=generator) * 1.5
    labels = (torch.rand(4000, generator=generator) < torch.sigmoid(true_logit)).double()
    params = fit_platt(4.0 * true_logit + 1.0, labels)  # over-confident and shifted
    assert params[0] == pytest.approx(0.25, abs=0.03) and params[1] == pytest.approx(-0.25, abs=0.1)
    assert fit_platt(true_logit, torch.ones(4000)) is None  # one class: nothing to fit


class _Interrupt(pl.Callback):
    def on_train_epoch_end(self, trainer, module):
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt


def test_an_interrupt_keeps_finished_splits_and_nothing_partial(tmp_path, monkeypatch):
    data = regression_data(100)
    splits = [paper_split(len(data), s) for s in (0, 1)]
    config = ChildConfig.of(model="AtomSets", max_epochs=3, n_neurons=8)
    first = run_child(data, splits[:1], [0], config, str(tmp_path), None, "paper")
    import torch_atomsets.training.runs as runs

    original = runs.train_model
    monkeypatch.setattr(runs, "train_model", lambda *a, **k: original(*a, **dict(k, callbacks=[_Interrupt()])))
    import signal

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(RunInterrupted) as info:
        run_child(data, splits, [0, 1], config, str(tmp_path), None, "paper")
    assert "nothing of this split was kept" in info.value.kept
    folder = first.folder
    assert sorted(os.listdir(folder)) == ["identity.json", "paper-seed-0", "summary.json"]
    assert (tmp_path / folder / "paper-seed-0" / "metrics.json").exists()
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl-C does what it did before


@pytest.mark.slow
def test_ddp_on_two_cpu_processes(tmp_path):
    script = os.path.join(os.path.dirname(__file__), "ddp_child_script.py")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    completed = subprocess.run([sys.executable, script, str(tmp_path)], capture_output=True, text=True, env=env,
                               timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert {r["world_size"] for r in ranks} == {2} and {r["backend"] for r in ranks} == {"gloo"}
    assert ranks[0]["test"] == pytest.approx(ranks[1]["test"])  # metrics are synchronised
    assert ranks[0]["n_predictions"] == 30 and np.isfinite(ranks[0]["test"])
    assert (tmp_path / "run" / "best.ckpt").exists()


def test_predictions_are_float32_under_bf16_mixed_precision():
    data = regression_data(120)
    result = train_child(data, paper_split(len(data), 0),
                         ChildConfig.of(model="AtomSets", max_epochs=2, precision="bf16-mixed"), seed=0)
    predictions = np.asarray(result["predictions"]["prediction"])
    # the test MAE is the MAE of the float32 predictions (not of bfloat16-rounded ones)
    errors = np.abs(np.float32(predictions) - np.float32(data.targets[result["predictions"]["positions"]]))
    assert result["test"] == pytest.approx(float(errors.mean()), rel=1e-6)
    rounded = torch.tensor(predictions, dtype=torch.float32).bfloat16().float().numpy()
    assert not np.array_equal(rounded, predictions)  # the predictions carry more than bfloat16's 8 bits


def test_epoch_seconds_include_the_checkpoint_write(tmp_path):
    """Lightning runs checkpoint callbacks after every other one: an epoch timed to the
    timer's own on_train_epoch_end would leave the checkpoint write out of it."""
    import time

    from torch_atomsets.lightning import EpochTimer

    slow = 0.3

    class SlowCheckpoint(pl.callbacks.ModelCheckpoint):
        def _save_checkpoint(self, trainer, filepath):
            time.sleep(slow)
            super()._save_checkpoint(trainer, filepath)

    data = regression_data(60)
    datamodule = ChildDataModule(data, level="Z", split=paper_split(len(data), 0), batch_size=64)
    module = ChildModule(model="AtomSets", n_neurons=8, task_type="regression")
    timer = EpochTimer()
    # listed before the timer, run after it (Lightning moves checkpoint callbacks last)
    checkpoint = SlowCheckpoint(dirpath=str(tmp_path), save_top_k=-1, every_n_epochs=1)
    trainer = pl.Trainer(max_epochs=3, callbacks=[checkpoint, timer], logger=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(module, datamodule=datamodule)
    assert len(timer.seconds) == 3 and min(timer.seconds) >= slow, timer.seconds
