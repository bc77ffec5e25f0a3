"""The MEGNet model: the AtomSets parent, and the from-scratch baseline."""
from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from ..levels import level as feature_level
from ..nn import MLP, GaussianExpansion, MEGNetConv, MEGNetSet2Set


def is_tracing() -> bool:
    """Whether torch.compile / torch.export / TorchScript is tracing this call."""
    return torch.compiler.is_compiling() or torch.jit.is_scripting() or torch.jit.is_tracing()


class MEGNetOutput(NamedTuple):
    """Everything one MEGNet forward pass produces.

    Attributes:
        prediction: ``(B, out_dim)``, in the target's unit (eV/atom for the published
            formation-energy parents).
        atom_features: ``(V0, V1, ..., Vn)``; ``V0`` is the embedding ``(N, 16)``, ``Vb``
            the raw atom output of block ``b``'s convolution, before the skip ``(N, 32)``.
        state_features: ``(u1, ..., un)``, the raw state outputs ``(B, 32)``.
        v_r: atom Set2Set readout ``(B, 32)``.
        e_r: bond Set2Set readout ``(B, 32)``.
        f: readout vector ``[v_r, e_r, u_final]`` fed to the head ``(B, 96)``.
    """

    prediction: Tensor
    atom_features: Tuple[Tensor, ...]
    state_features: Tuple[Tensor, ...]
    v_r: Tensor
    e_r: Tensor
    f: Tensor

    def level(self, name: str) -> Tensor:
        """A feature by its level name (:mod:`torch_atomsets.levels`): ``V0``..``Vn``,
        ``u1``..``un``, ``f``, ``v_r``, ``e_r``; or ``prediction``."""
        if name == "prediction":
            return self.prediction
        spec = feature_level(name, num_blocks=len(self.state_features))
        if spec.source == "embedding":
            return self.atom_features[0]
        if spec.source == "block" and spec.per_atom:
            return self.atom_features[spec.block]
        if spec.source == "block":
            return self.state_features[spec.block - 1]
        if spec.source == "readout":
            return getattr(self, name)
        raise KeyError(f"{name} is not an output of the parent's forward pass")


class MEGNetBlock(nn.Module):
    """Optional feed-forward layers on atoms, bonds and state, then a
    :class:`~torch_atomsets.nn.MEGNetConv`; the skip is added by :class:`MEGNet`."""

    def __init__(self, channels: int, conv_hidden: Sequence[int], ff_hidden: Optional[int],
                 activation: str):
        super().__init__()
        if ff_hidden:
            self.ff_atom = MLP([channels, ff_hidden, channels], activation)
            self.ff_bond = MLP([channels, ff_hidden, channels], activation)
            self.ff_state = MLP([channels, ff_hidden, channels], activation)
        else:
            self.ff_atom = self.ff_bond = self.ff_state = None
        self.conv = MEGNetConv(channels, channels, channels, channels, conv_hidden, activation)

    def forward(self, x: Tensor, edge_index: Tensor, e: Tensor, u: Tensor, batch: Tensor,
                edge_weight: Optional[Tensor] = None, node_weight: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor, Tensor]:
        if self.ff_atom is not None:
            x, e, u = self.ff_atom(x), self.ff_bond(e), self.ff_state(u)
        return self.conv(x, edge_index, e, u, batch, edge_weight, node_weight)


