"""`atomsets predict`, `featurize` and `models`: output, bad inputs named one by one."""
import json
import os

import numpy as np
import pytest
import torch
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
    code = main(["predict", str(li2o_path), *files, "--weights-dir", weights_dir, "--offline", "-o", str(out_csv),
                 "--threads", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "formation energy (eV/atom)" in printed and "-2.01529" in printed
    lines = out_csv.read_text().splitlines()
    assert lines[0].startswith("input,formula") and len(lines) == 5
    # never overwrite without --force, and say so before computing anything
    before = out_csv.read_text()
    assert main(["predict", *files, "--weights-dir", weights_dir, "--offline", "-o", str(out_csv)]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert out_csv.read_text() == before
    assert main(["predict", *files, "--weights-dir", weights_dir, "--offline", "-o", str(out_csv), "--force"]) == 0


def test_predict_json(files, weights_dir, capsys):
    assert main(["predict", files[0], "--weights-dir", weights_dir, "--offline", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["unit"] == "eV/atom" and rows[0]["formula"] == "Li2O"


def test_bad_inputs_are_named_and_the_others_predicted(files, tmp_path, weights_dir, capsys):
    empty = tmp_path / "empty.cif"
    empty.write_text("")
    lonely = tmp_path / "lonely.json"
    lonely.write_text(json.dumps(Structure(Lattice.cubic(9.0), ["Kr"], [[0, 0, 0]]).as_dict()))
    stacked = tmp_path / "stacked.json"
    stacked.write_text(json.dumps(Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0, 0, 0]]).as_dict()))
    code = main(["predict", files[0], str(empty), str(lonely), str(stacked), "Fe2O3", "nothere.cif",
                 "--weights-dir", weights_dir, "--offline"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Li2O" in captured.out
    err = captured.err.splitlines()
    assert any(line.endswith("empty.cif: file is empty") for line in err)
    assert any("lonely.json: no bond within the cutoff" in line for line in err)
    assert any("stacked.json: sites 1 and 0 (Cl, Na) are 0 A apart, closer than the minimum of 0.5 A" in line
               for line in err)
    assert "error: Fe2O3: not a file; the parent predicts from crystal structures" in captured.err
    assert "error: nothere.cif: no such file" in captured.err


def test_nothing_predicted_prints_and_writes_nothing(tmp_path, weights_dir, capsys):
    out_csv = tmp_path / "out.csv"
    code = main(["predict", str(tmp_path / "nothere.cif"), "--weights-dir", weights_dir, "--offline", "-o",
                 str(out_csv)])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == "" and not out_csv.exists()
    assert "nothere.cif: no such file" in captured.err and "nothing written" in captured.err


def test_output_folder_checked_before_the_work(files, weights_dir, capsys, tmp_path):
    assert main(["predict", *files, "--weights-dir", weights_dir, "-o", str(tmp_path / "nodir" / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "nodir does not exist" in err and err.count("\n") == 1


def test_model_files_that_are_missing_or_foreign(files, tmp_path, weights_dir, capsys):
    assert main(["predict", files[0], "--model", "nothere.ckpt", "--weights-dir", weights_dir]) == 2
    assert "nothere.ckpt: no such file" in capsys.readouterr().err
    assert main(["predict", files[0], "--model", "mp-1999", "--weights-dir", weights_dir]) == 2
    assert "unknown pretrained parent 'mp-1999'" in capsys.readouterr().err
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    assert main(["predict", files[0], "--model", str(tmp_path / "foreign.ckpt"), "--weights-dir", weights_dir]) == 2
    assert "not one written by torch_atomsets" in capsys.readouterr().err


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['PAYLOAD_MARKER']}",))


@pytest.mark.parametrize("name", ["evil.ckpt", "evil.pt"])
def test_a_crafted_model_file_runs_no_code(name, files, tmp_path, weights_dir, capsys, monkeypatch):
    marker = tmp_path / "code-ran"
    monkeypatch.setenv("PAYLOAD_MARKER", str(marker))
    evil = tmp_path / name
    torch.save({"state_dict": {}, "torch_atomsets": {"kind": "child"}, "hyper_parameters": _Payload()}, evil)
    assert main(["predict", files[0], "--model", str(evil), "--weights-dir", weights_dir]) == 2
    err = capsys.readouterr().err
    assert "holds Python objects beyond weights" in err and "never loaded" in err
    assert not marker.exists()


def test_featurize_writes_npz(files, tmp_path, weights_dir, capsys):
    out = tmp_path / "features.npz"
    assert main(["featurize", *files, "-o", str(out), "--levels", "V1,u1,f", "--weights-dir", weights_dir,
                 "--offline", "--threads", "1"]) == 0
    with np.load(out) as data:
        assert set(data.files) >= {"V1", "u1", "f", "prediction", "atom_ptr", "names"}
        assert data["f"].shape == (3, 96)
    # --force replaces it, with the new levels
    assert main(["featurize", files[0], "-o", str(out), "--levels", "V0", "--force",
                 "--weights-dir", weights_dir, "--offline"]) == 0
    with np.load(out) as data:
        assert "V0" in data.files and "V1" not in data.files and data["atom_ptr"].tolist() == [0, 3]
    assert main(["featurize", files[0], "-o", str(out), "--levels", "V9", "--force", "--weights-dir",
                 weights_dir]) == 2
    assert "unknown feature level(s) V9" in capsys.readouterr().err


def test_featurize_refuses_overwrite(files, tmp_path, weights_dir, capsys):
    out = tmp_path / "keep.npz"
    out.write_bytes(b"precious")
    assert main(["featurize", *files, "-o", str(out), "--weights-dir", weights_dir, "--offline"]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"


def test_models_lists_parents_and_children(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "mp-2019.4.1 (default)" in out and "AtomSets-V1" in out and "MLP-f" in out
