"""Global settings: the float type new weights and data use, and the fuzz factor epsilon.

Mirrors ``keras.config``: ``floatx()`` is ``"float32"`` unless changed with ``set_floatx``.
The slope checks in the tests switch to ``"float64"`` so that finite differences are exact
enough to compare with.
"""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_VALID_FLOATX = ("float16", "float32", "float64")


def floatx() -> str:
    """The default float type, as a string (``"float32"`` by default)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the default float type for new weights and converted data.

    Args:
        value: one of ``"float16"``, ``"float32"``, ``"float64"``.
    """
    global _FLOATX
    if value not in _VALID_FLOATX:
        raise ValueError(f"`floatx` must be one of {_VALID_FLOATX}. Received: floatx={value!r}")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor Keras uses to keep logarithms and divisions finite (1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Sets the fuzz factor (Keras's ``keras.config.set_epsilon``)."""
    global _EPSILON
    _EPSILON = float(value)


def float_dtype() -> np.dtype:
    """The NumPy dtype of ``floatx()``."""
    return np.dtype(_FLOATX)
