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
