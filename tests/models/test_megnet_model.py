import pytest
import torch
from torch_geometric.loader import DataLoader

from torch_atomsets.data import CrystalGraphConverter
from torch_atomsets.errors import CheckpointError, ConfigError
from torch_atomsets.hub.checkpoints import read_parent, save_parent
from torch_atomsets.models import MEGNet


@pytest.fixture(scope="module")
def graphs(small_structures):
    converter = CrystalGraphConverter(4.0)
    return [converter.convert(s) for s in small_structures]


def test_output_shapes_and_levels(graphs):
    model = MEGNet(cutoff=4.0)
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    out = model.forward_data(batch)
    n, b = batch.num_nodes, batch.num_graphs
    assert out.prediction.shape == (b, 1)
    assert out.level("V0").shape == (n, 16)
    for level in ("V1", "V2", "V3"):
        assert out.level(level).shape == (n, 32)
    for level in ("u1", "u2", "u3", "v_r", "e_r"):
        assert out.level(level).shape == (b, 32)
    assert out.f.shape == (b, 96)
    assert torch.equal(out.f[:, :32], out.v_r)
    with pytest.raises(ConfigError, match="V4"):
        out.level("V4")
    assert torch.equal(out.level("u3"), out.state_features[2]) and torch.equal(out.level("V0"), out.atom_features[0])


def test_published_size_has_167761_parameters():
    assert sum(p.numel() for p in MEGNet().parameters()) == 167761


def test_batch_equals_parts(graphs):
    model = MEGNet(cutoff=4.0).eval()
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    together = model.forward_data(batch)
    ptr = batch.ptr
    for i, g in enumerate(graphs):
        alone = model.forward_data(g)
        assert torch.allclose(together.prediction[i], alone.prediction[0], atol=1e-5)
        assert torch.allclose(together.f[i], alone.f[0], atol=1e-4)
        assert torch.allclose(together.atom_features[2][ptr[i]:ptr[i + 1]], alone.atom_features[2], atol=1e-4)


def test_configurable_and_trainable(graphs):
    model = MEGNet(num_blocks=2, embedding_dim=8, channels=16, conv_hidden=(24,), ff_hidden=24,
                   num_gaussians=20, gaussian_stop=4.0, set2set_hidden=8, set2set_steps=3,
                   readout_hidden=(12,), out_dim=2, activation="silu", cutoff=4.0)
    batch = next(iter(DataLoader(graphs, batch_size=len(graphs))))
    out = model.forward_data(batch)
    assert out.prediction.shape == (len(graphs), 2) and len(out.atom_features) == 3
    out.prediction.sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_save_and_load_roundtrip(tmp_path, graphs):
    model = MEGNet(num_blocks=2, cutoff=4.0).eval()
    path = str(tmp_path / "parent.pt")
    save_parent(model, path, metadata={"unit": "eV"})
    with pytest.raises(CheckpointError, match="exists"):
        save_parent(model, path)
    loaded, metadata = read_parent(path)
    assert metadata == {"unit": "eV"} and loaded.cutoff == 4.0 and loaded.num_blocks == 2
    a, b = model.forward_data(graphs[0]), loaded.eval().forward_data(graphs[0])
    assert torch.equal(a.f, b.f)


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt: not a readable model file"):
        read_parent(str(bad))
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a torch_atomsets parent file"):
        read_parent(str(tmp_path / "other.pt"))
