"""The ``atomsets`` command: dispatch, and the one place errors become exit codes.

Only the package's own errors (:class:`~torch_atomsets.errors.AtomSetsError`: bad input,
missing files, checksums) are caught: they print one line and exit 2. Anything else is a
bug and keeps its traceback. Ctrl-C exits 130, SIGTERM (a scheduler's time limit) 143,
each with one line saying what was kept.

Importing this module imports nothing heavy: ``atomsets --help`` answers at once; each
subcommand imports what it needs when it runs.
"""
from __future__ import annotations

import argparse
import signal
import sys
from typing import List, Optional, Sequence

from ..version import __version__

#: Subcommands parsed by jsonargparse (Lightning's parser): --config, --print_config and
#: every --trainer.* flag.
LIGHTNING_COMMANDS = {"train": "train a child (a Table 1 model) on a MatBench task or your own CSV",
                      "pretrain": "train a MEGNet parent on structures (resumable; DDP through Lightning)"}
EXIT_INPUT_ERROR = 2
EXIT_PARTIAL = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def build_parser() -> argparse.ArgumentParser:
    from . import export, featurize, models, predict

    parser = argparse.ArgumentParser(
        prog="atomsets", description="AtomSets: hierarchical transfer learning from MEGNet parents (PyTorch "
                                     "Geometric). Run `atomsets COMMAND --help` for a command's options.")
    parser.add_argument("--version", action="version", version=f"torch_atomsets {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (predict, featurize, export, models):
        module.add_parser(sub)
    for name, text in LIGHTNING_COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def _run(argv: List[str]) -> int:
    if argv and argv[0] in LIGHTNING_COMMANDS:
        import importlib

        return importlib.import_module(f".{argv[0]}", __package__).main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``atomsets`` with ``argv`` (default: the command line); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(argv)
    except KeyboardInterrupt as exc:
        kept = getattr(exc, "kept", "")
        terminated = getattr(exc, "signal_number", signal.SIGINT) == signal.SIGTERM
        print(f"\n{'terminated (SIGTERM)' if terminated else 'interrupted'}{': ' + kept if kept else ''}",
              file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "torch_atomsets":
            raise  # our own import is broken: a bug, with its traceback
        # an optional package an option needs (TensorBoardLogger without tensorboard)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except Exception as exc:
        from ..errors import AtomSetsError

        if not isinstance(exc, AtomSetsError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
