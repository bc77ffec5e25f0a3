"""Lightning modules: children (and, later, parent pretraining)."""
from .child import ChildDataModule, ChildModule
from .megnet import GraphDataModule, MEGNetModule

__all__ = ["ChildDataModule", "ChildModule", "GraphDataModule", "MEGNetModule"]
