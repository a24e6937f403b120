"""``Batches``: (x, y) mini-batches streamed from files, shuffled within a bounded buffer.

A reader never holds a whole file. It pulls *chunks* of rows from its source (a CSV or
Parquet reader), passes them through a shuffle buffer of ``shuffle_buffer`` rows, and
cuts what comes out into batches. Memory is therefore about ``shuffle_buffer + chunk_rows``
rows, whatever the size of the file.

The shuffle buffer works like ``tf.data.Dataset.shuffle``: it is first filled with the
first ``shuffle_buffer`` rows; then every incoming row takes the place of a row drawn at
random from the buffer, which is emitted. A row therefore never comes out more than
``shuffle_buffer`` places before its place in the file: a buffer at least as large as the
file gives a full shuffle, a small buffer only a local one (sort a file by its target and
a small buffer will not hide that). Here the draws are made for a whole piece of up to
``shuffle_buffer`` rows at once (without replacement), which keeps the work per row
constant.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np

Chunks = Callable[[np.random.Generator | None], Iterator[np.ndarray]]


def shuffle_stream(chunks: Iterable[np.ndarray], buffer_rows: int,
                   rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The rows of ``chunks`` in a random order, holding at most ``buffer_rows`` back."""
    pool: np.ndarray | None = None
    filled = 0
    for chunk in chunks:
        start = 0
        while start < len(chunk):
            if filled < buffer_rows:  # still filling the buffer
                if pool is None:
                    pool = np.empty((buffer_rows, chunk.shape[1]), dtype=chunk.dtype)
                take = min(buffer_rows - filled, len(chunk) - start)
                pool[filled:filled + take] = chunk[start:start + take]
                filled += take
                start += take
                continue
            piece = chunk[start:start + buffer_rows]
            start += len(piece)
            # Distinct random places, in random order: those rows leave, the piece moves in.
            places = rng.choice(buffer_rows, size=len(piece), replace=False)
            out = pool[places]
            pool[places] = piece
            yield out
    if filled:
        yield pool[:filled][rng.permutation(filled)]


def batch_stream(rows: Iterable[np.ndarray], batch_size: int,
                 drop_remainder: bool) -> Iterator[np.ndarray]:
    """Regroups pieces of rows into arrays of exactly ``batch_size`` rows (the last may be
    shorter unless ``drop_remainder``)."""
    carry: np.ndarray | None = None
    for piece in rows:
        if carry is not None and len(carry):
            piece = np.concatenate([carry, piece])
        full = len(piece) - len(piece) % batch_size
        for start in range(0, full, batch_size):
            yield piece[start:start + batch_size]
        carry = piece[full:]
    if carry is not None and len(carry) and not drop_remainder:
        yield carry


class Batches:
    """Re-iterable ``(x, y)`` float32 batches from a file source; one iteration = one epoch.

    Made by ``read_csv`` and ``read_parquet``. Iterate it once per epoch; each iteration
    shuffles anew (differently every epoch, reproducibly when a ``seed`` was given).
    ``len()`` is the number of batches per epoch (counting the rows the first time it is
    asked for a CSV file, which reads the file once).

    Attributes:
        features: names of the input columns, in the order of ``x``'s columns.
        targets: names of the target columns (``y`` is 1-D when there is one).
        batch_size: rows per batch.
        shuffle_buffer: rows held in the shuffle buffer (0: the file's order).
        seed: the seed of the shuffling, or ``None`` for fresh randomness.
    """

    def __init__(self, chunks: Chunks, count_rows: Callable[[], int], *, features: list[str],
                 targets: list[str], batch_size: int, shuffle_buffer: int, seed: int | None,
                 drop_remainder: bool, description: str) -> None:
        self._chunks = chunks
        self._count_rows = count_rows
        self._rows: int | None = None
        self.features = list(features)
        self.targets = list(targets)
        self.batch_size = batch_size
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self.drop_remainder = drop_remainder
        self.epoch = 0
        self._description = description

    def _generator(self, epoch: int) -> np.random.Generator | None:
        if not self.shuffle_buffer:
            return None
        if self.seed is None:
            return np.random.default_rng()
        return np.random.default_rng([self.seed, epoch])

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = self._generator(self.epoch)
        self.epoch += 1
        return self._epoch(rng)

    def _epoch(self, rng) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rows = self._chunks(rng)
        if rng is not None:
            rows = shuffle_stream(rows, self.shuffle_buffer, rng)
        n_x = len(self.features)
        seen = 0
        for batch in batch_stream(rows, self.batch_size, self.drop_remainder):
            seen += len(batch)
            x = np.ascontiguousarray(batch[:, :n_x])
            y = batch[:, n_x] if len(self.targets) == 1 else np.ascontiguousarray(batch[:, n_x:])
            yield x, np.ascontiguousarray(y)
        if self._rows is None and not self.drop_remainder:
            self._rows = seen

    @property
    def rows(self) -> int:
        """Rows per epoch (for a CSV file, counted by reading it once)."""
        if self._rows is None:
            self._rows = self._count_rows()
        return self._rows

    def __len__(self) -> int:
        """Batches per epoch: what ``fit(..., steps_per_epoch=len(batches))`` wants."""
        if self.drop_remainder:
            return self.rows // self.batch_size
        return math.ceil(self.rows / self.batch_size)

    def __repr__(self) -> str:
        return (f"<Batches {self._description} batch_size={self.batch_size} "
                f"shuffle_buffer={self.shuffle_buffer} features={len(self.features)} "
                f"targets={self.targets}>")
