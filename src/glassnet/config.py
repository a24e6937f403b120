"""Global settings: the float type new weights and data use, the fuzz factor epsilon, and
the image data format.

Mirrors ``keras.config`` (``keras/src/backend/config.py``): ``floatx()`` is ``"float32"``
unless changed with ``set_floatx``; ``float64`` works end to end (weights, data, training).
The slope checks in the tests switch to ``"float64"`` so that finite differences are exact
enough to compare with. ``backend()`` is ``"numpy"``: glassnet computes with NumPy.
"""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_VALID_FLOATX = ("float16", "float32", "float64")
_IMAGE_DATA_FORMAT = "channels_last"


def floatx() -> str:
    """The default float type, as a string (``"float32"`` by default)."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the default float type for new weights and converted data.

    Args:
        value: one of ``"float16"``, ``"float32"``, ``"float64"``.
    """
    global _FLOATX
    if value == "bfloat16":
        raise ValueError(
            "glassnet computes with NumPy, which has no bfloat16; use 'float16', "
            "'float32' or 'float64'"
        )
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of {set(_VALID_FLOATX)}")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor Keras uses to keep logarithms and divisions finite (1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Sets the fuzz factor (Keras's ``keras.config.set_epsilon``)."""
    global _EPSILON
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"`epsilon` must be a number. Received: {value!r}")
    _EPSILON = float(value)


def image_data_format() -> str:
    """``"channels_last"`` (the default) or ``"channels_first"``: where images keep their
    colour channels. ``cifar10.load_data()`` follows it."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Sets the image data format (``"channels_last"`` or ``"channels_first"``)."""
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    _IMAGE_DATA_FORMAT = data_format


def backend() -> str:
    """The name of the computing backend: always ``"numpy"``."""
    return "numpy"


def float_dtype() -> np.dtype:
    """The NumPy dtype of ``floatx()``."""
    return np.dtype(_FLOATX)
