"""Counts of the confusion matrix at decision thresholds, and what is built on them:
``TruePositives``/``FalsePositives``/``TrueNegatives``/``FalseNegatives``, ``Precision``,
``Recall`` and ``AUC`` (``keras/src/metrics/confusion_metrics.py``,
``keras/src/metrics/metrics_utils.py``).

A prediction is positive at a threshold when it is strictly greater than it; a target is
positive when it is non-zero. ``top_k`` keeps only the ``k`` largest predictions of a row
(the others become -1e10), ``class_id`` looks at one class (one column) only. ``AUC``'s
evenly spaced thresholds count each prediction in its bucket
(``ceil(y_pred * (num_thresholds - 1)) - 1``, predictions clipped to [0, 1]), as Keras does.
"""

from __future__ import annotations

import numpy as np

from glassnet import config
from glassnet.metrics.base import Metric, divide_no_nan, same_rank

NEG_INF = -1e10
_KEYS = ("tp", "fp", "tn", "fn")


def _check_thresholds(thresholds) -> list[float]:
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [
        t
        for t in values
        if t is None
        or isinstance(t, bool)
        or not isinstance(t, (int, float, np.number))
        or not 0 <= t <= 1
    ]
    if bad:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return [float(t) for t in values]


def init_thresholds(thresholds, default: float) -> list[float]:
    """Keras's ``parse_init_thresholds``: the thresholds as a list (``default`` when None)."""
    if thresholds is None:
        return [default]
    return _check_thresholds(thresholds)