class MEGNet(nn.Module):
    r"""MEGNet for crystals (Chen et al., Chem. Mater. 2019), arranged as the AtomSets
    parent: embedding :math:`\to` encoders :math:`\to` ``num_blocks`` graph-network
    blocks with skips :math:`\to` Set2Set readouts of atoms and bonds :math:`\to` head.

    .. math::
        V_0 &= \mathrm{Emb}[Z], \quad x = \mathrm{MLP}(V_0), \quad
        e = \mathrm{MLP}(G(d)), \quad u = \mathrm{MLP}(u_0)

        (V_b, e'_b, u_b) &= \mathrm{MEGNetConv}_b(\mathrm{FF}(x), \mathrm{FF}(e),
            \mathrm{FF}(u)), \quad x \mathrel{+}= V_b,\ e \mathrel{+}= e'_b,\
            u \mathrel{+}= u_b

        f &= \mathrm{Set2Set}(x) \,\Vert\, \mathrm{Set2Set}(e) \,\Vert\, u, \quad
        y = \mathrm{MLP}(f)

    (no FF before the first block). The defaults are the published Materials Project
    formation-energy parent of 2019 (167,761 parameters); load it with
    :func:`torch_atomsets.load_parent`.

    Args:
        num_blocks: graph-network blocks (3).
        max_z: largest atomic number the embedding holds (94).
        embedding_dim: size of :math:`V_0` (16).
        channels: width of atom, bond and state features between blocks (32).
        encoder_hidden: hidden width of the three encoders (64).
        conv_hidden: hidden widths of each :math:`\phi` (64, 64).
        ff_hidden: hidden width of the FF layers before blocks 2.. (64).
        num_gaussians, gaussian_start, gaussian_stop, gaussian_width: bond-length
            basis, centres evenly spaced (100 from 0 to 6 A, width 0.5 A).
        gaussian_centers: explicit centres instead (Angstrom).
        cutoff: bond cutoff radius in Angstrom (5.0). The model does not use it; it is
            stored so that graphs for this model are built with the right setting.
        state_dim: size of the state input :math:`u_0` (2; the parents feed zeros).
        set2set_hidden, set2set_steps: :math:`H` (16) and :math:`T` (2) of both
            readouts (:class:`~torch_atomsets.nn.MEGNetSet2Set`).
        readout_hidden: hidden widths of the head (32, 16).
        out_dim: outputs per structure (1). The prediction is ``head(f) * target_std +
            target_mean``; both are buffers (1 and 0 unless set with
            :meth:`set_target_normalisation`) saved with the weights.
        activation: hidden activation everywhere (``"softplus2"``).
    """

    def __init__(self, num_blocks: int = 3, max_z: int = 94, embedding_dim: int = 16,
                 channels: int = 32, encoder_hidden: int = 64,
                 conv_hidden: Sequence[int] = (64, 64), ff_hidden: int = 64,
                 num_gaussians: int = 100, gaussian_start: float = 0.0,
                 gaussian_stop: float = 6.0, gaussian_width: float = 0.5,
                 gaussian_centers: Optional[Sequence[float]] = None, cutoff: float = 5.0,
                 state_dim: int = 2, set2set_hidden: int = 16, set2set_steps: int = 2,
                 readout_hidden: Sequence[int] = (32, 16), out_dim: int = 1,
                 activation: str = "softplus2"):
        super().__init__()
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be at least 1, got {num_blocks}")
        if gaussian_centers is not None:
            gaussian_centers = [float(c) for c in gaussian_centers]
            num_gaussians = len(gaussian_centers)
        self.config: Dict[str, Any] = dict(
            num_blocks=num_blocks, max_z=max_z, embedding_dim=embedding_dim, channels=channels,
            encoder_hidden=encoder_hidden, conv_hidden=list(conv_hidden), ff_hidden=ff_hidden,
            num_gaussians=num_gaussians, gaussian_start=gaussian_start,
            gaussian_stop=gaussian_stop, gaussian_width=gaussian_width,
            gaussian_centers=gaussian_centers, cutoff=cutoff, state_dim=state_dim,
            set2set_hidden=set2set_hidden, set2set_steps=set2set_steps,
            readout_hidden=list(readout_hidden), out_dim=out_dim, activation=activation)
        self.max_z = int(max_z)
        self.cutoff = float(cutoff)
        self.state_dim = int(state_dim)
        self.embedding = nn.Embedding(max_z + 1, embedding_dim)
        self.expansion = GaussianExpansion(gaussian_start, gaussian_stop, num_gaussians,
                                           gaussian_width, gaussian_centers)
        self.atom_encoder = MLP([embedding_dim, encoder_hidden, channels], activation)
        self.bond_encoder = MLP([num_gaussians, encoder_hidden, channels], activation)
        self.state_encoder = MLP([state_dim, encoder_hidden, channels], activation)
        self.blocks = nn.ModuleList(
            MEGNetBlock(channels, conv_hidden, ff_hidden if b > 0 else None, activation)
            for b in range(num_blocks))
        self.atom_readout = MEGNetSet2Set(channels, set2set_hidden, set2set_steps)
        self.bond_readout = MEGNetSet2Set(channels, set2set_hidden, set2set_steps)
        self.head = MLP([4 * set2set_hidden + channels, *readout_hidden, out_dim], activation,
                        activate_last=False)
        #: run the bond encoder on distinct lengths on a CPU (see :meth:`encode_bonds`)
        self.deduplicate_bonds = True
        # prediction = head(f) * target_std + target_mean: a target normalisation chosen
        # at training time travels with the weights (the published parents: 1 and 0)
        self.register_buffer("target_mean", torch.zeros(out_dim))
        self.register_buffer("target_std", torch.ones(out_dim))

    @property
    def num_blocks(self) -> int:
        return len(self.blocks)

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def encode_bonds(self, edge_distance: Tensor) -> Tensor:
        """Bond features from bond lengths, ``(E,) -> (E, channels)``.

        The encoder is a function of the length alone, and a crystal repeats lengths (both
        directions of a bond, symmetry-equivalent bonds: 16% of lengths are distinct on
        matbench phonons + dielectric), so on a CPU it runs on the distinct lengths and the
        rows are gathered back: exact, and 9% of the whole forward pass there. On other
        devices (``torch.unique`` would sort and wait for the device) and while tracing
        for ``torch.export`` / ``torch.compile`` (its output size depends on the data) it
        runs on every bond. The choice depends on the device and mode only, never on values.
        """
        if self.deduplicate_bonds and edge_distance.device.type == "cpu" and not is_tracing():
            distinct, inverse = torch.unique(edge_distance, return_inverse=True)
            return self.bond_encoder(self.expansion(distinct))[inverse]
        return self.bond_encoder(self.expansion(edge_distance))

    def forward(self, z: Tensor, edge_index: Tensor, edge_distance: Tensor,
                state: Optional[Tensor] = None, batch: Optional[Tensor] = None,
                num_graphs: Optional[int] = None, atom_weight: Optional[Tensor] = None,
                bond_weight: Optional[Tensor] = None) -> MEGNetOutput:
        """Run the model on a (batched) crystal graph.

        Args:
            z: atomic numbers ``(N,)``.
            edge_index: ``(2, E)``, row 0 the neighbour, row 1 the centre atom.
            edge_distance: bond lengths in Angstrom ``(E,)``.
            state: state input ``(B, state_dim)``; zeros if omitted.
            batch: graph index of each atom ``(N,)``; one graph if omitted.
            num_graphs: ``B``; read from ``batch`` if omitted (a device sync: pass it).
            atom_weight, bond_weight: multiplicities of the atoms and bonds of a compressed
                graph (:func:`~torch_atomsets.data.graphs.compress`); every mean and readout
                weighs by them, so the outputs are those of the full graph.
        """
        if batch is None:
            batch = torch.zeros_like(z)
            num_graphs = 1
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        if state is None:
            state = edge_distance.new_zeros(num_graphs, self.state_dim)
        atom_features = [self.embedding(z)]
        x = self.atom_encoder(atom_features[0])
        e = self.encode_bonds(edge_distance)
        u = self.state_encoder(state)
        state_features = []
        for block in self.blocks:
            dx, de, du = block(x, edge_index, e, u, batch, bond_weight, atom_weight)
            atom_features.append(dx)
            state_features.append(du)
            x, e, u = x + dx, e + de, u + du
        v_r = self.atom_readout(x, batch, dim_size=num_graphs, weight=atom_weight)
        e_r = self.bond_readout(e, batch[edge_index[1]], dim_size=num_graphs, weight=bond_weight)
        f = torch.cat([v_r, e_r, u], dim=-1)
        prediction = self.head(f) * self.target_std + self.target_mean
        return MEGNetOutput(prediction, tuple(atom_features), tuple(state_features), v_r, e_r, f)

    def set_target_normalisation(self, mean, std) -> None:
        """Predict ``head(f) * std + mean`` (per output); see :class:`MEGNet`."""
        self.target_mean.copy_(torch.as_tensor(mean, dtype=self.target_mean.dtype).reshape(-1))
        self.target_std.copy_(torch.as_tensor(std, dtype=self.target_std.dtype).reshape(-1))

    def forward_data(self, data) -> MEGNetOutput:
        """:meth:`forward` on a PyG ``Data``/``Batch`` from
        :class:`~torch_atomsets.data.CrystalGraphConverter`."""
        batch = getattr(data, "batch", None)
        num_graphs = int(data.num_graphs) if batch is not None else 1
        return self(data.z, data.edge_index, data.edge_distance, getattr(data, "state", None),
                    batch, num_graphs)
