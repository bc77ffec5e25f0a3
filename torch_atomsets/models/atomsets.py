"""AtomSets children: a set model and a plain MLP (Table 1 and Table S2 of the paper)."""
from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from ..nn import MLP, WeightedMeanAggregation, WeightedSet2Set
from .hyperparameters import DEFAULTS, READOUTS


class AtomSets(nn.Module):
    r"""AtomSets: an MLP on every row of a weighted set, a permutation-invariant readout,
    and an MLP head (Fig. 1c of the paper).

    .. math::
        \mathbf{h}_i = \phi(\mathbf{x}_i), \qquad
        \mathbf{r} = \mathrm{readout}\big(\{(\mathbf{h}_i, w_i)\}\big), \qquad
        y = \rho(\mathbf{r})

    Rows are elements of a formula (weights: amounts) or sites of a structure (weights:
    1, or occupancies). The readout is the weighted mean (eq. 4) or the weighted Set2Set
    (eq. 5-9); both give the same output for Fe2O3 and Fe4O6.

    Args:
        in_channels: size of the given row features (V0: 16, V1..V3: 32). ``None`` for the
            model "AtomSets": rows are atomic numbers and a trainable embedding makes the
            features.
        num_embeddings: rows of that embedding (max Z + 1; 104).
        embedding_dim, n_layer_before_readout, n_layer_after_readout, n_neurons, readout,
            activation, set2set_steps: see
            :class:`~torch_atomsets.models.hyperparameters.ChildHyperparameters`
            (defaults there).
        out_dim: outputs per set (1). The output is raw: a value for regression, a logit
            for classification.

    Shapes:
        ``forward(x, index, weight=None, num_sets=None)``: ``x`` ``(N, F)`` float or
        ``(N,)`` long (atomic numbers, embedding model), ``index`` ``(N,)`` set of each
        row, ``weight`` ``(N,)``; output ``(B, out_dim)``. Pass ``num_sets`` (B) wherever
        it is known: without it, it is read from ``index`` (a device-to-host sync).
    """

    def __init__(self, in_channels: Optional[int] = None, num_embeddings: int = 104,
                 embedding_dim: int = DEFAULTS.embedding_dim,
                 n_layer_before_readout: int = DEFAULTS.n_layer_before_readout,
                 n_layer_after_readout: int = DEFAULTS.n_layer_after_readout,
                 n_neurons: int = DEFAULTS.n_neurons, readout: str = DEFAULTS.readout,
                 activation: str = DEFAULTS.activation, set2set_steps: int = DEFAULTS.set2set_steps,
                 out_dim: int = 1):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.in_channels = in_channels
        self.embedding = nn.Embedding(num_embeddings, embedding_dim) if in_channels is None else None
        width = embedding_dim if in_channels is None else in_channels
        if n_layer_before_readout > 0:
            self.phi = MLP([width] + [n_neurons] * n_layer_before_readout, activation)
            width = n_neurons
        else:
            self.phi = nn.Identity()
        if readout == "mean":
            self.readout = WeightedMeanAggregation()
        else:
            self.readout = WeightedSet2Set(width, width, set2set_steps)
            width = self.readout.out_channels
        self.head = MLP([width] + [n_neurons] * n_layer_after_readout + [out_dim], activation,
                        activate_last=False)

    @property
    def uses_embedding(self) -> bool:
        return self.embedding is not None

    def forward(self, x: Tensor, index: Tensor, weight: Optional[Tensor] = None,
                num_sets: Optional[int] = None) -> Tensor:
        if num_sets is None:
            num_sets = int(index.max()) + 1 if index.numel() else 0
        if self.embedding is not None:
            x = self.embedding(x)
        h = self.phi(x)
        return self.head(self.readout(h, index, dim_size=num_sets, weight=weight))


class FeatureMLP(nn.Module):
    r"""An MLP on one feature vector per sample: the paper's MLP-u\ :sub:`i`, MLP-f,
    MLP-v\ :sub:`r` and MLP-V0-stats models.

    Args:
        in_channels: size of the input vector (u: 32, f: 96, v_r: 32, V0-stats: 80).
        n_layer, n_neurons, activation: see
            :class:`~torch_atomsets.models.hyperparameters.ChildHyperparameters`.
        out_dim: outputs (1); raw values / logits as for :class:`AtomSets`.
    """

    def __init__(self, in_channels: int, n_layer: int = DEFAULTS.n_layer, n_neurons: int = DEFAULTS.n_neurons,
                 activation: str = DEFAULTS.activation, out_dim: int = 1):
        super().__init__()
        self.in_channels = in_channels
        self.mlp = MLP([in_channels] + [n_neurons] * n_layer + [out_dim], activation, activate_last=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x)


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["AtomSets", "FeatureMLP", "count_parameters"]
