"""``BatchNormalization`` over the last (feature or channel) axis: for rows of features, and
for images or sequences, where each channel's statistics cover every row and position."""

from __future__ import annotations

import math

import numpy as np

from glassnet import initializers as initializers_module
from glassnet import regularizers as regularizers_module
from glassnet._checks import check_number
from glassnet.layers._l2 import l2_normalize, l2_normalize_backward
from glassnet.layers.base import Layer, WeightSpec
from glassnet.layers.config_keys import initializer_config, key, regularizer_config


class BatchNormalization(Layer):
    """Normalises each feature to mean 0 and variance 1, then scales and shifts it.

    In training the batch's own mean and (biased) variance are used, and moving averages are
    updated: ``moving = moving * momentum + batch_value * (1 - momentum)``. At inference the
    moving averages are used. Defaults are Keras's: ``momentum=0.99``, ``epsilon=0.001``.
    Weights, in Keras's order: ``gamma``, ``beta`` (trainable), ``moving_mean``,
    ``moving_variance`` (not trainable).
    """

    # keras/src/layers/normalization/batch_normalization.py, get_config; Keras 2's renorm
    # and ghost-batch keys are read, and refused when set.
    config_keys = (
        key("axis", "last_axis", -1),
        key("momentum", "number", 0.99),
        key("epsilon", "number", 1e-3),
        key("center", "bool", True),
        key("scale", "bool", True),
        key("beta_initializer", "initializer", "zeros"),
        key("gamma_initializer", "initializer", "ones"),
        key("moving_mean_initializer", "initializer", "zeros"),
        key("moving_variance_initializer", "initializer", "ones"),
        key("beta_regularizer", "regularizer"),
        key("gamma_regularizer", "regularizer"),
        key("beta_constraint", "inert"),
        key("gamma_constraint", "inert"),
        key("synchronized", "inert", False, why="it only matters on several devices"),
        key("fused", "ignored"),
        key("renorm", "fixed", allowed=(False,), why="batch renormalization"),
        key("renorm_clipping", "ignored"),
        key("renorm_momentum", "ignored"),
        key("virtual_batch_size", "fixed", allowed=(None,), why="ghost batch normalization"),
        key("adjustment", "fixed", allowed=(None,), why="a custom adjustment function"),
    )

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 0.001,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        for what, value in (
            ("beta_constraint", beta_constraint),
            ("gamma_constraint", gamma_constraint),
        ):
            if value is not None:
                raise NotImplementedError(
                    f"BatchNormalization does not support `{what}` yet (received {value!r})"
                )
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis == 0:
            raise NotImplementedError("BatchNormalization supports only the feature axis (-1)")
        self.axis = axis
        self.momentum = check_number(momentum, "momentum", 0.0, 1.0)
        self.epsilon = check_number(epsilon, "epsilon", 0.0, math.inf, low_open=True)
        for what, flag in (("center", center), ("scale", scale)):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"`{what}` must be True or False. Received: {what}={flag!r}")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.moving_mean_initializer = initializers_module.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_module.get(moving_variance_initializer)
        self.beta_regularizer = regularizers_module.get(beta_regularizer)
        self.gamma_regularizer = regularizers_module.get(gamma_regularizer)

    def weight_specs(self, input_shape):
        if self.axis not in (-1, len(input_shape)):
            raise NotImplementedError(
                f"BatchNormalization {self.name!r} supports only the last axis (-1, the "
                f"features or channels-last channels); received axis={self.axis} for rows of "
                f"shape {tuple(input_shape)}"
            )
        n = input_shape[-1]
        specs = []
        if self.scale:
            specs.append(
                WeightSpec(
                    "gamma", (n,), self.gamma_initializer, regularizer=self.gamma_regularizer
                )
            )
        if self.center:
            specs.append(
                WeightSpec("beta", (n,), self.beta_initializer, regularizer=self.beta_regularizer)
            )
        specs.append(WeightSpec("moving_mean", (n,), self.moving_mean_initializer, trainable=False))
        specs.append(
            WeightSpec("moving_variance", (n,), self.moving_variance_initializer, trainable=False)
        )
        return specs

    def forward(self, x, training=False):
        """The output, and ``(x_hat, inv_std, training)`` for backward."""
        axes = tuple(range(x.ndim - 1))  # every axis but the features' (channels')
        if training:
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            m = self.momentum
            self.moving_mean[...] = self.moving_mean * m + mean * (1 - m)
            self.moving_variance[...] = self.moving_variance * m + var * (1 - m)
        else:
            mean, var = self.moving_mean, self.moving_variance
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.epsilon))
        x_hat = (x - mean) * inv_std
        out = x_hat * self.gamma if self.scale else x_hat
        out = out + self.beta if self.center else out
        return out, (x_hat, inv_std, training)

    def backward(self, records, grad_out, need_grad_input=True):
        x_hat, inv_std, training = records
        axes = tuple(range(grad_out.ndim - 1))
        if self.trainable:
            if self.scale:
                np.sum(grad_out * x_hat, axis=axes, out=self.grad_gamma)
            if self.center:
                np.sum(grad_out, axis=axes, out=self.grad_beta)
        if not need_grad_input:
            return None
        g = grad_out * self.gamma if self.scale else grad_out
        if not training:  # fixed moving statistics: a per-feature affine map
            return g * inv_std
        # Slope through the batch statistics (mean and variance depend on every row).
        g_mean = g.mean(axis=axes)
        gx_mean = (g * x_hat).mean(axis=axes)
        return (g - g_mean - x_hat * gx_mean) * inv_std

    def get_config(self):

        return {
            **super().get_config(),
            "axis": -1,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializer_config(self.beta_initializer),
            "gamma_initializer": initializer_config(self.gamma_initializer),
            "moving_mean_initializer": initializer_config(self.moving_mean_initializer),
            "moving_variance_initializer": initializer_config(self.moving_variance_initializer),
            "beta_regularizer": regularizer_config(self.beta_regularizer),
            "gamma_regularizer": regularizer_config(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        }


def _full_axes(axis, rank: int, layer) -> tuple[int, ...]:
    """``axis`` (an int or a list, counted with the batch axis) as sorted positive axes of
    tensors of ``rank`` axes, the batch axis excluded, or a ``ValueError`` naming them."""
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    full = []
    for a in axes:
        if not -rank <= a < rank or a % rank == 0:
            raise ValueError(
                f"Axis {a} is out of bounds for input shape {(None, *layer.input_shape)}. "
                f"Received: axis={layer.axis}"
            )
        full.append(a % rank)
    return tuple(sorted(set(full)))


def _axis_argument(axis, layer: str):
    """Keras's check of an ``axis`` argument: an int or a list/tuple of ints."""
    if isinstance(axis, (list, tuple)) and all(
        isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis
    ):
        return [int(a) for a in axis]
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    raise TypeError(
        f"Expected an int or a list/tuple of ints for the argument 'axis' of {layer}, but "
        f"received: {axis!r}"
    )


class LayerNormalization(Layer):
    """Normalises each row (over ``axis``) to mean 0 and variance 1, then scales by
    ``gamma`` and shifts by ``beta`` (``keras/src/layers/normalization/layer_normalization.py``).

    Unlike ``BatchNormalization`` it uses the statistics of each row alone, the same in
    training and inference.

    Args:
        axis: the axis or axes to normalise over, counted with the batch axis (``-1``: the
            last); ``gamma`` and ``beta`` have those axes' sizes.
        epsilon: added to the variance.
        center, scale: whether to learn ``beta`` and ``gamma``.
    """

    config_keys = (
        key("axis", "ints", -1, minimum=-32),
        key("epsilon", "number", 1e-3, minimum=0),
        key("center", "bool", True),
        key("scale", "bool", True),
        key("rms_scaling", "fixed", allowed=(False,), why="the deprecated rms_scaling option"),
        key("beta_initializer", "initializer", "zeros"),
        key("gamma_initializer", "initializer", "ones"),
        key("beta_regularizer", "regularizer"),
        key("gamma_regularizer", "regularizer"),
        key("beta_constraint", "inert"),
        key("gamma_constraint", "inert"),
    )

    def __init__(
        self,
        axis=-1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ) -> None:
        if kwargs.pop("rms_scaling", False):
            raise NotImplementedError(
                "LayerNormalization(rms_scaling=True) is deprecated in Keras and not "
                "supported; use RMS normalization instead"
            )
        super().__init__(**kwargs)
        for what, value in (
            ("beta_constraint", beta_constraint),
            ("gamma_constraint", gamma_constraint),
        ):
            if value is not None:
                raise NotImplementedError(
                    f"LayerNormalization does not support `{what}` yet (received {value!r})"
                )
        if isinstance(axis, tuple) and len(axis) == 1:  # one integer, as a file gives it
            axis = axis[0]
        self.axis = _axis_argument(axis, "LayerNormalization")
        self.epsilon = check_number(epsilon, "epsilon", 0.0, math.inf)
        for what, flag in (("center", center), ("scale", scale)):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"`{what}` must be True or False. Received: {what}={flag!r}")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.beta_regularizer = regularizers_module.get(beta_regularizer)
        self.gamma_regularizer = regularizers_module.get(gamma_regularizer)

    def weight_specs(self, input_shape):
        self.input_shape = tuple(input_shape)
        axes = _full_axes(self.axis, len(input_shape) + 1, self)
        shape = tuple(input_shape[a - 1] for a in axes)
        specs = []
        if self.scale:
            specs.append(
                WeightSpec(
                    "gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer
                )
            )
        if self.center:
            specs.append(
                WeightSpec("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer)
            )
        return specs

    def _axes_and_shape(self, x):
        axes = _full_axes(self.axis, x.ndim, self)
        broadcast = tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))
        return axes, broadcast

    def forward(self, x, training=False):
        """The output, and ``(x_hat, inv_std)`` for backward."""
        axes, broadcast = self._axes_and_shape(x)
        mean = x.mean(axis=axes, keepdims=True)
        var = np.square(x - mean).mean(axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.epsilon))
        x_hat = (x - mean) * inv_std
        out = x_hat * self.gamma.reshape(broadcast) if self.scale else x_hat
        if self.center:
            out = out + self.beta.reshape(broadcast)
        return out, (x_hat, inv_std)

    def backward(self, records, grad_out, need_grad_input=True):
        x_hat, inv_std = records
        axes, broadcast = self._axes_and_shape(x_hat)
        others = tuple(i for i in range(x_hat.ndim) if i not in axes)
        if self.trainable:
            if self.scale:
                self.grad_gamma[...] = (
                    (grad_out * x_hat).sum(axis=others).reshape(self.grad_gamma.shape)
                )
            if self.center:
                self.grad_beta[...] = grad_out.sum(axis=others).reshape(self.grad_beta.shape)
        if not need_grad_input:
            return None
        g = grad_out * self.gamma.reshape(broadcast) if self.scale else grad_out
        g_mean = g.mean(axis=axes, keepdims=True)
        gx_mean = (g * x_hat).mean(axis=axes, keepdims=True)
        return (g - g_mean - x_hat * gx_mean) * inv_std

    def get_config(self):

        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": False,
            "beta_initializer": initializer_config(self.beta_initializer),
            "gamma_initializer": initializer_config(self.gamma_initializer),
            "beta_regularizer": regularizer_config(self.beta_regularizer),
            "gamma_regularizer": regularizer_config(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        }


