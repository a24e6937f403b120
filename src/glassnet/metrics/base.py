"""The ``Metric`` base class and the small state variable it keeps (``MetricVariable``).

A metric is a running statistic over batches, as ``keras.metrics.Metric``
(``keras/src/metrics/metric.py``): ``update_state(y_true, y_pred, sample_weight=None)`` adds a
batch, ``result()`` reads the statistic, ``reset_state()`` forgets, and calling the metric
(``metric(y_true, y_pred)``) does an update and returns the result. Its state lives in
variables made by ``add_variable``; ``reset_state`` sets each back to its initial value.
"""

from __future__ import annotations

import operator

import numpy as np

from glassnet import config
from glassnet import initializers as initializers_module
from glassnet.naming import to_snake_case, unique_name
from glassnet.ops.tensor import as_tensor


class MetricVariable:
    """A named array that a metric updates in place: ``assign``, ``assign_add``,
    ``assign_sub``, readable as an array (``np.asarray(v)``, ``v.numpy()``, ``v.value``)
    and usable in arithmetic. Kept deliberately small and private to metrics, so that a
    general variable class can take its place later."""

    __array_priority__ = 100  # ``ndarray op variable`` defers to the variable's operators

    def __init__(self, value: np.ndarray, name: str, initial: np.ndarray) -> None:
        self.value = value
        self.name = name
        self._initial = initial

    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    def _checked(self, value) -> np.ndarray:
        value = np.asarray(value, dtype=self.value.dtype)
        if value.shape != self.value.shape:
            try:
                value = np.broadcast_to(value, self.value.shape)
            except ValueError:
                raise ValueError(
                    f"The variable {self.name!r} has shape {self.value.shape}; a value of shape "
                    f"{value.shape} cannot be assigned to it"
                ) from None
        return value

    def assign(self, value) -> MetricVariable:
        """Replaces the value (the shape stays)."""
        self.value = np.array(self._checked(value), copy=True)
        return self

    def assign_add(self, value) -> MetricVariable:
        self.value = self.value + self._checked(value)
        return self

    def assign_sub(self, value) -> MetricVariable:
        self.value = self.value - self._checked(value)
        return self

    def reset(self) -> None:
        """Back to the value it was made with."""
        self.value = self._initial.copy()

    def numpy(self) -> np.ndarray:
        return np.array(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __getitem__(self, key):
        return self.value[key]

    def __neg__(self):
        return -self.value

    def __repr__(self) -> str:
        return f"<MetricVariable {self.name} shape={self.value.shape} value={self.value}>"


def _binary(op, reflected: bool = False):
    if reflected:
        return lambda self, other: op(np.asarray(other), self.value)
    return lambda self, other: op(self.value, np.asarray(other))


for _name, _op in [
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("floordiv", operator.floordiv),
    ("pow", operator.pow),
    ("mod", operator.mod),
    ("matmul", operator.matmul),
]:
    setattr(MetricVariable, f"__{_name}__", _binary(_op))
    setattr(MetricVariable, f"__r{_name}__", _binary(_op, reflected=True))
for _name, _op in [
    ("lt", operator.lt),
    ("le", operator.le),
    ("gt", operator.gt),
    ("ge", operator.ge),
    ("eq", operator.eq),
    ("ne", operator.ne),
]:
    setattr(MetricVariable, f"__{_name}__", _binary(_op))
MetricVariable.__hash__ = object.__hash__


def as_dtype(dtype) -> np.dtype:
    """A metric's dtype: the one given, else ``glassnet.config.floatx()`` (float32)."""
    if dtype is None:
        return np.dtype(config.floatx())
    try:
        return np.dtype(dtype)
    except TypeError:
        raise ValueError(f"`dtype` must be a NumPy dtype name. Received: dtype={dtype!r}") from None


class Metric:
    """Base class of every metric (Keras 3's ``keras.metrics.Metric``).

    Subclasses make their state with ``add_variable`` in ``__init__`` and write
    ``update_state`` and ``result``; ``reset_state`` resets every variable.

    Args:
        dtype: the dtype of the state and the result (default float32).
        name: the name in logs and ``History``; by default the class name in snake case,
            made unique (``precision``, ``precision_1``...), as Keras names it.
    """

    def __init_subclass__(cls, **kwargs) -> None:
        # ``result()`` answers as an eager tensor does (``.numpy()``, as Keras's guides call
        # it), whichever subclass computes it.
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("result")
        if own is not None and not getattr(own, "_gives_tensor", False):
            def result(self, _compute=own):
                value = _compute(self)
                return as_tensor(np.asarray(value)) if isinstance(value, (np.ndarray, np.generic,
                                                                           float)) else value

            result.__doc__ = own.__doc__
            result._gives_tensor = True
            cls.result = result

    def __init__(self, dtype=None, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype = as_dtype(dtype)
        self._variables: list[MetricVariable] = []

    @property
    def dtype(self) -> str:
        return self._dtype.name

    @property
    def variables(self) -> list[MetricVariable]:
        return list(self._variables)

    def add_variable(
        self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None
    ) -> MetricVariable:
        """A new state variable of ``shape``, set by ``initializer`` (a name, an
        ``Initializer`` or a callable ``(shape, dtype)``) and again by ``reset_state``."""
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape or ())
        dtype = self._dtype if dtype is None else np.dtype(dtype)
        if initializer is None:
            initializer = "zeros"
        init = (
            initializers_module.get(initializer)
            if isinstance(initializer, (str, dict, initializers_module.Initializer))
            else initializer
        )
        initial = np.asarray(init(shape, dtype=dtype), dtype=dtype).reshape(shape)
        variable = MetricVariable(
            initial.copy(), name or f"variable_{len(self._variables)}", initial
        )
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None) -> MetricVariable:
        """Keras's older spelling of ``add_variable``."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    def reset_state(self) -> None:
        """Forgets every batch seen: each variable goes back to its initial value."""
        for variable in self._variables:
            variable.reset()

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state()")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must define result()")

    def __call__(self, *args, **kwargs):
        """Adds the batch (``update_state``) and returns ``result()``, as Keras's metric does."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def _result(self, value):
        """``value`` in the metric's dtype: a NumPy scalar, or an array when not scalar."""
        value = np.asarray(value, dtype=self._dtype)
        return value[()] if value.ndim == 0 else value

    def __repr__(self) -> str:
        try:
            shown = np.array2string(np.asarray(self.result()), precision=4)
        except Exception:  # noqa: BLE001 - a repr must not fail on an unbuilt metric
            shown = "?"
        return f"<{type(self).__name__} name={self.name} result={shown}>"


def divide_no_nan(a, b):
    """``a / b`` with 0 where ``b`` is 0 (Keras's ``ops.divide_no_nan``)."""
    a = np.asarray(a)
    b = np.asarray(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.true_divide(a, b)
    return np.where(b == 0, np.zeros((), dtype=out.dtype), out)


def same_rank(y_true: np.ndarray, y_pred: np.ndarray):
    """Keras's ``squeeze_or_expand_to_same_rank`` (``keras/src/losses/loss.py``): where the
    ranks differ by one and the longer array ends in an axis of 1, that axis is dropped
    (or added to the shorter one when it has rank 1)."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0] if y_pred.ndim != 1 else y_true
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def check_same_shape(y_true: np.ndarray, y_pred: np.ndarray, who: str) -> None:
    """A ``ValueError`` naming both shapes when targets and predictions cannot be compared
    element by element (after ``same_rank``)."""
    if y_true.shape != y_pred.shape:
        try:
            np.broadcast_shapes(y_true.shape, y_pred.shape)
        except ValueError:
            raise ValueError(
                f"{who}: the targets have shape {y_true.shape} but the predictions have shape "
                f"{y_pred.shape}; they must have the same shape (or differ by a last axis of 1)"
            ) from None
