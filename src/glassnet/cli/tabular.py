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
    if path.is_dir():
        raise CommandError(f"{spec} is a directory, not a CSV file")
    if path.exists():  # a named pipe, a device or a socket: no second read, no end maybe
        raise CommandError(f"{spec} is not a regular file (a named pipe, device or socket); "
                           "glassnet reads CSV files: save the data to a file first")
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


#: Cells read at a time: a chunk of rows as Python strings is about 60 bytes a cell, so
#: reading holds some 16 MB of cells besides the columns it has made of earlier chunks.
CHUNK_CELLS = 2**18


def read_csv(path: Path, header: bool = True, skip_rows: int = 0) -> Table:
    """Reads a comma-separated file with a header line into a :class:`Table`.

    Args:
        path: the file.
        header: whether the first line read names the columns (else they are called
            ``column_1``, ``column_2``, ...).
        skip_rows: lines to skip before the header (or the first row, without a header).

    The file is read in chunks of about :data:`CHUNK_CELLS` cells. A column whose every
    cell is a number (or missing) becomes a float64 array, NaN where missing; any other
    column an object array of its stripped cells (each distinct text kept once). So memory
    is about 8 bytes a numeric cell plus one chunk, not the 15 times the file size that
    holding every cell as a string took. A column that turns out to hold text only after
    chunks of numbers is read again in a second pass.

    A first line that holds numbers where names should be (scikit-learn's ``iris.csv``
    starts with ``150,4,setosa,versicolor,virginica``) is still read as the header, with a
    note (``Table.header_warning``) that offers ``--header none`` and ``--skip-rows``.

    Raises:
        CommandError: for an empty file, a file without data rows, a row with the wrong
            number of cells, repeated column names, a NUL byte, or a file that is not
            UTF-8 text (naming UTF-16 when it looks like it).
    """
    _refuse_utf16(path)
    text_columns: set[str] = set()
    for _ in range(2):
        table, flipped = _read_csv_pass(path, header, skip_rows, text_columns)
        if not flipped:
            return table
        del table
        text_columns |= flipped
    raise RuntimeError("a column changed kind on the second pass")  # not reached


