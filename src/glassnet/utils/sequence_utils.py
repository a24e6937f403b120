"""``pad_sequences``, as ``keras.utils.pad_sequences`` (``keras/src/utils/sequence_utils.py``):
lists of different lengths made into one array of equal rows."""

from __future__ import annotations

import numpy as np


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    dtype="int32",
    padding: str = "pre",
    truncating: str = "pre",
    value=0.0,
) -> np.ndarray:
    """Pads (or cuts) each sequence to ``maxlen`` steps.

    Args:
        sequences: a list of sequences (lists or arrays; each step may itself be an array,
            the same shape in every sequence).
        maxlen: the length of every row (default: the longest sequence).
        dtype: the result's dtype (``object`` or a string dtype for text).
        padding: ``"pre"`` (default) puts the padding before each sequence, ``"post"`` after.
        truncating: ``"pre"`` (default) drops the start of a sequence longer than ``maxlen``,
            ``"post"`` its end.
        value: the padding value.

    Returns:
        An array of shape ``(len(sequences), maxlen) + step shape``.

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    lengths = []
    sample_shape: tuple = ()
    found = False
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as error:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {x}"
            ) from error
        if not found and len(x):
            sample_shape = np.asarray(x).shape[1:]
            found = True
    if maxlen is None:
        if not lengths:
            raise ValueError("`sequences` is empty: give `maxlen` or at least one sequence")
        maxlen = int(np.max(lengths))
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"`maxlen` must be a non-negative integer. Received: maxlen={maxlen!r}")
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        cut = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if cut.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {cut.shape[1:]} of sequence at position {idx} is different "
                f"from expected shape {sample_shape}"
            )
        if padding == "post":
            out[idx, : len(cut)] = cut
        else:
            out[idx, -len(cut) :] = cut
    return out