def _filter_top_k(x: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest values of each row kept (the first of equal values first), the
    others set to -1e10."""
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return np.where(mask, x, x.dtype.type(NEG_INF))


def _prepare(y_true, y_pred, sample_weight, top_k, class_id, dtype, who):
    y_pred = np.asarray(y_pred).astype(dtype, copy=False)
    y_true = np.asarray(y_true).astype(dtype, copy=False)
    y_true, y_pred = same_rank(y_true, y_pred)
    try:
        shape = np.broadcast_shapes(y_true.shape, y_pred.shape)
    except ValueError:
        raise ValueError(
            f"{who}: the targets have shape {y_true.shape} but the predictions have shape "
            f"{y_pred.shape}; expected the same shape"
        ) from None
    if shape != y_pred.shape:
        raise ValueError(
            f"{who}: the targets have shape {y_true.shape} but the predictions have shape "
            f"{y_pred.shape}; expected the same shape"
        )
    y_true = np.broadcast_to(y_true, shape)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight).astype(dtype, copy=False)[..., None]
        if weights.ndim == y_true.ndim + 1 and weights.shape[-1] == 1:
            weights = weights[..., 0]
        elif y_true.ndim == weights.ndim + 1 and y_true.shape[-1] == 1:
            weights = weights[..., None]
        try:
            weights = np.broadcast_to(weights, y_pred.shape)
        except ValueError:
            raise ValueError(
                f"{who}: `sample_weight` of shape {np.shape(sample_weight)} does not fit "
                f"predictions of shape {y_pred.shape}: give a scalar, one weight per row or "
                "one per prediction"
            ) from None
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {y_pred.shape}"
            )
        if not 0 <= class_id < y_pred.shape[-1]:
            raise ValueError(
                f"{who}: class_id={class_id} is not a class of predictions with "
                f"{y_pred.shape[-1]} classes"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
        if weights is not None:
            weights = weights[..., class_id, None]
    return y_true != 0, y_pred, weights


def confusion_counts(
    y_true,
    y_pred,
    thresholds: np.ndarray,
    wanted=_KEYS,
    sample_weight=None,
    top_k=None,
    class_id=None,
    multi_label: bool = False,
    label_weights=None,
    evenly: bool = False,
    dtype=np.float32,
    who: str = "metric",
) -> dict:
    """Weighted counts ``{"tp", "fp", "tn", "fn"}`` of one batch, one per threshold
    (``(thresholds, labels)`` with ``multi_label``), as Keras's
    ``update_confusion_matrix_variables`` adds them."""
    dtype = np.dtype(dtype)
    labels, preds, weights = _prepare(y_true, y_pred, sample_weight, top_k, class_id, dtype, who)
    if label_weights is not None and not multi_label:
        lw = np.broadcast_to(np.asarray(label_weights, dtype=dtype), preds.shape)
        weights = lw if weights is None else weights * lw
    if not multi_label:
        labels, preds = labels.reshape(-1), preds.reshape(-1)
        weights = None if weights is None else weights.reshape(-1)
    elif preds.ndim == 1:
        labels, preds = labels[:, None], preds[:, None]
        weights = None if weights is None else weights[:, None]
    thresholds = np.asarray(thresholds, dtype=dtype)
    if evenly:
        return _bucketed(labels, preds, weights, len(thresholds), wanted, dtype)
    positive = preds[None] > thresholds.reshape((-1,) + (1,) * preds.ndim)
    w = np.ones((), dtype) if weights is None else weights
    true = np.where(labels, w, 0).astype(dtype, copy=False)
    false = np.where(labels, 0, w).astype(dtype, copy=False)
    out = {}
    for key in wanted:
        data = true if key in ("tp", "fn") else false
        hit = positive if key in ("tp", "fp") else ~positive
        out[key] = np.where(hit, data[None], dtype.type(0)).sum(axis=1, dtype=dtype)
    return out


def _bucketed(labels, preds, weights, count, wanted, dtype) -> dict:
    """Keras's ``_update_confusion_matrix_variables_optimized``: each prediction falls in
    bucket ``ceil(p * (count - 1)) - 1`` (at least 0) and counts as positive for every
    threshold up to its bucket."""
    preds = np.clip(preds, 0.0, 1.0)
    w = np.ones(preds.shape, dtype) if weights is None else np.broadcast_to(weights, preds.shape)
    true = np.where(labels, w, 0).astype(dtype)
    false = np.where(labels, 0, w).astype(dtype)
    buckets = np.maximum(np.ceil(preds * dtype.type(count - 1)) - 1, 0).astype(np.int64)
    if preds.ndim == 1:
        tp_b = np.bincount(buckets, true, minlength=count)
        fp_b = np.bincount(buckets, false, minlength=count)
    else:
        columns = np.broadcast_to(np.arange(preds.shape[-1]), preds.shape)
        tp_b = np.zeros((count, preds.shape[-1]))
        fp_b = np.zeros((count, preds.shape[-1]))
        np.add.at(tp_b, (buckets, columns), true)
        np.add.at(fp_b, (buckets, columns), false)
    tp = np.cumsum(tp_b[::-1], axis=0)[::-1].astype(dtype)
    fp = np.cumsum(fp_b[::-1], axis=0)[::-1].astype(dtype)
    axes = 0 if preds.ndim == 1 else tuple(range(preds.ndim - 1))
    values = {"tp": tp, "fp": fp}
    if "tn" in wanted:
        values["tn"] = (np.sum(false, axis=axes, dtype=dtype) - fp).astype(dtype)
    if "fn" in wanted:
        values["fn"] = (np.sum(true, axis=axes, dtype=dtype) - tp).astype(dtype)
    return {key: values[key] for key in wanted}


class _ConditionCount(Metric):
    """One count of the confusion matrix at each threshold (default 0.5)."""

    _key = "tp"

    def __init__(self, thresholds=None, name: str | None = None, dtype=None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = init_thresholds(thresholds, 0.5)
        self._single = not isinstance(thresholds, (list, tuple, np.ndarray))
        self.accumulator = self.add_variable(
            shape=(len(self.thresholds),), initializer="zeros", name="accumulator"
        )

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            (self._key,),
            sample_weight,
            dtype=self._dtype,
            who=self.name,
        )
        self.accumulator.assign_add(counts[self._key])

    def result(self):
        value = self.accumulator.value
        return self._result(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self) -> dict:
        return {"thresholds": self.init_thresholds, **super().get_config()}


class TruePositives(_ConditionCount):
    """The (weighted) number of positive targets predicted positive."""

    _key = "tp"


class FalsePositives(_ConditionCount):
    """The (weighted) number of negative targets predicted positive."""

    _key = "fp"


class TrueNegatives(_ConditionCount):
    """The (weighted) number of negative targets predicted negative."""

    _key = "tn"


class FalseNegatives(_ConditionCount):
    """The (weighted) number of positive targets predicted negative."""

    _key = "fn"


def _check_top_k(top_k):
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1
    ):
        raise ValueError(f"`top_k` must be a positive integer or None. Received: top_k={top_k!r}")
    return top_k


def _check_class_id(class_id):
    if class_id is not None and (
        isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or class_id < 0
    ):
        raise ValueError(
            f"`class_id` must be a non-negative integer or None. Received: class_id={class_id!r}"
        )
    return class_id


class _PrecisionRecall(Metric):
    _keys = ("tp", "fp")

    def __init__(
        self, thresholds=None, top_k=None, class_id=None, name: str | None = None, dtype=None
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = _check_top_k(top_k)
        self.class_id = _check_class_id(class_id)
        self.thresholds = init_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        size = len(self.thresholds)
        self.true_positives = self.add_variable((size,), "zeros", name="true_positives")
        other = "false_positives" if self._keys[1] == "fp" else "false_negatives"
        self._other = self.add_variable((size,), "zeros", name=other)
        setattr(self, other, self._other)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            self._keys,
            sample_weight,
            top_k=self.top_k,
            class_id=self.class_id,
            dtype=self._dtype,
            who=self.name,
        )
        self.true_positives.assign_add(counts["tp"])
        self._other.assign_add(counts[self._keys[1]])

    def result(self):
        tp = self.true_positives.value
        value = divide_no_nan(tp, tp + self._other.value)
        return self._result(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self) -> dict:
        return {
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
            **super().get_config(),
        }


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)``: how many predicted positives are positive (``keras.metrics.Precision``).

    Args:
        thresholds: a threshold in [0, 1] or a list of them (then one result each);
            default 0.5, or, with ``top_k``, every kept prediction counts as positive.
        top_k: only the ``k`` largest predictions of a row can be positive.
        class_id: the one class (column) to look at.
    """

    _keys = ("tp", "fp")


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)``: how many positives are predicted positive (``keras.metrics.Recall``);
    arguments as ``Precision``."""

    _keys = ("tp", "fn")


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from confusion counts at
    ``num_thresholds`` thresholds (``keras.metrics.AUC``).

    Args:
        num_thresholds: thresholds evenly spaced over [0, 1] (more than 1).
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"`` (trapezoids; for PR, Davis & Goadrich's
            interpolation), ``"minoring"`` or ``"majoring"``.
        thresholds: explicit thresholds in [0, 1] instead of evenly spaced ones.
        multi_label: one curve per label (column), averaged, instead of one curve over
            every prediction.
        num_labels: the number of labels when ``multi_label`` (else read from the data).
        label_weights: the weight of each label (in the counts, or in the average of the
            curves with ``multi_label``).
        from_logits: the predictions are logits (a sigmoid is applied first).
    """

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype=None,
        thresholds=None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights=None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        curve_key = str(curve).upper() if isinstance(curve, str) else None
        if curve_key not in ("ROC", "PR"):
            raise ValueError(
                f'Invalid AUC curve value: "{curve}". Expected values are ["ROC", "PR"]'
            )
        method = str(summation_method).lower() if isinstance(summation_method, str) else None
        if method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                '["interpolation", "majoring", "minoring"]'
            )
        self.curve = curve_key
        self.summation_method = method
        eps = float(config.epsilon())
        self._given_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_check_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_spaced(np.array([0.0, *inner, 1.0]))
        else:
            if (
                isinstance(num_thresholds, bool)
                or not isinstance(num_thresholds, (int, np.integer))
                or num_thresholds <= 1
            ):
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = int(num_thresholds)
            inner = [
                (i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)
            ]
            self._evenly = True
        self._thresholds = np.array([0.0 - eps, *inner, 1.0 + eps])
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        if label_weights is not None:
            label_weights = np.asarray(label_weights, dtype=self._dtype)
            if np.any(label_weights < 0):
                raise ValueError(
                    f"All values of `label_weights` must be non-negative. Received: {label_weights}"
                )
        self.label_weights = label_weights
        self._from_logits = bool(from_logits)
        self._built = False
        if not self.multi_label or num_labels is not None:
            self._build(num_labels)

    @property
    def thresholds(self) -> list[float]:
        """Every threshold, the two end ones (just outside [0, 1]) included."""
        return list(self._thresholds)

    def _build(self, num_labels) -> None:
        shape = (
            (self.num_thresholds,) if not self.multi_label else (self.num_thresholds, num_labels)
        )
        self._num_labels = num_labels
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape, "zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape, "zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = np.asarray(y_pred)
        if not self._built:
            if y_pred.ndim != 2:
                raise ValueError(
                    "AUC with multi_label=True expects predictions of shape (rows, labels). "
                    f"Received y_pred of shape {y_pred.shape}"
                )
            self._build(y_pred.shape[-1])
        if self.multi_label and y_pred.ndim >= 2 and y_pred.shape[-1] != self._num_labels:
            raise ValueError(
                f"{self.name}: expected predictions with {self._num_labels} labels. Received "
                f"y_pred of shape {y_pred.shape}"
            )
        if self._from_logits:
            y_pred = 0.5 + 0.5 * np.tanh(0.5 * y_pred.astype(self._dtype))
        counts = confusion_counts(
            y_true,
            y_pred,
            self._thresholds,
            _KEYS,
            sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            evenly=self._evenly,
            dtype=self._dtype,
            who=self.name,
        )
        self.true_positives.assign_add(counts["tp"])
        self.false_positives.assign_add(counts["fp"])
        self.true_negatives.assign_add(counts["tn"])
        self.false_negatives.assign_add(counts["fn"])

    def _by_label(self, terms: np.ndarray):
        if not self.multi_label:
            return np.sum(terms)
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return np.mean(by_label)
        return divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights))

    def _interpolated_pr(self):
        """Davis & Goadrich (2006): precision interpolated between thresholds."""
        n = self.num_thresholds
        tp, fp, fn = (
            self.true_positives.value,
            self.false_positives.value,
            self.false_negatives.value,
        )
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[: n - 1], np.maximum(p[1:], 0)), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            increment = divide_no_nan(
                slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)
            )
        return self._by_label(increment)

    def result(self):
        if not self._built:
            return self._result(0.0)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._result(self._interpolated_pr())
        n = self.num_thresholds
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[: n - 1], y[1:])
        else:
            heights = np.maximum(y[: n - 1], y[1:])
        return self._result(self._by_label((x[: n - 1] - x[1:]) * heights))

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        label_weights = self.label_weights
        return {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if label_weights is None else label_weights.tolist(),
            "from_logits": self._from_logits,
            **({"thresholds": self.thresholds[1:-1]} if self._given_thresholds else {}),
            **super().get_config(),
        }


def _evenly_spaced(thresholds: np.ndarray) -> bool:
    """Keras's ``is_evenly_distributed_thresholds``: ``[0, ..., 1]`` evenly spaced."""
    count = len(thresholds) - 1
    if count < 2:
        return False
    expected = np.arange(count + 1) / count
    return bool(np.allclose(thresholds, expected, atol=config.epsilon()))
