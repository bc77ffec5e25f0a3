"""Data: inputs (structures, compositions), crystal graphs, datasets and splits, and the
features children read.

The layer imports no model code: where a parent network is needed (featurising), it is
passed in.
"""
from ..errors import AtomSetsInputError, CompositionError, StructureError, TargetError
from .datasets import MaterialsData, Split, load_csv, load_task, make_splits
from .graphs import CrystalGraphConverter, GraphBatch
from .inputs import read_structures, to_structure

__all__ = ["AtomSetsInputError", "CompositionError", "CrystalGraphConverter", "GraphBatch", "MaterialsData",
           "Split", "StructureError", "TargetError", "load_csv", "load_task", "make_splits", "read_structures",
           "to_structure"]
