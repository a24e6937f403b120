"""Small pieces the subcommands share: argument helpers and how numbers are shown."""

from __future__ import annotations

import argparse

from glassnet import datasets
from glassnet.cli.errors import CommandError
from glassnet.cli.tabular import Table

DATA_HELP = ("a CSV file with a header line, or a bundled dataset's name (wages, titanic, "
             "digits, mnist, bank)")


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """Adds the ``DATA`` positional argument."""
    parser.add_argument("data", metavar="DATA", help=DATA_HELP)


def add_target_option(parser: argparse.ArgumentParser, default_help: str) -> None:
    """Adds ``--target COL``."""
    parser.add_argument("--target", metavar="COL", help=f"the column to predict; {default_help}")


def target_name(table: Table, given: str | None, recorded: str | None = None) -> str:
    """The target column: the one given, else the one recorded with the model, else the
    bundled dataset's own target.

    Raises:
        CommandError: when none of these applies.
    """
    if given:
        return given
    if recorded:
        return recorded
    if table.dataset is not None:
        return datasets.TARGETS[table.dataset]
    raise CommandError(
        f"name the column to predict with --target; the columns of {table.source} are: "
        + ", ".join(table.columns[:30])
    )


def format_number(value: float) -> str:
    """Four significant digits, enough to compare scores: ``30.91``, ``0.7939``."""
    return f"{float(value):.4g}"


def format_scores(scores: dict) -> str:
    """``"loss 30.91 · mae 4.146"``."""
    return " · ".join(f"{name} {format_number(value)}" for name, value in scores.items())


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number of at least 0 (a seed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {value}")
    return value


def say_notes(notes: list[str]) -> None:
    """Prints remarks about the data or the model, one per line."""
    for note in notes:
        print(f"note: {note}")
