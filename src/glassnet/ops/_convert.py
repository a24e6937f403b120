"""Turning the arguments of an op into arrays, with Keras 3's dtype rules.

Keras (``keras/src/backend/common/dtypes.py``) promotes types on JAX's lattice, not
NumPy's: a Python ``float`` becomes ``floatx()``, a Python ``int`` ``int32``, and mixing
integers with a float array gives that float type (NumPy would give ``float64`` for
``int32`` and ``float32``). Python scalars are weak: they never widen an array's type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import config
from glassnet.ops.tensor import is_variable, plain, source


def _scalar_dtype(x) -> np.dtype | None:
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, int):
        return np.dtype(np.int32)
    if isinstance(x, float):
        return np.dtype(config.floatx())
    if isinstance(x, complex):
        return np.dtype(np.complex64)
    return None


def to_array(x: Any, dtype=None) -> np.ndarray:
    """``x`` as a plain array: an array or a variable's value as it is (no copy), a Python
    scalar or nested list with Keras's default types."""
    x = plain(x)
    if isinstance(x, np.ndarray):
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    if isinstance(x, np.generic):
        return np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    if dtype is not None:
        return np.asarray(_plain_tree(x), dtype=dtype)
    weak = _scalar_dtype(x)
    if weak is not None:
        return np.asarray(x, dtype=weak)
    array = np.asarray(_plain_tree(x))
    if array.dtype == np.float64:
        return array.astype(config.floatx())
    if array.dtype == np.int64:
        return array.astype(np.int32)
    return array


def _plain_tree(x):
    if isinstance(x, (list, tuple)):
        return [_plain_tree(item) for item in x]
    return plain(x)


def arg(x: Any, dtype=None) -> tuple[Any, np.ndarray]:
    """``(source, array)``: the object the tape knows ``x`` by, and ``x`` as a plain array."""
    return source(x), to_array(x, dtype)


def result_type(*values: Any) -> np.dtype:
    """The dtype Keras gives an op of these arguments (arrays strong, Python scalars weak)."""
    strong = []
    weak = []
    for value in values:
        value = value.value if is_variable(value) else value
        if isinstance(value, (np.ndarray, np.generic)):
            strong.append(value.dtype)
        elif isinstance(value, np.dtype):
            strong.append(value)
        elif isinstance(value, (bool, int, float, complex)):
            weak.append(_scalar_dtype(value))
        else:
            strong.append(to_array(value).dtype)
    floats = [d for d in strong if d.kind in "fc"]
    if floats:
        return np.result_type(*floats)
    if strong:
        dtype = np.result_type(*strong)
        weak_kinds = {d.kind for d in weak}
        if "c" in weak_kinds:
            return np.dtype(np.complex64)
        if "f" in weak_kinds:
            return np.dtype(config.floatx())
        if dtype == np.dtype(bool) and "i" in weak_kinds:
            return np.dtype(np.int32)
        return dtype
    if weak:
        return max(weak, key=lambda d: "bifc".index(d.kind))
    return np.dtype(config.floatx())


def float_type(dtype: np.dtype) -> np.dtype:
    """``dtype`` if it is a float type, else ``floatx()`` (Keras turns integers into floats
    for ``exp``, ``sqrt``, ``mean`` ...)."""
    return dtype if dtype.kind in "fc" else np.dtype(config.floatx())


def shape_of(x: Any) -> tuple:
    return np.shape(plain(x))
