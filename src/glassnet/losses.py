"""Loss functions with their slopes, looked up by Keras's names and aliases.

A loss compares targets ``y_true`` with predictions ``y_pred`` (shape ``(rows, outputs)``, or
``(rows, steps, outputs)`` and more for sequences). Each loss defines

* ``values(y_true, y_pred)``: the loss of each sample, a reduction of the last axis, so of
  shape ``y_pred.shape[:-1]`` (``(rows,)`` for a plain batch);
* ``gradient(y_true, y_pred)``: the slope of the *sum* of those losses with respect to
  every prediction, shape of ``y_pred``.

Calling a loss weighs and reduces those values the way Keras 3 does
(``keras/src/losses/loss.py``: ``Loss.__call__``, ``reduce_weighted_values``,
``squeeze_or_expand_to_same_rank``, ``reduce_values``). A ``sample_weight`` may be a scalar,
one weight per row (``(rows,)`` or ``(rows, 1)``), or one per step (``(rows, steps)``,
``(rows, steps, 1)``); the default reduction ``"sum_over_batch_size"`` divides the sum of the
weighted losses by their *number* (``rows * steps``), zero weights included.
``reduce_gradient`` applies the same weighting and reduction to the slope, which is what
training back-propagates.

Cross-entropies that follow a softmax or sigmoid output layer are computed from that
layer's logits (``values_and_gradient_from_logits``): the slope at the logits is then simply
``prediction - target``, which is faster and never overflows. Keras on TensorFlow does the
same for such models (``keras/src/backend/tensorflow/nn.py``, ``_get_logits``). Called on
probabilities, the cross-entropies clip them to ``[epsilon, 1 - epsilon]`` exactly as Keras
does (``epsilon = 1e-7``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from glassnet import activations, config
from glassnet._checks import check_flag as _check_flag
from glassnet._checks import check_number as _check_number
from glassnet._registry import Registry
from glassnet._rowwise import row_max, row_sum
from glassnet.ops.tape import active_tape
from glassnet.ops.tensor import as_tensor

_registry = Registry("loss")


class _LossSlope:
    """A loss as an op on a tape: its node's records are the slope at the prediction."""

    __slots__ = ("loss", "name")

    def __init__(self, loss: Loss) -> None:
        self.loss = loss
        self.name = loss.name

    def backward(self, records, grad_out, need_grad_input=True):
        if isinstance(records, tuple):  # unreduced: a slope per sample
            row_slopes, weights, shape = records
            per_sample = np.asarray(grad_out, dtype=row_slopes.dtype)
            if weights is not None:
                per_sample = per_sample * weights
            extra = row_slopes.ndim - per_sample.ndim
            slope = row_slopes * per_sample.reshape(per_sample.shape + (1,) * extra)
            return None, slope.reshape(shape)
        return None, records * np.asarray(grad_out, dtype=records.dtype)


