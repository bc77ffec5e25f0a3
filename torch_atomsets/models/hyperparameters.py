"""The hyperparameters of an AtomSets child (Table S2 of the paper) and their defaults.

The defaults are the package's, chosen by validation error on steels, phonons and glass
(``benchmarks/screening/``, results in ``benchmarks/results/screening/``); the models,
the Lightning modules, the configuration files and the command line all read them here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict

READOUTS = ("mean", "set2set")


@dataclass
class ChildHyperparameters:
    """Architecture of a child.

    Args:
        n_layer_before_readout: dense layers applied to every row of the set (Table S2: 1-3).
        n_layer_after_readout: hidden dense layers after the readout (Table S2: 2-3).
        n_neurons: width of every hidden layer (Table S2: 16, 32, 64, 128).
        readout: ``mean`` (weighted mean, eq. 4) or ``set2set`` (weighted Set2Set, eq. 5-9).
        activation: hidden activation (Table S2: relu, softplus; any name the package knows).
        embedding_dim: width of the trainable element embedding of the model "AtomSets".
        n_layer: hidden layers of an MLP child (MLP-f, MLP-u1, ...; Table S2: 1-5).
        set2set_steps: processing steps T of the Set2Set readout (3, as the paper).
    """

    n_layer_before_readout: int = 2
    n_layer_after_readout: int = 2
    n_neurons: int = 64
    readout: str = "set2set"
    activation: str = "relu"
    embedding_dim: int = 32
    n_layer: int = 3
    set2set_steps: int = 3

    def __post_init__(self):
        from ..errors import ConfigError

        if self.readout not in READOUTS:
            raise ConfigError(f"readout must be one of {', '.join(READOUTS)}, got {self.readout!r}")
        for name in ("n_layer_before_readout", "n_layer_after_readout", "n_layer"):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f"{name} must be 0 or more, got {getattr(self, name)}")
        for name in ("n_neurons", "embedding_dim", "set2set_steps"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def names(cls) -> tuple:
        return tuple(f.name for f in fields(cls))


DEFAULTS = ChildHyperparameters()
