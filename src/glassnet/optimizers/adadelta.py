"""Adadelta: steps scaled by the ratio of moving RMS of past steps and of gradients."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer, _check_in_range, _check_non_negative


class Adadelta(Optimizer):
    """Adadelta (``keras/src/optimizers/adadelta.py``)::

        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = -sqrt(acc_delta + epsilon) * g / sqrt(acc_g + epsilon)
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        w += learning_rate * delta

    Keras's defaults: ``learning_rate=0.001``, ``rho=0.95``, ``epsilon=1e-7``.
    """

    default_learning_rate = 0.001
    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=None, rho: float = 0.95, epsilon: float = 1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_in_range(rho, "rho", high_open=False)
        self.epsilon = _check_non_negative(epsilon, "epsilon")

    def own_slot_groups(self):
        # Keras 3.15 creates both in one add_optimizer_variables call: they interleave
        return [("accumulated_grad", "accumulated_delta_var")]

    def update_step(self, params, grads, lr, slots, tmp):
        rho = self.rho
        acc_g, acc_d = slots["accumulated_grad"], slots["accumulated_delta_var"]
        acc_g *= rho
        acc_g += (1 - rho) * (grads * grads)
        np.add(acc_g, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grads, tmp, out=tmp)
        tmp *= np.sqrt(acc_d + params.dtype.type(self.epsilon))
        np.negative(tmp, out=tmp)  # delta
        acc_d *= rho
        acc_d += (1 - rho) * (tmp * tmp)
        tmp *= lr
        params += tmp

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
