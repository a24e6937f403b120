"""Checks of the arguments users give, shared by optimizers, losses and layers: each is
checked where it is given (and so where a model file's value is read), with Keras's message
form, never first found wrong in the middle of ``fit``."""

from __future__ import annotations

import math

import numpy as np


def is_finite(value) -> bool:
    """Whether a real ``value`` is a finite float (an integer too large for a float is not)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_flag(value, what: str) -> bool:
    """``True`` or ``False`` (NumPy's too, or 0 and 1): ``bool("False")`` would be true."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, np.integer)) and value in (0, 1)
    ):
        return bool(value)
    raise ValueError(f"`{what}` must be True or False. Received: {what}={value!r}")


def check_number(value, what: str, low: float, high: float, low_open: bool = False) -> float:
    """``value`` as a float in ``[low, high]`` (``(low, high]`` when ``low_open``), else a
    ``ValueError`` in Keras's form naming the argument and the value."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not is_finite(value)
        or value < low
        or value > high
        or (low_open and value == low)
    ):
        if high == math.inf:
            span = "a positive finite number" if low_open else "a non-negative finite number"
        else:
            span = f"a float in {'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"`{what}` must be {span}. Received: {what}={value!r}")
    return float(value)
