"""Errors for bad user input. Each message names the input and what is wrong with it."""


class AtomSetsInputError(ValueError):
    """Base class: something the user gave us cannot be used."""


class StructureError(AtomSetsInputError):
    """A structure (or the file it came from) cannot be turned into a graph."""


class CompositionError(AtomSetsInputError):
    """A formula or composition cannot be turned into an element set."""


class TargetError(AtomSetsInputError):
    """A target column is missing, not numeric, NaN, or not 0/1 for classification."""
