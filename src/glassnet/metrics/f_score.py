"""``FBetaScore`` and ``F1Score`` (``keras/src/metrics/f_score_metrics.py``): per class
counts of true and false positives and false negatives, combined into
``(1 + beta²)·precision·recall / (beta²·precision + recall)``.
"""

from __future__ import annotations

import numpy as np

from glassnet import config
from glassnet.metrics.base import Metric

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """The F-beta score of a multi-class or multi-label classifier.

    Args:
        average: ``None`` (one score per class), ``"micro"`` (counts pooled over classes),
            ``"macro"`` (mean of the class scores) or ``"weighted"`` (mean weighted by each
            class's number of positive targets).
        beta: the weight of recall against precision (> 0).
        threshold: predictions above it are positive; ``None``: the largest prediction of
            each row is (when it is not 0).
    """

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype=None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if average not in _AVERAGES:
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, (float, np.floating)):  # Keras refuses an int
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(
                f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}"
            )
        if threshold is not None:
            if not isinstance(threshold, (float, np.floating)):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2D inputs with shape (batch_size, output_dim). "
                f"Received input shapes: y_pred.shape={y_pred_shape} and "
                f"y_true.shape={y_true_shape}."
            )
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", name="false_positives")
        self.false_negatives = self.add_variable(shape, "zeros", name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, "zeros", name="intermediate_weights")
        self._classes = y_pred_shape[-1]
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true = np.asarray(y_true).astype(self._dtype, copy=False)
        y_pred = np.asarray(y_pred).astype(self._dtype, copy=False)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if y_true.shape != y_pred.shape or y_pred.shape[-1] != self._classes:
            raise ValueError(
                f"{self.name}: expected targets and predictions of shape (rows, "
                f"{self._classes}). Received y_true of shape {y_true.shape} and y_pred of "
                f"shape {y_pred.shape}"
            )
        if self.threshold is None:
            top = np.max(y_pred, axis=-1, keepdims=True)
            positive = (y_pred >= top) & (np.abs(y_pred) > 1e-9)  # a row of zeros stays 0
        else:
            positive = y_pred > self.threshold
        pred = positive.astype(self._dtype)
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=self._dtype)
            weights = weights.reshape(-1)[:, None] if weights.ndim >= 1 else weights
            if weights.ndim and weights.shape[0] != len(y_pred):
                raise ValueError(
                    f"{self.name}: `sample_weight` must have one weight per row "
                    f"({len(y_pred)}). Received shape {np.shape(sample_weight)}"
                )

        def weighted_sum(values):
            if weights is not None:
                values = values * weights
            return np.sum(values, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(pred * y_true))
        self.false_positives.assign_add(weighted_sum(pred * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - pred) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        if not self._built:
            return self._result(0.0)
        eps = self._dtype.type(config.epsilon())
        tp = self.true_positives.value
        precision = tp / (tp + self.false_positives.value + eps)
        recall = tp / (tp + self.false_negatives.value + eps)
        beta2 = self._dtype.type(self.beta**2)
        score = precision * recall / (beta2 * precision + recall + eps) * (1 + beta2)
        if self.average == "weighted":
            w = self.intermediate_weights.value
            score = np.sum(score * (w / (np.sum(w) + eps)))
        elif self.average is not None:
            score = np.mean(score)
        return self._result(score)

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


class F1Score(FBetaScore):
    """The F1 score: ``FBetaScore`` with ``beta=1`` (the harmonic mean of precision and
    recall)."""

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype=None,
    ) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
