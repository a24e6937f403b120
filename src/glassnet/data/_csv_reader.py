"""``read_csv``: batches streamed from CSV files (with pandas if installed, else Python's csv)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence

import numpy as np

from glassnet.data._batches import Batches
from glassnet.data._common import (
    check_int,
    check_paths,
    check_seed,
    select_columns,
    to_float32,
)
from glassnet.models import DataError

_ENGINES = ("auto", "pandas", "python")


def _header(path: str, delimiter: str) -> list[str]:
    with open(path, newline="") as f:
        first = next(csv.reader(f, delimiter=delimiter), None)
    if not first:
        raise DataError(f"{path!r} is empty: a CSV file for glassnet needs a header line naming "
                        "its columns")
    return [name.strip() for name in first]


def _count_rows(paths: list[str]) -> int:
    """Data rows in the files: non-blank lines after each header."""
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += sum(1 for line in f if line.strip()) - 1
    return total


def _non_numeric(frame, columns: list[str], source: str, first_row: int) -> None:
    import pandas as pd

    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        if col.dtype.kind in "biuf":
            continue
        numeric = pd.to_numeric(col, errors="coerce")
        bad = numeric.isna() & col.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{source}, data row {first_row + row}: column {columns[j]!r} holds "
                            f"{col.iloc[row]!r}, which is not a number")


def _pandas_chunks(path: str, order: list[int], columns: list[str], chunk_rows: int,
                   delimiter: str) -> Iterator[np.ndarray]:
    import pandas as pd

    wanted = sorted(set(order))
    position = [wanted.index(i) for i in order]  # usecols keeps the file's order
    first_row = 1
    reader = pd.read_csv(path, usecols=wanted, chunksize=chunk_rows, sep=delimiter,
                         skipinitialspace=True)
    with reader:
        for frame in reader:
            frame = frame.iloc[:, position]
            _non_numeric(frame, columns, repr(path), first_row)
            chunk = to_float32(frame.to_numpy(dtype=np.float64), columns, repr(path), first_row)
            first_row += len(chunk)
            yield chunk


def _python_chunks(path: str, order: list[int], columns: list[str], chunk_rows: int,
                   delimiter: str, width: int) -> Iterator[np.ndarray]:
    rows: list[list[float]] = []
    data_row = 0
    with open(path, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True)
        next(reader)
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue
            data_row += 1
            if len(fields) != width:
                raise DataError(f"{path!r}, data row {data_row}: expected {width} fields like the "
                                f"header, found {len(fields)}")
            try:
                rows.append([_number(fields[i]) for i in order])
            except ValueError:
                j = next(k for k, i in enumerate(order) if not _is_float(fields[i]))
                text = fields[order[j]]
                if text.strip():
                    problem = f"holds {text!r}, which is not a number"
                else:
                    problem = "is empty or NaN. Fill or drop missing values before training."
                raise DataError(f"{path!r}, data row {data_row}: column {columns[j]!r} "
                                f"{problem}") from None
            if len(rows) == chunk_rows:
                yield _finite(rows, columns, path, data_row)
                rows = []
    if rows:
        yield _finite(rows, columns, path, data_row)


def _finite(rows: list[list[float]], columns: list[str], path: str, last_row: int) -> np.ndarray:
    return to_float32(np.array(rows, dtype=np.float64), columns, repr(path),
                      last_row - len(rows) + 1)


def _number(text: str) -> float:
    """``float(text)``, but ``1_000`` (Python's literal rule) and non-ASCII digits are not
    numbers in a CSV file (``ValueError``), as pandas's reader has it."""
    if "_" in text or not text.isascii():
        raise ValueError(text)
    return float(text)


def _is_float(text: str) -> bool:
    try:
        _number(text)
    except ValueError:
        return False
    return True


def read_csv(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    target,
    *,
    features=None,
    batch_size: int = 32,
    shuffle_buffer: int = 10_000,
    seed: int | None = None,
    drop_remainder: bool = False,
    chunk_rows: int = 8192,
    delimiter: str = ",",
    engine: str = "auto",
) -> Batches:
    """Streams ``(x, y)`` float32 batches from CSV files too large to load at once.

    The files are read ``chunk_rows`` rows at a time and shuffled within a buffer of
    ``shuffle_buffer`` rows, so memory stays near ``(shuffle_buffer + chunk_rows)`` rows
    whatever the file's size. Iterating the result gives one epoch; iterate again for the
    next (with a new order).

    Args:
        path: a CSV file with a header line, or a list of files with the same header (read
            in a new random order each epoch when shuffling).
        target: the column to predict (name or index), or a list of columns.
        features: the input columns (names or indices); default every other column.
        batch_size: rows per batch.
        shuffle_buffer: rows in the shuffle buffer; 0 keeps the files' order.
        seed: makes the shuffling reproducible (each epoch still differs).
        drop_remainder: drop the last, shorter batch of each epoch.
        chunk_rows: rows read from disk at a time.
        delimiter: the field separator.
        engine: ``"pandas"`` (fast), ``"python"`` (no pandas needed) or ``"auto"``.

    Returns:
        ``Batches``: iterate it for ``(x, y)`` pairs; ``len()`` is the batches per epoch.

    Raises:
        FileNotFoundError: for a missing file.
        ValueError: for an unknown column (listing the columns) or a bad size.
        DataError: while reading, for text, empty fields, NaN or infinity, naming the file,
            the data row and the column.

    Example:
        >>> import os, tempfile
        >>> from glassnet.data import read_csv
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> _ = open(path, "w").write("a,b,price\\n1,2,3\\n4,5,6\\n7,8,9\\n")
        >>> batches = read_csv(path, target="price", batch_size=2, seed=0)
        >>> len(batches), [x.shape for x, y in batches]
        (2, [(2, 2), (1, 2)])
    """
    paths = check_paths(path)
    batch_size = check_int(batch_size, "batch_size", 1)
    shuffle_buffer = check_int(shuffle_buffer or 0, "shuffle_buffer", 0)
    chunk_rows = check_int(chunk_rows, "chunk_rows", 1)
    seed = check_seed(seed)
    if engine not in _ENGINES:
        raise ValueError(f"`engine` must be one of {_ENGINES}. Received: engine={engine!r}")
    if engine == "auto":
        try:
            import pandas  # noqa: F401

            engine = "pandas"
        except ImportError:
            engine = "python"
    names = _header(paths[0], delimiter)
    for other in paths[1:]:
        if _header(other, delimiter) != names:
            raise DataError(f"{other!r} has a different header from {paths[0]!r}; all files "
                            "must have the same columns")
    x_idx, y_idx = select_columns(names, target, features, repr(paths[0]))
    order = x_idx + y_idx
    columns = [names[i] for i in order]

    def chunks(rng: np.random.Generator | None) -> Iterator[np.ndarray]:
        files = paths if rng is None else [paths[i] for i in rng.permutation(len(paths))]
        for file in files:
            if engine == "pandas":
                yield from _pandas_chunks(file, order, columns, chunk_rows, delimiter)
            else:
                yield from _python_chunks(file, order, columns, chunk_rows, delimiter,
                                          len(names))

    described = repr(paths[0]) + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")
    return Batches(chunks, lambda: _count_rows(paths), features=columns[:len(x_idx)],
                   targets=columns[len(x_idx):], batch_size=batch_size,
                   shuffle_buffer=shuffle_buffer, seed=seed, drop_remainder=drop_remainder,
                   description=f"csv {described}")
