"""Activation layers with arguments of their own: ``Softmax``, ``ReLU``, ``LeakyReLU``,
``PReLU`` and ``ELU`` (``keras/src/layers/activations/``).

Each but ``PReLU`` is an ``Activation`` layer whose function is fixed by the class and its
arguments, so a model runs, records and (for ``Softmax`` with a cross-entropy) fuses it as it
does ``Activation("softmax")``; only their configs differ, written as Keras 3 writes them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from glassnet import activations as activations_module
from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import initializer_config, key, regularizer_config
from glassnet.layers.core import Activation


def _non_negative(value, what: str, layer: str, allow_none: bool = False) -> float | None:
    """``value`` as a float >= 0 (or ``None`` when allowed), or a ``ValueError`` as Keras's."""
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"{what} of a {layer} layer cannot be None or a negative value. "
            f"Received: {what}={value!r}"
        )
    return float(value)


class _FixedActivation(Activation):
    """An ``Activation`` layer whose function the subclass makes from its arguments."""

    config_keys = ()

    def __init__(self, function: activations_module.ActivationFunction, **kwargs) -> None:
        Layer.__init__(self, **kwargs)
        self.activation = function

    def get_config(self):
        return Layer.get_config(self)


class Softmax(_FixedActivation):
    """``exp(x) / sum(exp(x))`` along ``axis`` (``keras/src/layers/activations/softmax.py``).

    Args:
        axis: the axis of each distribution, counted with the batch axis (``-1``: the
            last). A model ending in ``Softmax()`` trains with a cross-entropy fused with it.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Softmax
        >>> Softmax()(np.array([[0.0, np.log(3.0)]])).round(3)
        array([[0.25, 0.75]], dtype=float32)
    """

    config_keys = (key("axis", "int", -1, minimum=-32),)

    def __init__(self, axis: int = -1, **kwargs) -> None:
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        super().__init__(activations_module.Softmax(axis=int(axis)), **kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        if not -len(input_shape) - 1 <= self.axis <= len(input_shape):
            raise ValueError(
                f"Softmax {self.name!r}: axis={self.axis} is out of range for inputs of rank "
                f"{len(input_shape) + 1} (rows of shape {tuple(input_shape)})"
            )
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class _ReLUFunction(activations_module.ActivationFunction):
    """Keras's ``relu(x, negative_slope, max_value, threshold)``
    (``keras/src/activations/activations.py``): ``x`` above ``threshold`` (capped at
    ``max_value``), ``negative_slope * (x - threshold)`` below it, 0 at it."""

    name = "relu"

    def __init__(self, negative_slope: float, max_value: float | None, threshold: float):
        self.negative_slope, self.max_value, self.threshold = negative_slope, max_value, threshold

    def __call__(self, z):
        t = z.dtype.type(self.threshold)
        a = np.where(z > t, z, z.dtype.type(0))
        if self.max_value is not None:
            a = np.minimum(a, z.dtype.type(self.max_value))
        if self.negative_slope:
            a = a - z.dtype.type(self.negative_slope) * np.maximum(t - z, 0)
        return a

    def slope(self, z, a):
        inside = z > self.threshold
        if self.max_value is not None:
            inside &= z < self.max_value
        slope = inside.astype(z.dtype)
        if self.negative_slope:
            slope[z < self.threshold] = self.negative_slope
        return slope


class ReLU(_FixedActivation):
    """The rectified linear unit with Keras's options
    (``keras/src/layers/activations/relu.py``).

    Args:
        max_value: the largest output (``None``: no cap); not negative.
        negative_slope: the slope below ``threshold``; not negative.
        threshold: inputs at or below it give no positive output; not negative.
    """

    config_keys = (
        key("max_value", "statistic"),
        key("negative_slope", "number", 0.0, minimum=0),
        key("threshold", "number", 0.0, minimum=0),
    )

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs) -> None:
        if isinstance(max_value, list) and len(max_value) == 1:  # as the file reader gives it
            max_value = max_value[0]
        self.max_value = _non_negative(max_value, "max_value", "ReLU", allow_none=True)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "ReLU")
        self.threshold = _non_negative(threshold, "threshold", "ReLU")
        super().__init__(
            _ReLUFunction(self.negative_slope, self.max_value, self.threshold), **kwargs
        )

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(_FixedActivation):
    """``x`` where positive, ``negative_slope * x`` elsewhere
    (``keras/src/layers/activations/leaky_relu.py``; the layer's default slope is 0.3).

    Args:
        negative_slope: not negative; ``alpha``, Keras 2's name, is accepted with a warning.
    """

    config_keys = (key("negative_slope", "number", 0.3, minimum=0),)

    def __init__(self, negative_slope=0.3, **kwargs) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2
            )
        if (
            negative_slope is None
            or not isinstance(negative_slope, (int, float, np.number))
            or (
                isinstance(negative_slope, bool)
                or not math.isfinite(negative_slope)
                or negative_slope < 0
            )
        ):
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)
        super().__init__(activations_module.LeakyReLU(self.negative_slope), **kwargs)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_FixedActivation):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere
    (``keras/src/layers/activations/elu.py``).

    Keras 3 leaves ``alpha`` out of the layer's config; glassnet writes it (Keras reads it
    back) so that a saved ``ELU(alpha=0.5)`` stays one.
    """

    config_keys = (key("alpha", "number", 1.0),)

    def __init__(self, alpha=1.0, **kwargs) -> None:
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, (int, float, np.number))
            or (not math.isfinite(alpha))
        ):
            raise ValueError(f"`alpha` must be a finite number. Received: alpha={alpha!r}")
        self.alpha = float(alpha)
        super().__init__(activations_module.Elu(self.alpha), **kwargs)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """A leaky ReLU whose negative slopes ``alpha`` are learned
    (``keras/src/layers/activations/prelu.py``): ``max(x, 0) - alpha * max(-x, 0)``.

    Args:
        alpha_initializer: Keras default ``"Zeros"``.
        alpha_regularizer: optional penalty on ``alpha``.
        alpha_constraint: not supported (``None`` only).
        shared_axes: axes (counted with the batch axis, so ``1`` is the first of a row) along
            which one ``alpha`` is shared, e.g. ``[1, 2]`` for one slope per channel of an
            image.
    """

    config_keys = (
        key("alpha_initializer", "initializer", "zeros"),
        key("alpha_regularizer", "regularizer"),
        key("alpha_constraint", "inert"),
        key("shared_axes", "statistic"),
    )

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise NotImplementedError(
                f"PReLU does not support `alpha_constraint` yet (received {alpha_constraint!r})"
            )
        self.alpha_initializer = initializers_module.get(alpha_initializer)
        self.alpha_regularizer = regularizers_module.get(alpha_regularizer)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            for axis in axes:
                if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis < 1:
                    raise ValueError(
                        "`shared_axes` must be positive axes (1 is the first axis of a row). "
                        f"Received: shared_axes={shared_axes!r}"
                    )
            self.shared_axes = [int(a) for a in axes]

    def weight_specs(self, input_shape):
        shape = list(input_shape)
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(
                    f"PReLU {self.name!r}: shared axis {axis} is out of range for rows of shape "
                    f"{tuple(input_shape)}"
                )
            shape[axis - 1] = 1
        return [
            WeightSpec(
                "alpha", tuple(shape), self.alpha_initializer, regularizer=self.alpha_regularizer
            )
        ]

    def forward(self, x, training=False):
        negative = np.minimum(x, 0)
        return np.maximum(x, 0) + self.alpha * negative, (x, negative)

    def backward(self, records, grad_out, need_grad_input=True):
        x, negative = records
        if self.trainable:
            grad = grad_out * negative
            shared = tuple(i for i, n in enumerate(self.alpha.shape, 1) if n == 1)
            self.grad_alpha[...] = grad.sum(axis=(0, *shared), keepdims=True)[0]
        if not need_grad_input:
            return None
        return grad_out * np.where(x > 0, x.dtype.type(1), self.alpha)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializer_config(self.alpha_initializer),
            "alpha_regularizer": regularizer_config(self.alpha_regularizer),
            "alpha_constraint": None,
            "shared_axes": self.shared_axes,
        }
