import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from torch_geometric.loader import DataLoader

from torch_atomsets.data import CrystalGraphConverter, StructureError


def test_li2o_graph_follows_megnet_rules(li2o):
    graph = CrystalGraphConverter(5.0).convert(li2o)
    assert graph.num_nodes == 3
    assert graph.edge_index.shape == (2, 146)  # megnet's own count for Li2O at 5 A
    assert graph.z.tolist() == [site.specie.Z for site in li2o]
    assert graph.state.shape == (1, 2) and graph.state.abs().sum() == 0
    d = graph.edge_distance
    assert d.dtype == torch.float32 and (d > 1e-8).all() and (d <= 5.0).all()


def test_both_directions_and_self_images():
    # one Cu atom in a 3 A cube: every bond is to one of its own periodic images
    cu = Structure(Lattice.cubic(3.0), ["Cu"], [[0, 0, 0]])
    graph = CrystalGraphConverter(3.5).convert(cu)
    assert graph.num_edges == 6  # the 6 face neighbours at 3.0 A; the next shell is at 4.24 A
    assert sorted(set(np.round(graph.edge_distance.numpy(), 4))) == [3.0]
    assert graph.edge_index.eq(0).all()
    assert CrystalGraphConverter(4.5).convert(cu).num_edges == 18


def test_pairs_appear_in_both_directions(small_structures):
    graph = CrystalGraphConverter(4.0).convert(small_structures[1])
    pairs = {}
    for (a, b), d in zip(graph.edge_index.t().tolist(), graph.edge_distance.tolist()):
        pairs.setdefault((a, b), []).append(round(d, 5))
    for (a, b), ds in pairs.items():
        assert sorted(ds) == sorted(pairs[(b, a)])


def test_cutoff_boundary_is_inclusive():
    # sc lattice with a = cutoff: the 6 nearest images sit exactly on the cutoff
    graph = CrystalGraphConverter(5.0).convert(Structure(Lattice.cubic(5.0), ["Cu"], [[0, 0, 0]]))
    assert graph.num_edges == 6


def test_batches_with_pyg_dataloader(small_structures):
    converter = CrystalGraphConverter()
    graphs = [converter.convert(s, y=torch.tensor([float(i)])) for i, s in enumerate(small_structures)]
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    assert batch.num_graphs == len(graphs)
    assert batch.state.shape == (len(graphs), 2)
    assert batch.edge_index.max() < batch.num_nodes
    assert batch.y.tolist() == [float(i) for i in range(len(graphs))]


def test_rejects_disordered_sites():
    alloy = Structure(Lattice.cubic(3.6), [{"Fe": 0.5, "Ni": 0.5}], [[0, 0, 0]])
    with pytest.raises(StructureError, match="my alloy: has disordered"):
        CrystalGraphConverter().convert(alloy, name="my alloy")


def test_rejects_elements_beyond_z94():
    amo2 = Structure(Lattice.cubic(5.4), ["Am", "O"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    with pytest.raises(StructureError, match=r"Am beyond Z = 94"):
        CrystalGraphConverter().convert(amo2)


def test_rejects_no_bond_within_cutoff():
    lonely = Structure(Lattice.cubic(6.0), ["Ar"], [[0, 0, 0]])
    with pytest.raises(StructureError, match=r"Ar1: no bond within the cutoff of 5 A"):
        CrystalGraphConverter(5.0).convert(lonely)


def test_rejects_nan_coordinates():
    bad = Structure(Lattice.cubic(3.0), ["Cu", "Cu"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    bad.replace(1, "Cu", [float("nan"), 0.5, 0.5])
    with pytest.raises(StructureError, match="NaN"):
        CrystalGraphConverter().convert(bad, name="nan-structure")


def test_isolated_atom_in_bonded_structure_is_kept():
    # megnet keeps it (warning only); its bond mean is zero
    s = Structure(Lattice.cubic(14.0), ["Na", "Cl", "Ar"], [[0, 0, 0], [0.2, 0, 0], [0.5, 0.5, 0.5]])
    graph = CrystalGraphConverter(5.0).convert(s)
    assert graph.num_nodes == 3 and graph.num_edges == 2
    assert 2 not in graph.edge_index.flatten().tolist()


def test_ase_atoms_input(small_structures):
    pytest.importorskip("ase")
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(small_structures[0])
    g1 = CrystalGraphConverter().convert(atoms)
    g2 = CrystalGraphConverter().convert(small_structures[0])
    assert g1.num_edges == g2.num_edges
    atoms.set_pbc([True, True, False])
    with pytest.raises(StructureError, match="periodic"):
        CrystalGraphConverter().convert(atoms)
