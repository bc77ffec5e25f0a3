"""torch_atomsets: the AtomSets framework (Chen & Ong) as a PyTorch Geometric extension.

- ``torch_atomsets.nn``: drop-in PyG operators (``MEGNetConv``, ``WeightedSet2Set``,
  ``MEGNetSet2Set``, ``WeightedMeanAggregation``, ``GaussianExpansion``).
- ``torch_atomsets.models``: ``MEGNet`` (parent and from-scratch baseline), ``AtomSets``,
  ``FeatureMLP`` and the model-name registry.
- ``load_parent`` / ``predict`` / ``featurize``: the published MEGNet parents on your
  own structures (``torch_atomsets.inference``).
- ``torch_atomsets.lightning``: ``ChildModule``, ``MEGNetModule`` and their data modules.

The package imports its heavy parts (torch, pymatgen, Lightning) only when they are used,
so ``import torch_atomsets`` and ``atomsets --help`` are quick.
"""
from .version import __version__

_LAZY = {"Features": "inference.parent", "Parent": "inference.parent", "featurize": "inference.parent",
         "load_parent": "inference.parent", "predict": "inference.parent"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'torch_atomsets' has no attribute {name!r}")


__all__ = ["Features", "Parent", "__version__", "featurize", "load_parent", "predict"]
