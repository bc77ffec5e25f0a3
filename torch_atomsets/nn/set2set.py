"""Set2Set readouts: the weighted Set2Set of the AtomSets paper and MEGNet's variant."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn
from torch_geometric.nn.aggr import Aggregation
from torch_geometric.utils import scatter

from .activations import hard_sigmoid


def weighted_softmax(score: Tensor, index: Tensor, dim_size: int,
                     weight: Optional[Tensor] = None) -> Tensor:
    r"""Softmax of ``score`` within each group of ``index``, scaled by ``weight``:
    :math:`a_i = w_i e^{s_i} / \sum_{j \in g(i)} w_j e^{s_j}`.

    With ``weight=None`` every :math:`w_i = 1` (the plain grouped softmax).
    The maximum of each group is subtracted first, so large scores do not overflow.

    Shapes: ``score``, ``index`` and ``weight`` are all ``(N,)``; output ``(N,)``.
    """
    group_max = scatter(score.detach(), index, dim=0, dim_size=dim_size, reduce="max")
    unnormalised = torch.exp(score - group_max[index])
    if weight is not None:
        unnormalised = unnormalised * weight
    total = scatter(unnormalised, index, dim=0, dim_size=dim_size, reduce="sum")
    return unnormalised / total[index]


class WeightedSet2Set(Aggregation):
    r"""The weighted Set2Set readout of the AtomSets paper (eq. 5-9), built on
    `Set2Set <https://arxiv.org/abs/1511.06391>`_.

    Each element :math:`i` of a set has features :math:`\mathbf{x}_i` and a weight
    :math:`w_i` (an atom fraction, an occupancy, or 1):

    .. math::
        \mathbf{m}_i &= \mathbf{x}_i W + \mathbf{b}, \qquad \mathbf{q}^*_0 = \mathbf{0}

        \mathbf{q}_t &= \mathrm{LSTM}(\mathbf{q}^*_{t-1})

        a_{i,t} &= \frac{w_i \exp(\mathbf{m}_i \cdot \mathbf{q}_t)}
            {\sum_j w_j \exp(\mathbf{m}_j \cdot \mathbf{q}_t)}

        \mathbf{r}_t &= \sum_i a_{i,t}\, \mathbf{m}_i, \qquad
        \mathbf{q}^*_t = \mathbf{q}_t \,\Vert\, \mathbf{r}_t

    and the output is :math:`\mathbf{q}^*_T` (size :math:`2H`). The LSTM takes
    :math:`\mathbf{q}^*_{t-1}` as its only input (one kernel of shape
    :math:`2H \times 4H`, gates in the order input, forget, cell, output):

    .. math::
        \mathbf{z} = \mathbf{q}^*_{t-1} K + \mathbf{b}_K, \quad
        \mathbf{c}_t = \sigma(\mathbf{z}_f) \odot \mathbf{c}_{t-1}
            + \sigma(\mathbf{z}_i) \odot \tanh(\mathbf{z}_g), \quad
        \mathbf{q}_t = \sigma(\mathbf{z}_o) \odot \tanh(\mathbf{c}_t)

    Why one class with two switches rather than PyG's :class:`~torch_geometric.nn.aggr.Set2Set`:
    the published MEGNet parent needs a gate and a cell that ``torch.nn.LSTM`` cannot
    express (the Keras 2 hard sigmoid, and a cell state that is *not* carried between
    steps, :math:`\mathbf{c}_{t-1} = \mathbf{0}`), plus the projection to
    :math:`\mathbf{m}`. Both differences are switches here, so the paper's readout and
    the parent's readout share one implementation; :class:`MEGNetSet2Set` is this class
    with the parent's switch settings.

    Args:
        in_channels: size of :math:`\mathbf{x}_i`.
        hidden_channels: :math:`H`, size of :math:`\mathbf{m}_i` and
            :math:`\mathbf{q}_t` (default: ``in_channels``). The output has
            :math:`2H` channels.
        processing_steps: :math:`T` (default 3, as in the paper).
        gate: ``"sigmoid"`` (logistic, default) or ``"hard_sigmoid"`` (Keras 2).
        carry_cell: carry :math:`\mathbf{c}_t` to the next step (default ``True``,
            a standard LSTM); ``False`` resets it to zero at every step, as MEGNet does.

    Shapes:
        - **input:** :math:`(N, F)`, ``index`` :math:`(N,)`, optional ``weight``
          :math:`(N,)` or :math:`(N, 1)` (non-negative, not all zero within a set).
        - **output:** :math:`(B, 2H)`.
    """

    def __init__(self, in_channels: int, hidden_channels: Optional[int] = None,
                 processing_steps: int = 3, gate: str = "sigmoid", carry_cell: bool = True):
        super().__init__()
        if gate not in ("sigmoid", "hard_sigmoid"):
            raise ValueError(f"gate must be 'sigmoid' or 'hard_sigmoid', got {gate!r}")
        if processing_steps < 1:
            raise ValueError(f"processing_steps must be at least 1, got {processing_steps}")
        self.in_channels = int(in_channels)
        self.hidden_channels = int(hidden_channels or in_channels)
        self.out_channels = 2 * self.hidden_channels
        self.processing_steps = int(processing_steps)
        self.gate = gate
        self.carry_cell = bool(carry_cell)
        self.memory = nn.Linear(self.in_channels, self.hidden_channels)
        self.recurrent = nn.Linear(2 * self.hidden_channels, 4 * self.hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.memory.reset_parameters()
        self.recurrent.reset_parameters()
        with torch.no_grad():  # forget-gate bias 1, as Keras' unit_forget_bias
            h = self.hidden_channels
            self.recurrent.bias.zero_()
            self.recurrent.bias[h:2 * h].fill_(1.0)

    def _gate(self, z: Tensor) -> Tensor:
        return hard_sigmoid(z) if self.gate == "hard_sigmoid" else torch.sigmoid(z)

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2,
                weight: Optional[Tensor] = None) -> Tensor:
        self.assert_index_present(index)
        self.assert_two_dimensional_input(x, dim)
        assert index is not None and dim_size is not None
        if weight is not None:
            weight = weight.reshape(-1).to(x.dtype)
        memory = self.memory(x)
        h = self.hidden_channels
        q_star = x.new_zeros(dim_size, 2 * h)
        cell = x.new_zeros(dim_size, h)
        for _ in range(self.processing_steps):
            z = self.recurrent(q_star)
            z_in, z_forget, z_cell, z_out = z.split(h, dim=-1)
            new_cell = self._gate(z_in) * torch.tanh(z_cell)
            if self.carry_cell:
                new_cell = new_cell + self._gate(z_forget) * cell
                cell = new_cell
            q = self._gate(z_out) * torch.tanh(new_cell)
            score = (memory * q[index]).sum(dim=-1)
            attention = weighted_softmax(score, index, dim_size, weight)
            r = scatter(attention.unsqueeze(-1) * memory, index, dim=0, dim_size=dim_size, reduce="sum")
            q_star = torch.cat([q, r], dim=-1)
        return q_star

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"steps={self.processing_steps}, gate={self.gate}, carry_cell={self.carry_cell})")


class MEGNetSet2Set(WeightedSet2Set):
    r"""The Set2Set readout exactly as the published MEGNet parents compute it.

    It is :class:`WeightedSet2Set` with the Keras 2 hard sigmoid gates and a cell state
    reset to zero at every step (megnet's ``Set2Set`` never carries it), so
    :math:`\mathbf{c}_t = \mathrm{hsig}(\mathbf{z}_i) \odot \tanh(\mathbf{z}_g)`.
    The 2019 parent uses :math:`T = 2`, the 2018 parent :math:`T = 3`; both
    :math:`H = 16`. Weights (``weight=``) work as in the parent class; the published
    parents use none (every atom and every bond weighs 1).

    Args:
        in_channels: size of the input features.
        hidden_channels: :math:`H` (default 16).
        processing_steps: :math:`T` (default 2, the 2019 parent).
    """

    def __init__(self, in_channels: int, hidden_channels: int = 16, processing_steps: int = 2):
        super().__init__(in_channels, hidden_channels, processing_steps,
                         gate="hard_sigmoid", carry_cell=False)
