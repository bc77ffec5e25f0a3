import math

import pytest
import torch

from torch_atomsets.nn import GaussianExpansion


def test_shape_and_values():
    basis = GaussianExpansion(0.0, 6.0, 100, 0.5)
    d = torch.tensor([0.0, 1.5, 4.99])
    g = basis(d)
    assert g.shape == (3, 100)
    mu = torch.linspace(0, 6, 100)
    expected = torch.exp(-((d[:, None] - mu[None]) ** 2) / 0.25)
    assert torch.allclose(g, expected, atol=1e-7)


def test_width_convention_is_w_squared_not_two_sigma_squared():
    basis = GaussianExpansion(centers=[2.0], width=0.5)
    # one width away from the centre: exp(-1), not exp(-1/2)
    assert math.isclose(basis(torch.tensor([2.5])).item(), math.exp(-1.0), rel_tol=1e-6)


def test_explicit_centres_and_column_input():
    basis = GaussianExpansion(centers=[0.0, 1.0, 2.0], width=1.0)
    assert basis.num_gaussians == 3
    assert basis(torch.ones(4, 1)).shape == (4, 3)
    assert "num_gaussians=3" in repr(basis)


def test_gradient_flows_to_distances():
    d = torch.tensor([1.0, 2.0], requires_grad=True)
    GaussianExpansion(0, 5, 20, 0.5)(d).sum().backward()
    assert torch.isfinite(d.grad).all() and d.grad.abs().sum() > 0


def test_rejects_bad_width():
    with pytest.raises(ValueError, match="width"):
        GaussianExpansion(width=0.0)
