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
