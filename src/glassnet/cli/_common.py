"""Small pieces the subcommands share: argument helpers and how numbers are shown."""

from __future__ import annotations

import argparse

import numpy as np

from glassnet import datasets
from glassnet.cli.errors import CommandError
from glassnet.cli.tabular import Table

#: A column with at most this many distinct values can be the target of a classifier.
MAX_LIKELY_CLASSES = 20

DATA_HELP = ("a CSV file with a header line, or a bundled dataset's name (wages, titanic, "
             "digits, mnist, bank)")


def add_data_argument(parser: argparse.ArgumentParser, positional: bool = True) -> None:
    """Adds the ``DATA`` positional argument (unless ``positional`` is false) and the options
    that say how to read a CSV file: ``--header`` and ``--skip-rows``."""
    if positional:
        parser.add_argument("data", metavar="DATA", help=DATA_HELP)
    parser.add_argument("--header", choices=("first", "none"), default="first",
                        help="'first': the CSV file's first line names the columns (default); "
                             "'none': it has no such line, and the columns are called "
                             "column_1, column_2, ...")
    parser.add_argument("--skip-rows", type=non_negative_int, default=0, metavar="N",
                        help="lines to skip at the top of the CSV file, before the header "
                             "(default 0)")


def read_data(args: argparse.Namespace, spec: str | None = None) -> Table:
    """Reads ``spec`` (default ``args.data``) as ``--header`` and ``--skip-rows`` say."""
    from glassnet.cli.tabular import read_table

    return read_table(args.data if spec is None else spec,
                      header=getattr(args, "header", "first") != "none",
                      skip_rows=getattr(args, "skip_rows", 0))


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
    message = (f"name the column to predict with --target; {table.source} has "
               f"{len(table.columns)} columns: {', '.join(table.columns)}")
    likely = likely_target(table)
    if likely:
        message += f". Likely target: --target {likely}"
    header = suspicious_header(table)
    if header:
        message += f". {header[0].upper()}{header[1:]}"
    raise CommandError(message)


def likely_target(table: Table) -> str | None:
    """The column that looks like the one to predict, with why: ``"diagnosis (the last
    column; text, 2 values: benign, malignant)"``; ``None`` when nothing stands out.

    A text column with few values (the last one, if several) is the likeliest; else the last
    column, when it holds whole numbers with few values (class numbers) or is text.
    """
    from glassnet.cli.tabular import column, format_value

    def kind(name: str) -> tuple[str, int, list[str]] | None:
        try:
            col = column(table, name)
        except CommandError:
            return None
        values = np.unique(col.present())
        shown = [format_value(v) for v in values[:4]]
        if not col.is_numeric:
            return "text", len(values), shown
        if len(values) <= MAX_LIKELY_CLASSES and np.all(values == np.round(values)):
            return "whole numbers", len(values), shown
        return None

    def why(name: str, found: tuple[str, int, list[str]], last: bool) -> str:
        what, count, shown = found
        more = ", ..." if count > len(shown) else ""
        where = "the last column; " if last else ""
        return f"{name} ({where}{what}, {count} values: {', '.join(shown)}{more})"

    last = table.columns[-1]
    texts = []
    for name in table.columns:
        found = kind(name)
        if found and found[0] == "text" and 2 <= found[1] <= MAX_LIKELY_CLASSES:
            texts.append((name, found))
    if texts:
        name, found = texts[-1]
        return why(name, found, name == last)
    found = kind(last)
    if found and found[1] >= 2:
        return why(last, found, True)
    return None


def suspicious_header(table: Table) -> str:
    """A remark when a CSV file's first line looks like data rather than column names."""
    return getattr(table, "header_warning", "") or ""


#: The optional packages the command line uses, by the extra of pyproject.toml that holds them.
EXTRAS = {"plot": "matplotlib", "pandas": "pandas", "sklearn": "scikit-learn>=1.6"}


def install_hint(extra: str) -> str:
    """How to install an optional package, in words that work as written for someone who
    installed glassnet from its clone (README's way) and for anyone else:
    ``pip install matplotlib (or, in glassnet's clone, pip install ".[plot]")``."""
    package = EXTRAS[extra]
    shown = f"'{package}'" if ">" in package else package
    return f'pip install {shown} (or, in glassnet\'s clone, pip install ".[{extra}]")'


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
