import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Structure

from torch_atomsets.data import CompositionError
from torch_atomsets.data.inputs.compositions import element_set, element_sets, site_sets


def test_formula_amounts_and_fractions():
    z, w = element_set("Fe2O3")
    assert dict(zip(z.tolist(), w.tolist())) == {26: 2.0, 8: 3.0}
    z, w = element_set("Fe0.01Ni0.99")
    assert dict(zip(z.tolist(), np.round(w.astype(float), 6).tolist())) == {26: 0.01, 28: 0.99}
    z2, w2 = element_set(Composition("Fe0.01Ni0.99"))
    assert z.tolist() == z2.tolist()


@pytest.mark.parametrize("formula,message", [
    ("", "empty formula"),
    ("   ", "empty formula"),
    ("Xx2O3", "'Xx' is not a chemical element"),
    ("Fe2O3Qz", "'Qz' is not a chemical element"),
    ("Fe2O3)", "cannot parse formula"),
])
def test_bad_formulas_are_named(formula, message):
    with pytest.raises(CompositionError, match=message) as info:
        element_set(formula, label="my row 7")
    assert "my row 7" in str(info.value)


def test_element_beyond_max_z():
    with pytest.raises(CompositionError, match="Am .* beyond Z = 94"):
        element_set("AmO2", max_z=94)


def test_concatenated_sets():
    z, w, ptr = element_sets(["NaCl", "Fe2O3", "Cu"])
    assert ptr.tolist() == [0, 2, 4, 5]
    assert z[ptr[2]:ptr[3]].tolist() == [29]


def test_site_sets_from_structures_and_dicts():
    ordered = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    disordered = Structure(Lattice.cubic(3.6), [{"Fe": 0.01, "Ni": 0.99}], [[0, 0, 0]])
    for items in ([ordered, disordered], [ordered.as_dict(), disordered.as_dict()]):
        z, w, ptr = site_sets(items)
        assert ptr.tolist() == [0, 2, 4]
        assert z[:2].tolist() == [11, 17] and w[:2].tolist() == [1.0, 1.0]
        assert sorted(zip(z[2:].tolist(), np.round(w[2:].astype(float), 6).tolist())) == [(26, 0.01), (28, 0.99)]
