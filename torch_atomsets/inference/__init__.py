"""Inference: a parent's predictions and features on your structures, a trained child's
predictions, and exported programs."""
from .child import ChildPredictor, load_child
from .parent import Features, Parent, featurize, load_parent, predict

__all__ = ["ChildPredictor", "Features", "Parent", "featurize", "load_child", "load_parent", "predict"]
