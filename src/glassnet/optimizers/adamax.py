"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer, _check_in_range, _check_non_negative


class Adamax(Optimizer):
    """Adamax (``keras/src/optimizers/adamax.py``)::

        m += (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w -= learning_rate * m / ((1 - beta_1**t) * (u + epsilon))

    Keras's defaults: ``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.999``,
    ``epsilon=1e-7``.
    """

    default_learning_rate = 0.001
    slot_names = ("momentum", "norm")

    def __init__(
        self,
        learning_rate=None,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = _check_in_range(beta_1, "beta_1", high_open=True)
        self.beta_2 = _check_in_range(beta_2, "beta_2", high_open=False)
        self.epsilon = _check_non_negative(epsilon, "epsilon")

    def own_slot_groups(self):
        # one add_optimizer_variables call: momentum and norm interleave per weight
        return [("momentum", "norm")]

    def update_step(self, params, grads, lr, slots, tmp):
        t = self.iterations + 1
        m, u = slots["momentum"], slots["norm"]
        np.subtract(grads, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        u *= self.beta_2
        np.abs(grads, out=tmp)
        np.maximum(u, tmp, out=u)
        np.add(u, self.epsilon, out=tmp)
        tmp *= 1 - self.beta_1**t
        np.divide(m, tmp, out=tmp)
        tmp *= lr
        params -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
