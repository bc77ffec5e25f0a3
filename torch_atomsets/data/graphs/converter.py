"""Crystal graphs from pymatgen structures, exactly as the MEGNet parents expect them."""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence

import numpy as np
import torch
from torch_geometric.data import Data

from ...errors import StructureError
from ..inputs.structures import StructureLike, label_of, to_structure

_PBC = np.array([1, 1, 1], dtype=np.int64)

#: Two atoms closer than this (Angstrom) are taken as an input error (atoms on top of each
#: other, a duplicated site, a collapsed cell). The closest pair in every structure of
#: MatBench phonons, dielectric, jdft2d, perovskites and the approximate MP sets is 0.73 A
#: or more (benchmarks/results/data/min_distance.json); an H2 molecule's bond is 0.74 A.
MIN_DISTANCE = 0.5


class _Label:
    """A structure's name, made only when an error message prints it."""

    __slots__ = ("name", "structure")

    def __init__(self, name, structure):
        self.name, self.structure = name, structure

    def __str__(self) -> str:
        return label_of(self.name, self.structure)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class CrystalGraphConverter:
    """Turns a periodic structure into the crystal graph of MEGNet.

    Bonds are every periodic neighbour within ``cutoff`` (found by pymatgen's
    ``find_points_in_spheres``), in both directions; only an atom paired with itself
    (distance <= ``tolerance``) is dropped, so an atom's own periodic images are
    neighbours. A structure without any bond is rejected, as are disordered sites
    (the published parents embed one element per site), elements beyond ``max_z``, and
    non-finite coordinates or lattices.

    The graph is a :class:`torch_geometric.data.Data` with

    - ``z`` ``(N,)`` atomic numbers,
    - ``edge_index`` ``(2, E)``: row 0 the neighbour, row 1 the centre atom (PyG's
      ``source_to_target`` flow, so aggregation lands on the centre),
    - ``edge_distance`` ``(E,)`` bond lengths in Angstrom (float32; the Gaussian
      expansion is part of the model, so graphs stay small on disk),
    - ``state`` ``(1, 2)`` zeros, the state input of the parents.

    Args:
        cutoff: bond cutoff in Angstrom (5.0 for the 2019 parent, 4.0 for 2018).
        tolerance: pairs at most this far apart are an atom with itself (Angstrom).
        max_z: largest atomic number accepted (94, the parents' embedding table).
        state_dim: size of the zero state vector.
        min_distance: two atoms (or an atom and its own periodic image) closer than this
            are rejected (Angstrom; :data:`MIN_DISTANCE`).
    """

    def __init__(self, cutoff: float = 5.0, tolerance: float = 1e-8, max_z: int = 94,
                 state_dim: int = 2, min_distance: float = MIN_DISTANCE):
        if cutoff <= 0:
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        self.cutoff = float(cutoff)
        self.tolerance = float(tolerance)
        self.max_z = int(max_z)
        self.state_dim = int(state_dim)
        self.min_distance = float(min_distance)

    @classmethod
    def for_model(cls, model) -> "CrystalGraphConverter":
        """The converter whose graphs ``model`` (a :class:`~torch_atomsets.models.MEGNet`)
        expects: its cutoff, largest atomic number and state width."""
        return cls(model.cutoff, max_z=model.max_z, state_dim=model.state_dim)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(cutoff={self.cutoff:g} A, max_z={self.max_z})"

    def arrays(self, structure: StructureLike, name: Optional[str] = None):
        """The graph as numpy arrays ``(z, neighbour, centre, distance)``.

        ``name`` labels the structure in error messages (a file name, a row id, or a
        zero-argument function giving one).
        """
        from pymatgen.optimization.neighbors import find_points_in_spheres

        structure = to_structure(structure, name)
        label = _Label(name, structure)
        if len(structure) == 0:
            raise StructureError(f"{label}: structure has no sites")
        try:  # one pass over the sites: a disordered site has no single specie
            z = np.fromiter(structure.atomic_numbers, dtype=np.int64, count=len(structure))
        except AttributeError:
            raise StructureError(
                f"{label}: has disordered (partially occupied or mixed) sites, which the "
                "MEGNet parents cannot embed; order the structure first (e.g. pymatgen's "
                "OrderDisorderedStructureTransformation)") from None
        if z.max() > self.max_z:
            bad = sorted({site.specie.symbol for site in structure if site.specie.Z > self.max_z})
            raise StructureError(f"{label}: element(s) {', '.join(bad)} beyond Z = {self.max_z}, "
                                 "which the parent's embedding cannot represent")
        lattice = np.ascontiguousarray(structure.lattice.matrix, dtype=float)
        cart = np.ascontiguousarray(structure.cart_coords, dtype=float)
        if not (np.isfinite(lattice).all() and np.isfinite(cart).all()):
            raise StructureError(f"{label}: lattice or coordinates contain NaN or infinity")
        if abs(np.linalg.det(lattice)) < 1e-8:
            raise StructureError(f"{label}: lattice has zero volume")
        centre, neighbour, _, distance = find_points_in_spheres(
            cart, cart, r=self.cutoff, pbc=_PBC, lattice=lattice, tol=self.tolerance)
        keep = (centre != neighbour) | (distance > self.tolerance)
        close = keep & (distance < self.min_distance)
        if close.any():
            k = int(np.argmin(np.where(close, distance, np.inf)))
            i, j = int(centre[k]), int(neighbour[k])
            what = f"sites {j} and {i} ({structure[j].specie}, {structure[i].specie})" if i != j else \
                f"site {i} ({structure[i].specie}) and its own periodic image"
            raise StructureError(
                f"{label}: {what} are {distance[k]:.3g} A apart, closer than the minimum of {self.min_distance:g} A "
                "(atoms on top of each other, or a duplicated site); fix the structure")
        if not keep.any():
            raise StructureError(
                f"{label}: no bond within the cutoff of {self.cutoff:g} A (the nearest "
                "neighbour is farther away); the parent needs at least one bond")
        return (z, neighbour[keep].astype(np.int64), centre[keep].astype(np.int64),
                distance[keep].astype(np.float32))

    def convert(self, structure: StructureLike, name: Optional[str] = None, **fields) -> Data:
        """One structure (pymatgen ``Structure``, ASE ``Atoms``, or a path) as a graph.

        Extra keyword ``fields`` (e.g. ``y=...``) are attached to the ``Data``.
        """
        z, neighbour, centre, distance = self.arrays(structure, name)
        data = Data(
            z=torch.from_numpy(z),
            edge_index=torch.from_numpy(np.stack([neighbour, centre])),
            edge_distance=torch.from_numpy(distance),
            state=torch.zeros(1, self.state_dim),
            num_nodes=len(z),
            **fields,
        )
        return data

    def convert_many(self, structures: Iterable[StructureLike],
                     names: Optional[Sequence[str]] = None) -> List[Data]:
        """Convert several structures; an error names the failing one and its position."""
        graphs = []
        for i, structure in enumerate(structures):
            label = names[i] if names is not None else f"structure #{i}"
            graphs.append(self.convert(structure, label))
        return graphs
