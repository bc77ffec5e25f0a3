"""Models: the MEGNet parent / baseline and the AtomSets children."""
from .atomsets import AtomSets, FeatureMLP, build_child
from .megnet import ATOM_LEVELS, STRUCTURE_LEVELS, MEGNet, MEGNetOutput

__all__ = ["ATOM_LEVELS", "AtomSets", "FeatureMLP", "MEGNet", "MEGNetOutput", "STRUCTURE_LEVELS", "build_child"]
