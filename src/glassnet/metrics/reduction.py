"""Running sums and means: ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (a mean of a function
of ``(y_true, y_pred)``), as ``keras/src/metrics/reduction_metrics.py`` defines them.

A batch of values counts one value per row: values with more axes are first averaged over
them, and a ``sample_weight`` (a scalar, one weight per row, or one per element) weighs the
values and counts as that many rows (Keras's ``reduce_to_samplewise_values``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet.metrics.base import Metric, divide_no_nan


def _as_values(values, dtype: np.dtype) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype != dtype:
        values = values.astype(dtype)
    return values


def samplewise(values: np.ndarray, sample_weight, dtype: np.dtype):
    """``(values per row, weights per row or None)``: Keras's ``reduce_to_samplewise_values``
    with a mean over the axes after the first."""
    values = _as_values(values, dtype)
    if sample_weight is not None:
        weights = _as_values(sample_weight, dtype)
        if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
            weights = weights[..., 0] if values.ndim != 1 else weights
            if values.ndim == 1:
                values = values[:, None]
        elif values.ndim == weights.ndim + 1 and values.shape[-1] == 1:
            if weights.ndim == 1:
                weights = weights[:, None]
            else:
                values = values[..., 0]
        if values.ndim > weights.ndim:
            values = values.mean(axis=tuple(range(weights.ndim, values.ndim)))
        try:
            weights = np.broadcast_to(weights, values.shape)
        except ValueError:
            raise ValueError(
                f"`sample_weight` of shape {np.shape(sample_weight)} does not fit values of "
                f"shape {values.shape}: give a scalar, one weight per row or one per value"
            ) from None
        values = values * weights
        if weights.ndim > 1:
            weights = weights.mean(axis=tuple(range(1, weights.ndim)))
    else:
        weights = None
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, weights


class Sum(Metric):
    """The (weighted) sum of every value seen (``keras.metrics.Sum``)."""

    def __init__(self, name: str = "sum", dtype=None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, values, sample_weight=None) -> None:
        values, _ = samplewise(values, sample_weight, self._dtype)
        self.total.assign_add(np.sum(values))

    def result(self):
        return self._result(self.total.value)


class Mean(Metric):
    """The (weighted) mean of every value seen (``keras.metrics.Mean``): values with more
    than one axis count one value per row, their mean over the other axes."""

    def __init__(self, name: str = "mean", dtype=None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, values, sample_weight=None) -> None:
        if sample_weight is None and type(values) is np.ndarray:
            # The common case in ``fit`` (one value per row, unweighted), kept short: the
            # training loop calls this once per batch per metric.
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]  # one value per row, as binary accuracy gives them
            if values.ndim == 1:
                total, count, dtype = self.total, self.count, self._dtype
                total.value = total.value + values.sum(dtype=dtype)
                count.value = count.value + dtype.type(len(values))
                return
        values, weights = samplewise(values, sample_weight, self._dtype)
        if weights is not None:
            rows = np.sum(weights)
        else:
            rows = values.shape[0] if values.ndim >= 1 else 1
        self.total.value = self.total.value + np.sum(values, dtype=self._dtype)
        self.count.value = self.count.value + self._dtype.type(rows)

    def result(self):
        return self._result(divide_no_nan(self.total.value, self.count.value))


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred, **kwargs)`` (``keras.metrics.MeanMetricWrapper``).

    Args:
        fn: a function of ``(y_true, y_pred)`` returning one value per row (or per element).
        name: the name in logs (default ``mean_metric_wrapper``, made unique; ``compile``
            names a function's metric after the function).
        dtype: the dtype of the state and the result.
        **kwargs: passed to ``fn`` on every call (``threshold=``, ``k=``...).
    """

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs) -> None:
        if not callable(fn):
            raise TypeError(f"`fn` must be a function of (y_true, y_pred). Received: fn={fn!r}")
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    @property
    def fn(self) -> Callable:
        """The function averaged."""
        return self._fn

    @property
    def fn_kwargs(self) -> dict:
        return dict(self._fn_kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = {"name": self.name, "dtype": self.dtype}
        if type(self) is MeanMetricWrapper:
            from glassnet.metrics.registry import serialize

            config["fn"] = serialize(self._fn)
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict) -> MeanMetricWrapper:
        config = dict(config)
        if cls is MeanMetricWrapper:
            fn = config.pop("fn")
            if isinstance(fn, (str, dict)):
                from glassnet.metrics.registry import deserialize

                fn = deserialize(fn)
            return cls(fn, **config)
        return cls(**config)
