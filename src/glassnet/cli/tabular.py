"""Reading a table for the command line: a CSV file or one of glassnet's bundled datasets.

Anything the commands accept as ``DATA`` is either a path to a CSV file or the name of a
bundled dataset (``wages``, ``titanic``, ``mnist``, ...; see :func:`glassnet.datasets.names`).
An existing file always wins over a dataset of the same name.

A CSV file is read with the standard library (pandas is not needed): the first line names the
columns, values are separated by commas, and cells are stripped of surrounding spaces. Each
column then gets a kind, by one rule (documented in ``docs/cli.md``):

* a column whose every non-missing cell is a number is **numeric**;
* a column where more than half of the non-missing cells are numbers, but some are not, is
  an **error** naming the column and the first bad cell: it is almost certainly a numeric
  column with a typo or a stray marker in it, and glassnet does not guess;
* any other column is **text**; :mod:`glassnet.cli.encoding` decides whether it can be used
  as categories.

Missing cells are the empty string and ``NA``, ``N/A``, ``NaN``, ``null``, ``None`` (in any
case). Bundled datasets are loaded with ``as_frame=False``, so none of this needs pandas.
"""

from __future__ import annotations

import csv
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet import datasets
from glassnet.cli.errors import CommandError

#: Cells that count as missing, compared after stripping spaces and lower-casing.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})


@dataclass
class Table:
    """Rows of named columns, as read from a CSV file or a bundled dataset.

    Attributes:
        source: how messages name the data, e.g. ``"titanic.csv"`` or ``"bundled dataset
            'titanic'"``.
        columns: column names, in the file's order.
        values: one array per column: floats for a bundled dataset (float32, as the loaders
            give them), an object array of stripped strings for a CSV file.
        lines: for a CSV file, the file line on which each row starts (the header is line 1).
        dataset: the canonical name of a bundled dataset, else ``None``.
        notes: things the user should be told about how the data was read.
    """

    source: str
    columns: list[str]
    values: dict[str, np.ndarray]
    lines: np.ndarray | None = None
    dataset: str | None = None
    notes: list[str] = field(default_factory=list)
    header_warning: str = ""

    @property
    def rows(self) -> int:
        """The number of data rows."""
        return len(next(iter(self.values.values()))) if self.values else 0

    def where(self, row: int) -> str:
        """Where row ``row`` (0-based) is, for messages: ``"line 7"`` or ``"row 6"``."""
        if self.lines is not None:
            return f"line {int(self.lines[row])}"
        return f"row {row}"

    def has(self, name: str) -> bool:
        """Whether the table has a column called ``name``."""
        return name in self.values

    def column(self, name: str, role: str = "column") -> np.ndarray:
        """The values of one column.

        Raises:
            CommandError: if there is no such column; the message lists the columns.
        """
        if name not in self.values:
            raise CommandError(missing_columns_message(self, [name], role))
        return self.values[name]

    def take(self, order: np.ndarray) -> Table:
        """The same table with its rows in the order ``order`` (or a subset of them)."""
        return Table(
            source=self.source,
            columns=list(self.columns),
            values={name: column[order] for name, column in self.values.items()},
            lines=None if self.lines is None else self.lines[order],
            dataset=self.dataset,
            notes=list(self.notes),
            header_warning=self.header_warning,
        )


