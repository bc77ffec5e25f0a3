"""Weighted mean readout (eq. 4 of the AtomSets paper)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor
from torch_geometric.nn.aggr import Aggregation
from torch_geometric.utils import scatter


class WeightedMeanAggregation(Aggregation):
    r"""Weighted mean of the elements of each set.

    .. math::
        \bar{\mathbf{x}} = \frac{\sum_i w_i \mathbf{x}_i}{\sum_i w_i}

    With atom fractions (or formula amounts: the normalisation makes them equivalent)
    as :math:`w_i`, Fe2O3 and Fe4O6 give the same output. Without ``weight`` it is the
    plain mean (:class:`torch_geometric.nn.aggr.MeanAggregation`).

    Shapes:
        - **input:** :math:`(N, F)`, ``index`` :math:`(N,)`, optional ``weight``
          :math:`(N,)` or :math:`(N, 1)` (with weights the input must be 2-D).
        - **output:** :math:`(B, F)`; a set with no elements gives zeros.
    """

    def reset_parameters(self) -> None:
        """No parameters."""

    def forward(self, x: Tensor, index: Optional[Tensor] = None, ptr: Optional[Tensor] = None,
                dim_size: Optional[int] = None, dim: int = -2,
                weight: Optional[Tensor] = None) -> Tensor:
        if weight is None:
            return self.reduce(x, index, ptr, dim_size, dim, reduce="mean")
        self.assert_two_dimensional_input(x, dim)
        weight = weight.reshape(-1, 1).to(x.dtype)
        numerator = self.reduce(x * weight, index, ptr, dim_size, dim, reduce="sum")
        denominator = self.reduce(weight, index, ptr, dim_size, dim, reduce="sum")
        return numerator / denominator.clamp_min(torch.finfo(x.dtype).tiny)


def weighted_statistics_by_index(x: Tensor, weight: Tensor, index: Tensor, num_sets: int) -> Tensor:
    """Per set (``index`` of each row, ``num_sets`` sets): weighted mean, weighted standard
    deviation, min, max and range of the rows of ``x`` (``5 * F`` features: the levels
    V0-stats and E-stats). Amounts and fractions as ``weight`` give the same."""
    w = weight.reshape(-1, 1).to(x.dtype)
    total = scatter(w, index, 0, dim_size=num_sets, reduce="sum").clamp_min(1e-30)
    mean = scatter(w * x, index, 0, dim_size=num_sets, reduce="sum") / total
    var = scatter(w * (x - mean[index]) ** 2, index, 0, dim_size=num_sets, reduce="sum") / total
    low = scatter(x, index, 0, dim_size=num_sets, reduce="min")
    high = scatter(x, index, 0, dim_size=num_sets, reduce="max")
    return torch.cat([mean, var.clamp_min(0).sqrt(), low, high, high - low], dim=1)
