"""Graphs compressed by colour refinement give the full graph's outputs."""
import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from torch_atomsets.data.graphs import CrystalGraphConverter, GraphBatch, compress
from torch_atomsets.models import MEGNet

LEVELS = ["prediction", "V1", "V2", "V3", "u1", "u2", "u3", "f", "v_r", "e_r"]


def batch_of(structures, cutoff=5.0):
    converter = CrystalGraphConverter(cutoff)
    return GraphBatch.from_arrays([converter.arrays(s, "s") for s in structures])


def run(model, graphs, compressed):
    with torch.no_grad():
        if not compressed:
            return model(graphs.z, graphs.edge_index, graphs.edge_distance, None, graphs.batch, graphs.num_graphs)
        q = compress(graphs)
        out = model(q.z, q.edge_index, q.edge_distance, None, q.batch, q.num_graphs, q.atom_weight, q.bond_weight)
        return out._replace(atom_features=tuple(v[q.atom_class] for v in out.atom_features))


def test_classes_merge_what_is_alike_and_nothing_else(small_structures):
    cu = small_structures[2]  # conventional fcc cell: 4 equivalent atoms
    q = compress(batch_of([cu]))
    assert len(q.z) == 1 and float(q.atom_weight.sum()) == 4
    assert float(q.bond_weight.sum()) == len(batch_of([cu]).edge_distance)
    nacl = small_structures[1]
    assert len(compress(batch_of([nacl])).z) == 2  # Na and Cl
    # two copies of one crystal in a batch stay apart: each graph has its own state
    q2 = compress(batch_of([cu, cu]))
    assert len(q2.z) == 2 and sorted(q2.batch.tolist()) == [0, 1]
    # a distorted copy: every atom its own class
    distorted = cu.copy()
    distorted.translate_sites([0], [0.01, 0.0, 0.0])
    assert len(compress(batch_of([distorted])).z) > 1


@pytest.mark.parametrize("seed", [0, 1])
def test_compressed_outputs_equal_the_full_graphs(seed, small_structures):
    torch.manual_seed(seed)
    model = MEGNet().eval()
    for parameter in model.parameters():  # random weights of a realistic size
        parameter.data.mul_(2.0)
    lonely = Structure(Lattice.cubic(6.0), ["Na", "Cl", "Xe"], [[0, 0, 0], [0.38, 0, 0], [0.5, 0.5, 0.5]])
    supercell = small_structures[2].copy()
    supercell.make_supercell([2, 1, 1])
    structures = small_structures + [lonely, supercell]
    graphs = batch_of(structures)
    full, compressed = run(model, graphs, False), run(model, graphs, True)
    for level in LEVELS:
        a, b = full.level(level), compressed.level(level)
        scale = max(1.0, float(a.abs().max()))
        assert torch.allclose(a, b, atol=2e-6 * scale, rtol=0), (level, float((a - b).abs().max()), scale)


@pytest.mark.shared
def test_the_published_parent_compressed(parent_2019, small_structures, li2o):
    for compressed in (True, False):
        features = parent_2019.featurize([li2o] + small_structures, compressed=compressed)
        assert abs(features["prediction"][0] - (-2.0152957)) < 1e-5
    a = parent_2019.featurize(small_structures, compressed=True)
    b = parent_2019.featurize(small_structures, compressed=False)
    for level in LEVELS:
        scale = max(1.0, float(np.abs(b[level]).max()))
        assert np.allclose(a[level], b[level], atol=2e-6 * scale, rtol=0), level
