"""Regularization layers that act only in training: ``GaussianNoise``, ``GaussianDropout``,
and ``ActivityRegularization`` (``keras/src/layers/regularization/``)."""

from __future__ import annotations

import math

import numpy as np

from glassnet.layers.base import Layer
from glassnet.layers.config_keys import key
from glassnet.utils.seeding import new_generator


def _unit_interval(value, what: str) -> float:
    """``value`` as a float in [0, 1], or Keras's ``ValueError``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 <= value <= 1
    ):
        raise ValueError(
            f"Invalid value received for argument `{what}`. Expected a float value between "
            f"0 and 1. Received: {what}={value!r}"
        )
    return float(value)


class GaussianNoise(Layer):
    """Adds noise drawn from ``N(0, stddev**2)`` in training; passes inputs through at
    inference (``keras/src/layers/regularization/gaussian_noise.py``).

    Args:
        stddev: the noise's standard deviation, in [0, 1].
        seed: fixes the noise; otherwise it comes from the global seed.
    """

    config_keys = (key("stddev", "number", minimum=0), key("seed", "seed"))

    def __init__(self, stddev: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stddev = _unit_interval(stddev, "stddev")
        self.seed = seed
        self.rng = new_generator(seed)

    def forward(self, x, training=False):
        if not training or self.stddev == 0:
            return x, None
        return x + self.rng.normal(0.0, self.stddev, size=x.shape).astype(x.dtype), None

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies inputs by noise drawn from ``N(1, rate / (1 - rate))`` in training;
    passes them through at inference (``keras/src/layers/regularization/gaussian_dropout.py``).

    Args:
        rate: the drop probability of the equivalent ``Dropout``, in [0, 1].
        seed: fixes the noise; otherwise it comes from the global seed.
    """

    config_keys = (key("rate", "number", minimum=0), key("seed", "seed"))

    def __init__(self, rate: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate = _unit_interval(rate, "rate")
        self.seed = seed
        self.rng = new_generator(seed)

    def forward(self, x, training=False):
        """The output and the noise it multiplied by (``None`` at inference)."""
        if not training or self.rate == 0:
            return x, None
        stddev = math.sqrt(self.rate / (1.0 - self.rate)) if self.rate < 1 else math.inf
        noise = self.rng.normal(1.0, stddev, size=x.shape).astype(x.dtype)
        return x * noise, noise

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out if records is None else grad_out * records

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class ActivityRegularization(Layer):
    """Passes its input through and penalises it with
    ``(l1 * sum(|x|) + l2 * sum(x**2)) / rows``, Keras's activity penalty
    (``keras/src/layers/regularization/activity_regularization.py``, and ``layer.py``, which
    divides it by the batch size).

    The penalty's slope is added to the slope passed down (``backward``), so training takes
    Keras's steps. ``activity_penalty(records)`` gives the penalty of a recorded pass.

    Args:
        l1, l2: the penalty factors (not negative).
    """

    config_keys = (key("l1", "number", 0.0, minimum=0), key("l2", "number", 0.0, minimum=0))

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        for what, value in (("l1", l1), ("l2", l2)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.integer, np.floating))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"`{what}` must be a non-negative number. Received: {what}={value!r}"
                )
        self.l1, self.l2 = float(l1), float(l2)

    def forward(self, x, training=False):
        return x, x

    def activity_penalty(self, records) -> float:
        """The penalty of the input recorded by ``forward``."""
        x = records
        rows = max(len(x), 1) if x.ndim else 1
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(x).sum())
        if self.l2:
            total += self.l2 * float(np.square(x).sum())
        return total / rows

    def backward(self, records, grad_out, need_grad_input=True):
        x = records
        rows = max(len(x), 1) if x.ndim else 1
        grad = grad_out
        if self.l1:
            grad = grad + x.dtype.type(self.l1 / rows) * np.sign(x)
        if self.l2:
            grad = grad + x.dtype.type(2 * self.l2 / rows) * x
        return grad

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}


_SELU_ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """Dropout that keeps a SELU network's mean and variance: in training each dropped value
    becomes SELU's negative saturation ``alpha'`` and the result is scaled and shifted by
    ``a`` and ``b`` (``keras/src/layers/regularization/alpha_dropout.py``):
    ``a = ((1 - rate)(1 + rate alpha'**2))**-0.5``, ``b = -a alpha' rate``. At inference it
    passes inputs through.

    Args:
        rate: the drop probability, in [0, 1].
        noise_shape: the shape of the keep/drop mask, broadcast over the input (``None``
            entries take the input's size); None for one draw per element.
        seed: fixes the mask; otherwise it comes from the global seed.
    """

    config_keys = (
        key("rate", "number", minimum=0),
        key("noise_shape", "fixed", allowed=(None,)),
        key("seed", "seed"),
    )

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _unit_interval(rate, "rate")
        if noise_shape is not None and not (
            isinstance(noise_shape, (list, tuple))
            and all(d is None or (isinstance(d, int) and d > 0) for d in noise_shape)
        ):
            raise ValueError(
                "`noise_shape` must be None or a list of positive integers or None. "
                f"Received: noise_shape={noise_shape!r}"
            )
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.rng = new_generator(seed)

    def _mask_shape(self, shape: tuple) -> tuple:
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(
                f"`noise_shape` {self.noise_shape} does not fit inputs of shape {shape}"
            )
        return tuple(s if d is None else d for d, s in zip(self.noise_shape, shape, strict=True))

    def forward(self, x, training=False):
        """The output and ``a`` times the keep mask (``None`` at inference)."""
        if not training or self.rate == 0:
            return x, None
        kept = (self.rng.uniform(size=self._mask_shape(x.shape)) >= self.rate).astype(x.dtype)
        a = ((1 - self.rate) * (1 + self.rate * _SELU_ALPHA_P**2)) ** -0.5
        b = -a * _SELU_ALPHA_P * self.rate
        out = a * (x * kept + _SELU_ALPHA_P * (1 - kept)) + b
        return out.astype(x.dtype), np.broadcast_to(kept * x.dtype.type(a), x.shape)

    def backward(self, records, grad_out, need_grad_input=True):
        return grad_out if records is None else grad_out * records

    def get_config(self):
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": noise_shape,
            "seed": self.seed,
        }
