"""torch_atomsets: the AtomSets framework (Chen & Ong) as a PyTorch Geometric extension.

- ``torch_atomsets.nn``: drop-in PyG operators (``MEGNetConv``, ``WeightedSet2Set``,
  ``MEGNetSet2Set``, ``WeightedMeanAggregation``, ``GaussianExpansion``).
- ``torch_atomsets.models``: ``MEGNet`` (parent and from-scratch baseline).
- ``load_parent`` / ``predict`` / ``featurize``: the published MEGNet parents on your
  own structures.
"""
__version__ = "0.1.0"

from .parent import Features, Parent, featurize, load_parent, predict  # noqa: E402

__all__ = ["Features", "Parent", "__version__", "featurize", "load_parent", "predict"]
