"""Drop-in PyTorch Geometric operators: no pymatgen needed, tensors in and out."""
from .activations import HardSigmoid, SoftPlus2, hard_sigmoid, resolve_activation, softplus2
from .basis import GaussianExpansion
from .megnet_conv import MEGNetConv
from .mlp import MLP
from .set2set import MEGNetSet2Set, WeightedSet2Set, weighted_softmax
from .weighted_mean import WeightedMeanAggregation

__all__ = [
    "GaussianExpansion",
    "HardSigmoid",
    "MEGNetConv",
    "MEGNetSet2Set",
    "MLP",
    "SoftPlus2",
    "WeightedMeanAggregation",
    "WeightedSet2Set",
    "hard_sigmoid",
    "resolve_activation",
    "softplus2",
    "weighted_softmax",
]
