"""Naming the op and the shapes it received when NumPy refuses its arguments."""

from __future__ import annotations

import functools

import numpy as np


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    if shape is None and hasattr(value, "value"):
        shape = getattr(value.value, "shape", None)
    if shape is not None:
        return f"array of shape {tuple(shape)}"
    if isinstance(value, (list, tuple)) and value and hasattr(value[0], "shape"):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    return repr(value)


def named(name: str):
    """Decorates an op so that a ``ValueError``/``TypeError``/``IndexError`` NumPy raises on
    a bad argument comes out as one naming ``ops.<name>`` and what it received."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (ValueError, TypeError, IndexError) as error:
                if str(error).startswith(f"ops.{name}"):
                    raise
                received = ", ".join(
                    [_describe(a) for a in args]
                    + [f"{k}={_describe(v)}" for k, v in kwargs.items()]
                )
                kind = TypeError if isinstance(error, TypeError) else ValueError
                if isinstance(error, np.exceptions.AxisError):
                    kind = ValueError
                message = str(error).strip().rstrip(".")
                raise kind(f"ops.{name}: {message}. Received: {received}") from None

        return wrapper

    return decorate