class Loss:
    """Base class. Subclasses write ``values`` and ``gradient``.

    Args:
        name: the name shown in logs and configs.
        reduction: ``"sum_over_batch_size"`` (Keras's default; ``"mean"`` is the same),
            ``"sum"``, ``"mean_with_sample_weight"`` (divide by the sum of the weights), or
            ``None``/``"none"``: calling the loss returns the weighted per-sample losses
            unreduced (Keras 3.15, ``keras/src/losses/loss.py``). In training, a loss
            without reduction is averaged as ``"sum_over_batch_size"``.
    """

    name = "loss"
    #: The output activation this loss fuses with when computed from logits, if any.
    fused_activation: str | None = None

    def __init__(
        self, name: str | None = None, reduction: str = "sum_over_batch_size", dtype=None
    ) -> None:
        if name is not None:
            self.name = name
        valid = ("sum_over_batch_size", "sum", "mean_with_sample_weight", "mean", "none", None)
        if reduction not in valid:
            raise ValueError(
                f"`reduction` must be one of {valid}. Received: reduction={reduction!r}"
            )
        self.reduction = reduction
        self._dtype = _float_dtype(dtype)

    @property
    def dtype(self) -> str:
        """The float type the loss computes in: the one given as ``dtype=``, else
        ``config.floatx()``. Only a ``dtype`` given explicitly converts the inputs; without
        it a loss keeps the predictions' float type (float64 stays float64)."""
        return getattr(self, "_dtype", None) or config.floatx()

    def values(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def gradient(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def values_and_gradient(self, y_true: np.ndarray, y_pred: np.ndarray):
        """Row losses and the slope of their sum, sharing work where a loss can."""
        return self.values(y_true, y_pred), self.gradient(y_true, y_pred)

    def values_and_gradient_from_logits(self, y_true: np.ndarray, z: np.ndarray):
        """Row losses and slope at the logits ``z`` of the fused output activation."""
        raise NotImplementedError(f"{type(self).__name__} has no logits form")

    def _weighting(self, shape: tuple, sample_weight) -> tuple[np.ndarray | None, float]:
        """For per-sample losses of ``shape``: the weight each one carries in the weighted
        sum (``None`` when unweighted) and the number that sum is divided by; 0 means the sum
        is 0 (Keras's ``divide_no_nan``).

        Follows Keras 3's ``reduce_weighted_values`` and ``reduce_values``
        (``keras/src/losses/loss.py``): the ranks of losses and weights are matched by
        ``squeeze_or_expand_to_same_rank``, the two are multiplied with broadcasting, and
        ``"sum_over_batch_size"`` divides by the number of elements of that product, zero
        weights included. A product of shape ``()`` or ``(0,)`` is not reduced at all.
        One addition: weights that fit the leading axes of the losses (``(rows,)`` on losses
        ``(rows, steps)``) weigh whole rows. Keras 3 raises there (or, when ``rows ==
        steps``, broadcasts them along the steps by accident); this is what ``fit`` needs for
        its per-row weights on a sequence output.
        """
        product = shape
        weights = None if sample_weight is None else np.asarray(sample_weight)
        if weights is not None and weights.shape != shape:  # the same shape: one each
            value_shape, weight_shape = _same_rank(shape, weights.shape)
            leading = value_shape[: len(weight_shape)]
            if 0 < len(weight_shape) < len(value_shape) and weight_shape == leading:
                weight_shape += (1,) * (len(value_shape) - len(weight_shape))
            weights = weights.reshape(weight_shape)
            try:
                product = np.broadcast_shapes(value_shape, weight_shape)
            except ValueError:
                raise ValueError(
                    f"`sample_weight` of shape {np.shape(sample_weight)} does not fit the "
                    f"per-sample losses of shape {shape} (the shape of y_pred without its last "
                    "axis): give a scalar, one weight per row or one per step"
                ) from None
            # The weight of each loss: summed over any axis the weights broadcast it along.
            spread = np.broadcast_to(weights, product)
            extra = len(product) - len(value_shape)
            axes = tuple(range(extra)) + tuple(
                extra + i
                for i, size in enumerate(value_shape)
                if size == 1 and product[extra + i] != 1
            )
            if axes:
                spread = spread.sum(axis=axes, keepdims=True)
            weights = spread.reshape(shape)
        if product in ((), (0,)) or self.reduction == "sum":
            return weights, 1.0
        if self.reduction == "mean_with_sample_weight" and sample_weight is not None:
            return weights, float(np.sum(sample_weight))
        return weights, float(math.prod(product))

    def reduce(self, values: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        """Per-sample losses weighted and reduced to one number (Keras's reduction)."""
        values = np.asarray(values)
        weights, divisor = self._weighting(values.shape, sample_weight)
        total = float((values if weights is None else values * weights).sum())
        return total / divisor if divisor else 0.0

    def reduce_gradient(
        self, grad: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> np.ndarray:
        """The slope of the sum of per-sample losses (``gradient``) turned into the slope of
        the weighted, reduced loss; the losses are those of ``grad.shape[:-1]``."""
        weights, divisor = self._weighting(grad.shape[:-1], sample_weight)
        if divisor == 0:  # the loss is 0 whatever the predictions (divide_no_nan)
            return np.zeros_like(grad)
        if weights is not None:
            grad = grad * weights.astype(grad.dtype, copy=False)[..., None]
        return grad / grad.dtype.type(divisor) if divisor != 1.0 else grad

    def reduced(self, y_true, y_pred, sample_weight=None) -> tuple[float, np.ndarray]:
        """The reduced loss and its slope at every prediction: what a training step needs."""
        values, grad = self.values_and_gradient(y_true, y_pred)
        return self.reduce(values, sample_weight), self.reduce_gradient(grad, sample_weight)

    def fused_step(
        self, y_true, z, sample_weight=None, rows_sum_to_one: bool = False
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """For a loss fused with its output activation: from the logits ``z``, the reduced
        loss, its slope at ``z``, and the prediction (the activation of ``z``).
        ``rows_sum_to_one``: the caller knows every row of ``y_true`` sums to 1."""
        values, grad = self.values_and_gradient_from_logits(y_true, z)
        prediction = activations.get(self.fused_activation)(z)
        return (
            self.reduce(values, sample_weight),
            self.reduce_gradient(grad, sample_weight),
            prediction,
        )

    def __call__(self, y_true, y_pred, sample_weight=None) -> np.ndarray:
        """The loss as Keras computes it for probabilities or values: a 0-d array of the
        predictions' float dtype, or with ``reduction=None`` (``"none"``) the weighted
        per-sample losses.

        Inside a ``GradientTape`` (or any recording tape) the loss leaves a node whose
        backward gives the slope at ``y_pred``, so ``tape.gradient(loss, ...)`` reaches the
        model through it.
        """
        given = y_pred
        if getattr(self, "_dtype", None) is not None:  # Keras converts both inputs to its dtype
            y_pred = np.asarray(y_pred, dtype=self._dtype)
        else:
            y_pred = np.asarray(y_pred, dtype=np.result_type(np.asarray(y_pred).dtype, np.float32))
        y_true, y_pred = _match_targets(self, np.asarray(y_true), y_pred)
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=y_pred.dtype)
        tape = active_tape()
        if self.reduction in (None, "none"):
            values, row_slopes = self.values_and_gradient(y_true, y_pred)
            weights, _ = self._weighting(values.shape, sw)
            unreduced = np.asarray(
                values if weights is None else values * weights, dtype=y_pred.dtype
            )
            unreduced = as_tensor(unreduced)
            if tape is not None:
                tape.record(
                    _LossSlope(self),
                    (y_true, given),
                    unreduced,
                    (row_slopes, weights, np.shape(given)),
                )
            return unreduced
        if tape is None:
            return as_tensor(
                np.asarray(self.reduce(self.values(y_true, y_pred), sw), dtype=y_pred.dtype)
            )
        value, grad = self.reduced(y_true, y_pred, sw)
        output = as_tensor(np.asarray(value, dtype=y_pred.dtype))
        tape.record(_LossSlope(self), (y_true, given), output, np.reshape(grad, np.shape(given)))
        return output

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


def _float_dtype(dtype) -> str | None:
    """A loss's ``dtype=`` argument as a float type's name (None stays None)."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", dtype)  # a NumPy dtype or a policy-like object
    try:
        resolved = np.dtype(name)
    except TypeError:
        resolved = None
    if resolved is None or resolved.kind != "f":
        raise ValueError(
            "`dtype` must be a float type such as 'float32' or 'float64'. "
            f"Received: dtype={dtype!r}"
        )
    return resolved.name


def _last_axis_only(axis, loss_name: str) -> int:
    """glassnet's cross-entropies reduce the last axis; Keras's ``axis`` is accepted as -1."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis!r}")
    if axis != -1:
        raise ValueError(
            f"glassnet computes {loss_name} over the last axis only: `axis` must be -1. "
            f"Received: axis={axis}; move the class axis last (np.moveaxis) instead"
        )
    return -1


def _same_rank(shape1: tuple, shape2: tuple) -> tuple[tuple, tuple]:
    """Keras's ``squeeze_or_expand_to_same_rank`` (``keras/src/losses/loss.py``, with
    ``expand_rank_1=True``) on shapes: where the ranks differ by one and the longer shape
    ends in 1, that axis is dropped, or added to the shorter one when it has rank 1."""
    if len(shape1) == len(shape2) + 1 and shape1[-1] == 1:
        if len(shape2) == 1:
            return shape1, shape2 + (1,)
        return shape1[:-1], shape2
    if len(shape2) == len(shape1) + 1 and shape2[-1] == 1:
        if len(shape1) == 1:
            return shape1 + (1,), shape2
        return shape1, shape2[:-1]
    return shape1, shape2


def _match_targets(loss: Loss, y_true: np.ndarray, y_pred: np.ndarray):
    """``(y_true, y_pred)`` with matching ranks, as Keras's ``LossFunctionWrapper.call``
    matches them (``squeeze_or_expand_to_same_rank``), except that targets one rank short
    always gain a last axis of 1: ``(rows,)`` targets against ``(rows, outputs)``
    predictions, and ``(rows, steps)`` against ``(rows, steps, 1)``, where Keras would drop
    the predictions' last axis instead and then not accept per-step weights."""
    if isinstance(loss, SparseCategoricalCrossentropy):
        return y_true, y_pred
    y_true = y_true.astype(y_pred.dtype, copy=False)
    if y_true.ndim == y_pred.ndim - 1:
        return y_true.reshape(y_true.shape + (1,)), y_pred
    true_shape, pred_shape = _same_rank(y_true.shape, y_pred.shape)
    return y_true.reshape(true_shape), y_pred.reshape(pred_shape)


class MeanSquaredError(Loss):
    """Mean squared error of a row; its slope is ``2 (y_pred - y_true) / outputs``."""

    name = "mean_squared_error"

    def values(self, y_true, y_pred):
        e = y_pred - y_true
        return np.mean(e * e, axis=-1)

    def gradient(self, y_true, y_pred):
        return (y_pred - y_true) * y_pred.dtype.type(2 / y_pred.shape[-1])

    def values_and_gradient(self, y_true, y_pred):
        e = y_pred - y_true
        return np.mean(e * e, axis=-1), e * y_pred.dtype.type(2 / y_pred.shape[-1])

    def reduced(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None or self.reduction != "sum_over_batch_size":
            return super().reduced(y_true, y_pred, sample_weight)
        # The mean over rows of the mean over outputs is the mean over all entries: one
        # dot product instead of two reductions (the training step's hot path).
        e = y_pred - y_true
        flat = e.reshape(-1)
        return float(np.dot(flat, flat)) / flat.size, e * e.dtype.type(2 / flat.size)


class MeanAbsoluteError(Loss):
    """``mean(|y_pred - y_true|)``; slope ``sign(y_pred - y_true) / outputs``."""

    name = "mean_absolute_error"

    def values(self, y_true, y_pred):
        return np.mean(np.abs(y_pred - y_true), axis=-1)

    def gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) / y_pred.dtype.type(y_pred.shape[-1])


class MeanAbsolutePercentageError(Loss):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, epsilon))``."""

    name = "mean_absolute_percentage_error"

    def values(self, y_true, y_pred):
        scale = np.maximum(np.abs(y_true), config.epsilon())
        return 100 * np.mean(np.abs(y_true - y_pred) / scale, axis=-1)

    def gradient(self, y_true, y_pred):
        scale = np.maximum(np.abs(y_true), config.epsilon())
        return (100 * np.sign(y_pred - y_true) / scale / y_pred.shape[-1]).astype(y_pred.dtype)


class MeanSquaredLogarithmicError(Loss):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)``."""

    name = "mean_squared_logarithmic_error"

    def values(self, y_true, y_pred):
        eps = config.epsilon()
        d = np.log1p(np.maximum(y_pred, eps)) - np.log1p(np.maximum(y_true, eps))
        return np.mean(d * d, axis=-1)

    def gradient(self, y_true, y_pred):
        eps = config.epsilon()
        d = np.log1p(np.maximum(y_pred, eps)) - np.log1p(np.maximum(y_true, eps))
        inside = y_pred > eps
        return (2 * d * inside / (1 + np.maximum(y_pred, eps)) / y_pred.shape[-1]).astype(
            y_pred.dtype
        )


class Huber(Loss):
    """``0.5 e**2`` where ``|e| <= delta``, else ``delta * (|e| - 0.5 delta)`` (Keras: delta=1)."""

    name = "huber_loss"

    def __init__(self, delta: float = 1.0, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.delta = _check_number(delta, "delta", 0.0, math.inf, low_open=True)

    def values(self, y_true, y_pred):
        e = np.abs(y_pred - y_true)
        quad = np.minimum(e, self.delta)
        return np.mean(0.5 * quad * quad + self.delta * (e - quad), axis=-1)

    def gradient(self, y_true, y_pred):
        e = y_pred - y_true
        return np.clip(e, -self.delta, self.delta) / y_pred.dtype.type(y_pred.shape[-1])

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(Loss):
    """``mean(log(cosh(y_pred - y_true)))``; slope ``tanh(e) / outputs``."""

    name = "log_cosh"

    def values(self, y_true, y_pred):
        e = y_pred - y_true
        return np.mean(e + np.logaddexp(0, -2 * e) - np.log(2), axis=-1).astype(y_pred.dtype)

    def gradient(self, y_true, y_pred):
        return np.tanh(y_pred - y_true) / y_pred.dtype.type(y_pred.shape[-1])


class Poisson(Loss):
    """``mean(y_pred - y_true * log(y_pred + epsilon))``."""

    name = "poisson"

    def values(self, y_true, y_pred):
        return np.mean(y_pred - y_true * np.log(y_pred + config.epsilon()), axis=-1)

    def gradient(self, y_true, y_pred):
        g = 1 - y_true / (y_pred + config.epsilon())
        return (g / y_pred.shape[-1]).astype(y_pred.dtype)


class KLDivergence(Loss):
    """``sum(t * log(t / p))`` with both clipped to ``[epsilon, 1]``."""

    name = "kl_divergence"

    def values(self, y_true, y_pred):
        eps = config.epsilon()
        t, p = np.clip(y_true, eps, 1), np.clip(y_pred, eps, 1)
        return np.sum(t * np.log(t / p), axis=-1)

    def gradient(self, y_true, y_pred):
        eps = config.epsilon()
        t, p = np.clip(y_true, eps, 1), np.clip(y_pred, eps, 1)
        inside = (y_pred > eps) & (y_pred < 1)
        return (-t / p * inside).astype(y_pred.dtype)


def _signed_targets(y_true: np.ndarray) -> np.ndarray:
    """Hinge losses take targets -1/1; 0/1 targets are converted like Keras does."""
    is_binary = np.all((y_true == 0) | (y_true == 1))
    return 2 * y_true - 1 if is_binary else y_true


class Hinge(Loss):
    """``mean(max(1 - y_true * y_pred, 0))`` with 0/1 targets mapped to -1/1."""

    name = "hinge"

    def values(self, y_true, y_pred):
        return np.mean(np.maximum(1 - _signed_targets(y_true) * y_pred, 0), axis=-1)

    def gradient(self, y_true, y_pred):
        t = _signed_targets(y_true)
        return (-t * (1 - t * y_pred > 0) / y_pred.shape[-1]).astype(y_pred.dtype)


class SquaredHinge(Loss):
    """``mean(max(1 - y_true * y_pred, 0)**2)`` with 0/1 targets mapped to -1/1."""

    name = "squared_hinge"

    def values(self, y_true, y_pred):
        m = np.maximum(1 - _signed_targets(y_true) * y_pred, 0)
        return np.mean(m * m, axis=-1)

    def gradient(self, y_true, y_pred):
        t = _signed_targets(y_true)
        m = np.maximum(1 - t * y_pred, 0)
        return (-2 * t * m / y_pred.shape[-1]).astype(y_pred.dtype)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class CategoricalCrossentropy(Loss):
    """``-sum(y_true * log(y_pred))`` over the classes of a row (one-hot targets).

    Probabilities are first divided by their sum and clipped to ``[eps, 1 - eps]``, exactly
    as Keras does; with ``from_logits=True`` the predictions are logits and a softmax is
    applied inside, which is exact and stable.

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: mixes targets towards uniform, ``y * (1 - s) + s / classes``.
    """

    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        name=None,
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.from_logits = _check_flag(from_logits, "from_logits")
        self.label_smoothing = _check_number(
            label_smoothing, "label_smoothing", 0.0, 1.0, low_open=False
        )
        self.axis = _last_axis_only(axis, self.name)

    def _smooth(self, y_true):
        if not self.label_smoothing:
            return y_true
        s = self.label_smoothing
        return y_true * (1 - s) + s / y_true.shape[-1]

    def values(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        if self.from_logits:
            return -np.sum(y_true * _log_softmax(y_pred), axis=-1)
        eps = config.epsilon()
        q = np.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), eps, 1 - eps)
        return -np.sum(y_true * np.log(q), axis=-1)

    def gradient(self, y_true, y_pred):
        y_true = self._smooth(y_true)
        if self.from_logits:
            return self.values_and_gradient_from_logits(y_true, y_pred, smoothed=True)[1]
        eps = config.epsilon()
        total = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / total
        g = -y_true / np.clip(q, eps, 1 - eps) * ((q > eps) & (q < 1 - eps))
        # Chain through the normalisation q = p / sum(p).
        return ((g - np.sum(g * q, axis=-1, keepdims=True)) / total).astype(y_pred.dtype)

    def values_and_gradient_from_logits(self, y_true, z, smoothed: bool = False):
        values, grad, _ = self._from_logits(y_true if smoothed else self._smooth(y_true), z)
        return values, grad

    @staticmethod
    def _from_logits(y_true, z):
        log_p = _log_softmax(z)
        p = np.exp(log_p)
        values = -(y_true * log_p).sum(axis=-1)
        return values, p * y_true.sum(axis=-1, keepdims=True) - y_true, p

    def fused_step(self, y_true, z, sample_weight=None, rows_sum_to_one=False):
        # The softmax probabilities come out of the same log-softmax as the loss, so the
        # output layer need not compute them a second time.
        if sample_weight is None and self.reduction == "sum_over_batch_size":
            one = rows_sum_to_one and not self.label_smoothing
            return self._mean_step(self._smooth(y_true), z, one)
        values, grad, p = self._from_logits(self._smooth(y_true), z)
        return self.reduce(values, sample_weight), self.reduce_gradient(grad, sample_weight), p

    @staticmethod
    def _mean_step(y_true, z, rows_sum_to_one: bool = False):
        """``fused_step`` for the mean over rows, in as few NumPy calls as it can (the
        training step's hot path). With ``shifted = z - max(z)`` and ``total`` the row sums
        of ``exp(shifted)``, a row's loss is ``sum(y) * log(total) - y . shifted`` and its
        slope at ``z`` is ``p * sum(y) - y``; ``sum(y)`` is 1 for one-hot rows, which
        ``rows_sum_to_one`` promises (saving two calls)."""
        rows = max(z.size // max(z.shape[-1], 1), 1)  # the number of per-sample losses
        shifted = z - row_max(z)
        cross = float(np.vdot(y_true, shifted))
        p = np.exp(shifted, out=shifted)
        total = row_sum(p)
        p /= total
        if rows_sum_to_one:
            loss = (float(np.add.reduce(np.log(total), axis=None)) - cross) / rows
            grad = p - y_true
        else:
            mass = row_sum(y_true)
            loss = (float(np.vdot(mass, np.log(total))) - cross) / rows
            grad = p * mass
            grad -= y_true
        grad *= grad.dtype.type(1 / rows)
        return loss, grad, p

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(Loss):
    """Categorical cross-entropy with integer class labels instead of one-hot rows.

    Targets have shape ``(rows,)`` or ``(rows, 1)`` and hold class indices.
    """

    name = "sparse_categorical_crossentropy"
    fused_activation = "softmax"

    def __init__(
        self, from_logits: bool = False, ignore_class=None, axis: int = -1, name=None, **kwargs
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.from_logits = _check_flag(from_logits, "from_logits")
        if ignore_class is not None:
            raise ValueError(
                "glassnet's SparseCategoricalCrossentropy has no `ignore_class` (Keras masks "
                "those labels out of the reduction); give the ignored rows a sample_weight "
                f"of 0 instead. Received: ignore_class={ignore_class!r}"
            )
        self.ignore_class = None
        self.axis = _last_axis_only(axis, self.name)

    @staticmethod
    def _labels(y_true, classes: int) -> np.ndarray:
        labels = np.asarray(y_true).reshape(-1)
        if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
            example = labels[labels != np.round(labels)][0].item()
            raise ValueError(
                "sparse_categorical_crossentropy expects integer class labels. "
                f"Received non-integer values such as {example!r}"
            )
        labels = labels.astype(np.intp)
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(
                f"Class labels must lie in [0, {classes - 1}] for an output of {classes} units. "
                f"Received labels from {labels.min()} to {labels.max()}"
            )
        return labels

    def _index(self, y_true, y_pred) -> np.ndarray:
        """The labels as indices into the last axis of ``y_pred``: shape
        ``y_pred.shape[:-1] + (1,)`` (targets ``(rows,)``, ``(rows, 1)``, ``(rows, steps)``
        or ``(rows, steps, 1)``)."""
        labels = self._labels(y_true, y_pred.shape[-1])
        if labels.size != int(np.prod(y_pred.shape[:-1])):
            raise ValueError(
                f"sparse_categorical_crossentropy needs one label per prediction row: "
                f"y_true has shape {np.shape(y_true)}, y_pred {y_pred.shape}"
            )
        return labels.reshape(y_pred.shape[:-1] + (1,))

    def values(self, y_true, y_pred):
        index = self._index(y_true, y_pred)
        if self.from_logits:
            return -np.take_along_axis(_log_softmax(y_pred), index, axis=-1)[..., 0]
        eps = config.epsilon()
        q = np.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), eps, 1 - eps)
        return -np.log(np.take_along_axis(q, index, axis=-1)[..., 0])

    def gradient(self, y_true, y_pred):
        if self.from_logits:
            return self.values_and_gradient_from_logits(y_true, y_pred)[1]
        onehot = np.zeros_like(y_pred)
        np.put_along_axis(onehot, self._index(y_true, y_pred), 1, axis=-1)
        return CategoricalCrossentropy().gradient(onehot, y_pred)

    def values_and_gradient_from_logits(self, y_true, z):
        index = self._index(y_true, z)
        log_p = _log_softmax(z)
        grad = np.exp(log_p)
        np.put_along_axis(grad, index, np.take_along_axis(grad, index, axis=-1) - 1, axis=-1)
        return -np.take_along_axis(log_p, index, axis=-1)[..., 0], grad

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
        }


