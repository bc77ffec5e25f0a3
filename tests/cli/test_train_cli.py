"""`atomsets train`: Lightning's parser, run identity (reuse / recompute), one-line errors."""
import json

import pytest
from child_data import regression_data

from torch_atomsets.cli import main

pytestmark = pytest.mark.shared


def write_csv(path, data, scale=1.0):
    path.write_text("formula,y\n" + "\n".join(f"{f},{y * scale}" for f, y in zip(data.inputs, data.targets)) + "\n")
    return str(path)


def folders(results, dataset):
    return sorted(p.name for p in (results / dataset).iterdir() if p.is_dir())


def test_train_reuses_a_finished_run_and_recomputes_a_changed_one(tmp_path, capsys, weights_dir):
    csv = write_csv(tmp_path / "toy.csv", regression_data(120))
    results = tmp_path / "results"
    args = ["train", "--csv", csv, "--target", "y", "--model", "AtomSets-V0", "--seeds", "0", "--max-epochs", "3",
            "--results-dir", str(results), "--weights-dir", weights_dir, "--quiet", "--threads", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "toy: 120 samples" in out and "paper seed 0: test mae" in out
    (run,) = folders(results, "toy")
    assert run.startswith("AtomSets-V0-")
    split = results / "toy" / run / "paper-seed-0"
    assert {p.name for p in split.iterdir()} >= {"best.ckpt", "metrics.json", "predictions.csv", "logs"}
    first = json.loads((split / "metrics.json").read_text())["test"]

    assert main(args) == 0  # the same command: reused
    assert "finished before with this configuration" in capsys.readouterr().out

    assert main(args + ["--n-neurons", "8", "--readout", "mean"]) == 0  # another configuration: trained anew
    out = capsys.readouterr().out
    assert "finished before" not in out and len(folders(results, "toy")) == 2

    write_csv(tmp_path / "toy.csv", regression_data(120), scale=100.0)  # the same file name, other data
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "finished before" not in out and len(folders(results, "toy")) == 3
    summary_line = [line for line in out.splitlines() if line.startswith("toy AtomSets-V0")][0]
    assert f"{first:.4g}" not in summary_line


def test_print_config_is_accepted_back(tmp_path, capsys, data_dir):
    results = tmp_path / "r"
    args = ["train", "--task", "steels", "--model", "AtomSets", "--seeds", "0", "--max-epochs", "2",
            "--results-dir", str(results), "--quiet"]
    with pytest.raises(SystemExit) as exit_info:
        main(args + ["--print_config"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "task: steels" in text and "trainer:" in text and "max_epochs: 2" in text and "n_neurons: 64" in text
    config = tmp_path / "run.yaml"
    config.write_text(text)
    assert main(["train", "--config", str(config)]) == 0
    assert "paper seed 0: test mae" in capsys.readouterr().out
    assert main(args) == 0  # the flags and the file are the same run
    assert "finished before with this configuration" in capsys.readouterr().out


def test_yaml_values_and_lightning_flags(tmp_path, capsys, data_dir):
    config = tmp_path / "run.yaml"
    config.write_text(f"task: matbench_steels\nmodel: AtomSets\nseeds: 1\nquiet: true\nresults_dir: {tmp_path / 'r'}\n"
                      "trainer:\n  max_epochs: 2\n")
    logs = tmp_path / "tb"
    assert main(["train", "--config", str(config), "--trainer.logger", "CSVLogger", "--trainer.logger.save_dir",
                 str(logs), "--trainer.enable_progress_bar", "false"]) == 0
    assert "paper seed 1: test mae" in capsys.readouterr().out
    assert list(logs.rglob("metrics.csv"))


@pytest.mark.parametrize("extra, message", [
    (["--seeds", "3-1"], "seeds: range '3-1' runs backwards; write 1-3"),
    (["--seeds", "abc"], "seeds: 'abc' is not a number or a range like 0-4"),
    (["--max-epochs", "0"], "--max-epochs must be at least 1"),
    (["--model", "AtomSet-V1"], "did you mean AtomSets-V1"),
    (["--task", "matbench_steal"], "did you mean matbench_steels"),
    (["--readout", "max"], "readout must be one of mean, set2set"),
    (["--protocol", "kfold"], "protocol must be one of paper, matbench"),
    (["--threads", "0"], "--threads must be at least 1"),
])
def test_bad_options_are_one_line(extra, message, tmp_path, capsys, data_dir):
    args = ["train", "--task", "steels", "--max-epochs", "1", "--results-dir", str(tmp_path), "--quiet"]
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("content, message", [
    (None, "File does not exist"),
    ("task: [steels\n", "run.yaml: not valid YAML (while parsing a flow sequence)"),
    ("no_such_option: 1\n", "no_such_option"),
])
def test_bad_config_files_are_one_line(content, message, tmp_path, capsys):
    path = tmp_path / "run.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--config", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_bad_tables_name_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("formula,y\nFe2O3,1\nNaCl,\n")
    assert main(["train", "--csv", str(bad), "--target", "y", "--quiet"]) == 2
    assert "bad.csv column 'y': 1 missing or NaN target(s), e.g. line 3" in capsys.readouterr().err
    assert main(["train", "--csv", str(bad), "--quiet"]) == 2
    assert "--csv needs --target" in capsys.readouterr().err
    assert main(["train", "--quiet"]) == 2
    assert "give either --task NAME" in capsys.readouterr().err


def test_ensemble_train_and_predict_mean_and_spread(tmp_path, capsys, weights_dir):
    csv = write_csv(tmp_path / "toy.csv", regression_data(120))
    results = tmp_path / "results"
    assert main(["train", "--csv", csv, "--target", "y", "--model", "AtomSets-V0", "--seeds", "0", "--max-epochs", "3",
                 "--ensemble", "2", "--results-dir", str(results), "--weights-dir", weights_dir, "--quiet"]) == 0
    (run,) = folders(results, "toy")
    split = results / "toy" / run / "paper-seed-0"
    assert {"member-0", "member-1", "ensemble.json", "metrics.json", "predictions.csv"} <= {p.name for p in split.iterdir()}
    metrics = json.loads((split / "metrics.json").read_text())
    assert metrics["n_members"] == 2 and set(metrics["uncertainty"]) >= {"spearman", "within_1std", "within_2std"}
    assert (split / "predictions.csv").read_text().splitlines()[0] == "index,target,prediction,std"
    capsys.readouterr()
    assert main(["predict", "Fe2O3", "NaCl", "--model", str(split), "--weights-dir", weights_dir]) == 0
    out = capsys.readouterr().out
    assert "AtomSets-V0 x2" in out and out.count("±") == 2


def test_a_structure_table_names_files_and_lines(tmp_path, capsys, weights_dir, small_structures):
    from pymatgen.core import Lattice, Structure

    small_structures[1].to(filename=str(tmp_path / "nacl.cif"))
    small_structures[2].to(filename=str(tmp_path / "cu.cif"))
    (tmp_path / "lonely.json").write_text(json.dumps(Structure(Lattice.cubic(9.0), ["Kr"], [[0, 0, 0]]).as_dict()))
    names = ["nacl.cif", "lonely.json"] + ["nacl.cif", "cu.cif"] * 14
    (tmp_path / "table.csv").write_text("structure,y\n" + "\n".join(f"{n},{i % 7}" for i, n in enumerate(names)) + "\n")
    common = ["train", "--csv", str(tmp_path / "table.csv"), "--target", "y", "--seeds", "0", "--max-epochs", "1",
              "--results-dir", str(tmp_path / "r"), "--weights-dir", weights_dir, "--quiet"]
    assert main(common + ["--model", "AtomSets-V1"]) == 0
    err = capsys.readouterr().err
    assert "1 sample(s) left out" in err and "lonely.json (table.csv line 3): no bond within the cutoff" in err
    assert main(common + ["--model", "AtomSets-V0"]) == 0  # V0 needs no bond: nothing left out
    assert "left out" not in capsys.readouterr().err
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a oops\n")
    (tmp_path / "bad.csv").write_text("structure,y\nnacl.cif,1\nbroken.cif,2\n")
    assert main(["train", "--csv", str(tmp_path / "bad.csv"), "--target", "y", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv: line 3:" in err and "broken.cif" in err and err.count("\n") == 1


def test_a_trained_embedding_refuses_elements_it_never_saw(tmp_path, capsys):
    csv = write_csv(tmp_path / "toy.csv", regression_data(120))
    assert main(["train", "--csv", csv, "--target", "y", "--model", "AtomSets", "--seeds", "0", "--max-epochs", "2",
                 "--results-dir", str(tmp_path / "r"), "--quiet"]) == 0
    (checkpoint,) = (tmp_path / "r").rglob("best.ckpt")
    capsys.readouterr()
    assert main(["predict", "Fe2O3", "UO2", "--model", str(checkpoint)]) == 1
    captured = capsys.readouterr()
    assert "Fe2O3" in captured.out and "UO2" not in captured.out
    assert "UO2: contains U, which AtomSets never saw in training" in captured.err


def test_the_command_line_and_python_give_the_same_numbers(tmp_path, capsys, weights_dir):
    """`atomsets train` and train_child (the path of every committed benchmark run) start the
    child from the same random stream: the parent is loaded after seeding in both."""
    from torch_atomsets.data.datasets import load_csv, make_splits
    from torch_atomsets.training import ChildConfig, train_child

    csv = write_csv(tmp_path / "toy.csv", regression_data(120))
    assert main(["train", "--csv", csv, "--target", "y", "--model", "AtomSets-V0", "--seeds", "1", "--max-epochs",
                 "3", "--results-dir", str(tmp_path / "r"), "--weights-dir", weights_dir, "--quiet",
                 "--threads", "1"]) == 0
    (metrics,) = (tmp_path / "r").rglob("metrics.json")
    from_cli = json.loads(metrics.read_text())["test"]
    data = load_csv(csv, target="y")
    split = make_splits(data, "paper", seeds=[1])[0]
    config = ChildConfig.of(model="AtomSets-V0", max_epochs=3)
    from_python = train_child(data, split, config, seed=1, weights_dir=weights_dir)["test"]
    assert from_cli == from_python


def test_a_gbt_ensemble_trains_and_predicts_from_the_command_line(tmp_path, capsys):
    csv = write_csv(tmp_path / "toy.csv", regression_data(150))
    results = tmp_path / "results"
    assert main(["train", "--csv", csv, "--target", "y", "--model", "GBT-E-stats", "--loss", "mse", "--seeds", "0",
                 "--ensemble", "2", "--patience", "20", "--results-dir", str(results), "--quiet", "--threads", "1"]) == 0
    (run,) = folders(results, "toy")
    split = results / "toy" / run / "paper-seed-0"
    metrics = json.loads((split / "metrics.json").read_text())
    assert metrics["n_members"] == 2 and metrics["model"] == "GBT-E-stats"
    capsys.readouterr()
    assert main(["predict", "Fe2O3", "NaCl", "--model", str(split)]) == 0
    out = capsys.readouterr().out
    assert "GBT-E-stats x2" in out and out.count("±") == 2
