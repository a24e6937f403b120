"""``PearsonCorrelation`` and ``ConcordanceCorrelation``: running means of a per-row
correlation along ``axis``, as Keras computes them (``keras/src/metrics/correlation_metrics.py``).
"""

from __future__ import annotations

import numpy as np

from glassnet import config
from glassnet.metrics.reduction import MeanMetricWrapper
from glassnet.metrics.regression import pair


def pearson_correlation(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """Per row: the mean of the products of the standardized targets and predictions
    (population standard deviations), i.e. Pearson's r along ``axis``."""
    y_true, y_pred = pair(y_true, y_pred, "pearson_correlation")
    t = y_true - np.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - np.mean(y_pred, axis=axis, keepdims=True)
    t = t / np.std(t, axis=axis, keepdims=True)
    p = p / np.std(p, axis=axis, keepdims=True)
    return np.mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis: int = -1) -> np.ndarray:
    """Per row: Lin's concordance correlation as Keras 3.15 computes it,
    ``mean(2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) / (var_t + var_p +
    (mean_t - mean_p)**2 + epsilon))``. (Keras centres ``y_true`` on the predictions' mean
    in the covariance; glassnet keeps that, so the numbers are Keras's.)"""
    y_true, y_pred = pair(y_true, y_pred, "concordance_correlation")
    true_mean = np.mean(y_true, axis=axis, keepdims=True)
    pred_mean = np.mean(y_pred, axis=axis, keepdims=True)
    true_var = np.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = np.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + np.square(true_mean - pred_mean)
    return np.mean(2 * covar / (norm + config.epsilon()), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The running mean of ``pearson_correlation`` over the batches' rows."""

    def __init__(self, name: str = "pearson_correlation", dtype=None, axis: int = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The running mean of ``concordance_correlation`` over the batches' rows."""

    def __init__(self, name: str = "concordance_correlation", dtype=None, axis: int = -1) -> None:
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
