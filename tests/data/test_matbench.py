import numpy as np
import pytest

from torch_atomsets.data import AtomSetsInputError, TargetError
from torch_atomsets.data.datasets import EXTRA_DATASETS, TASKS, load_csv, load_task, resolve_task_name


def test_registry_has_the_13_tasks():
    assert len(TASKS) == 13
    steels = TASKS["matbench_steels"]
    assert steels.url == "https://ml.materialsproject.org/projects/matbench_steels.json.gz"
    assert steels.n_samples == 312 and steels.unit == "MPa" and steels.input_type == "composition"
    assert TASKS["matbench_glass"].task_type == "classification"
    assert all(len(t.sha256) == 64 for t in TASKS.values())
    assert sum(t.input_type == "structure" for t in TASKS.values()) == 9
    assert "matbench_mp_e_form_approx" in EXTRA_DATASETS and "matbench_log_kvrh_composition" in EXTRA_DATASETS


def test_names_and_suggestions():
    assert resolve_task_name("steels") == "matbench_steels"
    with pytest.raises(AtomSetsInputError, match="did you mean matbench_steels"):
        resolve_task_name("matbench_steel")
    with pytest.raises(AtomSetsInputError, match="did you mean .*matbench_phonons"):
        resolve_task_name("phonon")


@pytest.mark.shared
def test_official_and_content_checked_files(data_dir):
    phonons = load_task("phonons", allow_download=False)
    assert phonons.fidelity == "original" and len(phonons) == 1265 and phonons.input_type == "structure"
    steels = load_task("matbench_steels", allow_download=False)
    assert steels.fidelity == "content-checked" and len(steels) == 312
    assert steels.unit == "MPa" and steels.inputs[0].startswith("Fe0.620C0.000953")
    glass = load_task("glass", allow_download=False)
    assert set(np.unique(glass.targets)) == {0.0, 1.0} and glass.is_classification


@pytest.mark.shared
def test_extra_datasets(data_dir):
    comp = load_task("matbench_log_kvrh_composition", allow_download=False)
    assert len(comp) == 10987 and comp.input_type == "composition" and comp.fidelity == "composition-only"
    elastic = load_task("matbench_log_gvrh_approx", allow_download=False)
    assert elastic.fidelity == "approximate" and elastic.target_name == "log10(G_VRH)"
    assert elastic.n_total == 10987 and len(elastic) == 8315 and elastic.matbench_rows
    perov = load_task("matbench_perovskites", allow_download=False)
    assert "row order" in perov.fidelity and not perov.matbench_rows


def test_structure_task_without_file_explains(tmp_path, no_home):
    with pytest.raises(AtomSetsInputError, match="matbench_log_kvrh_approx"):
        load_task("log_kvrh", data_dir=str(tmp_path), allow_download=False)


def test_not_the_official_file(tmp_path, monkeypatch, no_home):
    import gzip
    import json

    (tmp_path / "matbench").mkdir()
    with gzip.open(tmp_path / "matbench" / "matbench_steels.json.gz", "wt") as handle:
        json.dump({"index": [0], "columns": ["composition", "yield strength"], "data": [["Fe", 1.0]]}, handle)
    with pytest.raises(AtomSetsInputError, match="not the official matbench_steels .* 1 rows"):
        load_task("steels", data_dir=str(tmp_path), allow_download=False)
    (tmp_path / "matbench" / "matbench_glass.json.gz").write_bytes(b"corrupted")
    with pytest.raises(AtomSetsInputError, match="not a readable gzipped JSON"):
        load_task("glass", data_dir=str(tmp_path), allow_download=False)


def write_csv(path, rows, header="formula,y"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def test_user_csv_of_formulas(tmp_path):
    data = load_csv(write_csv(tmp_path / "mine.csv", ["Fe2O3,1.5", "NaCl,2", "Fe0.01Ni0.99,0.25"]), "y", unit="eV")
    assert data.input_type == "composition" and data.targets.tolist() == [1.5, 2.0, 0.25] and data.unit == "eV"


def test_user_csv_of_structure_files(tmp_path, small_structures):
    small_structures[0].to(filename=str(tmp_path / "a.cif"))
    small_structures[1].to(filename=str(tmp_path / "b.json"))
    data = load_csv(write_csv(tmp_path / "s.csv", ["a.cif,1", "b.json,0"], "path,label"), "label",
                    task_type="classification")
    assert data.input_type == "structure" and len(data.inputs) == 2 and data.is_classification


@pytest.mark.parametrize("rows,kwargs,error,message", [
    (["Fe2O3,nan"], {}, TargetError, "missing or NaN"),
    (["Fe2O3,"], {}, TargetError, "missing or NaN"),
    (["Fe2O3,abc"], {}, TargetError, "not a number"),
    (["Fe2O3,2"], {"task_type": "classification"}, TargetError, "must be 0/1"),
    (["Fe2O3,1", "NaCl,1"], {"task_type": "classification"}, TargetError, "all 2 targets are 1; a classifier needs"),
    ([",1"], {}, AtomSetsInputError, "line 2 has an empty 'formula'"),
])
def test_user_csv_errors(tmp_path, rows, kwargs, error, message):
    with pytest.raises(error, match=message):
        load_csv(write_csv(tmp_path / "bad.csv", rows), "y", **kwargs)


def test_user_csv_missing_columns(tmp_path):
    path = write_csv(tmp_path / "c.csv", ["Fe2O3,1"])
    with pytest.raises(AtomSetsInputError, match="no target column 'band_gap'"):
        load_csv(path, "band_gap")
    path = write_csv(tmp_path / "d.csv", ["x,1"], header="name,y")
    with pytest.raises(AtomSetsInputError, match="no input column"):
        load_csv(path, "y")
