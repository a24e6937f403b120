"""``keras.backend``'s basics: the settings of ``glassnet.config``, ``clear_session`` and the
dtype helpers, for programs that write ``keras.backend.floatx()`` or
``K.clear_session()``.

glassnet has one backend, NumPy, so ``backend()`` is ``"numpy"``; and it has no symbolic
tensors, so ``is_keras_tensor`` is ``False`` for everything it is given.
"""

from __future__ import annotations

import collections
import gc

import numpy as np

from glassnet import naming
from glassnet.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]

_uids: collections.Counter = collections.Counter()


def get_uid(prefix: str = "") -> int:
    """1, 2, 3... for each call with the same ``prefix`` (since the last ``clear_session``)."""
    _uids[prefix] += 1
    return _uids[prefix]


def clear_session(free_memory: bool = True) -> None:
    """Forgets the automatic names (the next ``Dense`` is ``dense`` again) and the uids.

    Models already made keep working; only new names start afresh, as in Keras.

    Args:
        free_memory: also run Python's garbage collector.
    """
    naming.reset_names()
    _uids.clear()
    if free_memory:
        gc.collect()


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic Keras tensor: never in glassnet, which computes eagerly."""
    return False


def standardize_dtype(dtype) -> str:
    """A dtype as Keras names it: ``"float32"``, ``"int64"``, ``"bool"``... (``None`` is
    ``floatx()``; Python's ``float`` and ``int`` are ``float32`` and ``int64``, as Keras
    says)."""
    if dtype is None:
        return floatx()
    if dtype is float or dtype == "float":
        return "float32"
    if dtype is int or dtype == "int":
        return "int64"
    if dtype is bool:
        return "bool"
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype!r}") from None


def is_float_dtype(dtype) -> bool:
    """Whether ``dtype`` is a float type."""
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    """Whether ``dtype`` is a (signed or unsigned) integer type."""
    return standardize_dtype(dtype).startswith(("int", "uint"))
