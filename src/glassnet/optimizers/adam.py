"""Adam and AdamW."""

from __future__ import annotations

import math

import numpy as np

from glassnet._checks import check_flag
from glassnet.optimizers.base import Optimizer, _check_in_range, _check_non_negative


class Adam(Optimizer):
    """Adaptive moment estimation (``keras/src/optimizers/adam.py``)::

        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w -= alpha * m / (sqrt(v) + epsilon)

    Keras's defaults: ``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.999``,
    ``epsilon=1e-7``, ``amsgrad=False``.
    """

    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate=None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_in_range(beta_1, "beta_1", high_open=True)
        self.beta_2 = _check_in_range(beta_2, "beta_2", high_open=True)
        self.epsilon = _check_non_negative(epsilon, "epsilon")
        self.amsgrad = check_flag(amsgrad, "amsgrad")
        self.slot_names = ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def own_slot_groups(self):
        # keras/src/optimizers/adam.py, build: momentum and velocity per weight, together
        return [("momentum", "velocity")] + ([("velocity_hat",)] if self.amsgrad else [])

    def update_step(self, params, grads, lr, slots, tmp):
        # Python floats act on float32 arrays as float32 (NumPy's weak scalars, NEP 50),
        # exactly as ``np.float32(...)`` would, without making a scalar object per step.
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        m, v = slots["momentum"], slots["velocity"]
        np.subtract(grads, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        np.multiply(grads, grads, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        np.sqrt(v, out=tmp)
        tmp += self.epsilon
        np.divide(m, tmp, out=tmp)
        tmp *= alpha
        params -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (``keras/src/optimizers/adamw.py``): each step
    first shrinks every weight by ``weight * weight_decay * learning_rate``, then takes
    Adam's step. Keras's default ``weight_decay=0.004``; ``None`` is refused.
    """

    def __init__(self, learning_rate=None, weight_decay: float = 0.004, **kwargs) -> None:
        if weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
