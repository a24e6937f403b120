"""Where a training epoch's batches come from: arrays in memory, or a stream of batches.

``fit`` asks a batch source for one epoch at a time and gets ``(x, y, sample_weight)``
batches. ``ArrayBatches`` slices arrays (shuffling once per epoch); ``StreamBatches`` draws
from a generator or any iterable of ``(x, y)`` or ``(x, y, sample_weight)`` tuples, such as
the readers in ``glassnet.data``, for data larger than memory.
"""

from __future__ import annotations

import collections
import functools
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from glassnet.utils.py_dataset import PyDataset

# Shuffle by gathering the whole training set once per epoch while it is small; beyond
# this many bytes, gather each batch instead so that no second copy of the data exists.
_EPOCH_GATHER_BYTES = 32 * 2**20


def is_batch_stream(data) -> bool:
    """Whether ``data`` is a generator/iterable of batches rather than an array-like."""
    if data is None or isinstance(data, (np.ndarray, list, tuple, str, bytes, dict)):
        return False
    if type(data).__module__.startswith("pandas"):
        return False
    if hasattr(data, "__array__"):
        return False
    return hasattr(data, "__next__") or hasattr(data, "__iter__")


class ArrayBatches:
    """Batches of in-memory arrays, shuffled once per epoch when ``shuffle``.

    With ``ones_column`` (asked for by a model of ``Dense`` layers, which then folds the
    first layer's bias into its matrix product, see ``glassnet.engine.dense_chain``), each
    ``x`` batch ends in an extra column of ones, provided the data is small enough to be
    copied once; ``self.ones_column`` says whether the batches really have it.
    ``self.targets_sum_to_one`` says whether every row of ``y`` sums to exactly 1 (one-hot
    or probability rows), which lets a cross-entropy skip multiplying by that sum.
    """

    def __init__(
        self, x, y, sample_weight, batch_size: int, shuffle: bool, rng, ones_column: bool = False
    ) -> None:
        self.x, self.y, self.sw = x, y, sample_weight
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = rng
        self.rows = len(x)
        self.steps = math.ceil(self.rows / batch_size)
        self.ones_column = ones_column and x.ndim == 2 and x.nbytes <= _EPOCH_GATHER_BYTES
        self._x_with_ones = None
        if self.ones_column:
            self._x_with_ones = np.ones((self.rows, x.shape[1] + 1), dtype=x.dtype)
            if not shuffle:
                self._x_with_ones[:, :-1] = x

    @functools.cached_property
    def targets_sum_to_one(self) -> bool:
        y = self.y
        return bool(y.ndim == 2 and y.dtype.kind == "f" and np.all(np.add.reduce(y, axis=1) == 1))

    def epoch(self) -> Iterator[tuple]:
        x, y, sw, size, rows = self.x, self.y, self.sw, self.batch_size, self.rows
        if not self.shuffle:
            if self.ones_column:
                x = self._x_with_ones
            for start in range(0, rows, size):
                stop = start + size
                yield x[start:stop], y[start:stop], None if sw is None else sw[start:stop]
            return
        order = self.rng.permutation(rows)
        if x.nbytes <= _EPOCH_GATHER_BYTES:
            if self.ones_column:
                np.take(x, order, axis=0, out=self._x_with_ones[:, :-1], mode="clip")
                x = self._x_with_ones
            else:
                x = x[order]
            y = y[order]
            sw = None if sw is None else sw[order]
            for start in range(0, rows, size):
                stop = start + size
                yield x[start:stop], y[start:stop], None if sw is None else sw[start:stop]
            return
        for start in range(0, rows, size):
            idx = order[start : start + size]
            yield x[idx], y[idx], None if sw is None else sw[idx]


class StreamBatches:
    """Batches drawn from a generator or a re-iterable source.

    A re-iterable source (one whose ``iter()`` gives a fresh iterator, such as a list of
    batches or ``glassnet.data.read_csv(...)``) is started anew each epoch. A one-shot
    generator is drawn from continuously, ``steps_per_epoch`` batches per epoch, as Keras
    does; it then needs ``steps_per_epoch``.

    Args:
        source: the generator or iterable of ``(x, y)`` / ``(x, y, sample_weight)`` tuples.
        steps_per_epoch: batches per epoch (``None``: until the source is exhausted).
        convert: turns one raw batch into checked ``(x, y, sample_weight)`` arrays.
    """

    def __init__(self, source: Iterable, steps_per_epoch: int | None, convert: Callable) -> None:
        self.one_shot = hasattr(source, "__next__") and iter(source) is source
        if self.one_shot and steps_per_epoch is None:
            raise ValueError(
                "Training from a generator needs `steps_per_epoch` (how many batches make an "
                "epoch), because a generator cannot be restarted"
            )
        self.source = source
        self.convert = convert
        self.steps = steps_per_epoch
        if self.steps is None and hasattr(source, "__len__"):
            self.steps = len(source)
        self._iterator = iter(source) if self.one_shot else None
        self.ones_column = False
        self.targets_sum_to_one = False

    def epoch(self) -> Iterator[tuple]:
        iterator = self._iterator if self.one_shot else iter(self.source)
        count = 0
        while self.steps is None or count < self.steps:
            try:
                batch = next(iterator)
            except StopIteration:
                if self.one_shot and count < (self.steps or 0):
                    raise ValueError(
                        f"The generator ran out after {count} batches, but steps_per_epoch is "
                        f"{self.steps}"
                    ) from None
                return
            count += 1
            yield self.convert(batch)


