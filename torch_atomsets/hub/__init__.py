"""The hub: published parents (registry, download, checksum), the Keras conversion, parents
registered by name, and the model file formats."""
from .checkpoints import checkpoint_kind, read_parent, save_parent
from .parents import load_parent_model, parent_key, register_parent, registered_parents
from .published import DEFAULT_PARENT, REGISTRY, PretrainedParent

__all__ = ["DEFAULT_PARENT", "REGISTRY", "PretrainedParent", "checkpoint_kind", "load_parent_model", "parent_key",
           "read_parent", "register_parent", "registered_parents", "save_parent"]
