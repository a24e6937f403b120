"""Lion: steps of the sign of an interpolated momentum."""

from __future__ import annotations

import numbers

import numpy as np

from glassnet._checks import is_finite
from glassnet.optimizers.base import Optimizer, _check_in_range


class Lion(Optimizer):
    """Lion (``keras/src/optimizers/lion.py``)::

        w -= learning_rate * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    Keras's defaults: ``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.99``;
    ``beta_1`` must be in ``(0, 1]`` (0 would make it SignSGD).
    """

    default_learning_rate = 0.001
    slot_names = ("momentum",)

    def __init__(self, learning_rate=None, beta_1: float = 0.9, beta_2: float = 0.99, **kwargs):
        if (
            isinstance(beta_1, bool)
            or not isinstance(beta_1, numbers.Real)
            or not is_finite(beta_1)
            or beta_1 <= 0
            or beta_1 > 1
        ):
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = float(beta_1)
        self.beta_2 = _check_in_range(beta_2, "beta_2", high_open=False)

    def update_step(self, params, grads, lr, slots, tmp):
        m = slots["momentum"]
        np.multiply(m, self.beta_1, out=tmp)
        tmp += grads * (1.0 - self.beta_1)
        np.sign(tmp, out=tmp)
        tmp *= lr
        params -= tmp
        m *= self.beta_2
        m += grads * (1.0 - self.beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
