"""Table S3 from the grid screens: which cells run, on which split, and how they are summarised."""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "benchmarks"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "benchmarks", "figures"))


def _screens(folder):
    best = {"steels-V0": {"n_layer_before_readout": 1, "n_layer_after_readout": 2, "n_neurons": 128,
                          "readout": "mean", "activation": "relu"}}
    os.makedirs(os.path.join(folder, "grid"))
    with open(os.path.join(folder, "grid", "grid.json"), "w") as handle:
        json.dump({"screens": {s: {"best": {"setting": o}} for s, o in best.items()}}, handle)
    return best


def test_table_s3_runs_each_screens_best_setting_where_its_model_applies(tmp_path, monkeypatch, capsys):
    import grid

    best = _screens(str(tmp_path))
    monkeypatch.setattr(grid, "RESULTS", str(tmp_path))
    cells = grid.s3_cells(["matbench_steels", "matbench_phonons", "matbench_log_kvrh"], [0, 1], "paper")
    # the phonons-V1 screen has no result: AtomSets-V1+ is skipped and said so
    assert "phonons-V1 screen has no complete setting" in capsys.readouterr().out
    assert {(c.dataset, c.model) for c in cells} == {("matbench_steels", "AtomSets-V0"),
                                                     ("matbench_phonons", "AtomSets-V0"),
                                                     ("matbench_log_kvrh_composition", "AtomSets-V0")}
    assert all(c.options == best["steels-V0"] and c.key.startswith("s3-steels-V0-") for c in cells)
    assert len({c.key for c in cells}) == 2  # one key per seed, per dataset folder


def test_table_s3_cells_use_the_papers_random_split():
    import grid
    from cells import Cell

    from torch_atomsets.data.datasets import paper_split

    class Data:
        def __len__(self):
            return 300

    parts = grid.parts(Data(), Cell("grid", "matbench_steels", "AtomSets-V0", "s3-steels-V0-b1-seed3", seed=3))
    expected = paper_split(300, 3)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(np.sort(parts[name]), np.sort(getattr(expected, name)))


def test_table_s3_summary_marks_fewer_seeds_as_reduced(tmp_path, monkeypatch, capsys):
    import grid

    setting = {"n_neurons": 64}
    os.makedirs(os.path.join(tmp_path, "grid"))
    with open(os.path.join(tmp_path, "grid", "grid.json"), "w") as handle:
        json.dump({"screens": {s: {"best": {"setting": setting}} for s in ("steels-V0", "phonons-V1")}}, handle)
    monkeypatch.setattr(grid, "RESULTS", str(tmp_path))
    os.makedirs(os.path.join(tmp_path, "table2"))
    with open(os.path.join(tmp_path, "table2", "table2_paper.csv"), "w") as handle:
        handle.write("table,task,model,unit,ours_mean,ours_std,n_splits,paper\n"
                     "Table 2,matbench_phonons,AtomSets-V1,cm^-1,40.0,5.0,5,54±9\n"
                     "Table 2,matbench_steels,AtomSets-V1,MPa,,,0,-\n")
    rows = [{"key": f"s3-phonons-V1-w64-seed{s}", "dataset": "matbench_phonons", "dataset_fidelity": "original",
             "metric": "mae", "scores": {"test": v}, "options": setting, "budget": "paper"}
            for s, v in enumerate([50.0, 52.0, 54.0, 56.0, 58.0])]
    rows += [{"key": "s3-steels-V0-w64-seed0", "dataset": "matbench_perovskites", "dataset_fidelity": "original",
              "metric": "mae", "scores": {"test": 0.5}, "options": setting, "budget": "paper"}]
    # a cell of a setting that was the screen's best before it grew is never mixed in
    rows += [{"key": "s3-phonons-V1-w16-seed0", "dataset": "matbench_phonons", "dataset_fidelity": "original",
              "metric": "mae", "scores": {"test": 1000.0}, "options": {"n_neurons": 16}, "budget": "paper"}]
    table = grid.table_s3(rows)
    assert "w16 left out" in capsys.readouterr().out
    phonons = table["matbench_phonons"]["AtomSets-V1+"]
    assert phonons["mean"] == 54.0 and phonons["n"] == 5 and not phonons["reduced"]
    assert phonons["paper"] == (54, 9)
    # read beside Table 2's cell of the same model at its default setting
    assert phonons["default"] == {"mean": 40.0, "std": 5.0, "n": 5}
    perovskites = table["matbench_perovskites"]["AtomSets-V0+"]
    assert perovskites["reduced"] and perovskites["mean"] == 100.0  # eV per cell -> meV/atom, as Table S3
