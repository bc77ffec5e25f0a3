"""Models: the MEGNet parent / baseline."""
from .megnet import ATOM_LEVELS, STRUCTURE_LEVELS, MEGNet, MEGNetOutput

__all__ = ["ATOM_LEVELS", "MEGNet", "MEGNetOutput", "STRUCTURE_LEVELS"]