class UnitNormalization(Layer):
    """Scales each row to unit L2 norm along ``axis``: ``x / max(|x|, 1e-12)``
    (``keras/src/layers/normalization/unit_normalization.py``).

    Args:
        axis: the axis or axes of the norm, counted with the batch axis (``-1``: the last).
    """

    config_keys = (key("axis", "ints", -1, minimum=-32),)

    def __init__(self, axis=-1, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, tuple) and len(axis) == 1:
            axis = axis[0]
        self.axis = _axis_argument(axis, "UnitNormalization")

    def compute_output_shape(self, input_shape):
        self.input_shape = tuple(input_shape)
        _full_axes(self.axis, len(input_shape) + 1, self)
        return input_shape

    def forward(self, x, training=False):
        axes = _full_axes(self.axis, x.ndim, self)
        y, saved = l2_normalize(x, axes, 1e-12)
        return y, (y, saved, axes)

    def backward(self, records, grad_out, need_grad_input=True):
        y, saved, axes = records
        return l2_normalize_backward(y, saved, grad_out, axes)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class GroupNormalization(Layer):
    """Splits the channels (``axis``) into ``groups`` and normalises each group of each
    sample over its channels and every other non-batch axis, then scales by ``gamma`` and
    shifts by ``beta``, one per channel
    (``keras/src/layers/normalization/group_normalization.py``). ``groups=-1`` puts each
    channel in its own group (instance normalization); one group is layer normalization
    over all axes.

    Args:
        groups: how many groups; must divide the number of channels.
        axis: the channel axis (``-1``: the last).
        epsilon: added to the variance.
        center, scale: whether to learn ``beta`` and ``gamma``.
    """

    config_keys = (
        key("groups", "int", 32, minimum=-1),
        key("axis", "int", -1, minimum=-32),
        key("epsilon", "number", 1e-3, minimum=0),
        key("center", "bool", True),
        key("scale", "bool", True),
        key("beta_initializer", "initializer", "zeros"),
        key("gamma_initializer", "initializer", "ones"),
        key("beta_regularizer", "regularizer"),
        key("gamma_regularizer", "regularizer"),
        key("beta_constraint", "inert"),
        key("gamma_constraint", "inert"),
    )

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if (
            isinstance(groups, bool)
            or not isinstance(groups, int)
            or (groups <= 0 and groups != -1)
        ):
            raise ValueError(
                f"Argument `groups` must be a positive integer or -1. Received: groups={groups!r}"
            )
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis == 0:
            raise ValueError(f"`axis` must be a non-batch axis. Received: axis={axis!r}")
        for what, value in (
            ("beta_constraint", beta_constraint),
            ("gamma_constraint", gamma_constraint),
        ):
            if value is not None:
                raise NotImplementedError(
                    f"GroupNormalization does not support `{what}` yet (received {value!r})"
                )
        self.groups, self.axis = groups, int(axis)
        self.epsilon = check_number(epsilon, "epsilon", 0.0, math.inf)
        for what, flag in (("center", center), ("scale", scale)):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"`{what}` must be True or False. Received: {what}={flag!r}")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.beta_regularizer = regularizers_module.get(beta_regularizer)
        self.gamma_regularizer = regularizers_module.get(gamma_regularizer)

    def weight_specs(self, input_shape):
        self.input_shape = tuple(input_shape)
        rank = len(input_shape) + 1
        axis = self.axis % rank
        if axis == 0:
            raise ValueError(f"`axis` must be a non-batch axis. Received: axis={self.axis}")
        channels = input_shape[axis - 1]
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of "
                f"channels ({channels})."
            )
        if channels % self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of "
                f"channels ({channels})."
            )
        specs = []
        if self.scale:
            specs.append(
                WeightSpec(
                    "gamma", (channels,), self.gamma_initializer, regularizer=self.gamma_regularizer
                )
            )
        if self.center:
            specs.append(
                WeightSpec(
                    "beta", (channels,), self.beta_initializer, regularizer=self.beta_regularizer
                )
            )
        return specs

    def _grouped(self, x):
        """``x`` with its channels last, split into ``(groups, channels // groups)``, and the
        axes each group's statistics run over."""
        last = np.moveaxis(x, self.axis, -1)
        channels = last.shape[-1]
        grouped = last.reshape(last.shape[:-1] + (self.groups, channels // self.groups))
        axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
        return grouped, axes

    def _back(self, grouped, shape):
        """A grouped array back in the input's layout."""
        moved = np.moveaxis(np.empty(shape, dtype=bool), self.axis, -1).shape
        return np.moveaxis(grouped.reshape(moved), -1, self.axis)

    def forward(self, x, training=False):
        """The output, and ``(x_hat, inv_std)`` in the grouped layout for backward."""
        grouped, axes = self._grouped(x)
        mean = grouped.mean(axis=axes, keepdims=True)
        var = np.square(grouped - mean).mean(axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.epsilon))
        x_hat = (grouped - mean) * inv_std
        out = self._back(x_hat, x.shape)
        shape = [1] * x.ndim
        shape[self.axis] = -1
        if self.scale:
            out = out * self.gamma.reshape(shape)
        if self.center:
            out = out + self.beta.reshape(shape)
        return out, (x_hat, inv_std, x.shape)

    def backward(self, records, grad_out, need_grad_input=True):
        x_hat_grouped, inv_std, shape = records
        x_hat = self._back(x_hat_grouped, shape)
        others = tuple(i for i in range(len(shape)) if i != self.axis % len(shape))
        if self.trainable:
            if self.scale:
                self.grad_gamma[...] = (grad_out * x_hat).sum(axis=others)
            if self.center:
                self.grad_beta[...] = grad_out.sum(axis=others)
        if not need_grad_input:
            return None
        broadcast = [1] * len(shape)
        broadcast[self.axis] = -1
        g = grad_out * self.gamma.reshape(broadcast) if self.scale else grad_out
        g, axes = self._grouped(g)
        g_mean = g.mean(axis=axes, keepdims=True)
        gx_mean = (g * x_hat_grouped).mean(axis=axes, keepdims=True)
        return self._back((g - g_mean - x_hat_grouped * gx_mean) * inv_std, shape)

    def get_config(self):

        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializer_config(self.beta_initializer),
            "gamma_initializer": initializer_config(self.gamma_initializer),
            "beta_regularizer": regularizer_config(self.beta_regularizer),
            "gamma_regularizer": regularizer_config(self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        }
