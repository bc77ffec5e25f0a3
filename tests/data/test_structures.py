import gzip
import json

import pytest

from torch_atomsets.data import StructureError, read_structures, to_structure


def test_reads_cif_poscar_and_json(tmp_path, small_structures):
    li2o, nacl = small_structures[0], small_structures[1]
    li2o.to(filename=str(tmp_path / "li2o.cif"))
    nacl.to(filename=str(tmp_path / "POSCAR"))
    (tmp_path / "both.json").write_text(json.dumps([li2o.as_dict(), nacl.as_dict()]))
    with gzip.open(tmp_path / "one.json.gz", "wt") as handle:
        json.dump(nacl.as_dict(), handle)

    (label, s), = read_structures(tmp_path / "li2o.cif")
    assert label.endswith("li2o.cif") and s.composition.reduced_formula == "Li2O"
    assert read_structures(tmp_path / "POSCAR")[0][1].composition == nacl.composition
    both = read_structures(tmp_path / "both.json")
    assert [lab.rsplit("#", 1)[1] for lab, _ in both] == ["0", "1"]
    assert read_structures(tmp_path / "one.json.gz")[0][1] == nacl


def test_ase_readable_file(tmp_path, small_structures):
    pytest.importorskip("ase")
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    write(str(tmp_path / "si.extxyz"), AseAtomsAdaptor.get_atoms(small_structures[3]))
    (_, s), = read_structures(tmp_path / "si.extxyz")
    assert s.composition.reduced_formula == "Si"


@pytest.mark.parametrize("name,content,message", [
    ("empty.cif", "", "file is empty"),
    ("broken.json", "{not json", "not valid JSON"),
    ("garbage.cif", "this is not a cif file\n", "could not read a structure|no structure found"),
    ("wrong.json", json.dumps({"a": 1}), "not a pymatgen Structure dict"),
])
def test_bad_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(StructureError, match=message) as info:
        read_structures(path)
    assert name in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(StructureError, match="no such file"):
        read_structures(tmp_path / "nope.cif")
    with pytest.raises(StructureError, match="is a directory"):
        read_structures(tmp_path)


def test_to_structure_inputs(small_structures):
    s = small_structures[0]
    assert to_structure(s) is s
    assert to_structure(s.as_dict()) == s
    with pytest.raises(StructureError, match="cannot make a structure from a int"):
        to_structure(42)
    from pymatgen.core import Molecule

    with pytest.raises(StructureError, match="no lattice"):
        to_structure(Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]]))
