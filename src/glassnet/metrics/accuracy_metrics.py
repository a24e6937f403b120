"""Accuracy metrics and their functions, as ``keras/src/metrics/accuracy_metrics.py``.

The functions return one value per element (``accuracy``, ``binary_accuracy``) or per row
(the categorical ones), each 1.0 or 0.0; the metric classes average them over batches.
``top_k`` counts a row as right when fewer than ``k`` classes score strictly higher than
the target class, so classes tied at the boundary are all in the top ``k`` (TensorFlow's
``in_top_k``, the backend Keras's tests run on).
"""

from __future__ import annotations

import numpy as np

from glassnet import config
from glassnet.metrics.base import same_rank
from glassnet.metrics.reduction import MeanMetricWrapper


def _float(a) -> np.ndarray:
    a = np.asarray(a)
    return a if a.dtype.kind == "f" else a.astype(config.floatx())


def _pair(y_true, y_pred, who: str) -> tuple[np.ndarray, np.ndarray]:
    y_pred = _float(y_pred)
    y_true = np.asarray(y_true).astype(y_pred.dtype, copy=False)
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


def _matches(a, b) -> np.ndarray:
    return (a == b).astype(config.floatx())


def accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where the prediction equals the target exactly, element by element."""
    y_true, y_pred = _pair(y_true, y_pred, "accuracy")
    return _matches(y_true, y_pred)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1.0 where ``y_pred > threshold`` equals the target, element by element."""
    y_true, y_pred = _pair(y_true, y_pred, "binary_accuracy")
    return _matches(y_true, (y_pred > y_pred.dtype.type(threshold)).astype(y_true.dtype))


def _check_classes(y_pred: np.ndarray, who: str) -> None:
    if y_pred.ndim < 1 or y_pred.shape[-1] == 0:
        raise ValueError(
            f"{who}: the predictions must have a last axis of class scores. Received "
            f"y_pred of shape {y_pred.shape}"
        )


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per row: 1.0 where the largest prediction is at the target's largest (one-hot) place."""
    y_pred = _float(y_pred)
    y_true = np.asarray(y_true)
    _check_classes(y_pred, "categorical_accuracy")
    if y_true.shape[-1:] != y_pred.shape[-1:] and y_true.ndim == y_pred.ndim:
        raise ValueError(
            "categorical_accuracy expects one-hot targets of the predictions' shape "
            f"{y_pred.shape}. Received y_true of shape {y_true.shape} (for class labels use "
            "sparse_categorical_accuracy)"
        )
    labels = np.argmax(y_true, axis=-1)
    shape = labels.shape
    if labels.ndim == y_pred.ndim:  # targets one rank longer than one-hot rows
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"categorical_accuracy expects one-hot targets of shape {y_pred.shape}. Received "
            f"y_true of shape {y_true.shape}"
        )
    matches = _matches(labels, np.argmax(y_pred, axis=-1))
    return matches.reshape(shape)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """Per row: 1.0 where the largest prediction is at the target's class label."""
    y_pred = _float(y_pred)
    _check_classes(y_pred, "sparse_categorical_accuracy")
    y_true = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    shape = y_true.shape
    squeezed = y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1
    if squeezed:
        y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(
            "sparse_categorical_accuracy expects one class label per row of the predictions: "
            f"targets of shape {y_pred.shape[:-1]} or {(*y_pred.shape[:-1], 1)}. Received "
            f"y_true of shape {shape} for y_pred of shape {y_pred.shape}"
        )
    matches = _matches(y_true, np.argmax(y_pred, axis=-1).astype(y_pred.dtype))
    if squeezed:
        matches = matches.reshape(shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = matches[..., 0]
    return matches


def _in_top_k(labels: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Rows whose target class has fewer than ``k`` strictly larger scores."""
    rows = np.arange(len(labels))
    valid = (labels >= 0) & (labels < scores.shape[-1])
    target = scores[rows, np.where(valid, labels, 0)]
    larger = np.sum(scores > target[:, None], axis=-1)
    return valid & (larger < k) & np.isfinite(target)


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"`k` must be a positive integer. Received: k={k!r}")
    return int(k)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """Per row: 1.0 where the one-hot target's class is among the ``k`` largest predictions."""
    k = _check_k(k)
    y_pred = _float(y_pred)
    _check_classes(y_pred, "top_k_categorical_accuracy")
    y_true = np.asarray(y_true)
    if y_true.shape[-1:] != y_pred.shape[-1:]:
        raise ValueError(
            "top_k_categorical_accuracy expects one-hot targets of the predictions' shape "
            f"{y_pred.shape}. Received y_true of shape {y_true.shape} (for class labels use "
            "sparse_top_k_categorical_accuracy)"
        )
    labels = np.argmax(y_true, axis=-1)
    shape = labels.shape
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    if labels.size != scores.shape[0]:
        raise ValueError(
            f"top_k_categorical_accuracy expects one-hot targets of shape {y_pred.shape}. "
            f"Received y_true of shape {y_true.shape}"
        )
    matches = _in_top_k(labels.reshape(-1), scores, k).astype(config.floatx())
    return matches.reshape(shape) if labels.ndim > 1 else matches


def sparse_top_k_categorical_accuracy(
    y_true, y_pred, k: int = 5, from_sorted_ids: bool = False
) -> np.ndarray:
    """Per row: 1.0 where the target class label is among the ``k`` largest predictions
    (with ``from_sorted_ids``, among the first ``k`` class ids of ``y_pred``)."""
    k = _check_k(k)
    y_pred = np.asarray(y_pred) if from_sorted_ids else _float(y_pred)
    _check_classes(y_pred, "sparse_top_k_categorical_accuracy")
    y_true = np.asarray(y_true)
    shape = y_true.shape
    flat = y_true.reshape(-1)
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    if flat.shape[0] != scores.shape[0]:
        raise ValueError(
            "sparse_top_k_categorical_accuracy expects one class label per row of the "
            f"predictions ({scores.shape[0]} rows). Received y_true of shape {shape} for "
            f"y_pred of shape {y_pred.shape}"
        )
    if from_sorted_ids:
        matches = np.any(flat[:, None] == scores[:, :k], axis=1)
    else:
        matches = _in_top_k(flat.astype(np.int64), scores, k)
    matches = matches.astype(config.floatx())
    return matches.reshape(shape) if y_true.ndim > 1 else matches


class Accuracy(MeanMetricWrapper):
    """How often predictions equal targets exactly (``keras.metrics.Accuracy``)."""

    def __init__(self, name: str = "accuracy", dtype=None) -> None:
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` equals the binary target."""

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the largest prediction is at the one-hot target's class."""

    def __init__(self, name: str = "categorical_accuracy", dtype=None) -> None:
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the largest prediction is at the target's class label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None) -> None:
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target's class is among the ``k`` largest predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None) -> None:
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=_check_k(k))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the target class label is among the ``k`` largest predictions."""

    def __init__(
        self,
        k: int = 5,
        name: str = "sparse_top_k_categorical_accuracy",
        dtype=None,
        from_sorted_ids: bool = False,
    ) -> None:
        super().__init__(
            sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=_check_k(k),
            from_sorted_ids=from_sorted_ids,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        if not config.get("from_sorted_ids"):
            config.pop("from_sorted_ids", None)
        return config
