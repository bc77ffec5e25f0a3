"""Models: the MEGNet parent / baseline, the AtomSets children and the model-name registry."""
from .atomsets import AtomSets, FeatureMLP, count_parameters
from .hyperparameters import ChildHyperparameters
from .megnet import MEGNet, MEGNetOutput
from .registry import MODELS, ModelSpec, build_child, model_spec

__all__ = ["AtomSets", "ChildHyperparameters", "FeatureMLP", "MEGNet", "MEGNetOutput", "MODELS", "ModelSpec",
           "build_child", "count_parameters", "model_spec"]
