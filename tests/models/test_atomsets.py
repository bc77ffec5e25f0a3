import pytest
import torch

from torch_atomsets.models import AtomSets, FeatureMLP


@pytest.mark.parametrize("readout", ["mean", "set2set"])
def test_fe2o3_equals_fe4o6_and_fractions(readout):
    model = AtomSets(in_channels=None, readout=readout).eval()
    z = torch.tensor([26, 8, 26, 8, 26, 8])
    index = torch.tensor([0, 0, 1, 1, 2, 2])
    weight = torch.tensor([2.0, 3.0, 4.0, 6.0, 0.4, 0.6])
    out = model(z, index, weight)
    assert out.shape == (3, 1)
    assert torch.allclose(out[0], out[1], atol=1e-5) and torch.allclose(out[0], out[2], atol=1e-5)


@pytest.mark.parametrize("readout", ["mean", "set2set"])
def test_permutation_invariance_and_batch_equals_parts(readout):
    model = AtomSets(in_channels=16, readout=readout, n_layer_before_readout=3, n_layer_after_readout=3,
                     n_neurons=32, activation="softplus").eval()
    x = torch.randn(7, 16)
    w = torch.rand(7) + 0.1
    index = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    out = model(x, index, w)
    perm = torch.tensor([1, 2, 0, 5, 3, 6, 4])
    assert torch.allclose(model(x[perm], index, w[perm]), out, atol=1e-5)
    first = model(x[:3], torch.zeros(3, dtype=torch.long), w[:3])
    assert torch.allclose(out[0], first[0], atol=1e-5)


def test_weights_matter():
    model = AtomSets(in_channels=4).eval()
    x, index = torch.randn(2, 4), torch.zeros(2, dtype=torch.long)
    assert not torch.allclose(model(x, index, torch.tensor([1.0, 3.0])), model(x, index, torch.tensor([3.0, 1.0])))


def test_configurations_and_gradients():
    model = AtomSets(in_channels=None, num_embeddings=104, embedding_dim=8, n_layer_before_readout=1,
                     n_layer_after_readout=3, n_neurons=16, readout="set2set")
    out = model(torch.tensor([1, 8, 26]), torch.tensor([0, 0, 1]), torch.ones(3))
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    mlp = FeatureMLP(96, n_layer=5, n_neurons=16)
    assert mlp(torch.randn(4, 96)).shape == (4, 1)
    assert len([m for m in mlp.mlp if isinstance(m, torch.nn.Linear)]) == 6
    with pytest.raises(ValueError, match="readout"):
        AtomSets(in_channels=4, readout="max")
