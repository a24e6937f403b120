"""Probabilistic and hinge metrics: running means of the crossentropies, ``KLDivergence``,
``Poisson`` and the hinge losses (``keras/src/metrics/probabilistic_metrics.py``,
``keras/src/metrics/hinge_metrics.py``), computed by glassnet's losses.
"""

from __future__ import annotations

import numpy as np

from glassnet import losses as losses_module
from glassnet.metrics.reduction import MeanMetricWrapper
from glassnet.metrics.regression import _checked, pair

kl_divergence = _checked(losses_module.kl_divergence, "kl_divergence")
poisson = _checked(losses_module.poisson, "poisson")
hinge = _checked(losses_module.hinge, "hinge")
squared_hinge = _checked(losses_module.squared_hinge, "squared_hinge")
huber = _checked(losses_module.huber, "huber")


def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    """Per row: the binary focal crossentropy (``glassnet.losses.BinaryFocalCrossentropy``)."""
    y_true, y_pred = pair(y_true, y_pred, "binary_focal_crossentropy")
    return losses_module.BinaryFocalCrossentropy(
        apply_class_balancing, alpha, gamma, from_logits, label_smoothing, axis
    ).values(y_true, y_pred)


def categorical_focal_crossentropy(
    y_true,
    y_pred,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> np.ndarray:
    """Per row: the categorical focal crossentropy
    (``glassnet.losses.CategoricalFocalCrossentropy``)."""
    y_true, y_pred = pair(y_true, y_pred, "categorical_focal_crossentropy")
    return losses_module.CategoricalFocalCrossentropy(
        alpha, gamma, from_logits, label_smoothing, axis
    ).values(y_true, y_pred)


def categorical_hinge(y_true, y_pred) -> np.ndarray:
    """Per row: ``max(0, 1 + max((1 - y_true) · y_pred) - sum(y_true · y_pred))``."""
    y_true, y_pred = pair(y_true, y_pred, "categorical_hinge")
    positive = np.sum(y_true * y_pred, axis=-1)
    negative = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(negative - positive + 1.0, 0.0).astype(y_pred.dtype, copy=False)


def binary_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> np.ndarray:
    """Per row: the mean binary crossentropy over the last axis."""
    y_true, y_pred = pair(y_true, y_pred, "binary_crossentropy")
    loss = losses_module.BinaryCrossentropy(
        from_logits=from_logits, label_smoothing=label_smoothing
    )
    return loss.values(y_true, y_pred)


def categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> np.ndarray:
    """Per row: the crossentropy of one-hot (or soft) targets and predicted probabilities."""
    y_true, y_pred = pair(y_true, y_pred, "categorical_crossentropy")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "categorical_crossentropy expects one-hot targets of the predictions' shape "
            f"{y_pred.shape}. Received y_true of shape {y_true.shape}"
        )
    loss = losses_module.CategoricalCrossentropy(
        from_logits=from_logits, label_smoothing=label_smoothing
    )
    return loss.values(y_true, y_pred)


def sparse_categorical_crossentropy(
    y_true, y_pred, from_logits: bool = False, axis: int = -1
) -> np.ndarray:
    """Per row: the crossentropy of a class label and predicted probabilities."""
    y_pred = np.asarray(y_pred)
    y_pred = y_pred if y_pred.dtype.kind == "f" else y_pred.astype(np.float32)
    y_true = np.asarray(y_true)
    rows = y_pred.shape[:-1]
    if y_true.shape not in (rows, (*rows, 1)):
        raise ValueError(
            "sparse_categorical_crossentropy expects one class label per row of the "
            f"predictions: targets of shape {rows} or {(*rows, 1)}. Received y_true of shape "
            f"{y_true.shape} for y_pred of shape {y_pred.shape}"
        )
    return losses_module.SparseCategoricalCrossentropy(from_logits=from_logits).values(
        y_true, y_pred
    )


class KLDivergence(MeanMetricWrapper):
    """The running mean of ``sum(y_true · log(y_true / y_pred))``."""

    def __init__(self, name: str = "kl_divergence", dtype=None) -> None:
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """The running mean of ``y_pred - y_true · log(y_pred)``."""

    def __init__(self, name: str = "poisson", dtype=None) -> None:
        super().__init__(poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """The running mean of the hinge loss (targets -1/1 or 0/1)."""

    def __init__(self, name: str = "hinge", dtype=None) -> None:
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """The running mean of the squared hinge loss."""

    def __init__(self, name: str = "squared_hinge", dtype=None) -> None:
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The running mean of the categorical hinge loss."""

    def __init__(self, name: str = "categorical_hinge", dtype=None) -> None:
        super().__init__(categorical_hinge, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """The running mean of the binary crossentropy."""

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype=None,
        from_logits: bool = False,
        label_smoothing: float = 0,
    ) -> None:
        super().__init__(
            binary_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )


class CategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the categorical crossentropy."""

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype=None,
        from_logits: bool = False,
        label_smoothing: float = 0,
        axis: int = -1,
    ) -> None:
        super().__init__(
            categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the sparse categorical crossentropy."""

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype=None,
        from_logits: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            axis=axis,
        )

    def get_config(self) -> dict:
        config = super().get_config()
        axis = config.pop("axis")
        return {**config, "ignore_class": None, "axis": axis}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if config.pop("ignore_class", None) is not None:
            raise ValueError("SparseCategoricalCrossentropy: `ignore_class` is not supported")
        return cls(**config)
