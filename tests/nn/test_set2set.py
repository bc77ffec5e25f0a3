import pytest
import torch
from torch_geometric.nn import aggr

from torch_atomsets.nn import MEGNetSet2Set, WeightedSet2Set, hard_sigmoid


def naive_set2set(module, x, weight=None):
    """One set, written out from the paper's eq. 5-9 (and MEGNET_PORT section 5)."""
    h_size = module.hidden_channels
    gate = hard_sigmoid if module.gate == "hard_sigmoid" else torch.sigmoid
    m = x @ module.memory.weight.t() + module.memory.bias
    w = torch.ones(x.size(0)) if weight is None else weight
    q_star = torch.zeros(2 * h_size)
    c = torch.zeros(h_size)
    for _ in range(module.processing_steps):
        z = q_star @ module.recurrent.weight.t() + module.recurrent.bias
        i, f, g, o = gate(z[:h_size]), gate(z[h_size:2 * h_size]), torch.tanh(z[2 * h_size:3 * h_size]), gate(z[3 * h_size:])
        c_new = (f * c if module.carry_cell else 0) + i * g
        if module.carry_cell:
            c = c_new
        q = o * torch.tanh(c_new)
        e = m @ q
        a = w * torch.exp(e) / (w * torch.exp(e)).sum()
        r = (a[:, None] * m).sum(0)
        q_star = torch.cat([q, r])
    return q_star


@pytest.mark.parametrize("module", [WeightedSet2Set(6, 5, processing_steps=3),
                                    MEGNetSet2Set(6, 5, processing_steps=2)])
def test_matches_equations_and_batch_equals_parts(module):
    sizes = [3, 1, 5]
    x = torch.randn(sum(sizes), 6)
    w = torch.rand(sum(sizes)) + 0.1
    index = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
    out = module(x, index, weight=w)
    assert out.shape == (3, 10)
    parts = torch.split(torch.arange(sum(sizes)), sizes)
    for g, rows in enumerate(parts):
        assert torch.allclose(out[g], naive_set2set(module, x[rows], w[rows]), atol=1e-5)
        assert torch.allclose(out[g], module(x[rows], torch.zeros(len(rows), dtype=torch.long), weight=w[rows])[0],
                              atol=1e-6)


def test_permutation_invariance():
    module = WeightedSet2Set(4, processing_steps=3)
    x, w = torch.randn(7, 4), torch.rand(7)
    index = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    out = module(x, index, weight=w)
    perm = torch.tensor([2, 0, 1, 6, 4, 3, 5])
    assert torch.allclose(module(x[perm], index, weight=w[perm]), out, atol=1e-6)


def test_weights_respected_fe2o3_equals_fe4o6():
    module = WeightedSet2Set(4, processing_steps=3)
    x = torch.randn(2, 4)  # rows: Fe, O
    index = torch.zeros(2, dtype=torch.long)
    fe2o3 = module(x, index, weight=torch.tensor([2.0, 3.0]))
    fe4o6 = module(x, index, weight=torch.tensor([4.0, 6.0]))
    fractions = module(x, index, weight=torch.tensor([0.4, 0.6]))
    assert torch.allclose(fe2o3, fe4o6, atol=1e-6) and torch.allclose(fe2o3, fractions, atol=1e-6)
    # a weight is a multiplicity: Fe2O3 as five equally weighted rows gives the same readout
    five_rows = module(x[[0, 0, 1, 1, 1]], torch.zeros(5, dtype=torch.long))
    assert torch.allclose(fe2o3, five_rows, atol=1e-5)
    # and it matters: a different ratio gives a different readout
    assert not torch.allclose(fe2o3, module(x, index, weight=torch.tensor([1.0, 1.0])), atol=1e-4)


def test_no_weight_equals_unit_weights():
    module = MEGNetSet2Set(4, 3)
    x, index = torch.randn(5, 4), torch.tensor([0, 0, 1, 1, 1])
    assert torch.allclose(module(x, index), module(x, index, weight=torch.ones(5)), atol=1e-7)


def test_megnet_variant_switches():
    module = MEGNetSet2Set(32)
    assert module.gate == "hard_sigmoid" and not module.carry_cell
    assert module.out_channels == 32 and module.processing_steps == 2
    assert "steps=2" in repr(module)


def test_carrying_the_cell_changes_the_result():
    torch.manual_seed(1)
    plain = WeightedSet2Set(4, 4, 3, gate="hard_sigmoid", carry_cell=False)
    carried = WeightedSet2Set(4, 4, 3, gate="hard_sigmoid", carry_cell=True)
    carried.load_state_dict(plain.state_dict())
    x, index = torch.randn(6, 4), torch.tensor([0, 0, 0, 1, 1, 1])
    assert not torch.allclose(plain(x, index), carried(x, index))


def test_is_a_pyg_aggregation_usable_by_name():
    module = WeightedSet2Set(4)
    assert isinstance(module, aggr.Aggregation)
    out = module(torch.randn(5, 4), ptr=torch.tensor([0, 2, 5]), index=torch.tensor([0, 0, 1, 1, 1]))
    assert out.shape == (2, 8)


def test_large_scores_do_not_overflow():
    module = WeightedSet2Set(3)
    x = torch.randn(4, 3) * 1e4
    out = module(x, torch.tensor([0, 0, 1, 1]))
    assert torch.isfinite(out).all()


def test_gradients_flow():
    module = WeightedSet2Set(4, processing_steps=2)
    x = torch.randn(5, 4, requires_grad=True)
    w = torch.rand(5, requires_grad=True)
    module(x, torch.tensor([0, 0, 1, 1, 1]), weight=w).sum().backward()
    assert x.grad.abs().sum() > 0 and w.grad.abs().sum() > 0
    for name, p in module.named_parameters():
        assert p.grad is not None, name


def test_reset_parameters_sets_forget_bias():
    module = WeightedSet2Set(4, 3)
    module.reset_parameters()
    assert torch.equal(module.recurrent.bias[3:6], torch.ones(3))


def test_bad_arguments():
    with pytest.raises(ValueError, match="gate"):
        WeightedSet2Set(4, gate="relu")
    with pytest.raises(ValueError, match="processing_steps"):
        WeightedSet2Set(4, processing_steps=0)


def test_torch_compile():
    module = WeightedSet2Set(4, processing_steps=2)
    x, index, w = torch.randn(5, 4), torch.tensor([0, 0, 1, 1, 1]), torch.rand(5)
    compiled = torch.compile(module, backend="aot_eager")
    assert torch.allclose(compiled(x, index, dim_size=2, weight=w), module(x, index, dim_size=2, weight=w), atol=1e-6)