class BinaryCrossentropy(Loss):
    """``-mean(y log p + (1 - y) log(1 - p))`` over a row's outputs.

    Probabilities are clipped to ``[eps, 1 - eps]`` as Keras does; with ``from_logits=True``
    (or after a sigmoid output layer) the stable logits form
    ``max(z, 0) - z y + log(1 + exp(-|z|))`` is used.
    """

    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        name=None,
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.from_logits = _check_flag(from_logits, "from_logits")
        self.label_smoothing = _check_number(
            label_smoothing, "label_smoothing", 0.0, 1.0, low_open=False
        )
        self.axis = _last_axis_only(axis, self.name)

    def _smooth(self, y_true):
        s = self.label_smoothing
        return y_true * (1 - s) + 0.5 * s if s else y_true

    def values(self, y_true, y_pred):
        if self.from_logits:
            return self.values_and_gradient_from_logits(y_true, y_pred)[0]
        y_true = self._smooth(y_true)
        eps = config.epsilon()
        p = np.clip(y_pred, eps, 1 - eps)
        return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p), axis=-1)

    def gradient(self, y_true, y_pred):
        if self.from_logits:
            return self.values_and_gradient_from_logits(y_true, y_pred)[1]
        y_true = self._smooth(y_true)
        eps = config.epsilon()
        p = np.clip(y_pred, eps, 1 - eps)
        inside = (y_pred > eps) & (y_pred < 1 - eps)
        g = (p - y_true) / (p * (1 - p)) * inside
        return (g / y_pred.shape[-1]).astype(y_pred.dtype)

    def values_and_gradient_from_logits(self, y_true, z):
        y_true = self._smooth(y_true)
        values = np.maximum(z, 0) - z * y_true + np.logaddexp(0, -np.abs(z)).astype(z.dtype)
        p = 0.5 + 0.5 * np.tanh(0.5 * z)
        return np.mean(values, axis=-1), (p - y_true) / z.dtype.type(z.shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class CategoricalHinge(Loss):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` per row
    (``keras/src/losses/losses.py``, ``categorical_hinge``): one-hot targets."""

    name = "categorical_hinge"

    def values(self, y_true, y_pred):
        pos = np.sum(y_true * y_pred, axis=-1)
        neg = np.max((1 - y_true) * y_pred, axis=-1)
        return np.maximum(neg - pos + 1, 0).astype(y_pred.dtype)

    def gradient(self, y_true, y_pred):
        other = (1 - y_true) * y_pred
        pos = np.sum(y_true * y_pred, axis=-1)
        neg = np.max(other, axis=-1)
        active = (neg - pos + 1 > 0)[..., None]
        # the slope of the max goes to its (first) largest entry, as the max's own does
        pick = np.zeros_like(y_pred)
        np.put_along_axis(pick, np.argmax(other, axis=-1)[..., None], 1, axis=-1)
        return (active * (pick * (1 - y_true) - y_true)).astype(y_pred.dtype)


class CosineSimilarity(Loss):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred))`` over the last axis: -1 when the
    two point the same way. Each vector is divided by ``max(norm, epsilon)`` (Keras's
    ``normalize``), so a zero vector gives 0.

    Args:
        axis: the axis of the vectors; glassnet supports the last one (-1).
    """

    name = "cosine_similarity"

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        self.axis = _last_axis_only(axis, self.name)

    @staticmethod
    def _norm(x):
        return np.maximum(np.sqrt(np.sum(x * x, axis=-1, keepdims=True)), config.epsilon())

    def values(self, y_true, y_pred):
        unit_true = y_true / self._norm(y_true)
        return -np.sum(unit_true * (y_pred / self._norm(y_pred)), axis=-1)

    def gradient(self, y_true, y_pred):
        unit_true = y_true / self._norm(y_true)
        norm = self._norm(y_pred)
        # Where the norm is the epsilon floor the divisor is constant.
        raw = np.sqrt(np.sum(y_pred * y_pred, axis=-1, keepdims=True))
        along = np.sum(unit_true * y_pred, axis=-1, keepdims=True) * y_pred / norm**3
        along = np.where(raw > config.epsilon(), along, 0)
        return (-(unit_true / norm - along)).astype(y_pred.dtype)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _power_slope(base: np.ndarray, gamma: float) -> np.ndarray:
    """``d base**gamma / d base``, 0 where gamma is 0 (no 0 * inf at base 0)."""
    if gamma == 0:
        return np.zeros_like(base)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = gamma * np.power(base, gamma - 1)
    return np.where(base > 0, slope, gamma if gamma == 1 else 0.0)


class BinaryFocalCrossentropy(BinaryCrossentropy):
    """Binary cross-entropy scaled by ``(1 - p_t)**gamma`` (Lin et al., 2017), where
    ``p_t = y p + (1 - y)(1 - p)``; with ``apply_class_balancing`` also by
    ``alpha`` for positives and ``1 - alpha`` for negatives. The mean over the last axis,
    as ``keras.losses.binary_focal_crossentropy`` (``keras/src/losses/losses.py``): the
    cross-entropy clips ``p`` to ``[eps, 1 - eps]``, the focal factor uses ``p`` unclipped;
    with ``from_logits`` ``p`` is the sigmoid of the logits.
    """

    name = "binary_focal_crossentropy"
    fused_activation = None

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name=None,
        **kwargs,
    ) -> None:
        super().__init__(
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
            reduction=reduction,
            name=name,
            **kwargs,
        )
        self.apply_class_balancing = _check_flag(apply_class_balancing, "apply_class_balancing")
        self.alpha = float(_check_number(alpha, "alpha", 0.0, 1.0, low_open=False))
        self.gamma = float(_check_number(gamma, "gamma", 0.0, math.inf, low_open=False))

    def values_and_gradient(self, y_true, y_pred):
        t = self._smooth(y_true)
        p = 0.5 + 0.5 * np.tanh(0.5 * y_pred) if self.from_logits else y_pred
        eps = config.epsilon()
        pc = np.clip(p, eps, 1 - eps)
        bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
        dbce = (pc - t) / (pc * (1 - pc)) * ((p > eps) & (p < 1 - eps))
        base = 1 - (t * p + (1 - t) * (1 - p))
        factor = np.power(base, self.gamma)
        dfactor = -_power_slope(base, self.gamma) * (2 * t - 1)
        weight = t * self.alpha + (1 - t) * (1 - self.alpha) if self.apply_class_balancing else 1
        n = y_pred.shape[-1]
        values = np.mean(weight * factor * bce, axis=-1).astype(y_pred.dtype)
        grad = weight * (dfactor * bce + factor * dbce) / n
        if self.from_logits:
            grad = grad * p * (1 - p)
        return values, grad.astype(y_pred.dtype)

    def values(self, y_true, y_pred):
        return self.values_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true, y_pred):
        return self.values_and_gradient(y_true, y_pred)[1]

    def values_and_gradient_from_logits(self, y_true, z):
        raise NotImplementedError(f"{type(self).__name__} has no logits form")

    def get_config(self):
        return {
            **super().get_config(),
            "apply_class_balancing": self.apply_class_balancing,
            "alpha": self.alpha,
            "gamma": self.gamma,
        }


class CategoricalFocalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with each class's term scaled by
    ``alpha * (1 - q)**gamma``, ``q`` the probabilities divided by their sum and clipped to
    ``[eps, 1 - eps]`` (``keras.losses.categorical_focal_crossentropy``,
    ``keras/src/losses/losses.py``); with ``from_logits`` ``q`` is the softmax.
    """

    name = "categorical_focal_crossentropy"
    fused_activation = None

    def __init__(
        self,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction="sum_over_batch_size",
        name=None,
        **kwargs,
    ) -> None:
        super().__init__(
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
            reduction=reduction,
            name=name,
            **kwargs,
        )
        self.alpha = float(_check_number(alpha, "alpha", 0.0, math.inf, low_open=False))
        self.gamma = float(_check_number(gamma, "gamma", 0.0, math.inf, low_open=False))

    def values_and_gradient(self, y_true, y_pred):
        t = self._smooth(y_true)
        p = np.exp(_log_softmax(y_pred)) if self.from_logits else y_pred
        total = p.sum(axis=-1, keepdims=True)
        q = p / total
        eps = config.epsilon()
        qc = np.clip(q, eps, 1 - eps)
        factor = np.power(1 - qc, self.gamma)
        values = np.sum(self.alpha * factor * (-t * np.log(qc)), axis=-1)
        g = (
            self.alpha
            * (_power_slope(1 - qc, self.gamma) * t * np.log(qc) - factor * t / qc)
            * ((q > eps) & (q < 1 - eps))
        )
        grad = (g - np.sum(g * q, axis=-1, keepdims=True)) / total  # through q = p / sum(p)
        if self.from_logits:  # through the softmax
            grad = p * (grad - np.sum(grad * p, axis=-1, keepdims=True))
        return values.astype(y_pred.dtype), grad.astype(y_pred.dtype)

    def values(self, y_true, y_pred):
        return self.values_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true, y_pred):
        return self.values_and_gradient(y_true, y_pred)[1]

    def values_and_gradient_from_logits(self, y_true, z, smoothed: bool = False):
        raise NotImplementedError(f"{type(self).__name__} has no logits form")

    def fused_step(self, y_true, z, sample_weight=None, rows_sum_to_one=False):
        return Loss.fused_step(self, y_true, z, sample_weight, rows_sum_to_one)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma}


class _OverlapLoss(Loss):
    """Dice and Tversky: one minus an overlap ratio of sums over ``axis``. With
    ``axis=None`` (Keras's default) the sums run over the whole batch, so the loss is one
    number per call; with ``axis=-1`` one per row. Other axes are refused."""

    def __init__(self, reduction="sum_over_batch_size", name=None, axis=None, **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        if axis is not None:
            _last_axis_only(axis, self.name)
        self.axis = axis

    def _sums(self, y_true, y_pred):
        raise NotImplementedError

    def values_and_gradient(self, y_true, y_pred):
        axis = None if self.axis is None else -1
        values, grad = self._ratio_and_slope(y_true, y_pred, axis)
        return (1 - values).astype(y_pred.dtype), (-grad).astype(y_pred.dtype)

    def values(self, y_true, y_pred):
        return self.values_and_gradient(y_true, y_pred)[0]

    def gradient(self, y_true, y_pred):
        return self.values_and_gradient(y_true, y_pred)[1]

    def reduced(self, y_true, y_pred, sample_weight=None):
        if self.axis is not None:
            return super().reduced(y_true, y_pred, sample_weight)
        if sample_weight is not None:
            raise ValueError(
                f"{type(self).__name__}(axis=None) is one number per batch: glassnet takes no "
                "sample_weight with it; use axis=-1 for one loss per row"
            )
        return self.values_and_gradient(y_true, y_pred)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.axis is None and sample_weight is not None:
            self.reduced(y_true, y_pred, sample_weight)  # the refusal
        return super().__call__(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dice(_OverlapLoss):
    """``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + epsilon)``
    (``keras.losses.dice``, ``keras/src/losses/losses.py``)."""

    name = "dice"

    def _ratio_and_slope(self, t, p, axis):
        keep = axis is not None
        inter = np.sum(t * p, axis=axis, keepdims=keep)
        den = np.sum(t, axis=axis, keepdims=keep) + np.sum(p, axis=axis, keepdims=keep)
        den = den + config.epsilon()
        ratio = 2 * inter / den
        slope = (2 * t * den - 2 * inter) / den**2
        return (ratio[..., 0] if keep else ratio), slope


class Tversky(_OverlapLoss):
    """``1 - TP / (TP + alpha FP + beta FN + epsilon)`` with ``TP = sum(y_true y_pred)``,
    ``FP = sum((1 - y_pred) y_true)`` and ``FN = sum(y_pred (1 - y_true))``, as Keras's
    ``tversky`` computes them (``keras/src/losses/losses.py``)."""

    name = "tversky"

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        reduction="sum_over_batch_size",
        name=None,
        axis=None,
        **kwargs,
    ):
        super().__init__(reduction=reduction, name=name, axis=axis, **kwargs)
        self.alpha = float(_check_number(alpha, "alpha", 0.0, math.inf, low_open=False))
        self.beta = float(_check_number(beta, "beta", 0.0, math.inf, low_open=False))

    def _ratio_and_slope(self, t, p, axis):
        keep = axis is not None
        tp = np.sum(t * p, axis=axis, keepdims=keep)
        fp = np.sum((1 - p) * t, axis=axis, keepdims=keep)
        fn = np.sum(p * (1 - t), axis=axis, keepdims=keep)
        den = tp + self.alpha * fp + self.beta * fn + config.epsilon()
        ratio = tp / den
        dden = t - self.alpha * t + self.beta * (1 - t)
        slope = (t * den - tp * dden) / den**2
        return (ratio[..., 0] if keep else ratio), slope

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta}


class FunctionLoss(Loss):
    """Wraps a user's function ``f(y_true, y_pred)``; slopes by central differences.

    As in Keras (``LossFunctionWrapper``), whatever ``f`` returns is weighted and reduced:
    one loss per row, one per element (the reduction then takes their mean), or a scalar
    (left unreduced). Slow and approximate; for training write a ``Loss`` subclass with an
    exact ``gradient``.
    """

    def __init__(self, fn: Callable, name: str | None = None) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "custom_loss"))
        self.fn = fn

    def values(self, y_true, y_pred):
        return np.asarray(self.fn(y_true, y_pred), dtype=y_pred.dtype)

    @staticmethod
    def _central_differences(f: Callable, y_pred: np.ndarray) -> np.ndarray:
        flat = y_pred.astype(np.float64).ravel()
        grad = np.empty_like(flat)
        for i in range(flat.size):
            h = 1e-6 * max(1.0, abs(flat[i]))
            up, down = flat.copy(), flat.copy()
            up[i] += h
            down[i] -= h
            grad[i] = (f(up.reshape(y_pred.shape)) - f(down.reshape(y_pred.shape))) / (2 * h)
        return grad.reshape(y_pred.shape).astype(y_pred.dtype)

    def gradient(self, y_true, y_pred):
        return self._central_differences(lambda p: float(self.values(y_true, p).sum()), y_pred)

    def reduced(self, y_true, y_pred, sample_weight=None):
        # The function's values need not be one per row of y_pred (nor independent of the
        # other rows), so the slope is that of the reduced loss itself.
        loss = self.reduce(self.values(y_true, y_pred), sample_weight)
        grad = self._central_differences(
            lambda p: self.reduce(self.values(y_true, p), sample_weight), y_pred
        )
        return loss, grad


for _cls, _names in [
    (MeanSquaredError, ("mean_squared_error", "mse", "MeanSquaredError")),
    (MeanAbsoluteError, ("mean_absolute_error", "mae", "MeanAbsoluteError")),
    (MeanAbsolutePercentageError, ("mean_absolute_percentage_error", "mape")),
    (MeanSquaredLogarithmicError, ("mean_squared_logarithmic_error", "msle")),
    (Huber, ("huber", "huber_loss")),
    (LogCosh, ("log_cosh", "logcosh")),
    (Poisson, ("poisson",)),
    (KLDivergence, ("kl_divergence", "kld", "kullback_leibler_divergence")),
    (Hinge, ("hinge",)),
    (SquaredHinge, ("squared_hinge",)),
    (BinaryCrossentropy, ("binary_crossentropy", "bce")),
    (CategoricalCrossentropy, ("categorical_crossentropy", "cce")),
    (SparseCategoricalCrossentropy, ("sparse_categorical_crossentropy", "scce")),
    (CategoricalHinge, ("categorical_hinge",)),
    (CosineSimilarity, ("cosine_similarity",)),
    (BinaryFocalCrossentropy, ("binary_focal_crossentropy",)),
    (CategoricalFocalCrossentropy, ("categorical_focal_crossentropy",)),
    (Dice, ("dice",)),
    (Tversky, ("tversky",)),
]:
    _registry.register(_cls, *_names)


def get(identifier: str | Loss | Callable | dict) -> Loss:
    """Resolves a loss from a Keras name or alias, a ``Loss``, a config or a function.

    Raises:
        ValueError: for an unknown name, listing the valid ones and the closest match.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        return _registry.lookup(identifier)()
    if isinstance(identifier, dict):
        cls = _registry.lookup(identifier["class_name"])
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier):
        known = _FUNCTIONS.get(identifier)
        return known() if known else FunctionLoss(identifier)
    raise TypeError(f"`loss` must be a name, a Loss or a function. Received: loss={identifier!r}")


def names() -> list[str]:
    """Every loss name glassnet knows, aliases included."""
    return _registry.names()


def _function(cls: type[Loss]) -> Callable:
    def loss_fn(y_true, y_pred, **kwargs):
        # The loss object without reduction: the row losses, recorded on an open tape.
        return cls(reduction=None, **kwargs)(y_true, y_pred)

    loss_fn.__name__ = cls.name
    loss_fn.__doc__ = (
        f"Row losses of {cls.__name__} (no reduction), as ``keras.losses.{cls.name}``."
    )
    return loss_fn


mean_squared_error = mse = _function(MeanSquaredError)
mean_absolute_error = mae = _function(MeanAbsoluteError)
mean_absolute_percentage_error = mape = _function(MeanAbsolutePercentageError)
mean_squared_logarithmic_error = msle = _function(MeanSquaredLogarithmicError)
huber = _function(Huber)
log_cosh = _function(LogCosh)
poisson = _function(Poisson)
kl_divergence = _function(KLDivergence)
hinge = _function(Hinge)
squared_hinge = _function(SquaredHinge)
binary_crossentropy = _function(BinaryCrossentropy)
categorical_crossentropy = _function(CategoricalCrossentropy)
sparse_categorical_crossentropy = _function(SparseCategoricalCrossentropy)
categorical_hinge = _function(CategoricalHinge)
cosine_similarity = _function(CosineSimilarity)
binary_focal_crossentropy = _function(BinaryFocalCrossentropy)
categorical_focal_crossentropy = _function(CategoricalFocalCrossentropy)


def dice(y_true, y_pred, axis=None):
    """The Dice loss (``keras.losses.dice``): one number for ``axis=None``, one per row for
    ``axis=-1``."""
    return Dice(reduction=None, axis=axis)(y_true, y_pred)


def tversky(y_true, y_pred, alpha: float = 0.5, beta: float = 0.5, axis=None):
    """The Tversky loss (``keras.losses.tversky``): one number for ``axis=None``, one per
    row for ``axis=-1``."""
    return Tversky(alpha=alpha, beta=beta, reduction=None, axis=axis)(y_true, y_pred)


_FUNCTIONS = {
    f: cls
    for f, cls in [
        (mean_squared_error, MeanSquaredError),
        (mean_absolute_error, MeanAbsoluteError),
        (mean_absolute_percentage_error, MeanAbsolutePercentageError),
        (mean_squared_logarithmic_error, MeanSquaredLogarithmicError),
        (huber, Huber),
        (log_cosh, LogCosh),
        (poisson, Poisson),
        (kl_divergence, KLDivergence),
        (hinge, Hinge),
        (squared_hinge, SquaredHinge),
        (binary_crossentropy, BinaryCrossentropy),
        (categorical_crossentropy, CategoricalCrossentropy),
        (sparse_categorical_crossentropy, SparseCategoricalCrossentropy),
        (categorical_hinge, CategoricalHinge),
        (cosine_similarity, CosineSimilarity),
        (binary_focal_crossentropy, BinaryFocalCrossentropy),
        (categorical_focal_crossentropy, CategoricalFocalCrossentropy),
        (dice, Dice),
        (tversky, Tversky),
    ]
}

_FUNCTION_BY_NAME = {f.__name__: f for f in _FUNCTIONS}
_FUNCTION_BY_NAME.update(mse=mse, mae=mae, mape=mape, msle=msle)


def serialize(loss: Loss | Callable) -> dict:
    """A loss object or a built-in loss function as Keras's serialized dict
    (``keras.losses.serialize``): ``class_name``, ``config``, ``module``,
    ``registered_name``. A user's function cannot be written: wrap it in a ``Loss``
    subclass and register it (``glassnet.utils.register_keras_serializable``)."""
    if isinstance(loss, Loss) and not isinstance(loss, FunctionLoss):
        return {
            "module": "keras.losses",
            "class_name": type(loss).__name__,
            "config": loss.get_config(),
            "registered_name": None,
        }
    if callable(loss) and loss in _FUNCTIONS:
        return {
            "module": "builtins",
            "class_name": "function",
            "config": loss.__name__,
            "registered_name": "function",
        }
    raise TypeError(
        f"`loss` must be a glassnet Loss or one of keras.losses' functions. Received: loss={loss!r}"
    )


def deserialize(name: str | dict, custom_objects: dict | None = None) -> Loss | Callable:
    """The loss a name or a serialized dict describes (``keras.losses.deserialize``).

    A function's name (``"mean_squared_error"``) gives the function, a class's name
    (``"MeanSquaredError"``) or a dict gives a loss object. ``custom_objects`` maps class
    names to the user's own ``Loss`` subclasses; nothing else is ever imported or run.
    An unknown name raises ``ValueError`` (Keras returns the string unchanged).
    """
    custom_objects = dict(custom_objects or {})
    if isinstance(name, str):
        if name in custom_objects:
            found = custom_objects[name]
            return found() if isinstance(found, type) else found
        if name in _FUNCTION_BY_NAME:
            return _FUNCTION_BY_NAME[name]
        return _registry.lookup(name)()
    if isinstance(name, dict) and "class_name" in name:
        if name["class_name"] == "function":
            return deserialize(name.get("config"), custom_objects)
        class_name = name["class_name"]
        cls = custom_objects.get(class_name) or _registry.lookup(class_name)
        if not (isinstance(cls, type) and issubclass(cls, Loss)):
            raise TypeError(f"{class_name!r} in `custom_objects` is not a Loss subclass")
        return cls.from_config(dict(name.get("config") or {}))
    raise TypeError(
        "`name` must be a loss's name or a dict with 'class_name' and 'config'. "
        f"Received: name={name!r}"
    )