class PyDatasetBatches(StreamBatches):
    """The batches of a ``glassnet.utils.PyDataset``, fetched by index.

    Each epoch calls the dataset's ``on_epoch_begin`` and ``on_epoch_end`` and, with
    ``shuffle`` and a finite dataset, visits the batches in an order drawn from ``rng`` (Keras
    shuffles them with Python's ``random``; glassnet's seeded generator makes runs
    repeatable). With ``workers > 1``, threads fetch up to ``max_queue_size`` batches ahead,
    keeping their order.

    Args:
        dataset: the ``PyDataset``.
        steps_per_epoch: batches per epoch (default: all of them; needed for an endless one).
        convert: turns one raw batch into checked arrays.
        shuffle: shuffle the batch order each epoch.
        rng: the generator that shuffles.
    """

    def __init__(self, dataset: PyDataset, steps_per_epoch: int | None, convert: Callable,
                 shuffle: bool = False, rng=None) -> None:  # fmt: skip
        self.source = dataset
        self.convert = convert
        self.one_shot = False
        self.count = dataset.num_batches
        if self.count is None and steps_per_epoch is None:
            raise ValueError(
                "This PyDataset has no length (num_batches is None): pass `steps_per_epoch` "
                "(or `steps`) to say how many batches make an epoch"
            )
        self.steps = steps_per_epoch if steps_per_epoch is not None else self.count
        if self.count is not None:
            self.steps = min(self.steps, self.count)
        self.shuffle = shuffle and self.count is not None
        self.rng = rng
        self.ones_column = False
        self.targets_sum_to_one = False

    def _indices(self) -> Iterator[int]:
        if self.shuffle:
            order = self.rng.permutation(self.count) if self.rng is not None else None
            if order is None:
                order = np.random.permutation(self.count)
            return iter(order.tolist()[: self.steps])
        return iter(range(self.steps))

    def raw_epoch(self) -> Iterator:
        """The dataset's batches as ``__getitem__`` returns them, for one epoch."""
        dataset = self.source
        dataset.on_epoch_begin()
        try:
            indices = self._indices()
            workers = dataset.workers
            if workers > 1:
                yield from _prefetched(dataset, indices, workers, max(dataset.max_queue_size, 1))
            else:
                for index in indices:
                    yield dataset[index]
        finally:
            dataset.on_epoch_end()

    def epoch(self) -> Iterator[tuple]:
        for batch in self.raw_epoch():
            yield self.convert(standardize_py_dataset_batch(batch))


def _prefetched(dataset, indices: Iterator[int], workers: int, ahead: int) -> Iterator:
    """``dataset[i]`` for each index, fetched by ``workers`` threads at most ``ahead`` in
    advance, in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: collections.deque = collections.deque()
        for index in itertools.islice(indices, ahead):
            pending.append(pool.submit(dataset.__getitem__, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(dataset.__getitem__, index))
            yield batch


def standardize_py_dataset_batch(batch) -> tuple:
    """A ``PyDataset`` batch as a tuple: an array alone becomes ``(x,)``, a list a tuple."""
    if isinstance(batch, np.ndarray):
        return (batch,)
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError(
            "PyDataset.__getitem__() must return a tuple ordered either (input,) or "
            "(inputs, targets) or (inputs, targets, sample_weights). "
            f"Received: {str(batch)[:100]}... of type {type(batch)}"
        )
    return batch


def make_stream(source, steps: int | None, convert: Callable, shuffle: bool = False,
                rng=None) -> StreamBatches:  # fmt: skip
    """The batch source for a generator, an iterable of batches or a ``PyDataset``."""
    if isinstance(source, PyDataset):
        return PyDatasetBatches(source, steps, convert, shuffle, rng)
    return StreamBatches(source, steps, convert)


def unpack_batch(batch) -> tuple:
    """``(x, y)`` or ``(x, y, sample_weight)`` from one element of a stream."""
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(
            "Each batch of a generator must be a tuple (x, y) or (x, y, sample_weight). "
            f"Received: {type(batch).__name__}"
            + (f" of length {len(batch)}" if hasattr(batch, "__len__") else "")
        )
    return batch[0], batch[1], batch[2] if len(batch) == 3 else None
