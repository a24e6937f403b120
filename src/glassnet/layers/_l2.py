"""L2 normalisation along axes and its slope, as Keras's ``ops.normalize`` with
``order=2`` computes it (``keras/src/ops/nn.py``, ``_normalize``): ``x * min(1 / |x|,
1 / epsilon)``. ``Dot(normalize=True)`` and ``UnitNormalization`` use it."""

from __future__ import annotations

import numpy as np


def l2_normalize(x: np.ndarray, axis, epsilon: float) -> tuple[np.ndarray, tuple]:
    """``x`` scaled to unit L2 norm along ``axis`` (an int or a tuple), and what its slope
    needs."""
    limit = 1 / epsilon
    with np.errstate(divide="ignore"):
        inverse = 1 / np.sqrt(np.sum(np.square(x), axis=axis, keepdims=True))
    clipped = inverse >= limit
    inverse = np.minimum(inverse, x.dtype.type(limit))
    return x * inverse, (inverse, clipped)


def l2_normalize_backward(y: np.ndarray, saved: tuple, grad: np.ndarray, axis) -> np.ndarray:
    """The slope at ``x`` of ``y = l2_normalize(x)``: ``(g - y * sum(g * y)) / |x|``, or
    ``g / epsilon`` where the norm was below epsilon (a fixed scale there)."""
    inverse, clipped = saved
    along = np.sum(grad * y, axis=axis, keepdims=True)
    return np.where(clipped, grad * inverse, (grad - y * along) * inverse)
