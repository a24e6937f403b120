"""``to_categorical`` and ``normalize``, as in ``keras.utils``."""

from __future__ import annotations

import numpy as np

from glassnet import config


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Turns class labels into one-hot rows.

    Args:
        y: integer class labels (a list, array or pandas Series), any shape; a trailing
            axis of length 1 is dropped as Keras does.
        num_classes: number of classes; ``max(y) + 1`` when not given.
        dtype: dtype of the result.

    Returns:
        An array of shape ``y.shape + (num_classes,)`` with a single 1 per row.

    Example:
        >>> to_categorical([0, 2, 1])
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if values.dtype.kind not in "biuf":
        raise ValueError(
            f"to_categorical expects integer class labels. Received values of type {values.dtype}"
        )
    if values.dtype.kind == "f" and (
        not np.all(np.isfinite(values)) or not np.all(values == np.round(values))
    ):
        raise ValueError("to_categorical expects integer class labels; received fractions or NaN")
    labels = values.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if labels.size and labels.min() < 0:
        raise ValueError(f"Class labels must be >= 0. Received a label {labels.min()}")
    largest = int(labels.max()) + 1 if labels.size else 0
    if num_classes is None:
        num_classes = largest
    elif largest > num_classes:
        raise ValueError(
            f"num_classes={num_classes} is too small for the label {largest - 1} found in y"
        )
    out = np.zeros(labels.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scales rows to unit ``order``-norm along ``axis`` (rows of zeros stay zero).

    The result has glassnet's float type, ``glassnet.config.floatx()`` (float32 unless set).
    """
    x = np.asarray(x, dtype=config.floatx())
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
