"""Weight constraints, as in ``keras.constraints``: ``MaxNorm``, ``NonNeg``, ``UnitNorm``,
``MinMaxNorm``.

A constraint maps a weight array to the array it must be replaced by. The optimizer
applies a layer's constraints (``kernel_constraint``, ``bias_constraint``) to those weights
after every update, as Keras's does (``keras/src/optimizers/base_optimizer.py``, ``apply``).
The formulas follow ``keras/src/constraints/constraints.py``; ``EPSILON`` is Keras's
``backend.epsilon()``.

Example:
    >>> import numpy as np
    >>> from glassnet.constraints import MaxNorm
    >>> MaxNorm(max_value=1.0)(np.array([[3.0], [4.0]])).round(4).ravel().tolist()
    [0.6, 0.8]
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from glassnet._checks import is_finite
from glassnet._registry import Registry

#: Keras's fuzz factor (``keras.config.epsilon()``), added to norms before dividing.
EPSILON = 1e-7

_registry = Registry("constraint")


def _axis(axis, what: str = "axis"):
    """An integer or a list/tuple of integers (Keras's ``axis``)."""
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in items):
        raise ValueError(f"`{what}` must be an integer or a list of integers. Received: {axis!r}")
    return [int(a) for a in items] if isinstance(axis, (list, tuple)) else int(axis)


def _number(value, what: str, minimum: float = 0.0) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not is_finite(value)
        or value < minimum
    ):
        raise ValueError(f"`{what}` must be a finite number >= {minimum:g}. Received: {value!r}")
    return value


def _norms(w: np.ndarray, axis) -> np.ndarray:
    axes = tuple(axis) if isinstance(axis, list) else axis
    try:
        return np.sqrt(np.sum(np.square(w), axis=axes, keepdims=True))
    except np.exceptions.AxisError:
        raise ValueError(
            f"The constraint's axis={axis!r} does not fit a weight of shape {w.shape}"
        ) from None


class Constraint:
    """Base class: ``__call__(w)`` returns the constrained weights (here unchanged)."""

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scales each slice along ``axis`` (for a Dense kernel, each node's incoming
    weights) down to an L2 norm of at most ``max_value``: ``w * clip(n, 0, max) / (eps + n)``.
    Keras's defaults: ``max_value=2``, ``axis=0``."""

    def __init__(self, max_value=2, axis=0) -> None:
        self.max_value = _number(max_value, "max_value")
        self.axis = _axis(axis)

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (w.dtype.type(EPSILON) + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights become zero."""

    def __call__(self, w):
        return np.maximum(np.asarray(w), 0)


class UnitNorm(Constraint):
    """Each slice along ``axis`` divided by its L2 norm (plus epsilon). Default ``axis=0``."""

    def __init__(self, axis=0) -> None:
        self.axis = _axis(axis)

    def __call__(self, w):
        w = np.asarray(w)
        return w / (w.dtype.type(EPSILON) + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice's L2 norm into ``[min_value, max_value]``, by ``rate`` of the way
    (``rate=1``: all of it). Keras's defaults: ``min_value=0.0``, ``max_value=1.0``,
    ``rate=1.0``, ``axis=0``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0) -> None:
        self.min_value = _number(min_value, "min_value")
        self.max_value = _number(max_value, "max_value")
        if max_value < min_value:
            raise ValueError(
                f"`max_value` must be >= `min_value`. Received: min_value={min_value}, "
                f"max_value={max_value}"
            )
        self.rate = _number(rate, "rate")
        self.axis = _axis(axis)

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        )
        return w * (desired / (w.dtype.type(EPSILON) + norms)).astype(w.dtype, copy=False)

    def get_config(self) -> dict:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


for _cls, _alias in (
    (MaxNorm, "max_norm"),
    (NonNeg, "non_neg"),
    (UnitNorm, "unit_norm"),
    (MinMaxNorm, "min_max_norm"),
    (Constraint, "constraint"),
):
    _registry.register(_cls, _cls.__name__, _alias)

max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm


def serialize(constraint: Constraint) -> dict:
    """The constraint as Keras 3 writes it (``{"module", "class_name", "config",
    "registered_name"}``)."""
    if not isinstance(constraint, Constraint):
        raise TypeError(f"`constraint` must be a Constraint. Received: {constraint!r}")
    return {
        "module": "keras.constraints",
        "class_name": type(constraint).__name__,
        "config": constraint.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> Constraint:
    """A constraint from ``serialize``'s form; an unknown name raises a ``ValueError``
    listing the known ones."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(
            f"A serialized constraint must be a dict with a 'class_name'. Received: {config!r}"
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _registry.lookup(name)
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"The config of constraint {name!r} must be a dict. Received: {inner!r}")
    return cls.from_config(dict(inner))


def get(identifier) -> Constraint | None:
    """A constraint from ``None`` (gives ``None``), a name (``"max_norm"``, ``"NonNeg"``), a
    serialized dict, a class, an instance or any callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _registry.lookup(identifier)()
    if inspect.isclass(identifier) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


def names() -> list[str]:
    """Every constraint name glassnet knows."""
    return _registry.names()


__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "names",
    "non_neg",
    "serialize",
    "unit_norm",
]
