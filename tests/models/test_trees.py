"""GBT children: boosted trees copied exactly into a torch module, grown with early stopping,
saved as a weights-only checkpoint and predicted like any child."""
import json

import numpy as np
import pytest
import torch
from child_data import classification_data, regression_data

from torch_atomsets.data.datasets import paper_split
from torch_atomsets.errors import ConfigError, TargetError
from torch_atomsets.models import model_spec
from torch_atomsets.models.trees import GradientBoostedTrees
from torch_atomsets.training import ChildConfig, train_child, train_model


def _inputs(rng, n):
    x = rng.normal(size=(n, 6)).astype(np.float32)
    x[:, 2] = np.round(x[:, 2], 1)  # many ties: thresholds between neighbouring float32 values
    x[rng.uniform(size=n) < 0.05, 4] = np.nan
    return x


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_trees_give_scikit_learns_raw_output(task):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    rng = np.random.RandomState(0)
    x = _inputs(rng, 600)
    signal = np.sin(2 * np.nan_to_num(x[:, 0])) + x[:, 2] ** 2 - np.nan_to_num(x[:, 4])
    if task == "regression":
        estimator = HistGradientBoostingRegressor(max_iter=40, random_state=0).fit(x, signal)
        raw = estimator.predict
    else:
        estimator = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(x, signal > 0.5)
        raw = estimator.decision_function
    trees = [t[0] for t in estimator._predictors]
    module = GradientBoostedTrees(6, *GradientBoostedTrees.shape_of(trees))
    module.load_trees(trees, float(np.ravel(estimator._baseline_prediction)[0]))
    new = _inputs(np.random.RandomState(1), 400)
    new[:5, 2] = x[:5, 2]  # exactly on training values
    with torch.no_grad():
        ours = module(torch.from_numpy(new)).squeeze(-1).double().numpy()
    assert np.allclose(ours, raw(new.astype(np.float64)), atol=1e-5)


def test_a_gbt_child_grows_stops_early_and_predicts_from_its_checkpoint(tmp_path):
    from torch_atomsets.inference import ChildPredictor, load_child

    data = regression_data(300)
    config = ChildConfig.of(model="GBT-E-stats", patience=30, loss="mse")
    result = train_model(data, paper_split(len(data), 0), config, seed=0, run_dir=str(tmp_path / "run"))
    assert result["best_epoch"] < result["epochs"] <= result["best_epoch"] + 1 + 30 + 50
    baseline = float(np.abs(data.targets[result["predictions"]["positions"]] - data.targets.mean()).mean())
    assert result["test"] < 0.5 * baseline
    assert {p.name for p in (tmp_path / "run").iterdir()} == {"best.ckpt", "metrics.json", "predictions.csv"}
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["model"] == "GBT-E-stats" and metrics["test"] == pytest.approx(result["test"])
    module = load_child(str(tmp_path / "run" / "best.ckpt"))
    assert isinstance(module.network, GradientBoostedTrees) and module.network.n_trees == result["best_epoch"] + 1
    positions = result["predictions"]["positions"][:20]
    values, failures = ChildPredictor(str(tmp_path / "run" / "best.ckpt")).predict([data.inputs[i] for i in positions])
    assert not failures
    assert np.allclose(values, result["predictions"]["prediction"][:20], atol=1e-5)

    again = train_model(data, paper_split(len(data), 0), config, seed=0)
    assert again["test"] == result["test"] and again["best_epoch"] == result["best_epoch"]


def test_a_gbt_classifier_has_calibrated_probabilities_and_a_threshold():
    data = classification_data(800)
    result = train_model(data, paper_split(len(data), 0), ChildConfig.of(model="GBT-E-stats", patience=50), seed=0)
    p = np.asarray(result["predictions"]["prediction"])
    assert result["metric"] == "auc" and result["test"] > 0.7
    assert 0 < result["threshold"] < 1 and "auc_labels" in result and ((p >= 0) & (p <= 1)).all()


def test_gbt_names_and_options_that_do_not_apply():
    assert model_spec("GBT-V0-stats+E-stats").kind == "gbt"
    with pytest.raises(ConfigError, match="per-atom level"):
        model_spec("GBT-V0")
    with pytest.raises(ConfigError, match="fine-tuning"):
        model_spec("GBT-f-FT")
    data = regression_data(60)
    with pytest.raises(ConfigError, match="no --optimizer sgd"):
        train_model(data, paper_split(60, 0), ChildConfig.of(model="GBT-E-stats", optimizer="sgd"))
    with pytest.raises(ConfigError, match="loss mae or mse"):
        train_model(data, paper_split(60, 0), ChildConfig.of(model="GBT-E-stats", loss="huber"))
    with pytest.raises(ConfigError, match="grown by torch_atomsets.training.train_model"):
        train_child(data, paper_split(60, 0), ChildConfig.of(model="GBT-E-stats"))


def test_a_gbt_classifier_refuses_a_training_part_of_one_class():
    data = classification_data(120)
    split = paper_split(len(data), 0)
    data.targets[split.train] = 1.0
    with pytest.raises(TargetError, match=r"toy_classification: all 96 training samples are of class 1"):
        train_model(data, split, ChildConfig.of(model="GBT-E-stats"))
