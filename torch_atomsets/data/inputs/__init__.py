"""Inputs at the edges: structures (pymatgen, ASE, files) and compositions (formulas)."""
from .compositions import MAX_Z, element_set, element_sets, site_sets
from .structures import StructureLike, describe, read_structures, to_structure

__all__ = ["MAX_Z", "StructureLike", "describe", "element_set", "element_sets", "read_structures", "site_sets",
           "to_structure"]
