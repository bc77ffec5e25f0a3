import math

import pytest
import torch
from torch import nn

from torch_atomsets.nn import hard_sigmoid, resolve_activation, softplus2
from torch_atomsets.nn.activations import SoftPlus2, activation_names


def test_softplus2_values():
    x = torch.tensor([-30.0, -1.0, 0.0, 1.0, 30.0])
    expected = torch.log1p(torch.exp(x.double())) - math.log(2)
    assert torch.allclose(softplus2(x).double(), expected, atol=1e-6)
    assert softplus2(torch.zeros(3)).abs().max() < 1e-7


def test_softplus2_gradient_is_sigmoid():
    x = torch.linspace(-5, 5, 11, requires_grad=True)
    softplus2(x).sum().backward()
    assert torch.allclose(x.grad, torch.sigmoid(x.detach()), atol=1e-6)


def test_hard_sigmoid_is_keras2():
    x = torch.tensor([-3.0, -2.5, 0.0, 1.0, 2.5, 3.0])
    assert torch.allclose(hard_sigmoid(x), torch.tensor([0.0, 0.0, 0.5, 0.7, 1.0, 1.0]))
    # Keras 3 would give relu6(x + 3) / 6 = 2/3 at x = 1
    assert not torch.isclose(hard_sigmoid(torch.tensor(1.0)), torch.tensor(4.0 / 6.0))


def test_resolve_activation():
    assert isinstance(resolve_activation("SoftPlus2"), SoftPlus2)
    assert isinstance(resolve_activation("relu"), nn.ReLU)
    assert isinstance(resolve_activation(nn.Tanh), nn.Tanh)
    module = nn.GELU()
    assert resolve_activation(module) is module
    assert "softplus2" in activation_names()
    with pytest.raises(ValueError, match="unknown activation 'swoosh'"):
        resolve_activation("swoosh")


def test_softplus2_is_one_path_finite_in_every_dtype():
    x = torch.cat([torch.linspace(-100, 100, 2001), torch.tensor([88.0, 89.0, 500.0, -1e4])])
    with torch.no_grad():
        inference = softplus2(x)
    training = softplus2(x.clone().requires_grad_(True)).detach()
    assert torch.equal(inference, training)  # no separate inference path
    assert torch.isclose(inference[-2], torch.tensor(500.0 - math.log(2)))
    for dtype in (torch.float16, torch.bfloat16):
        low = softplus2(torch.tensor([-30.0, 0.0, 11.0, 12.0, 80.0, 1000.0], dtype=dtype))
        assert low.dtype == dtype and torch.isfinite(low).all(), (dtype, low)
    assert softplus2(torch.zeros(0)).numel() == 0
    assert softplus2(torch.empty(5, 3, device="meta")).shape == (5, 3)  # no data needed to run it


def test_softplus2_exports_without_a_data_dependent_branch():
    class Layer(nn.Module):
        def forward(self, x):
            return softplus2(x)

    program = torch.export.export(Layer(), (torch.randn(4, 3),),
                                  dynamic_shapes=({0: torch.export.Dim("rows")},))
    x = torch.randn(9, 3) * 50
    assert torch.equal(program.module()(x), softplus2(x))
