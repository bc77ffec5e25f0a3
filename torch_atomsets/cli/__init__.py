"""The ``atomsets`` command line (see :mod:`torch_atomsets.cli.main`)."""
from .main import main

__all__ = ["main"]
