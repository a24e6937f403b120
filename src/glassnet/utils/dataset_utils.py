"""``split_dataset``, ``timeseries_dataset_from_array``, ``pack_x_y_sample_weight`` and
``unpack_x_y_sample_weight`` for NumPy data, as ``keras.utils`` has them
(``keras/src/utils/dataset_utils.py``, ``timeseries_dataset_utils.py``,
``keras/src/trainers/data_adapters/data_adapter_utils.py``).

Keras returns ``tf.data`` datasets; glassnet has no TensorFlow, so ``split_dataset`` returns
the two splits in the form the data came in (arrays, or tuples/lists of arrays), and
``timeseries_dataset_from_array`` returns a ``PyDataset`` of batches that ``fit`` accepts.
"""

from __future__ import annotations

import random

import numpy as np

from glassnet.utils.py_dataset import PyDataset


def _split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras's ``_rescale_dataset_split_sizes``: a float is a fraction (rounded), an int a
    count, None the complement of the other."""
    for value, side in ((left_size, "left_size"), (right_size, "right_size")):
        if value is not None and type(value) not in (int, float):
            raise TypeError(f"`{side}` must be an int, a float or None. Received: {side}={value!r}")
        if (type(value) is int and not 0 < value < total) or (
            type(value) is float and not 0 < value < 1
        ):
            raise ValueError(
                f"`{side}` should be either a positive integer smaller than {total}, or a "
                f"float within the range `[0, 1]`. Received: {side}={value}"
            )
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(
            "The sum of `left_size` and `right_size` is greater than 1. It must be less "
            f"than or equal to 1. Received: left_size={left_size}, right_size={right_size}"
        )
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` should be smaller than the {total}. "
            f"Received: left_size + right_size = {left + right}"
        )
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={total}, `left_size`={left} and "
                f"`right_size`={right}. Resulting {side} side dataset split will be empty."
            )
    return int(left), int(right)


def split_dataset(
    dataset,
    left_size=None,
    right_size=None,
    shuffle: bool = False,
    seed=None,
    preferred_backend=None,
):
    """Splits an array, or a tuple/list of arrays of equal length, into a left and a right
    part: the first ``left_size`` samples and the last ``right_size`` ones (sizes as
    fractions or counts, one of them may be None). ``shuffle`` orders the samples as
    Keras does (Python's ``random.shuffle`` seeded with ``seed``) before splitting.

    Returns:
        ``(left, right)`` in the form ``dataset`` came in (NumPy arrays).
    """
    if left_size is None and right_size is None:
        raise ValueError(
            "At least one of the `left_size` or `right_size` must be specified. "
            "Received: left_size=None and right_size=None"
        )
    if isinstance(dataset, (list, tuple)):
        parts = [np.asarray(part) for part in dataset]
        lengths = {len(part) for part in parts}
        if len(lengths) != 1:
            raise ValueError(
                "The arrays of `dataset` must have the same length. Received lengths: "
                f"{[len(p) for p in parts]}"
            )
    elif isinstance(dataset, np.ndarray):
        parts = [dataset]
    else:
        raise TypeError(
            "The `dataset` argument must be a NumPy array or a list/tuple of arrays. "
            f"Received: dataset of type {type(dataset).__name__}"
        )
    total = len(parts[0])
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    left_rows, right_rows = np.asarray(order[:left]), np.asarray(order[total - right :])
    lefts = [part[left_rows] for part in parts]
    rights = [part[right_rows] for part in parts]
    if isinstance(dataset, np.ndarray):
        return lefts[0], rights[0]
    return type(dataset)(lefts), type(dataset)(rights)


class TimeseriesDataset(PyDataset):
    """The batches of ``timeseries_dataset_from_array``: ``(sequences, targets)`` or
    ``sequences`` alone, as NumPy arrays."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size):
        super().__init__()
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size = batch_size

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.starts)
        return -(-len(self.starts) // self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range for {len(self)} batches")
        size = self.batch_size or 1
        starts = self.starts[index * size : (index + 1) * size]
        sequences = self.data[starts[:, None] + self.offsets]
        targets = None if self.targets is None else self.targets[starts]
        if self.batch_size is None:  # one sample, without a batch axis
            sequences = sequences[0]
            targets = None if targets is None else targets[0]
        return sequences if targets is None else (sequences, targets)


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed=None,
    start_index=None,
    end_index=None,
    format: str = "tf",  # noqa: A002 - Keras's name
) -> TimeseriesDataset:
    """Sliding windows over ``data`` (rows are time steps), batched, as Keras's function:
    window ``i`` starts at ``start_index + p_i`` with ``p_i`` in
    ``range(0, num_seqs, sequence_stride)`` and takes ``sequence_length`` rows
    ``sampling_rate`` apart; its target is ``targets[start_index + p_i]``.

    With ``shuffle`` the windows are ordered by ``np.random.RandomState(seed).shuffle`` as
    in Keras; Keras then also shuffles within a buffer of ``tf.data``, which glassnet does
    not (``shuffle=False`` gives Keras's batches exactly). ``format`` is accepted as
    ``"tf"`` or ``"grain"``; both give the same NumPy batches here.
    """
    data = np.asarray(data)
    length = len(data)
    if start_index and (start_index < 0 or start_index >= length):
        raise ValueError(
            f"`start_index` must be 0 or greater and lower than the length of the data. "
            f"Received: start_index={start_index}, for data of length {length}"
        )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index}"
            )
        if end_index >= length or end_index <= 0:
            raise ValueError(
                f"`end_index` must be higher than 0 and lower than the length of the data. "
                f"Received: end_index={end_index}, for data of length {length}"
            )
    for value, argument in ((sampling_rate, "sampling_rate"), (sequence_stride, "sequence_stride")):
        if value <= 0 or value >= length:
            raise ValueError(
                f"`{argument}` must be higher than 0 and lower than the length of the "
                f"data. Received: {argument}={value}, for data of length {length}"
            )
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    start = start_index or 0
    end = end_index if end_index else length
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(int(1e6))
        np.random.RandomState(seed).shuffle(positions)
    window = data[start:end]
    window_targets = None if targets is None else targets[start:end]
    return TimeseriesDataset(
        window, window_targets, positions, sequence_length, sampling_rate, batch_size
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """``x``, ``(x, y)`` or ``(x, y, sample_weight)``: what a data step unpacks. A lone
    ``x`` is returned as it is, unless it is a list or tuple, which is wrapped as ``(x,)``
    so that it stays one input."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data) -> tuple:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, w)``, the
    missing ones as None."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found: {data}"
    )
