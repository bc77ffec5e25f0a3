"""One MEGNet graph-network block as a PyG ``MessagePassing`` operator."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import scatter

from .activations import ActivationLike
from .mlp import MLP


def _weighted_mean(values: Tensor, weight: Tensor, index: Tensor, size: int) -> Tensor:
    """Per group of ``index``: ``sum w v / sum w`` (0 for an empty group)."""
    w = weight.reshape(-1, 1).to(values.dtype)
    total = scatter(values * w, index, dim=0, dim_size=size, reduce="sum")
    count = scatter(w, index, dim=0, dim_size=size, reduce="sum")
    return total / count.clamp_min(torch.finfo(values.dtype).tiny)


class MEGNetConv(MessagePassing):
    r"""The MEGNet graph convolution of `Chen et al. (2019)
    <https://doi.org/10.1021/acs.chemmater.9b01294>`_: an edge, a node and a state
    (global) update, eq. 1-3 of the AtomSets paper.

    For a bond :math:`k` from neighbour :math:`j` (``edge_index[0]``) to centre atom
    :math:`i` (``edge_index[1]``) in graph :math:`g`:

    .. math::
        \mathbf{e}'_k &= \phi_e\left(\mathbf{v}_i \,\Vert\, \mathbf{v}_j \,\Vert\,
            \mathbf{e}_k \,\Vert\, \mathbf{u}_g\right)

        \bar{\mathbf{e}}_i &= \frac{1}{|\mathcal{E}(i)|} \sum_{k \in \mathcal{E}(i)}
            \mathbf{e}'_k \quad (\mathbf{0} \text{ for an atom without bonds})

        \mathbf{v}'_i &= \phi_v\left(\bar{\mathbf{e}}_i \,\Vert\, \mathbf{v}_i
            \,\Vert\, \mathbf{u}_g\right)

        \mathbf{u}'_g &= \phi_u\left(\operatorname{mean}_{k \in g} \mathbf{e}'_k
            \,\Vert\, \operatorname{mean}_{i \in g} \mathbf{v}'_i \,\Vert\,
            \mathbf{u}_g\right)

    where :math:`\mathcal{E}(i)` are the bonds whose centre is :math:`i` and each
    :math:`\phi` is an :class:`~torch_atomsets.nn.MLP` whose last layer is linear
    (the published weights need that). The concatenation orders above are the ones the
    published MEGNet parents were trained with.

    Direction convention: PyG's default flow (``source_to_target``) aggregates at
    ``edge_index[1]``, so that row must hold the **centre** atom (MEGNet's ``index1``)
    and ``edge_index[0]`` the neighbour. Crystal graphs from
    :class:`torch_atomsets.data.CrystalGraphConverter` follow it; for a graph whose
    edges come in both directions only the ordering of the concatenation depends on it.

    The first dense layer of :math:`\phi_e` is evaluated as a sum of per-part products
    (:math:`\mathbf{v} W_i` and :math:`\mathbf{v} W_j` once per atom, gathered to the
    bonds, :math:`\mathbf{u} W_u` once per graph): the same function as the
    concatenation, at a quarter of the per-bond multiply cost.

    Args:
        node_channels: size of :math:`\mathbf{v}`.
        edge_channels: size of :math:`\mathbf{e}`.
        state_channels: size of :math:`\mathbf{u}`.
        out_channels: size of :math:`\mathbf{v}', \mathbf{e}', \mathbf{u}'`
            (default 32).
        hidden_channels: hidden sizes of each :math:`\phi` (default ``(64, 64)``).
        activation: hidden-layer activation (default ``"softplus2"``).
        activate_last: also activate the last layer of each :math:`\phi` (default
            ``False``, as the published MEGNet).

    Multiplicities: ``edge_weight`` and ``node_weight`` make every mean above a weighted
    mean, as if edge :math:`k` appeared :math:`n_k` times and node :math:`i` :math:`m_i` times.
    A graph whose symmetry-equivalent atoms and bonds are merged into one representative
    each (:func:`torch_atomsets.data.graphs.compress`) then gives exactly the outputs of the
    full graph, for a fraction of the work.

    Shapes:
        - **input:** node features :math:`(N, F_v)`, edge indices :math:`(2, E)`,
          edge features :math:`(E, F_e)`, state :math:`(B, F_u)`, batch vector
          :math:`(N)` (optional, all zero for a single graph), optional ``edge_weight``
          :math:`(E)` and ``node_weight`` :math:`(N)`.
        - **output:** :math:`(N, F')`, :math:`(E, F')`, :math:`(B, F')`: the raw
          updates, without any residual connection.
    """

    def __init__(self, node_channels: int, edge_channels: int, state_channels: int,
                 out_channels: int = 32, hidden_channels: Sequence[int] = (64, 64),
                 activation: ActivationLike = "softplus2", activate_last: bool = False):
        super().__init__(aggr="mean", flow="source_to_target")
        self.node_channels = int(node_channels)
        self.edge_channels = int(edge_channels)
        self.state_channels = int(state_channels)
        self.out_channels = int(out_channels)
        self.hidden_channels = tuple(int(h) for h in hidden_channels)
        hidden = list(self.hidden_channels)
        self.phi_e = MLP([2 * node_channels + edge_channels + state_channels, *hidden, out_channels],
                         activation, activate_last)
        self.phi_v = MLP([out_channels + node_channels + state_channels, *hidden, out_channels],
                         activation, activate_last)
        self.phi_u = MLP([2 * out_channels + state_channels, *hidden, out_channels],
                         activation, activate_last)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.phi_e.reset_parameters()
        self.phi_v.reset_parameters()
        self.phi_u.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor, u: Tensor,
                batch: Optional[Tensor] = None, edge_weight: Optional[Tensor] = None,
                node_weight: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, Tensor]:
        num_nodes = x.size(0)
        num_graphs = u.size(0)
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=x.device)
        edge_graph = batch[edge_index[1]]

        # phi_e's first layer, split by input block [centre | neighbour | edge | state]:
        # the centre and state terms are summed per atom, so each bond needs two
        # gathers and one small product instead of a 4x wider product.
        first = self.phi_e[0]
        fv, fe = self.node_channels, self.edge_channels
        w = first.weight
        w_centre, w_neighbour = w[:, :fv], w[:, fv:2 * fv]
        w_edge, w_state = w[:, 2 * fv:2 * fv + fe], w[:, 2 * fv + fe:]
        state_term = torch.addmm(first.bias, u, w_state.t())
        centre_term = torch.addmm(state_term[batch], x, w_centre.t())
        hidden = self.edge_updater(edge_index, centre_term=centre_term,
                                   neighbour_term=x @ w_neighbour.t(), edge_attr=edge_attr,
                                   w_edge=w_edge)
        for i, layer in enumerate(self.phi_e):
            if i > 0:
                hidden = layer(hidden)
        edge_new = hidden

        if edge_weight is None:
            edge_mean_at_node = self.propagate(edge_index, edge_attr=edge_new, size=(num_nodes, num_nodes))
        else:
            edge_mean_at_node = _weighted_mean(edge_new, edge_weight, edge_index[1], num_nodes)
        x_new = self.phi_v(torch.cat([edge_mean_at_node, x, u[batch]], dim=-1))

        if edge_weight is None:
            edge_mean = scatter(edge_new, edge_graph, dim=0, dim_size=num_graphs, reduce="mean")
        else:
            edge_mean = _weighted_mean(edge_new, edge_weight, edge_graph, num_graphs)
        if node_weight is None:
            node_mean = scatter(x_new, batch, dim=0, dim_size=num_graphs, reduce="mean")
        else:
            node_mean = _weighted_mean(x_new, node_weight, batch, num_graphs)
        u_new = self.phi_u(torch.cat([edge_mean, node_mean, u], dim=-1))
        return x_new, edge_new, u_new

    def edge_update(self, centre_term_i: Tensor, neighbour_term_j: Tensor, edge_attr: Tensor,
                    w_edge: Tensor) -> Tensor:
        return torch.addmm(centre_term_i + neighbour_term_j, edge_attr, w_edge.t())

    def message(self, edge_attr: Tensor) -> Tensor:
        return edge_attr

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(node={self.node_channels}, edge={self.edge_channels}, "
                f"state={self.state_channels}, out={self.out_channels}, hidden={list(self.hidden_channels)})")