def missing_columns_message(table: Table, names: list[str], role: str = "column") -> str:
    """``titanic.csv has no column 'survivd' (did you mean 'survived'?); its columns are: ...``."""
    shown = ", ".join(repr(n) for n in names)
    plural = "s" if len(names) > 1 else ""
    hint = ""
    if len(names) == 1:
        close = difflib.get_close_matches(names[0], table.columns, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(table.columns)
    separator = _separator_hint(table.columns) if len(table.columns) == 1 else ""
    return (f"{table.source} has no {role}{plural} {shown}{hint}; its columns are: "
            f"{listed}{separator}")


# --- reading ------------------------------------------------------------------------------


def read_table(spec: str, header: bool = True, skip_rows: int = 0) -> Table:
    """Reads ``spec``: a CSV file if such a file exists, else a bundled dataset's name.

    Args:
        spec: a path to a CSV file, or a dataset name or alias such as ``"wages"``.
        header: whether the CSV file's first line (after ``skip_rows``) names the columns;
            without one they are called ``column_1``, ``column_2``, ...
        skip_rows: lines at the top of a CSV file to skip (a description, say).

    Returns:
        The table.

    Raises:
        CommandError: if there is neither such a file nor such a dataset, or the file cannot
            be read as a CSV table.
    """
    path = Path(spec)
    if path.is_file():
        return read_csv(path, header=header, skip_rows=skip_rows)
    if path.exists():
        raise CommandError(f"{spec} is a directory, not a CSV file")
    key = spec.strip().lower().replace("-", "_")
    known = datasets.names(aliases=True)
    if key in known:
        return read_dataset(key)
    if path.suffix or len(path.parts) > 1:
        raise CommandError(f"no such file: {spec}")
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise CommandError(
        f"no file named {spec!r}, and no bundled dataset of that name.{hint} "
        f"Bundled datasets: {', '.join(known)}"
    )


def dataset_columns(name: str) -> tuple[str, ...]:
    """The columns of a bundled dataset's DataFrame, in order, target included.

    ``load(name, as_frame=False)`` returns every column but the target, in this order, as
    ``x``; the tests check these lists against the DataFrames.
    """
    if name == "hourly_wages":
        return tuple(datasets.HOURLY_WAGES_COLUMNS)
    if name == "titanic":
        return tuple(datasets.TITANIC_COLUMNS)
    if name == "mnist_sample":
        return ("label", *datasets.MNIST_PIXEL_COLUMNS)
    if name == "digits":
        return (*(f"pixel_{r}_{c}" for r in range(8) for c in range(8)), "digit")
    if name == "bank_transactions":
        return ("n_children", "n_accounts", "n_transactions")
    raise KeyError(name)


def read_dataset(name: str) -> Table:
    """Loads a bundled dataset (by name or alias) as a :class:`Table` of float32 columns.

    Raises:
        CommandError: if the dataset needs a package that is not installed.
    """
    canonical = datasets.ALIASES.get(name, name)
    try:
        x, y = datasets.load(canonical, as_frame=False)
    except ImportError as error:
        raise CommandError(str(error)) from None
    columns = list(dataset_columns(canonical))
    target = datasets.TARGETS[canonical]
    inputs = [c for c in columns if c != target]
    if x.shape[1] != len(inputs):  # a dataset changed without this list: a bug, not user error
        raise RuntimeError(f"dataset {canonical!r} has {x.shape[1]} inputs, expected {len(inputs)}")
    # float32 as loaded, so that a wage of 8.85 shows as 8.85 and not 8.850000381469727
    values = {c: np.ascontiguousarray(x[:, j], dtype=np.float32) for j, c in enumerate(inputs)}
    values[target] = np.asarray(y, dtype=np.float32)
    values = {c: values[c] for c in columns}
    return Table(source=f"bundled dataset {name!r}", columns=columns, values=values,
                 dataset=canonical)


def read_csv(path: Path, header: bool = True, skip_rows: int = 0) -> Table:
    """Reads a comma-separated file with a header line into a :class:`Table` of strings.

    Args:
        path: the file.
        header: whether the first line read names the columns (else they are called
            ``column_1``, ``column_2``, ...).
        skip_rows: lines to skip before the header (or the first row, without a header).

    A first line that holds numbers where names should be (scikit-learn's ``iris.csv``
    starts with ``150,4,setosa,versicolor,virginica``) is still read as the header, with a
    note (``Table.header_warning``) that offers ``--header none`` and ``--skip-rows``.

    Raises:
        CommandError: for an empty file, a file without data rows, a row with the wrong
            number of cells, repeated column names, or a file that is not UTF-8 text.
    """
    has_header = header
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for _ in range(skip_rows):
                if not handle.readline():
                    break
            reader = csv.reader(handle, skipinitialspace=True)
            first = next(reader, None)
            rows: list[list[str]] = []
            lines: list[int] = []
            start = skip_rows + reader.line_num + 1
            if not has_header and first is not None:
                rows.append(first)
                lines.append(skip_rows + 1)
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(start)
                start = skip_rows + reader.line_num + 1
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a text CSV file (it is not UTF-8 text)") from None
    except csv.Error as error:
        raise CommandError(f"{path} cannot be read as CSV: {error}") from None
    if first is None or not any(cell.strip() for cell in first):
        skipped = f" after skipping {skip_rows} lines" if skip_rows else ""
        raise CommandError(
            f"{path} is empty{skipped}: a CSV file needs a header line and data rows")
    if has_header:
        header = [cell.strip() for cell in first]
        warning = _header_warning(path, header, rows, skip_rows)
    else:
        header = [f"column_{j + 1}" for j in range(len(first))]
        warning = ""
    notes = [warning] if warning else []
    for j, name in enumerate(header):
        if not name:
            header[j] = f"unnamed_{j}"
            notes.append(
                f"column {j + 1} of {path} has no name; calling it 'unnamed_{j}' (if it is a "
                f"row number, leave it out with --drop unnamed_{j})"
            )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CommandError(
            f"{path} has more than one column named {', '.join(map(repr, repeated))}")
    if not rows:
        raise CommandError(f"{path} has a header line but no data rows")
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            what = "the header has" if has_header else f"line {skip_rows + 1} has"
            hint = _separator_hint(header)
            if not hint and has_header and len(row) > len(header):
                hint = (f"; if line {skip_rows + 1} ({_shorten(','.join(first))}) is not the "
                        f"header, skip it with --skip-rows {skip_rows + 1} and add "
                        "--header none if no line names the columns")
            raise CommandError(
                f"{path}, line {line}: {len(row)} values, but {what} {len(header)} "
                f"columns{hint}"
            )
    cells = np.array([[cell.strip() for cell in row] for row in rows], dtype=object)
    values = {name: cells[:, j] for j, name in enumerate(header)}
    table = Table(source=str(path), columns=header, values=values,
                  lines=np.asarray(lines, dtype=np.int64), notes=notes, header_warning=warning)
    return table


def _shorten(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _header_warning(path: Path, header: list[str], rows: list[list[str]], skip_rows: int) -> str:
    """A remark when the header line holds numbers where column names should be."""
    numbers = [name for name in header if _parse_number(name) is not None]
    if not numbers:
        return ""
    line = skip_rows + 1
    shown = ", ".join(repr(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")
    every = "holds only numbers" if len(numbers) == len(header) else f"has numbers ({shown})"
    return (f"line {line} of {path}, {_shorten(','.join(header))}, is read as the column "
            f"names but {every}; if it is data, add --header none (columns column_1, "
            f"column_2, ...); if it describes the file, add --skip-rows {line} --header none")


def _separator_hint(header: list[str]) -> str:
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if any(separator in cell for cell in header):
            return f" (the file seems to use {name}; glassnet reads comma-separated files)"
    return ""


# --- the kind of a column ---------------------------------------------------------------------


@dataclass
class Column:
    """One column's values, sorted into numbers or text.

    Attributes:
        name: the column's name.
        missing: True where a cell is missing.
        numbers: float values (NaN where missing) when the column is numeric, else ``None``.
        texts: the stripped cells when the column is text, else ``None``.
    """

    name: str
    missing: np.ndarray
    numbers: np.ndarray | None = None
    texts: np.ndarray | None = None

    @property
    def is_numeric(self) -> bool:
        """Whether every non-missing cell is a number."""
        return self.numbers is not None

    def present(self) -> np.ndarray:
        """The non-missing values (numbers or texts)."""
        values = self.numbers if self.numbers is not None else self.texts
        return values[~self.missing]


def _parse_number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def column(table: Table, name: str, role: str = "column") -> Column:
    """Reads one column of ``table`` and decides whether it holds numbers or text.

    Raises:
        CommandError: if the column does not exist, holds an infinite number, or is mostly
            numbers with some text in it (naming the first text cell and where it is).
    """
    raw = table.column(name, role)
    if raw.dtype.kind == "f":  # a bundled dataset: numbers already
        return Column(name, missing=np.isnan(raw), numbers=raw)
    missing = np.array([cell.lower() in MISSING_TOKENS for cell in raw], dtype=bool)
    present = raw[~missing]
    try:
        parsed = np.asarray(present, dtype=np.str_).astype(np.float64)
    except ValueError:
        parsed = None
    if parsed is None:
        numbers = [_parse_number(cell) for cell in present]
        bad = [i for i, value in enumerate(numbers) if value is None]
        if len(present) - len(bad) > len(present) / 2:
            row = int(np.flatnonzero(~missing)[bad[0]])
            raise CommandError(
                f"column {name!r} of {table.source} holds numbers, but {table.where(row)} has "
                f"the text {present[bad[0]]!r} ({len(bad)} such cell{'s' * (len(bad) > 1)}); "
                f"fix those cells, or leave the column out with --drop {name}"
            )
        return Column(name, missing=missing, texts=raw)
    values = np.full(len(raw), math.nan)
    values[~missing] = parsed
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise CommandError(f"column {name!r} of {table.source} has an infinite value at "
                           f"{table.where(row)}")
    missing |= np.isnan(values)
    return Column(name, missing=missing, numbers=values)


def first_text(col: Column) -> int:
    """The row of the first non-missing cell of a text column that is not a number."""
    for row, cell in enumerate(col.texts):
        if not col.missing[row] and _parse_number(cell) is None:
            return row
    return 0


def require_complete(table: Table, col: Column, what: str) -> None:
    """Raises a :class:`CommandError` naming the first missing cell of ``col``, if any."""
    if not col.missing.any():
        return
    rows = np.flatnonzero(col.missing)
    more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
    raise CommandError(
        f"{what} {col.name!r} of {table.source} has a missing value at "
        f"{table.where(int(rows[0]))}{more}; fill or remove the missing values first"
        + (f", or leave the column out with --drop {col.name}" if what == "column" else "")
    )


def format_value(value: object) -> str:
    """A cell as text: whole numbers without a decimal point, other numbers in their shortest
    form for their precision (a float32 8.85 is ``8.85``), anything else as ``str`` gives it."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)
