"""Metrics: numbers reported during training that are not back-propagated.

A metric accumulates over the batches of an epoch and reports a weighted mean over all the
rows it has seen (``update_state``, ``result``, ``reset_state``), like ``keras.metrics``.

``"accuracy"`` (or ``"acc"``) is resolved the way Keras resolves it
(``keras/src/trainers/compile_utils.py``, ``get_metric``), from the shapes of the targets and
the outputs: one output unit means binary accuracy (prediction > 0.5); targets with fewer
dimensions than the outputs, or a single target column against several outputs, mean sparse
categorical accuracy (class labels); otherwise categorical accuracy (one-hot rows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet import losses as losses_module
from glassnet._registry import Registry

_registry = Registry("metric")


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """Per row: the share of outputs where ``(y_pred > threshold)`` equals the target."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).reshape(y_pred.shape)
    return np.mean((y_pred > threshold) == (y_true > 0.5), axis=-1, dtype=np.float32)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per row: 1 where the largest output is at the target's largest (one-hot) position."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per row: 1 where the largest output is at the target's class label."""
    labels = np.asarray(y_true).reshape(len(y_pred))
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float32)


class Metric:
    """Base class: a weighted running mean of per-row values over an epoch.

    Args:
        fn: maps ``(y_true, y_pred)`` to one value per row.
        name: the key under which the metric appears in logs and ``History``.
    """

    def __init__(self, fn: Callable, name: str, **fn_kwargs) -> None:
        self.fn = fn
        self.name = name
        self.fn_kwargs = fn_kwargs
        self.reset_state()

    def reset_state(self) -> None:
        """Forgets everything seen so far (called at the start of each epoch)."""
        self.total = 0.0
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the rows of one batch."""
        values = np.asarray(self.fn(y_true, y_pred, **self.fn_kwargs), dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            sw = np.asarray(sample_weight, dtype=np.float64).reshape(values.shape)
            self.total += float((values * sw).sum())
            self.count += float(sw.sum())

    def result(self) -> float:
        """The weighted mean of every row seen since the last reset."""
        return self.total / self.count if self.count else 0.0

    def get_config(self) -> dict:
        return {"name": self.name, **self.fn_kwargs}

    def __repr__(self) -> str:
        return f"<metric {self.name}: {self.result():.4g}>"


def _wrapper(fn: Callable, canonical: str) -> type[Metric]:
    class _Named(Metric):
        def __init__(self, name: str = canonical, **kwargs) -> None:
            super().__init__(fn, name, **kwargs)

    _Named.__name__ = "".join(part.capitalize() for part in canonical.split("_"))
    _Named.__qualname__ = _Named.__name__
    _Named.__doc__ = f"Running mean of ``{fn.__name__}`` over the rows of an epoch."
    return _Named


BinaryAccuracy = _wrapper(binary_accuracy, "binary_accuracy")
CategoricalAccuracy = _wrapper(categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")
MeanSquaredError = _wrapper(losses_module.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper(losses_module.mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper(
    losses_module.mean_absolute_percentage_error, "mean_absolute_percentage_error"
)
MeanSquaredLogarithmicError = _wrapper(
    losses_module.mean_squared_logarithmic_error, "mean_squared_logarithmic_error"
)
BinaryCrossentropy = _wrapper(losses_module.binary_crossentropy, "binary_crossentropy")
CategoricalCrossentropy = _wrapper(
    losses_module.categorical_crossentropy, "categorical_crossentropy"
)
SparseCategoricalCrossentropy = _wrapper(
    losses_module.sparse_categorical_crossentropy, "sparse_categorical_crossentropy"
)


class RootMeanSquaredError(Metric):
    """``sqrt`` of the running mean squared error (not a mean of per-batch roots)."""

    def __init__(self, name: str = "root_mean_squared_error") -> None:
        super().__init__(losses_module.mean_squared_error, name)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


for _cls, _names in [
    (BinaryAccuracy, ("binary_accuracy",)),
    (CategoricalAccuracy, ("categorical_accuracy",)),
    (SparseCategoricalAccuracy, ("sparse_categorical_accuracy",)),
    (MeanSquaredError, ("mean_squared_error", "mse")),
    (MeanAbsoluteError, ("mean_absolute_error", "mae")),
    (MeanAbsolutePercentageError, ("mean_absolute_percentage_error", "mape")),
    (MeanSquaredLogarithmicError, ("mean_squared_logarithmic_error", "msle")),
    (RootMeanSquaredError, ("root_mean_squared_error", "rmse")),
    (BinaryCrossentropy, ("binary_crossentropy",)),
    (CategoricalCrossentropy, ("categorical_crossentropy",)),
    (SparseCategoricalCrossentropy, ("sparse_categorical_crossentropy",)),
]:
    _registry.register(_cls, *_names)

_ACCURACY_NAMES = ("accuracy", "acc")
_CROSSENTROPY_NAMES = ("crossentropy", "ce")


def resolve(identifier, y_true_shape: tuple, y_pred_shape: tuple) -> Metric:
    """Turns what was passed to ``compile(metrics=[...])`` into a ``Metric``.

    ``"accuracy"``/``"acc"`` and ``"crossentropy"``/``"ce"`` depend on the shapes of the
    targets and the outputs, as in Keras; the metric keeps the name it was given.

    Args:
        identifier: a name, a ``Metric`` instance or class, or a function of
            ``(y_true, y_pred)`` returning one value per row.
        y_true_shape: shape of the targets.
        y_pred_shape: shape of the model's outputs.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _ACCURACY_NAMES + _CROSSENTROPY_NAMES:
            is_binary = y_pred_shape[-1] == 1
            is_sparse = len(y_true_shape) < len(y_pred_shape) or (
                y_true_shape[-1] == 1 and y_pred_shape[-1] > 1
            )
            if key in _ACCURACY_NAMES:
                fn = (
                    binary_accuracy
                    if is_binary
                    else sparse_categorical_accuracy
                    if is_sparse
                    else categorical_accuracy
                )
            else:
                fn = (
                    losses_module.binary_crossentropy
                    if is_binary
                    else losses_module.sparse_categorical_crossentropy
                    if is_sparse
                    else losses_module.categorical_crossentropy
                )
            return Metric(fn, identifier)
        return _registry.lookup(identifier)(name=identifier)
    if callable(identifier):
        return Metric(identifier, getattr(identifier, "__name__", "metric"))
    raise TypeError(f"A metric must be a name, a Metric or a function. Received: {identifier!r}")


def get(identifier) -> Metric:
    """A metric by name or object; ``"accuracy"`` needs shapes, see ``resolve``."""
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
        raise ValueError(
            "'accuracy' depends on the shapes of targets and outputs; use "
            "glassnet.metrics.resolve(name, y_true_shape, y_pred_shape) or name the "
            "accuracy explicitly ('binary_accuracy', 'categorical_accuracy', "
            "'sparse_categorical_accuracy')."
        )
    return resolve(identifier, (1,), (1,))


def names() -> list[str]:
    """Every metric name glassnet knows, aliases included."""
    return sorted(set(_registry.names()) | set(_ACCURACY_NAMES) | set(_CROSSENTROPY_NAMES))
