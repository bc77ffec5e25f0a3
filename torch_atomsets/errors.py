"""Errors the package raises for things a user gave it.

Every message names the input (a file, a CSV line, a dataset row, an option) and says what
is wrong and, where there is one, the fix. The command line prints these as one line and
exits non-zero; any other exception is a bug and keeps its traceback.
"""


class AtomSetsError(Exception):
    """Base class of the package's own, expected errors (bad input, missing files)."""


class AtomSetsInputError(AtomSetsError, ValueError):
    """Something the user gave us cannot be used."""


class StructureError(AtomSetsInputError):
    """A structure (or the file it came from) cannot be turned into a graph."""


class CompositionError(AtomSetsInputError):
    """A formula or composition cannot be turned into an element set."""


class TargetError(AtomSetsInputError):
    """A target column is missing, not numeric, NaN, or not 0/1 for classification."""


class ConfigError(AtomSetsInputError):
    """An option or a configuration file value is out of range or inconsistent."""


class CheckpointError(AtomSetsInputError):
    """A model file is missing, unreadable, or not the kind of file expected."""


class ChecksumError(AtomSetsError, RuntimeError):
    """A weights or data file does not have the sha256 it must have."""


class WeightsNotFoundError(AtomSetsError, FileNotFoundError):
    """A pretrained model is neither in a local folder nor downloadable."""


class RunInterrupted(KeyboardInterrupt):
    """Training was interrupted (Ctrl-C, or SIGTERM from a scheduler: ``signal_number``);
    ``kept`` says what was kept on disk. A ``KeyboardInterrupt``, so ``except Exception``
    never swallows it."""

    def __init__(self, message: str, kept: str = "", signal_number: int = 2):
        super().__init__(message)
        self.kept = kept
        self.signal_number = signal_number


__all__ = ["AtomSetsError", "AtomSetsInputError", "CheckpointError", "ChecksumError", "CompositionError",
           "ConfigError", "RunInterrupted", "StructureError", "TargetError", "WeightsNotFoundError"]
