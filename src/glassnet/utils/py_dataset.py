"""``PyDataset`` (also ``Sequence``), as ``keras.utils.PyDataset``
(``keras/src/trainers/data_adapters/py_dataset_adapter.py``): a dataset written as a Python
class that hands out whole batches by index, for data that does not fit in memory or is made
on the fly. ``fit``, ``evaluate`` and ``predict`` accept one as ``x``.
"""

from __future__ import annotations

import itertools
import warnings


class PyDataset:
    """Base class of a dataset of batches: implement ``__getitem__(index)`` and ``__len__``
    (or the ``num_batches`` property; ``None`` for an endless dataset).

    ``__getitem__`` returns one batch: ``(x, y)``, ``(x, y, sample_weight)``, or for
    ``predict`` ``x`` alone (or ``(x,)``). ``fit`` calls ``on_epoch_begin`` and
    ``on_epoch_end`` around each epoch, and with ``shuffle=True`` visits the batches of a
    finite dataset in a new order each epoch (drawn from glassnet's seeded generator).

    Args:
        workers: with more than 1, that many threads fetch batches ahead, in order.
        use_multiprocessing: accepted for Keras's programs; the workers are threads either
            way (the batches are NumPy arrays, whose work releases the GIL).
        max_queue_size: how many batches the workers may fetch ahead.

    Example:
        >>> import numpy as np
        >>> from glassnet.utils import PyDataset
        >>> class Squares(PyDataset):
        ...     def __init__(self, rows, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x = np.arange(rows, dtype="float32").reshape(-1, 1)
        ...         self.batch_size = batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, index):
        ...         x = self.x[index * self.batch_size : (index + 1) * self.batch_size]
        ...         return x, x**2
        >>> len(Squares(10, 4))
        3
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:  # fmt: skip
        for name, value in (("workers", workers), ("max_queue_size", max_queue_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be a non-negative integer. Received: {value!r}")
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = False
        for name, default in (
            ("_workers", 1),
            ("_use_multiprocessing", False),
            ("_max_queue_size", 10),
        ):
            if not hasattr(self, name):
                setattr(self, name, default)
                missing = True
        if missing:
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be "
                "ignored.",
                stacklevel=3,
            )

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int):
        raise NotImplementedError

    def __iter__(self):
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        for index in range(count) if count is not None else itertools.count():
            yield self[index]

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``), or ``None`` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def on_epoch_begin(self) -> None:
        """Called at the start of each epoch of ``fit`` (and of ``evaluate``/``predict``)."""

    def on_epoch_end(self) -> None:
        """Called at the end of each epoch of ``fit`` (and of ``evaluate``/``predict``)."""


#: Keras 2's name, still exported by Keras 3.
Sequence = PyDataset
