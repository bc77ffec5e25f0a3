"""The models a user names on the command line (Table 1 of the paper, and beyond it):
``AtomSets``, ``AtomSets-V0``..``V3``, ``MLP-V0-stats``, ``MLP-u1``..``u3``, ``MLP-f``,
``MLP-v_r``, ``MEGNet`` (trained from scratch), the combined-level children, and
gradient-boosted trees on per-structure levels (``GBT-V0-stats+E-stats``).

A name maps to a :class:`ModelSpec`: what kind of network, and which feature level
(:mod:`torch_atomsets.levels`) it reads. ``AtomSets-<levels>`` and ``MLP-<levels>`` work for
any level expression (``AtomSets-V0+V1``, ``AtomSets-V1+f``, ``MLP-u3+f``), so the
registry lists the paper's models but accepts their combinations too. ``GBT-<levels>``
reads the same per-structure vectors as ``MLP-<levels>`` with boosted trees instead of a
network (:mod:`torch_atomsets.models.trees`).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from ..levels import LevelSet, parse_levels
from ..nn.weighted_mean import weighted_statistics_by_index
from .atomsets import AtomSets, FeatureMLP
from .hyperparameters import ChildHyperparameters
from .trees import GradientBoostedTrees

ATOMSETS = "atomsets"
MLP = "mlp"
MEGNET = "megnet"
GBT = "gbt"
FINETUNE = "finetune"
#: A model name ending in this is the same child with its parent trained end to end.
FINETUNE_SUFFIX = "-FT"


@dataclass(frozen=True)
class ModelSpec:
    """A named model: ``kind`` (``atomsets``, ``mlp``, ``gbt``, ``finetune`` or ``megnet``) and the feature level
    it reads (``None`` for MEGNet, which reads crystal graphs)."""

    name: str
    kind: str
    level: Optional[str]
    description: str = ""

    @property
    def levels(self) -> Optional[LevelSet]:
        return None if self.level is None else parse_levels(self.level)

    @property
    def is_child(self) -> bool:
        """Whether it trains on cached features (an AtomSets, an MLP or boosted trees)."""
        return self.kind in (ATOMSETS, MLP, GBT)

    @property
    def frozen(self) -> "ModelSpec":
        """The child a fine-tuned model starts from (itself for other models)."""
        return model_spec(self.name[:-len(FINETUNE_SUFFIX)]) if self.kind == FINETUNE else self


def _paper_models() -> dict:
    specs = [ModelSpec("AtomSets", ATOMSETS, "Z", "AtomSets with a trainable element embedding"),
             ModelSpec("AtomSets-V0", ATOMSETS, "V0", "AtomSets on the parent's element embedding")]
    specs += [ModelSpec(f"AtomSets-V{k}", ATOMSETS, f"V{k}", f"AtomSets on the atom features after the parent's "
                                                              f"convolution {k}") for k in (1, 2, 3)]
    specs.append(ModelSpec("MLP-V0-stats", MLP, "V0-stats", "MLP on statistics of V0"))
    specs += [ModelSpec(f"MLP-u{k}", MLP, f"u{k}", f"MLP on the parent's state after convolution {k}")
              for k in (1, 2, 3)]
    specs += [ModelSpec("MLP-f", MLP, "f", "MLP on the parent's readout vector"),
              ModelSpec("MLP-v_r", MLP, "v_r", "MLP on the parent's atom readout"),
              ModelSpec("MEGNet", MEGNET, None, "MEGNet trained from scratch (the paper's baseline)")]
    return {s.name: s for s in specs}


#: The models of the paper's Table 1 (plus MEGNet from scratch), by name.
MODELS = _paper_models()


def model_spec(name: str) -> ModelSpec:
    """The spec of ``name``: a model of :data:`MODELS`, or ``AtomSets-<levels>`` /
    ``MLP-<levels>`` for another level expression. Unknown names raise a
    :class:`~torch_atomsets.errors.ConfigError` with suggestions."""
    from ..errors import ConfigError

    if name in MODELS:
        return MODELS[name]
    if name.endswith(FINETUNE_SUFFIX):
        base = model_spec(name[:-len(FINETUNE_SUFFIX)])
        if not base.is_child or base.kind == GBT or not base.levels.needs_forward:
            raise ConfigError(f"model {name!r}: fine-tuning trains the parent through a child of its convolution "
                              f"levels (V1.., u1.., f, ...), and {base.name} reads {base.level}")
        return ModelSpec(name, FINETUNE, base.level, f"{base.name} with its parent fine-tuned end to end")
    for prefix, kind in (("AtomSets-", ATOMSETS), ("MLP-", MLP), ("GBT-", GBT)):
        if name.startswith(prefix):
            expression = name[len(prefix):]
            try:
                levels = parse_levels(expression)
            except ConfigError as exc:
                raise ConfigError(f"model {name!r}: {exc}") from None
            if kind == ATOMSETS and levels.per != "atom":
                raise ConfigError(f"model {name!r}: AtomSets reads sets of rows; {expression} has no per-atom "
                                  f"level (use MLP-{expression})")
            if kind in (MLP, GBT) and levels.per != "structure":
                raise ConfigError(f"model {name!r}: {'an MLP' if kind == MLP else 'boosted trees'} read(s) one vector "
                                  f"per sample; {expression} has a per-atom level (use AtomSets-{expression}, or "
                                  f"statistics such as V0-stats)")
            what = "gradient-boosted trees" if kind == GBT else prefix[:-1]
            return ModelSpec(name, kind, levels.name, f"{what} on {levels.name}")
    close = difflib.get_close_matches(name, list(MODELS), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(f"unknown model {name!r}{hint} (models: {', '.join(MODELS)}, or AtomSets-<levels> / "
                      f"MLP-<levels> / GBT-<levels> such as AtomSets-V0+V1)")


def child_input(output, levels: LevelSet, batch: Tensor, z: Optional[Tensor] = None,
                tables: Optional[Dict[str, Tensor]] = None, num_graphs: Optional[int] = None) -> Tensor:
    """A child's input from a parent's forward pass (a :class:`MEGNetOutput`): its levels
    concatenated, per atom (structure levels broadcast to the atoms of their graph, ``batch``)
    or per structure.

    Levels of the element property table (``E``, ``E-stats``) read ``tables["elements"]``
    (:func:`~torch_atomsets.data.features.sets.element_tables`) at the atomic numbers ``z``;
    statistics levels (``V0-stats``, ``E-stats``) need ``num_graphs``.
    """
    blocks = []
    for part in levels.parts:
        if part.source in ("elements", "element-statistics"):
            if z is None or tables is None or "elements" not in tables:
                raise ValueError(f"level {part.name} needs the atomic numbers and the element property table")
            value = tables["elements"][z]
        elif part.source == "statistics":
            value = output.level("V0")
        else:
            value = output.level(part.name)
        if part.source in ("statistics", "element-statistics"):
            if num_graphs is None:
                raise ValueError(f"level {part.name} needs num_graphs")
            value = weighted_statistics_by_index(value, value.new_ones(value.shape[0]), batch, num_graphs)
        if levels.per == "atom" and not part.per_atom:
            value = value[batch]
        blocks.append(value)
    return torch.cat(blocks, dim=1) if len(blocks) > 1 else blocks[0]


def build_child(spec: ModelSpec, in_channels: Optional[int], hyperparameters: ChildHyperparameters,
                out_dim: int = 1, trees: Optional[Sequence[int]] = None) -> nn.Module:
    """The network of a child model: :class:`AtomSets`, :class:`FeatureMLP`, or
    :class:`GradientBoostedTrees` of shape ``trees`` (``[n_trees, n_nodes, depth]``)."""
    h = hyperparameters
    if spec.kind == GBT:
        if trees is None or out_dim != 1:
            raise ValueError(f"{spec.name}: boosted trees need their shape [n_trees, n_nodes, depth] and one output")
        return GradientBoostedTrees(in_channels, *trees)
    if spec.kind == ATOMSETS:
        return AtomSets(in_channels, embedding_dim=h.embedding_dim, n_layer_before_readout=h.n_layer_before_readout,
                        n_layer_after_readout=h.n_layer_after_readout, n_neurons=h.n_neurons, readout=h.readout,
                        activation=h.activation, set2set_steps=h.set2set_steps, out_dim=out_dim)
    if spec.kind == MLP:
        return FeatureMLP(in_channels, n_layer=h.n_layer, n_neurons=h.n_neurons, activation=h.activation,
                          out_dim=out_dim)
    raise ValueError(f"{spec.name} is not a child model")


__all__ = ["FINETUNE_SUFFIX", "GBT", "MODELS", "ModelSpec", "build_child", "child_input", "model_spec"]
