"""``read_parquet``: batches streamed from Parquet files with pyarrow."""

from __future__ import annotations

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


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ImportError("read_parquet needs pyarrow: pip install pyarrow") from None
    return pyarrow


def _check_numeric(schema, columns: list[str], path: str) -> None:
    pa = _pyarrow()
    for name in columns:
        kind = schema.field(name).type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind)):
            raise DataError(f"{path!r}: column {name!r} has type {kind}, not a number. Encode it "
                            "as numbers (for example one 0/1 column per category) first.")


def read_parquet(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    target,
    *,
    features=None,
    batch_size: int = 32,
    shuffle_buffer: int = 10_000,
    seed: int | None = None,
    drop_remainder: bool = False,
    chunk_rows: int = 8192,
) -> Batches:
    """Streams ``(x, y)`` float32 batches from Parquet files too large to load at once.

    Like ``read_csv``: ``chunk_rows`` rows are read at a time and shuffled within a buffer
    of ``shuffle_buffer`` rows. When shuffling, each epoch also visits the files and their
    row groups in a new random order, which mixes a file far better than the buffer alone.
    The number of rows comes from the files' metadata, so ``len()`` costs nothing.

    Args:
        path: a Parquet file, or a list of files with the same columns.
        target: the column to predict (name or index), or a list of columns.
        features: the input columns; default every other column.
        batch_size: rows per batch.
        shuffle_buffer: rows in the shuffle buffer; 0 keeps the files' order.
        seed: makes the shuffling reproducible (each epoch still differs).
        drop_remainder: drop the last, shorter batch of each epoch.
        chunk_rows: rows read from disk at a time.

    Returns:
        ``Batches``: iterate it for ``(x, y)`` pairs; ``len()`` is the batches per epoch.

    Raises:
        ImportError: without pyarrow.
        DataError: for a column that is not numeric (at once) or a missing value (while
            reading), naming the file, the column and the data row.
    """
    pa = _pyarrow()
    paths = check_paths(path)
    batch_size = check_int(batch_size, "batch_size", 1)
    shuffle_buffer = check_int(shuffle_buffer or 0, "shuffle_buffer", 0)
    chunk_rows = check_int(chunk_rows, "chunk_rows", 1)
    seed = check_seed(seed)
    files = [pa.parquet.ParquetFile(p) for p in paths]
    names = files[0].schema_arrow.names
    for p, f in zip(paths[1:], files[1:], strict=True):
        if f.schema_arrow.names != names:
            raise DataError(f"{p!r} has different columns from {paths[0]!r}")
    x_idx, y_idx = select_columns(names, target, features, repr(paths[0]))
    columns = [names[i] for i in x_idx + y_idx]
    for p, f in zip(paths, files, strict=True):
        _check_numeric(f.schema_arrow, columns, p)
    rows = sum(f.metadata.num_rows for f in files)
    for f in files:
        f.close()

    def chunks(rng: np.random.Generator | None) -> Iterator[np.ndarray]:
        order = range(len(paths)) if rng is None else rng.permutation(len(paths))
        for i in order:
            with pa.parquet.ParquetFile(paths[i]) as parquet:
                groups = None
                if rng is not None:
                    groups = [int(g) for g in rng.permutation(parquet.num_row_groups)]
                first_row = 1
                for record in parquet.iter_batches(batch_size=chunk_rows, columns=columns,
                                                   row_groups=groups):
                    chunk = np.column_stack([
                        record.column(j).to_numpy(zero_copy_only=False).astype(np.float64)
                        for j in range(len(columns))])
                    # Row numbers are positions in the order read (row groups may be shuffled).
                    # float64 first, so that 1e308 is named, not made infinity with a warning.
                    chunk = to_float32(chunk, columns, repr(paths[i]), first_row)
                    first_row += len(chunk)
                    yield chunk

    described = repr(paths[0]) + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")
    return Batches(chunks, lambda: rows, features=columns[:len(x_idx)],
                   targets=columns[len(x_idx):], batch_size=batch_size,
                   shuffle_buffer=shuffle_buffer, seed=seed, drop_remainder=drop_remainder,
                   description=f"parquet {described}")
