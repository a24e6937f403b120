"""The ``glassnet`` command: train, evaluate, predict, summarise, explain and plot from a shell.

Run ``glassnet --help`` (or ``python -m glassnet --help``) for the subcommands, and
``glassnet demo`` to see a network trained on the course's data in under a second.
Everything is documented in ``docs/cli.md``.

Errors the user can fix (a missing file, a missing column, text in a numeric column, a file
that is not a model, ...) end the command with one line on standard error,
``glassnet: error: <message>``, and exit status 1; wrong arguments exit with status 2, as
argparse does. Running out of memory is one such line too, naming the data and what to
try. Anything else is a bug in glassnet and shows its traceback.

Example:
    >>> from glassnet.cli import main
    >>> main(["train", "wages", "--epochs", "3", "--output", "wages.keras"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence

import glassnet
from glassnet.cli import demo, evaluate, explain, plot, predict, summary, train, watch
from glassnet.cli.errors import CommandError
from glassnet.models import DataError, NonFiniteLossError

__all__ = ["CommandError", "build_parser", "main"]

_COMMANDS = (train, watch, evaluate, predict, summary, explain, plot, demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``glassnet`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="Deep learning on NumPy with the Keras API, from the command line. "
                    "DATA is a CSV file with a header line or a bundled dataset's name "
                    "(wages, titanic, digits, mnist, bank).",
        epilog="Start with: glassnet demo. Then: glassnet train wages --output wages.keras",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {glassnet.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(subparsers)
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input, not a bug: shown as one line without a traceback."""
    from glassnet.saving.errors import ModelFileError

    return (CommandError, DataError, ModelFileError, NonFiniteLossError, OSError)


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _out_of_memory(args: argparse.Namespace) -> str:
    """The one line for a ``MemoryError``: which data, how large, and what to do."""
    data = getattr(args, "data", None)
    what = f"the {args.command} command"
    size = ""
    if data:
        what = f"{args.command} on {data}"
        try:
            size = f" ({os.path.getsize(data) / 1e6:,.0f} MB)" if os.path.isfile(data) else ""
        except OSError:
            size = ""
    options = ("fewer columns (--drop COLS; --max-categories for text columns with many "
               "values), " if args.command == "train" else "")
    return (f"out of memory in {what}{size}: use {options}fewer rows (a part of the file, "
            "e.g. head -n 100001 FILE > part.csv), or a machine with more memory")


def _silence_stdout() -> None:
    """Points standard output at the null device, so that exiting does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the ``glassnet`` command.

    Args:
        argv: the arguments after ``glassnet`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 for an error in the input, 2 for wrong arguments,
        130 when interrupted, 141 when the output pipe was closed early.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and argument errors
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away, as in: glassnet predict ... | head
        _silence_stdout()
        return 141
    except _expected_errors() as error:
        print(f"glassnet: error: {_one_line(error)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"glassnet: error: {_out_of_memory(args)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return 130
