"""MLP: the dense stack under every MEGNet and AtomSets network (maps one to one onto Keras Dense layers)."""
import pytest
import torch
from torch import nn

from torch_atomsets.nn import MLP
from torch_atomsets.nn.activations import SoftPlus2, softplus2


def test_layers_and_where_the_activation_goes():
    mlp = MLP([5, 8, 3])
    assert [type(m) for m in mlp] == [nn.Linear, SoftPlus2, nn.Linear, SoftPlus2]
    head = MLP([5, 8, 3], activation="relu", activate_last=False)
    assert [type(m) for m in head] == [nn.Linear, nn.ReLU, nn.Linear]
    assert [(lin.in_features, lin.out_features) for lin in head.linears] == [(5, 8), (8, 3)]
    assert "channels=[5, 8, 3], activate_last=False" in repr(head)


def test_forward_is_the_dense_stack():
    mlp = MLP([4, 6, 2], activate_last=False)
    x = torch.randn(7, 4)
    first, second = mlp.linears
    expected = softplus2(x @ first.weight.T + first.bias) @ second.weight.T + second.bias
    assert torch.allclose(mlp(x), expected, atol=1e-6)
    assert mlp(torch.randn(3, 5, 4)).shape == (3, 5, 2)  # any leading dimensions


def test_reset_parameters_draws_new_weights():
    mlp = MLP([4, 6, 2])
    before = [p.clone() for p in mlp.parameters()]
    mlp.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, mlp.parameters()))


@pytest.mark.parametrize("channels", [[], [4]])
def test_needs_an_input_and_an_output_size(channels):
    with pytest.raises(ValueError, match="at least an input and an output size"):
        MLP(channels)


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        MLP([2, 2], activation="swishy")
