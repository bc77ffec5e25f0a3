import json
import os
import subprocess
import sys

import numpy as np
import pytest
from child_data import classification_data, regression_data

from torch_atomsets.data.splits import paper_split
from torch_atomsets.training import ChildConfig, train_child


def test_child_learns_a_synthetic_target(tmp_path):
    data = regression_data(400)
    split = paper_split(len(data), 0)
    result = train_child(data, split, ChildConfig(model="AtomSets", max_epochs=150, patience=40, batch_size=32),
                         seed=0, output_dir=str(tmp_path))
    spread = np.abs(data.targets[split.test] - data.targets[split.train].mean()).mean()
    assert result["test"] < 0.15 * spread, (result["test"], spread)
    # what the run leaves behind
    assert (tmp_path / "best.ckpt").exists() and (tmp_path / "predictions.csv").exists()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["metric"] == "mae" and metrics["n_test"] == len(split.test)
    lines = (tmp_path / "predictions.csv").read_text().splitlines()
    assert lines[0] == "index,target,prediction" and len(lines) == len(split.test) + 1


def test_same_seed_same_metrics():
    data = regression_data(200)
    split = paper_split(len(data), 1)
    config = ChildConfig(model="AtomSets", readout="set2set", max_epochs=15, patience=50)
    a = train_child(data, split, config, seed=7)
    b = train_child(data, split, config, seed=7)
    assert a["test"] == b["test"] and a["val"] == b["val"]
    assert a["predictions"]["prediction"] == b["predictions"]["prediction"]
    c = train_child(data, split, config, seed=8)
    assert c["test"] != a["test"]


def test_classification_probabilities_are_calibrated():
    data = classification_data(1500)
    split = paper_split(len(data), 0, fractions=(0.6, 0.1, 0.3))
    result = train_child(data, split, ChildConfig(model="AtomSets", max_epochs=60, patience=30, batch_size=64),
                         seed=0)
    assert result["metric"] == "auc" and result["test"] > 0.75
    predicted = np.asarray(result["predictions"]["prediction"])
    assert predicted.min() >= 0.0 and predicted.max() <= 1.0
    truth = data.extra["probability"][result["predictions"]["position"]]
    labels = np.asarray(result["predictions"]["target"])
    # close to the true probabilities, and reliable: binned frequencies match the predictions
    assert np.abs(predicted - truth).mean() < 0.08
    bins = np.digitize(predicted, [0.2, 0.4, 0.6, 0.8])
    for b in range(5):
        mask = bins == b
        if mask.sum() >= 40:
            assert abs(predicted[mask].mean() - labels[mask].mean()) < 0.1, b


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
