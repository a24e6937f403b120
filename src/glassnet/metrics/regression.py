"""Regression metrics (``keras/src/metrics/regression_metrics.py``): running means of the
per-row errors glassnet's losses compute, ``RootMeanSquaredError``, ``CosineSimilarity``,
``LogCoshError`` and ``R2Score``.
"""

from __future__ import annotations

import warnings

import numpy as np

from glassnet import config
from glassnet import losses as losses_module
from glassnet.metrics.base import Metric, same_rank
from glassnet.metrics.reduction import Mean, MeanMetricWrapper


def pair(y_true, y_pred, who: str, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions as float arrays of the same rank (Keras's
    ``squeeze_or_expand_to_same_rank``), or a ``ValueError`` naming both shapes."""
    y_pred = np.asarray(y_pred)
    if dtype is None:
        dtype = y_pred.dtype if y_pred.dtype.kind == "f" else np.dtype(config.floatx())
    y_pred = y_pred.astype(dtype, copy=False)
    y_true = np.asarray(y_true).astype(dtype, copy=False)
    y_true, y_pred = same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        try:
            np.broadcast_shapes(y_true.shape, y_pred.shape)
        except ValueError:
            raise ValueError(
                f"{who}: the targets have shape {y_true.shape} but the predictions have shape "
                f"{y_pred.shape}; expected the same shape (or one differing by a last axis "
                "of 1)"
            ) from None
    return y_true, y_pred


def _checked(fn, who: str):
    """A loss function of glassnet's that first checks the shapes of its arguments."""

    def metric_fn(y_true, y_pred):
        y_true, y_pred = pair(y_true, y_pred, who)
        return fn(y_true, y_pred)

    metric_fn.__name__ = fn.__name__
    metric_fn.__doc__ = fn.__doc__
    return metric_fn


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """Per row: the mean of the squared errors over the last axis."""
    y_true, y_pred = pair(y_true, y_pred, "mean_squared_error")
    error = y_pred - y_true
    return np.mean(error * error, axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """Per row: the mean of the absolute errors over the last axis."""
    y_true, y_pred = pair(y_true, y_pred, "mean_absolute_error")
    return np.mean(np.abs(y_pred - y_true), axis=-1)


mean_absolute_percentage_error = _checked(
    losses_module.mean_absolute_percentage_error, "mean_absolute_percentage_error"
)
mean_squared_logarithmic_error = _checked(
    losses_module.mean_squared_logarithmic_error, "mean_squared_logarithmic_error"
)
log_cosh = _checked(losses_module.log_cosh, "log_cosh")


def cosine_similarity(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """Per row: the cosine of the angle between target and prediction (each L2-normalized,
    a norm below ``sqrt(epsilon)`` counting as that)."""
    y_true, y_pred = pair(y_true, y_pred, "cosine_similarity")
    eps = config.epsilon()

    def normalize(x):
        return x / np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), eps))

    return np.sum(normalize(y_true) * normalize(y_pred), axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """The running mean of the squared error."""

    def __init__(self, name: str = "mean_squared_error", dtype=None) -> None:
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The running mean of the absolute error."""

    def __init__(self, name: str = "mean_absolute_error", dtype=None) -> None:
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The running mean of ``100 · |y_true - y_pred| / |y_true|``."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype=None) -> None:
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The running mean of ``(log(1 + y_true) - log(1 + y_pred))²``."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype=None) -> None:
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """The running mean of ``log(cosh(y_pred - y_true))``."""

    def __init__(self, name: str = "logcosh", dtype=None) -> None:
        super().__init__(log_cosh, name=name, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class CosineSimilarity(MeanMetricWrapper):
    """The running mean of the cosine similarity of targets and predictions along ``axis``."""

    def __init__(self, name: str = "cosine_similarity", dtype=None, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}  # Keras leaves ``axis`` out


class RootMeanSquaredError(Mean):
    """The square root of the running mean squared error (not a mean of per-batch roots)."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred, self.name, self._dtype)
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return self._result(np.sqrt(super().result()))


class R2Score(Metric):
    """The coefficient of determination, per output and aggregated (``keras.metrics.R2Score``).

    Args:
        class_aggregation: ``"uniform_average"`` (mean over outputs),
            ``"variance_weighted_average"`` (weighted by each output's variance) or
            ``None`` (one score per output).
        num_regressors: the number of independent variables, for the adjusted R² (0: the
            plain R²).
    """

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str = "r2_score",
        dtype=None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if (
            isinstance(num_regressors, bool)
            or not isinstance(num_regressors, (int, np.integer))
            or num_regressors < 0
        ):
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}."
            )
        outputs = y_pred_shape[-1]
        self.squared_sum = self.add_variable((outputs,), "zeros", name="squared_sum")
        self.sum = self.add_variable((outputs,), "zeros", name="sum")
        self.total_mse = self.add_variable((outputs,), "zeros", name="residual")
        self.count = self.add_variable((outputs,), "zeros", name="count")
        self._outputs = outputs
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = pair(y_true, y_pred, self.name, self._dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if y_true.shape != y_pred.shape or y_pred.shape[-1:] != (self._outputs,):
            raise ValueError(
                f"{self.name}: expected targets and predictions of shape (rows, {self._outputs})."
                f" Received y_true of shape {y_true.shape} and y_pred of shape {y_pred.shape}"
            )
        weights = np.asarray(1 if sample_weight is None else sample_weight, dtype=self._dtype)
        if weights.ndim == 1:
            weights = weights[:, None]
        try:
            weights = np.broadcast_to(weights, y_true.shape)
        except ValueError:
            raise ValueError(
                f"{self.name}: `sample_weight` of shape {np.shape(sample_weight)} does not fit "
                f"targets of shape {y_true.shape}"
            ) from None
        weighted = y_true * weights
        self.sum.assign_add(np.sum(weighted, axis=0))
        self.squared_sum.assign_add(np.sum(y_true * weighted, axis=0))
        self.total_mse.assign_add(np.sum((y_true - y_pred) ** 2 * weights, axis=0))
        self.count.assign_add(np.sum(weights, axis=0))
        self.num_samples.assign_add(y_true.size)  # Keras counts elements

    def result(self):
        if not self._built:
            return self._result(0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum.value / self.count.value
            total = self.squared_sum.value - self.sum.value * mean
            raw = 1 - self.total_mse.value / total
        raw = np.where(np.isinf(raw), 0.0, raw).astype(self._dtype)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n = int(self.num_samples.value)
            p = self.num_regressors
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. "
                    "Falling back to standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn(
                    "Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                    stacklevel=2,
                )
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return self._result(score)

    def reset_state(self) -> None:
        self.num_samples.reset()
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
