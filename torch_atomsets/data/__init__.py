"""Data: crystal graphs and structure input."""
from .errors import AtomSetsInputError, CompositionError, StructureError, TargetError
from .graph import CrystalGraphConverter
from .structures import read_structures, to_structure

__all__ = ["AtomSetsInputError", "CompositionError", "CrystalGraphConverter", "StructureError",
           "TargetError", "read_structures", "to_structure"]
