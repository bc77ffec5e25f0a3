"""The feature levels of the AtomSets hierarchy: the one place that says what each is.

A *level* is what a child sees of a sample:

========  ==========  =========================================================  ==========
name      per         what                                                       width
========  ==========  =========================================================  ==========
Z         atom        atomic numbers, for a child with its own trainable          -
                      element embedding (the model "AtomSets")
V0        atom        the parent's element embedding (row Z of its table)         16
V1..Vn    atom        atom output of the parent's graph convolution b, raw,       32
                      before the skip (n = the parent's blocks, 3)
u1..un    structure   state output of convolution b                               32
v_r       structure   the parent's atom Set2Set readout                           32
e_r       structure   the parent's bond Set2Set readout                           32
f         structure   the readout vector ``[v_r, e_r, u_n]`` fed to the head       96
V0-stats  structure   weighted mean, std, min, max and range of V0                80
E         atom        tabulated element properties (period, group,                24
                      electronegativity, radius, valence shells, ...;
                      :mod:`torch_atomsets.data.inputs.elements`), no parent
E-stats   structure   weighted mean, std, min, max and range of E                 120
========  ==========  =========================================================  ==========

(widths for the published parents; :meth:`FeatureLevel.width` computes them from any
parent's configuration). A child may also read several levels joined with ``+``: atom
levels are concatenated per row (``V0+V1``), and structure levels are broadcast to every
row of their sample (``V1+f``, ``V1+u1``); a sum of structure levels alone is one vector.

Nothing here imports torch; models, data and the command line all ask this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Tuple

ATOM = "atom"
STRUCTURE = "structure"


@dataclass(frozen=True)
class FeatureLevel:
    """One level of the hierarchy.

    Attributes:
        name: ``"V1"``, ``"u2"``, ``"f"``, ...
        per: ``"atom"`` (a row per site, or per element of a formula) or ``"structure"``
            (one vector per sample).
        source: ``"atomic_number"`` (Z), ``"embedding"`` (V0), ``"block"`` (V1.., u1..),
            ``"readout"`` (v_r, e_r, f), ``"statistics"`` (V0-stats), ``"elements"`` (E) or
            ``"element-statistics"`` (E-stats).
        block: the parent block whose convolution produces it (V1..Vn, u1..un), else ``None``.
        description: one line for help texts.
    """

    name: str
    per: str
    source: str
    block: Optional[int] = None
    description: str = ""

    @property
    def needs_parent(self) -> bool:
        """Whether the parent's weights are needed at all (everything but ``Z``, ``E``
        and ``E-stats``)."""
        return self.source not in ("atomic_number",) + TABLE_SOURCES

    @property
    def from_elements(self) -> bool:
        """Whether it is computed from the elements of a sample alone (``Z``, ``V0``,
        ``V0-stats``, ``E``, ``E-stats``): a formula is enough."""
        return self.source in ELEMENT_SOURCES

    @property
    def needs_forward(self) -> bool:
        """Whether a forward pass of the parent through its graph convolutions is needed,
        and so a crystal structure (not only a composition)."""
        return self.source in ("block", "readout")

    @property
    def per_atom(self) -> bool:
        return self.per == ATOM

    def width(self, parent_config: Optional[Mapping] = None) -> Optional[int]:
        """Feature size for a parent of this configuration (a :class:`MEGNet`'s
        ``config``); the published parents' widths when ``None``. ``None`` for ``Z``."""
        c = dict(_PUBLISHED_WIDTHS)
        c.update(parent_config or {})
        if self.source == "atomic_number":
            return None
        if self.source == "embedding":
            return int(c["embedding_dim"])
        if self.source == "statistics":
            return 5 * int(c["embedding_dim"])
        if self.source == "elements":
            return ELEMENT_WIDTH
        if self.source == "element-statistics":
            return 5 * ELEMENT_WIDTH
        if self.source == "block":
            return int(c["channels"])
        if self.name in ("v_r", "e_r"):
            return 2 * int(c["set2set_hidden"])
        return 4 * int(c["set2set_hidden"]) + int(c["channels"])  # f


#: Sources of levels read from the element property table (no parent).
TABLE_SOURCES = ("elements", "element-statistics")
#: Sources of levels computed from a sample's elements alone.
ELEMENT_SOURCES = ("atomic_number", "embedding", "statistics") + TABLE_SOURCES
#: Width of ``E``: the columns of :data:`torch_atomsets.data.inputs.elements.PROPERTIES`
#: (kept here as a number so this module imports nothing; a test checks they agree).
ELEMENT_WIDTH = 24

_PUBLISHED_WIDTHS = {"embedding_dim": 16, "channels": 32, "set2set_hidden": 16, "num_blocks": 3}

_FIXED = {
    "Z": FeatureLevel("Z", ATOM, "atomic_number", description="atomic numbers (trainable embedding)"),
    "V0": FeatureLevel("V0", ATOM, "embedding", description="the parent's element embedding"),
    "v_r": FeatureLevel("v_r", STRUCTURE, "readout", description="the parent's atom Set2Set readout"),
    "e_r": FeatureLevel("e_r", STRUCTURE, "readout", description="the parent's bond Set2Set readout"),
    "f": FeatureLevel("f", STRUCTURE, "readout", description="the parent's readout vector [v_r, e_r, u_n]"),
    "V0-stats": FeatureLevel("V0-stats", STRUCTURE, "statistics",
                             description="weighted mean, std, min, max, range of V0"),
    "E": FeatureLevel("E", ATOM, "elements", description="tabulated element properties (no parent)"),
    "E-stats": FeatureLevel("E-stats", STRUCTURE, "element-statistics",
                            description="weighted mean, std, min, max, range of E"),
}
_BLOCK = re.compile(r"^([Vu])([0-9]+)$")


