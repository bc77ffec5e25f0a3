"""A plain stack of dense layers, the building block of every MEGNet and AtomSets MLP."""
from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from .activations import ActivationLike, resolve_activation


class MLP(nn.Sequential):
    r"""Dense layers :math:`h_{l+1} = \sigma(h_l W_l^\top + b_l)`.

    Unlike :class:`torch_geometric.nn.MLP` it has no normalisation or dropout, so its
    parameters map one to one onto Keras ``Dense`` layers.

    Args:
        channels: sizes ``[in, hidden..., out]``; ``len(channels) - 1`` layers.
        activation: activation after each layer (see
            :func:`~torch_atomsets.nn.activations.resolve_activation`).
        activate_last: apply the activation after the last layer too. MEGNet's
            encoders and feed-forward layers do; its :math:`\phi` update functions and
            its output layer do not.

    Shapes:
        input ``(*, channels[0])``, output ``(*, channels[-1])``.
    """

    def __init__(self, channels: Sequence[int], activation: ActivationLike = "softplus2",
                 activate_last: bool = True):
        channels = [int(c) for c in channels]
        if len(channels) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {channels}")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(channels[:-1], channels[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            if activate_last or i < len(channels) - 2:
                layers.append(resolve_activation(activation))
        super().__init__(*layers)
        self.channels = channels
        self.activate_last = activate_last

    @property
    def linears(self) -> list:
        """The ``nn.Linear`` layers in order."""
        return [m for m in self if isinstance(m, nn.Linear)]

    def reset_parameters(self) -> None:
        for layer in self.linears:
            layer.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:  # noqa: D102  (nn.Sequential's, typed)
        for layer in self:
            x = layer(x)
        return x

    def extra_repr(self) -> str:
        return f"channels={self.channels}, activate_last={self.activate_last}"
