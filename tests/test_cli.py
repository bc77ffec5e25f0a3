import json

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from torch_atomsets.cli import main

pytestmark = pytest.mark.shared


@pytest.fixture()
def files(tmp_path, small_structures):
    paths = []
    for i, s in enumerate(small_structures[:3]):
        path = tmp_path / f"s{i}.cif"
        s.to(filename=str(path))
        paths.append(str(path))
    return paths


def test_predict_table_and_csv(files, tmp_path, weights_dir, capsys, li2o):
    li2o_path = tmp_path / "li2o.json"
    li2o_path.write_text(json.dumps(li2o.as_dict()))
    out_csv = tmp_path / "out.csv"
    code = main(["predict", str(li2o_path), *files, "--weights-dir", weights_dir, "--offline", "-o", str(out_csv)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "formation energy (eV/atom)" in printed and "-2.01529" in printed
    lines = out_csv.read_text().splitlines()
    assert lines[0].startswith("input,formula") and len(lines) == 5
    # never overwrite without --force
    with pytest.raises(SystemExit, match="exists; use --force"):
        main(["predict", *files, "--weights-dir", weights_dir, "--offline", "-o", str(out_csv)])


def test_predict_json(files, weights_dir, capsys):
    assert main(["predict", files[0], "--weights-dir", weights_dir, "--offline", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["unit"] == "eV/atom" and rows[0]["formula"] == "Li2O"


def test_predict_reports_bad_files_and_keeps_going(files, tmp_path, weights_dir, capsys):
    empty = tmp_path / "empty.cif"
    empty.write_text("")
    lonely = tmp_path / "lonely.json"
    lonely.write_text(json.dumps(Structure(Lattice.cubic(9.0), ["Kr"], [[0, 0, 0]]).as_dict()))
    code = main(["predict", files[0], str(empty), str(lonely), "--weights-dir", weights_dir, "--offline"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Li2O" in captured.out
    assert "empty.cif: file is empty" in captured.err
    assert "lonely.json: no bond within the cutoff" in captured.err


def test_featurize_writes_npz(files, tmp_path, weights_dir, capsys):
    out = tmp_path / "features.npz"
    assert main(["featurize", *files, "-o", str(out), "--levels", "V1,u1,f",
                 "--weights-dir", weights_dir, "--offline"]) == 0
    with np.load(out) as data:
        assert set(data.files) >= {"V1", "u1", "f", "prediction", "atom_ptr", "names"}
        assert data["f"].shape == (3, 96)
    # --force replaces it, with the new levels
    assert main(["featurize", files[0], "-o", str(out), "--levels", "V0", "--force",
                 "--weights-dir", weights_dir, "--offline"]) == 0
    with np.load(out) as data:
        assert "V0" in data.files and "V1" not in data.files and data["atom_ptr"].tolist() == [0, 3]


def test_featurize_refuses_overwrite(files, tmp_path, weights_dir):
    out = tmp_path / "keep.npz"
    out.write_bytes(b"precious")
    with pytest.raises(SystemExit, match="exists; use --force"):
        main(["featurize", *files, "-o", str(out), "--weights-dir", weights_dir, "--offline"])
    assert out.read_bytes() == b"precious"


def test_unknown_model_is_a_clear_error(files, capsys, weights_dir):
    assert main(["predict", files[0], "--model", "mp-1999", "--weights-dir", weights_dir]) == 2
    assert "unknown pretrained parent 'mp-1999'" in capsys.readouterr().err


def test_models_lists_registry(capsys):
    assert main(["models"]) == 0
    assert "mp-2019.4.1 (default)" in capsys.readouterr().out


def test_train_then_predict_with_the_child(tmp_path, capsys, data_dir, weights_dir):
    csv = tmp_path / "toy.csv"
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from child_data import regression_data

    data = regression_data(120)
    csv.write_text("formula,y\n" + "\n".join(f"{f},{y}" for f, y in zip(data.inputs, data.targets)) + "\n")
    results = tmp_path / "results"
    args = ["train", "--csv", str(csv), "--target", "y", "--model", "AtomSets-V0", "--seeds", "0",
            "--max-epochs", "5", "--results-dir", str(results), "--weights-dir", weights_dir, "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "toy: 120 samples" in out and "test mae" in out
    run = results / "toy" / "AtomSets-V0" / "paper-seed-0"
    assert (run / "best.ckpt").exists() and (run / "metrics.json").exists()
    # a second call keeps what is there
    assert main(args) == 0
    assert "done before" in capsys.readouterr().out

    code = main(["predict", "Fe2O3", "NaCl", "Xx3", "--model", str(run / "best.ckpt"), "--weights-dir", weights_dir])
    captured = capsys.readouterr()
    assert code == 1
    assert "Fe2O3" in captured.out and "NaCl" in captured.out
    assert "Xx3" in captured.err and "not a chemical element" in captured.err


def test_train_bad_inputs(tmp_path, capsys, data_dir):
    assert main(["train", "--task", "matbench_steal", "--quiet"]) == 2
    assert "did you mean matbench_steels" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("formula,y\nFe2O3,1\nNaCl,\n")
    assert main(["train", "--csv", str(bad), "--target", "y", "--quiet"]) == 2
    assert "missing or NaN target" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--task NAME or --csv"):
        main(["train"])


def test_train_config_file(tmp_path, capsys, data_dir, weights_dir):
    config = tmp_path / "run.yaml"
    config.write_text("task: matbench_steels\nmodel: AtomSets\nseeds: '0'\nmax_epochs: 2\nquiet: true\n"
                      f"results_dir: {tmp_path / 'r'}\n")
    assert main(["train", "--config", str(config)]) == 0
    assert (tmp_path / "r" / "matbench_steels" / "AtomSets" / "paper-seed-0" / "metrics.json").exists()
    config.write_text("no_such_option: 1\n")
    with pytest.raises(SystemExit, match="unknown option"):
        main(["train", "--config", str(config)])
