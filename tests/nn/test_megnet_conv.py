import torch

from torch_atomsets.nn import MEGNetConv, softplus2


def random_graph(num_nodes, num_edges, fv=8, fe=6, fu=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(num_nodes, fv, generator=g)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=g)
    edge_attr = torch.randn(num_edges, fe, generator=g)
    u = torch.randn(1, fu, generator=g)
    return x, edge_index, edge_attr, u


def naive_megnet(conv, x, edge_index, edge_attr, u, batch):
    """The block written out with explicit concatenations and loops (the paper's eq. 1-3)."""
    def phi(mlp, h):
        linears = mlp.linears
        for k, lin in enumerate(linears):
            h = lin(h)
            if k < len(linears) - 1:
                h = softplus2(h)
        return h

    neighbour, centre = edge_index
    e_new = phi(conv.phi_e, torch.cat([x[centre], x[neighbour], edge_attr, u[batch[centre]]], -1))
    ebar = torch.zeros(x.size(0), e_new.size(1))
    for i in range(x.size(0)):
        mask = centre == i
        if mask.any():
            ebar[i] = e_new[mask].mean(0)
    v_new = phi(conv.phi_v, torch.cat([ebar, x, u[batch]], -1))
    u_rows = []
    for g in range(u.size(0)):
        edges = batch[centre] == g
        nodes = batch == g
        u_rows.append(torch.cat([e_new[edges].mean(0), v_new[nodes].mean(0), u[g]]))
    u_new = phi(conv.phi_u, torch.stack(u_rows))
    return v_new, e_new, u_new


def test_shapes_and_repr():
    conv = MEGNetConv(8, 6, 4, out_channels=5, hidden_channels=(7,))
    x, ei, ea, u = random_graph(10, 30)
    v, e, s = conv(x, ei, ea, u)
    assert v.shape == (10, 5) and e.shape == (30, 5) and s.shape == (1, 5)
    assert "MEGNetConv(node=8, edge=6, state=4, out=5" in repr(conv)


def test_matches_explicit_equations_in_a_batch():
    conv = MEGNetConv(8, 6, 4)
    x1, ei1, ea1, _ = random_graph(5, 12, seed=1)
    x2, ei2, ea2, _ = random_graph(7, 20, seed=2)
    x = torch.cat([x1, x2])
    edge_index = torch.cat([ei1, ei2 + 5], 1)
    edge_attr = torch.cat([ea1, ea2])
    u = torch.randn(2, 4)
    batch = torch.tensor([0] * 5 + [1] * 7)
    got = conv(x, edge_index, edge_attr, u, batch)
    want = naive_megnet(conv, x, edge_index, edge_attr, u, batch)
    for a, b in zip(got, want):
        assert torch.allclose(a, b, atol=1e-5)


def test_aggregates_at_the_centre_atom():
    """edge_index[1] is the centre: an atom that is only ever a neighbour gets ebar = 0."""
    conv = MEGNetConv(3, 2, 2)
    x = torch.randn(2, 3)
    edge_index = torch.tensor([[0], [1]])  # neighbour 0 -> centre 1
    edge_attr = torch.randn(1, 2)
    u = torch.zeros(1, 2)
    v, e, _ = conv(x, edge_index, edge_attr, u)
    v_no_edge_0 = conv.phi_v(torch.cat([torch.zeros(1, conv.out_channels), x[:1], u], -1))
    v_with_edge_1 = conv.phi_v(torch.cat([e, x[1:], u], -1))
    assert torch.allclose(v[0:1], v_no_edge_0, atol=1e-6)
    assert torch.allclose(v[1:2], v_with_edge_1, atol=1e-6)


def test_batch_equals_parts():
    conv = MEGNetConv(8, 6, 4)
    parts = [random_graph(n, m, seed=s) for s, (n, m) in enumerate([(4, 9), (6, 15), (3, 4)])]
    outs = [conv(*p) for p in parts]
    offsets = [0, 4, 10]
    x = torch.cat([p[0] for p in parts])
    ei = torch.cat([p[1] + o for p, o in zip(parts, offsets)], 1)
    ea = torch.cat([p[2] for p in parts])
    u = torch.cat([p[3] for p in parts])
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor([4, 6, 3]))
    v, e, s = conv(x, ei, ea, u, batch)
    assert torch.allclose(v, torch.cat([o[0] for o in outs]), atol=1e-5)
    assert torch.allclose(e, torch.cat([o[1] for o in outs]), atol=1e-5)
    assert torch.allclose(s, torch.cat([o[2] for o in outs]), atol=1e-5)


def test_permutation_equivariance():
    conv = MEGNetConv(8, 6, 4)
    x, ei, ea, u = random_graph(9, 25)
    v, e, s = conv(x, ei, ea, u)
    perm = torch.randperm(9)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(9)
    edge_perm = torch.randperm(25)
    v2, e2, s2 = conv(x[perm], inverse[ei][:, edge_perm], ea[edge_perm], u)
    assert torch.allclose(v2, v[perm], atol=1e-5)
    assert torch.allclose(e2, e[edge_perm], atol=1e-5)
    assert torch.allclose(s2, s, atol=1e-5)


def test_gradients_reach_every_parameter_and_input():
    conv = MEGNetConv(8, 6, 4)
    x, ei, ea, u = random_graph(6, 14)
    x.requires_grad_(True)
    ea.requires_grad_(True)
    v, e, s = conv(x, ei, ea, u)
    (v.sum() + e.sum() + s.sum()).backward()
    assert x.grad is not None and ea.grad is not None
    for name, p in conv.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_reset_parameters_changes_weights():
    conv = MEGNetConv(8, 6, 4)
    before = conv.phi_e[0].weight.clone()
    conv.reset_parameters()
    assert not torch.equal(before, conv.phi_e[0].weight)


def test_options_activation_and_depth():
    conv = MEGNetConv(8, 6, 4, out_channels=3, hidden_channels=(16, 16, 16), activation="relu",
                      activate_last=True)
    assert len(conv.phi_e.linears) == 4
    v, _, _ = conv(*random_graph(5, 10))
    assert (v >= 0).all()  # relu after the last layer too


def test_torch_compile():
    conv = MEGNetConv(8, 6, 4)
    x, ei, ea, u = random_graph(6, 14)
    compiled = torch.compile(conv, dynamic=True)  # inductor: real code generation
    for a, b in zip(compiled(x, ei, ea, u), conv(x, ei, ea, u)):
        assert torch.allclose(a, b, atol=1e-6)
    x2, ei2, ea2, u2 = random_graph(11, 31, seed=3)  # a new size reuses the dynamic graph
    for a, b in zip(compiled(x2, ei2, ea2, u2), conv(x2, ei2, ea2, u2)):
        assert torch.allclose(a, b, atol=1e-6)
