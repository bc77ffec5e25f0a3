"""Compositions in at the edges: formulas become weighted sets of elements."""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ...errors import CompositionError
from .structures import to_structure

#: Largest atomic number a trainable element embedding holds by default (Lr).
MAX_Z = 103


def element_set(composition: Any, label: Optional[str] = None, max_z: int = MAX_Z
                ) -> Tuple[np.ndarray, np.ndarray]:
    """``(Z, amount)`` arrays of a formula, a pymatgen ``Composition``, or anything with a
    ``.composition``; amounts as written (Fe2O3 -> 2, 3; Fe0.01Ni0.99 -> 0.01, 0.99).

    Raises :class:`CompositionError` naming ``label`` for an empty formula, an unknown
    element, a non-positive amount or an element beyond ``max_z``.
    """
    from pymatgen.core import Composition

    label = label or repr(composition)
    if hasattr(composition, "composition") and not isinstance(composition, Composition):
        composition = composition.composition
    if isinstance(composition, str):
        text = composition.strip()
        if not text:
            raise CompositionError(f"{label}: empty formula")
        try:
            composition = Composition(text)
        except Exception as exc:  # pymatgen raises ValueError/KeyError for unknown symbols
            raise CompositionError(f"{label}: cannot parse formula {text!r} ({exc})") from exc
    if not isinstance(composition, Composition):
        raise CompositionError(f"{label}: expected a formula or a Composition, got {type(composition).__name__}")
    from pymatgen.core import Element

    items = []
    for specie, amount in composition.items():
        element = getattr(specie, "element", specie)  # Species (Fe2+) -> Element
        symbol = getattr(specie, "symbol", str(specie))
        items.append((element.Z if isinstance(element, Element) else None, float(amount), symbol))
    if not items:
        raise CompositionError(f"{label}: empty composition")
    z = []
    amounts = []
    for number, amount, symbol in items:
        if number is None:
            raise CompositionError(f"{label}: {symbol!r} is not a chemical element")
        if not np.isfinite(amount) or amount <= 0:
            raise CompositionError(f"{label}: amount of {symbol} is {amount}, must be positive")
        if number > max_z:
            raise CompositionError(f"{label}: element {symbol} (Z = {number}) is beyond Z = {max_z}")
        z.append(number)
        amounts.append(amount)
    return np.asarray(z, dtype=np.int64), np.asarray(amounts, dtype=np.float32)


def element_sets(compositions: Sequence[Any], labels: Optional[Sequence[str]] = None,
                 max_z: int = MAX_Z) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenated element sets: ``(z, weight, ptr)``, rows of item ``i`` at
    ``ptr[i]:ptr[i + 1]``."""
    zs: List[np.ndarray] = []
    ws: List[np.ndarray] = []
    for i, item in enumerate(compositions):
        z, w = element_set(item, labels[i] if labels is not None else f"row {i}", max_z)
        zs.append(z)
        ws.append(w)
    return _concat(zs, ws)


def site_sets(structures: Iterable[Any], labels: Optional[Sequence[str]] = None,
              max_z: int = MAX_Z) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenated site sets of structures: one row per species on a site, weight = its
    occupancy (1 for ordered sites). Accepts ``Structure`` objects or their dicts."""
    zs: List[np.ndarray] = []
    ws: List[np.ndarray] = []
    for i, item in enumerate(structures):
        label = labels[i] if labels is not None else f"row {i}"
        if isinstance(item, dict) and "sites" in item:  # fast path: no Structure object needed
            pairs = [(sp["element"], sp.get("occu", 1.0)) for site in item["sites"] for sp in site["species"]]
            table = _symbol_table()
            try:
                z = np.fromiter((table[symbol] for symbol, _ in pairs), dtype=np.int64, count=len(pairs))
            except KeyError as exc:
                raise CompositionError(f"{label}: {exc.args[0]!r} is not a chemical element") from exc
            w = np.fromiter((occu for _, occu in pairs), dtype=np.float32, count=len(pairs))
        else:
            structure = to_structure(item, label)
            pairs = [(sp.Z, occu) for site in structure for sp, occu in site.species.items()]
            z = np.asarray([p[0] for p in pairs], dtype=np.int64)
            w = np.asarray([p[1] for p in pairs], dtype=np.float32)
        if len(z) == 0:
            raise CompositionError(f"{label}: structure has no sites")
        if z.max() > max_z:
            raise CompositionError(f"{label}: element with Z = {int(z.max())} is beyond Z = {max_z}")
        zs.append(z)
        ws.append(w)
    return _concat(zs, ws)


_SYMBOLS: dict = {}


def _symbol_table() -> dict:
    if not _SYMBOLS:
        from pymatgen.core import Element

        _SYMBOLS.update({element.symbol: element.Z for element in Element})
    return _SYMBOLS


def _concat(zs: List[np.ndarray], ws: List[np.ndarray]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    ptr = np.zeros(len(zs) + 1, dtype=np.int64)
    np.cumsum([len(z) for z in zs], out=ptr[1:])
    if not zs:
        return np.zeros(0, np.int64), np.zeros(0, np.float32), ptr
    return np.concatenate(zs), np.concatenate(ws), ptr