def level(name: str, num_blocks: Optional[int] = None) -> FeatureLevel:
    """The level called ``name`` (``V0``..``Vn``, ``u1``..``un``, ``f``, ``v_r``, ``e_r``,
    ``Z``, ``V0-stats``); with ``num_blocks``, ``Vk``/``uk`` must exist in such a parent."""
    from .errors import ConfigError

    if name in _FIXED:
        return _FIXED[name]
    match = _BLOCK.match(name)
    if match:
        kind, k = match.group(1), int(match.group(2))
        if kind == "V" and k == 0:
            return _FIXED["V0"]
        if k >= 1 and (num_blocks is None or k <= num_blocks):
            if kind == "V":
                return FeatureLevel(name, ATOM, "block", k, f"atom output of the parent's convolution {k}")
            return FeatureLevel(name, STRUCTURE, "block", k, f"state output of the parent's convolution {k}")
    raise ConfigError(f"unknown feature level {name!r}; choose from {', '.join(level_names(num_blocks or 3))}")


def level_names(num_blocks: int = 3, include_inputs: bool = True) -> Tuple[str, ...]:
    """Every level of a parent with ``num_blocks`` blocks, in hierarchy order."""
    names = [f"V{i}" for i in range(num_blocks + 1)] + [f"u{i}" for i in range(1, num_blocks + 1)]
    names += ["f", "v_r", "e_r"]
    if include_inputs:
        names = ["Z"] + names + ["V0-stats", "E", "E-stats"]
    return tuple(names)


def parent_output_levels(num_blocks: int = 3) -> Tuple[str, ...]:
    """The levels a forward pass of a parent produces (V0..Vn, u1..un, f, v_r, e_r)."""
    return level_names(num_blocks, include_inputs=False)


def cached_levels(num_blocks: int = 3) -> Tuple[str, ...]:
    """The levels a feature cache stores: those that need a forward pass."""
    return tuple(n for n in parent_output_levels(num_blocks) if level(n).needs_forward)


@dataclass(frozen=True)
class LevelSet:
    """What a child reads: one level, or several joined with ``+``.

    ``per`` is ``"atom"`` when any part is per atom (structure parts are then broadcast to
    the rows of their sample), else ``"structure"``.
    """

    parts: Tuple[FeatureLevel, ...]

    @property
    def name(self) -> str:
        return "+".join(p.name for p in self.parts)

    @property
    def per(self) -> str:
        return ATOM if any(p.per_atom for p in self.parts) else STRUCTURE

    @property
    def needs_parent(self) -> bool:
        return any(p.needs_parent for p in self.parts)

    @property
    def needs_forward(self) -> bool:
        return any(p.needs_forward for p in self.parts)

    @property
    def from_elements(self) -> bool:
        """Whether every part is computed from a sample's elements alone (a formula is enough)."""
        return all(p.from_elements for p in self.parts)

    @property
    def is_atomic_numbers(self) -> bool:
        return len(self.parts) == 1 and self.parts[0].source == "atomic_number"

    def width(self, parent_config: Optional[Mapping] = None) -> Optional[int]:
        if self.is_atomic_numbers:
            return None
        return sum(p.width(parent_config) for p in self.parts)


def parse_levels(expression: str, num_blocks: Optional[int] = None) -> LevelSet:
    """``"V1"`` or ``"V0+V1"`` or ``"V1+f"`` as a :class:`LevelSet`. ``Z`` cannot be
    combined (its rows are integers for an embedding), nor listed twice."""
    from .errors import ConfigError

    names = [n.strip() for n in str(expression).split("+")]
    if not names or any(not n for n in names):
        raise ConfigError(f"feature level {expression!r}: empty part")
    parts = tuple(level(n, num_blocks) for n in names)
    if len(set(names)) != len(names):
        raise ConfigError(f"feature level {expression!r}: a level is listed twice")
    if len(parts) > 1 and any(p.source == "atomic_number" for p in parts):
        raise ConfigError(f"feature level {expression!r}: Z (atomic numbers) cannot be combined with other levels")
    return LevelSet(parts)


def split_level_list(levels: Sequence[str] | str, num_blocks: int = 3) -> list:
    """Validate a list of parent output levels (``"V0,V1,f"`` or ``["V0", "V1", "f"]``),
    in order, without duplicates."""
    from .errors import ConfigError

    if isinstance(levels, str):
        levels = [p.strip() for p in levels.split(",") if p.strip()]
    valid = parent_output_levels(num_blocks)
    bad = [n for n in levels if n not in valid]
    if bad:
        raise ConfigError(f"unknown feature level(s) {', '.join(bad)}; choose from {', '.join(valid)}")
    return list(dict.fromkeys(levels))


__all__ = ["ATOM", "ELEMENT_SOURCES", "ELEMENT_WIDTH", "STRUCTURE", "TABLE_SOURCES", "FeatureLevel", "LevelSet", "cached_levels", "level", "level_names",
           "parent_output_levels", "parse_levels", "split_level_list"]
