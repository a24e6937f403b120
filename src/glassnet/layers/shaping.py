"""Layers that move values without computing: ``Identity``, ``RepeatVector`` and
``Permute`` (``keras/src/layers/core/identity.py``, ``keras/src/layers/reshaping/``)."""

from __future__ import annotations

import numpy as np

from glassnet.layers.base import Layer
from glassnet.layers.config_keys import key


class Identity(Layer):
    """Passes its input through unchanged."""

    config_keys = ()  # declared: it saves and loads with no keys of its own

    def forward(self, x, training=False):
        return x, None

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out


class RepeatVector(Layer):
    """Repeats each input row ``n`` times: ``(rows, features)`` becomes
    ``(rows, n, features)``.

    Args:
        n: the number of repetitions (a positive integer).
    """

    config_keys = (key("n", "int"),)

    def __init__(self, n: int, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = int(n)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(
                f"RepeatVector {self.name!r} expects inputs of rank 2 (rows of vectors); "
                f"received rows of shape {tuple(input_shape)}"
            )
        return (self.n, input_shape[0])

    def forward(self, x, training=False):
        return np.repeat(x[:, None, :], self.n, axis=1), None

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out.sum(axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Reorders the axes of each row: ``dims`` lists the input axis (counted from 1, the
    first axis of a row) that becomes each output axis.

    Example:
        >>> from glassnet.layers import Permute
        >>> Permute((2, 1)).compute_output_shape((10, 64))
        (64, 10)
    """

    config_keys = (key("dims", "ints"),)

    def __init__(self, dims, **kwargs) -> None:
        super().__init__(**kwargs)
        try:
            dims = tuple(int(d) for d in dims)
        except TypeError:
            raise TypeError(
                f"`dims` must be a tuple of integers. Received: dims={dims!r}"
            ) from None
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}"
            )
        self.dims = dims

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims):
            raise ValueError(
                f"Permute {self.name!r} with dims={self.dims} expects rows of rank "
                f"{len(self.dims)}; received rows of shape {tuple(input_shape)}"
            )
        return tuple(input_shape[d - 1] for d in self.dims)

    def forward(self, x, training=False):
        return np.transpose(x, (0, *self.dims)), None

    def backward(self, records, grad_out, need_grad_input=True):
        return np.transpose(grad_out, np.argsort((0, *self.dims)))

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}
