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


def test_softplus2_inference_path_matches_autograd_path_and_handles_large_inputs():
    x = torch.cat([torch.linspace(-100, 100, 2001), torch.tensor([88.0, 89.0, 500.0, -1e4])])
    with torch.no_grad():
        fast = softplus2(x)
    slow = softplus2(x.clone().requires_grad_(True)).detach()
    assert torch.isfinite(fast).all()
    assert torch.allclose(fast, slow, atol=2e-6, rtol=1e-6)
    assert torch.isclose(fast[-2], torch.tensor(500.0 - math.log(2)))
    assert softplus2(torch.zeros(0)).numel() == 0