def _refuse_utf16(path: Path) -> None:
    """A ``CommandError`` for a file that looks like UTF-16 (with or without a byte-order
    mark): every other byte of its text is a NUL. Read as UTF-8 it gave messages such as
    "line 202: 1 values"."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        kind = "UTF-16 text with a byte-order mark"
    elif _utf16_text(head):
        kind = "UTF-16 text without a byte-order mark"
    else:
        return
    raise CommandError(f"{path} looks like {kind}; glassnet reads UTF-8 CSV files: save it "
                       "as UTF-8 (CSV UTF-8 in a spreadsheet, or iconv -f UTF-16 -t UTF-8)")


def _utf16_text(head: bytes) -> bool:
    """Whether ``head`` reads as UTF-16 text (either byte order) of printable characters,
    with a NUL in nearly every other byte: not a binary file, which has NULs too."""
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return False
    half = len(head) // 2
    for zeros, other, codec in ((head[1::2], head[0::2], "utf-16-le"),
                                (head[0::2], head[1::2], "utf-16-be")):
        if zeros.count(0) > 0.8 * half and other.count(0) < 0.05 * half:
            try:
                text = head.decode(codec)
            except UnicodeDecodeError:
                return False
            return all(c.isprintable() or c in "\r\n\t" for c in text)
    return False


def _read_csv_pass(
    path: Path, has_header: bool, skip_rows: int, text_columns: set[str]
) -> tuple[Table, set[str]]:
    """One pass over the file. Returns the table and the columns that held text after a
    chunk of numbers (empty when the table is complete)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for _ in range(skip_rows):
                if not handle.readline():
                    break
            reader = csv.reader(handle, skipinitialspace=True)
            first = next(reader, None)
            if first is None or not any(cell.strip() for cell in first):
                skipped = f" after skipping {skip_rows} lines" if skip_rows else ""
                raise CommandError(
                    f"{path} is empty{skipped}: a CSV file needs a header line and data rows")
            _refuse_nul(path, [first], [skip_rows + 1])
            header, notes, warning = _header(path, first, has_header, skip_rows)
            builder = _ColumnsBuilder(path, header, text_columns)
            chunk_rows = max(1, CHUNK_CELLS // len(header))
            rows: list[list[str]] = []
            lines: list[int] = []
            if not has_header:
                rows.append(first)
                lines.append(skip_rows + 1)
            start = skip_rows + reader.line_num + 1
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(start)
                    if len(rows) >= chunk_rows:
                        _check_widths(path, rows, lines, header, first, has_header, skip_rows)
                        builder.add(rows, lines)
                        rows, lines = [], []
                start = skip_rows + reader.line_num + 1
            if rows:
                _check_widths(path, rows, lines, header, first, has_header, skip_rows)
                builder.add(rows, lines)
            del rows
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a text CSV file (it is not UTF-8 text)") from None
    except csv.Error as error:
        if "NUL" in str(error) or "nul" in str(error):
            raise CommandError(f"{path} holds a NUL byte (line {reader.line_num + skip_rows}); "
                               "it is a binary or damaged file, not CSV text") from None
        raise CommandError(f"{path} cannot be read as CSV: {error}") from None
    if builder.rows == 0:
        raise CommandError(f"{path} has a header line but no data rows")
    if builder.flipped:
        return None, builder.flipped
    values = builder.columns()
    table = Table(source=str(path), columns=header, values=values, lines=builder.lines(),
                  notes=notes, header_warning=warning)
    return table, set()


def _header(path: Path, first: list[str], has_header: bool, skip_rows: int):
    """The column names, notes about them, and the header warning."""
    if has_header:
        header = [cell.strip() for cell in first]
        warning = _header_warning(path, header, [], skip_rows)
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
    return header, notes, warning


def _check_widths(path, rows, lines, header, first, has_header, skip_rows) -> None:
    """A ``CommandError`` naming the first row with another number of cells than the header;
    one naming the first NUL byte."""
    width = len(header)
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            what = "the header has" if has_header else f"line {skip_rows + 1} has"
            hint = _separator_hint(header)
            if not hint and has_header and len(row) > width:
                hint = (f"; if line {skip_rows + 1} ({_shorten(','.join(first))}) is not the "
                        f"header, skip it with --skip-rows {skip_rows + 1} and add "
                        "--header none if no line names the columns")
            raise CommandError(
                f"{path}, line {line}: {len(row)} values, but {what} {width} columns{hint}")
    _refuse_nul(path, rows, lines)


def _refuse_nul(path: Path, rows: list[list[str]], lines: list[int]) -> None:
    """A NUL byte is no part of CSV text: a cell holding one is a binary or damaged file
    (it was accepted as part of a category's name)."""
    if "\0" not in "".join(["".join(row) for row in rows]):
        return
    line = next(line for row, line in zip(rows, lines, strict=True) if "\0" in "".join(row))
    raise CommandError(f"{path}, line {line}: a cell holds a NUL byte; the file is binary or "
                       "damaged, not CSV text")


class _ColumnsBuilder:
    """Columns made of chunks of rows: float64 for numbers, object arrays of text."""

    def __init__(self, path: Path, header: list[str], text_columns: set[str]) -> None:
        self.header = header
        self.text = set(text_columns)
        self.numbers: dict[str, list[np.ndarray]] = {name: [] for name in header}
        self.texts: dict[str, list[np.ndarray]] = {name: [] for name in header}
        self.seen: dict[str, dict[str, str]] = {name: {} for name in header}
        self.flipped: set[str] = set()
        self.had_numbers: set[str] = set()  # columns with a chunk of numbers (and no text)
        self.line_chunks: list[np.ndarray] = []
        self.rows = 0

    def add(self, rows: list[list[str]], lines: list[int]) -> None:
        self.rows += len(rows)
        if self.flipped:  # a second pass will read the table: only find the kinds now
            self.line_chunks = []
        else:
            self.line_chunks.append(np.asarray(lines, dtype=np.int64))
        for name, cells in zip(self.header, zip(*rows, strict=True), strict=True):
            cells = list(map(str.strip, cells))
            if name not in self.text:
                numbers = parse_numbers(cells)
                if numbers is not None:
                    self.numbers[name].append(numbers)
                    self.had_numbers.add(name)
                    continue
                self.text.add(name)
                if name in self.had_numbers:  # numbers before: their texts are gone
                    self.flipped.add(name)
                    self.numbers[name] = []
            if self.flipped:
                continue
            seen = self.seen[name]
            column = np.empty(len(cells), dtype=object)
            column[:] = [seen.setdefault(cell, cell) for cell in cells]
            self.texts[name].append(column)
        if self.flipped:
            for name in self.header:
                self.numbers[name], self.texts[name] = [], []

    def lines(self) -> np.ndarray:
        return np.concatenate(self.line_chunks)

    def columns(self) -> dict[str, np.ndarray]:
        values = {}
        for name in self.header:
            chunks = self.texts[name] if name in self.text else self.numbers[name]
            values[name] = np.concatenate(chunks)
            self.texts[name] = self.numbers[name] = []
        return values


def parse_numbers(cells: list[str]) -> np.ndarray | None:
    """The cells as float64 (NaN where missing), or ``None`` when one is not a number.

    A number is what a CSV file means by one: ASCII digits with an optional sign, point and
    exponent, or ``inf``. Python's ``float`` also takes ``1_000`` (its literal rule) and
    digits of other scripts; those are text here.
    """
    joined = "".join(cells)
    if "_" not in joined and joined.isascii():
        try:
            return np.asarray(cells, dtype=np.str_).astype(np.float64)
        except ValueError:
            pass
    values = np.empty(len(cells))
    for i, cell in enumerate(cells):
        if cell.lower() in MISSING_TOKENS:
            values[i] = math.nan
            continue
        number = _parse_number(cell)
        if number is None:
            return None
        values[i] = number
    return values


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
    """``cell`` as a number, or ``None``: as ``float``, but ``1_000`` and digits outside
    ASCII are not numbers in a CSV file."""
    if "_" in cell or not cell.isascii():
        return None
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
    if raw.dtype.kind == "f":  # numbers already: a bundled dataset, a CSV file's number column
        values, missing = raw, np.isnan(raw)
    else:
        missing = np.array([cell.lower() in MISSING_TOKENS for cell in raw], dtype=bool)
        present = raw[~missing]
        parsed = parse_numbers(list(present))
        if parsed is None:
            numbers = [_parse_number(cell) for cell in present]
            bad = [i for i, value in enumerate(numbers) if value is None]
            if len(present) - len(bad) > len(present) / 2:
                row = int(np.flatnonzero(~missing)[bad[0]])
                raise CommandError(
                    f"column {name!r} of {table.source} holds numbers, but {table.where(row)} "
                    f"has the text {present[bad[0]]!r} ({len(bad)} such "
                    f"cell{'s' * (len(bad) > 1)}); fix those cells, or leave the column out "
                    f"with --drop {name}"
                )
            return Column(name, missing=missing, texts=raw)
        values = np.full(len(raw), math.nan)
        values[~missing] = parsed
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise CommandError(f"column {name!r} of {table.source} has an infinite value at "
                           f"{table.where(row)}")
    if values.dtype != np.float32:
        # The model computes in float32: 1e308 would become infinity there, with NumPy's
        # RuntimeWarning and an error naming a shuffled row instead of the file's line.
        with np.errstate(over="ignore"):
            too_large = np.isinf(values.astype(np.float32))
        if too_large.any():
            row = int(np.flatnonzero(too_large)[0])
            raise CommandError(
                f"column {name!r} of {table.source} has {float(values[row])!r} at "
                f"{table.where(row)}, too large for float32 (the largest is about 3.4e38), in "
                f"which glassnet computes; fix that cell, rescale the column, or leave it out "
                f"with --drop {name}"
            )
    return Column(name, missing=missing | np.isnan(values), numbers=values)


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
