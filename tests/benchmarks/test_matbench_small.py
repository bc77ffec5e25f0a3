"""The MatBench small-task selection never sees a test fold."""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))

pytestmark = pytest.mark.shared


def test_selection_sees_only_the_training_part_of_each_fold(data_dir, monkeypatch):
    from matbench_small import selection as select

    from torch_atomsets.data.datasets import load_task, make_splits
    from torch_atomsets.lightning import datamodules

    data = load_task("matbench_steels", allow_download=False)
    seen = []
    original = datamodules.ChildDataModule.setup

    def recording_setup(self, stage=None):
        seen.append(np.concatenate([self.split.train, self.split.val, self.split.test]))
        return original(self, stage)

    monkeypatch.setattr(datamodules.ChildDataModule, "setup", recording_setup)
    for fold in (0, 3):
        official = make_splits(data, "matbench", folds=[fold])[0]
        part = select.training_part(data, fold)
        assert not set(part) & set(official.test)
        assert set(part) | set(official.test) == set(range(len(data)))
        record = select.inner_validation_score(data, part, fold, {"model": "AtomSets"},
                                               {"patience": 1, "max_epochs": 1})
        assert np.isfinite(record["val"]) and record["n_val"] == len(official.val)
        assert set(seen[-1]) <= set(part) and not set(seen[-1]) & set(official.test)


def test_the_finetuned_candidate_is_scored_on_the_training_part_only(data_dir, monkeypatch):
    """The fine-tuned candidate (a child, then its parent end to end on crystal graphs) goes
    through the same inner validation, and its graphs too come from the training part only."""
    from matbench_small import selection as select
    from matbench_small.common import candidates

    from torch_atomsets.data.datasets import load_task, make_splits
    from torch_atomsets.lightning import datamodules

    data = load_task("matbench_jdft2d", allow_download=False)
    seen = {}
    for cls in (datamodules.ChildDataModule, datamodules.GraphDataModule):
        def recording_setup(self, stage=None, _original=cls.setup, _name=cls.__name__):
            seen[_name] = np.concatenate([self.split.train, self.split.val, self.split.test])
            return _original(self, stage)

        monkeypatch.setattr(cls, "setup", recording_setup)
    official = make_splits(data, "matbench", folds=[1])[0]
    part = select.training_part(data, 1)
    record = select.inner_validation_score(data, part, 1, candidates("matbench_jdft2d")["AtomSets-V1-FT"],
                                           {"patience": 1, "max_epochs": 1})
    assert np.isfinite(record["val"]) and record["n_val"] == len(official.val)
    assert set(seen) == {"ChildDataModule", "GraphDataModule"}
    for positions in seen.values():
        assert set(positions) <= set(part) and not set(positions) & set(official.test)


def test_the_choice_is_the_best_mean_inner_score():
    from matbench_small import selection as select

    records = [{"candidate": c, "fold": k, "val": v} for c, vals in
               {"AtomSets": [1, 2, 3, 4, 5], "AtomSets-V0": [2, 2, 2, 2, 2], "MLP-V0-stats": [0, 0, 0, 0]}.items()
               for k, v in enumerate(vals)]
    choice = select.choice("matbench_steels", records)
    assert choice["chosen"] == "AtomSets-V0"  # MLP-V0-stats lacks a fold and does not count
    assert select.choice("matbench_glass", [dict(r, val=-r["val"]) for r in records])["chosen"] == "AtomSets-V0"


def test_a_reduced_ensemble_is_kept_apart_and_marked(tmp_path, monkeypatch):
    """A fold run with fewer children than the study's has its own file, counts as not done
    for a full run, and the report marks the task reduced."""
    from matbench_small import evaluate

    monkeypatch.setattr(evaluate, "FOLDER", str(tmp_path))
    written = {}
    monkeypatch.setattr(evaluate, "write_results", lambda name, payload: written.setdefault(name, payload) and name)
    assert evaluate.fold_path("matbench", "matbench_steels", 0).endswith("fold-0.json")
    assert evaluate.fold_path("matbench", "matbench_steels", 0, 1).endswith("fold-0-ensemble1.json")
    record = {"setting": "AtomSets-V0", "options": {"model": "AtomSets-V0"}, "seconds": 1.0, "fidelity": "exact",
              "members_test": [1.0], "uncertainty": {"spearman": None}, "threshold": None,
              "predictions": {"index": [0], "prediction": [1.0]}}
    os.makedirs(tmp_path / "matbench" / "matbench_steels")
    for name, fold, test, members in (("fold-0-ensemble1.json", 0, 3.0, 1), ("fold-0-ensemble2.json", 0, 2.0, 2),
                                      ("fold-1-ensemble1.json", 1, 4.0, 1)):
        with open(tmp_path / "matbench" / "matbench_steels" / name, "w") as handle:
            json.dump(dict(record, fold=fold, test=test, n_members=members), handle)
    assert not os.path.exists(evaluate.fold_path("matbench", "matbench_steels", 0))
    _, summary = evaluate.report(["matbench_steels"], "matbench")
    entry = summary["matbench_steels"]
    assert entry["folds"] == [2.0, 4.0] and entry["ensemble"] == [1, 2] and entry["reduced"] and entry["n_folds"] == 2
    assert "uncertainty" not in entry


def test_a_new_choice_supersedes_the_old_folds_without_losing_them(tmp_path, monkeypatch):
    """When the selection moves to another setting, the old folds move to superseded/ as new
    ones are written, and the report shows the old setting until the new one has 5 folds."""
    from matbench_small import evaluate

    monkeypatch.setattr(evaluate, "FOLDER", str(tmp_path))
    monkeypatch.setattr(evaluate, "write_results", lambda name, payload: name)
    monkeypatch.setattr(evaluate, "choice", lambda task: {"chosen": "new"})
    record = {"options": {}, "seconds": 1.0, "fidelity": "exact", "members_test": [1.0], "n_members": 5,
              "uncertainty": {"spearman": None}, "threshold": None, "predictions": {"index": [0], "prediction": [1.0]}}
    folder = tmp_path / "matbench" / "matbench_steels"
    os.makedirs(folder)
    for k in range(5):
        with open(folder / f"fold-{k}.json", "w") as handle:
            json.dump(dict(record, setting="old", fold=k, test=10.0 + k), handle)

    def write_new(k):
        path = evaluate.fold_path("matbench", "matbench_steels", k)
        evaluate._supersede(path, "new")
        with open(path, "w") as handle:
            json.dump(dict(record, setting="new", fold=k, test=1.0 + k), handle)

    write_new(0)
    assert os.path.exists(folder / "superseded" / "old" / "fold-0.json")
    _, summary = evaluate.report(["matbench_steels"], "matbench")
    entry = summary["matbench_steels"]
    assert entry["setting"] == "old" and entry["folds"] == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert entry["next_setting"] == {"setting": "new", "n_folds": 1}
    for k in range(1, 5):
        write_new(k)
    _, summary = evaluate.report(["matbench_steels"], "matbench")
    entry = summary["matbench_steels"]
    assert entry["setting"] == "new" and entry["folds"] == [1.0, 2.0, 3.0, 4.0, 5.0] and "next_setting" not in entry
    assert len(os.listdir(folder / "superseded" / "old")) == 5  # nothing lost
