import torch
from torch_geometric.nn import aggr

from torch_atomsets.nn import WeightedMeanAggregation


def test_weighted_mean_values_and_batching():
    module = WeightedMeanAggregation()
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]])
    w = torch.tensor([1.0, 3.0, 2.0])
    index = torch.tensor([0, 0, 1])
    out = module(x, index, weight=w)
    assert torch.allclose(out, torch.tensor([[2.5, 1.5], [5.0, 5.0]]))
    assert torch.allclose(out[0], module(x[:2], weight=w[:2])[0])


def test_scale_invariance_fe2o3_equals_fe4o6():
    module = WeightedMeanAggregation()
    x, index = torch.randn(2, 3), torch.zeros(2, dtype=torch.long)
    assert torch.allclose(module(x, index, weight=torch.tensor([2.0, 3.0])),
                          module(x, index, weight=torch.tensor([4.0, 6.0])), atol=1e-6)


def test_without_weights_is_the_mean_and_permutation_invariant():
    module = WeightedMeanAggregation()
    x, index = torch.randn(6, 3), torch.tensor([0, 0, 1, 1, 1, 1])
    assert torch.allclose(module(x, index), aggr.MeanAggregation()(x, index), atol=1e-6)
    w = torch.rand(6)
    perm = torch.tensor([1, 0, 5, 2, 4, 3])
    assert torch.allclose(module(x[perm], index, weight=w[perm]), module(x, index, weight=w), atol=1e-6)


def test_empty_set_gives_zeros_and_gradients_flow():
    module = WeightedMeanAggregation()
    x = torch.randn(2, 3, requires_grad=True)
    w = torch.rand(2, requires_grad=True)
    out = module(x, torch.tensor([0, 2]), dim_size=3, weight=w)
    assert torch.equal(out[1], torch.zeros(3))
    out.sum().backward()
    assert x.grad.abs().sum() > 0 and w.grad is not None


def test_torch_compile():
    module = WeightedMeanAggregation()
    x, index, w = torch.randn(5, 4), torch.tensor([0, 0, 1, 1, 1]), torch.rand(5)
    compiled = torch.compile(module, backend="aot_eager")
    assert torch.allclose(compiled(x, index, dim_size=2, weight=w), module(x, index, dim_size=2, weight=w))
