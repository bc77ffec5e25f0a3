"""Radial basis for bond lengths."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn


class GaussianExpansion(nn.Module):
    r"""Expands a distance into Gaussians on a fixed grid of centres.

    .. math::
        g_k(d) = \exp\left(-\frac{(d - \mu_k)^2}{w^2}\right), \qquad k = 1, \dots, K

    Note the denominator is :math:`w^2`, not :math:`2\sigma^2`: this is MEGNet's
    convention (``GaussianDistance``), and the published weights need it.

    Args:
        start: first centre :math:`\mu_1` (Angstrom).
        stop: last centre :math:`\mu_K` (Angstrom).
        num_gaussians: :math:`K`, centres evenly spaced from ``start`` to ``stop``.
        width: :math:`w` (Angstrom).
        centers: explicit centres; overrides ``start``, ``stop`` and ``num_gaussians``.

    Shapes:
        input distances ``(E,)`` or ``(E, 1)``, output ``(E, K)``.
    """

    def __init__(self, start: float = 0.0, stop: float = 6.0, num_gaussians: int = 100,
                 width: float = 0.5, centers: Optional[Sequence[float]] = None):
        super().__init__()
        if centers is None:
            if num_gaussians < 1:
                raise ValueError(f"num_gaussians must be positive, got {num_gaussians}")
            centers = torch.linspace(float(start), float(stop), int(num_gaussians), dtype=torch.float64)
        centers = torch.as_tensor(centers, dtype=torch.float64).reshape(-1)
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        self.width = float(width)
        # Stored in float32 like everything else; float64 centres from a sidecar are
        # rounded once here.
        self.register_buffer("centers", centers.to(torch.float32))

    @property
    def num_gaussians(self) -> int:
        return self.centers.numel()

    def reset_parameters(self) -> None:
        """No trainable parameters; present for PyG API symmetry."""

    def forward(self, distance: Tensor) -> Tensor:
        diff = distance.reshape(-1, 1) - self.centers.reshape(1, -1)
        return torch.exp(diff * diff * (-1.0 / (self.width * self.width)))

    def __repr__(self) -> str:
        c = self.centers
        return (f"{self.__class__.__name__}({float(c[0]):g}-{float(c[-1]):g} A, "
                f"num_gaussians={self.num_gaussians}, width={self.width:g})")
