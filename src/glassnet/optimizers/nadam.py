"""Nadam: Adam with Nesterov momentum."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer, _check_in_range, _check_non_negative


class Nadam(Optimizer):
    """Nadam (``keras/src/optimizers/nadam.py``), with ``u(t) = beta_1 * (1 - 0.5 *
    0.96**t)`` and ``u_product`` the product of ``u(1)...u(t)`` (kept between steps)::

        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        m_hat = u(t+1) * m / (1 - u_product * u(t+1)) + (1 - u(t)) * g / (1 - u_product)
        v_hat = v / (1 - beta_2**t)
        w -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Keras's defaults: ``learning_rate=0.001``, ``beta_1=0.9``, ``beta_2=0.999``,
    ``epsilon=1e-7``.
    """

    default_learning_rate = 0.001
    slot_names = ("momentum", "velocity")

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
        self.beta_2 = _check_in_range(beta_2, "beta_2", high_open=True)
        self.epsilon = _check_non_negative(epsilon, "epsilon")
        #: The product of ``u(1)...u(t)`` up to the last update (Keras's ``_u_product``).
        self.u_product = 1.0

    def _u(self, t: int) -> float:
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def extra_variables(self):
        return {"u_product": self.u_product}

    def set_extra_variables(self, values):
        self.u_product = float(values["u_product"])

    def build(self, parameters, slices):
        super().build(parameters, slices)
        self.u_product = 1.0

    def before_update(self):
        # kept at the weights' precision, as Keras's variable is (so a saved float32 value
        # resumes bit for bit)
        dtype = self._scratch.dtype.type
        self.u_product = float(dtype(self.u_product * self._u(self.iterations + 1)))

    def own_slot_groups(self):
        # Keras 3.15 creates both in one add_optimizer_variables call: they interleave
        return [("momentum", "velocity")]

    def update_step(self, params, grads, lr, slots, tmp):
        t = self.iterations + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        u_product = self.u_product
        m, v = slots["momentum"], slots["velocity"]
        np.subtract(grads, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        np.multiply(grads, grads, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        # the denominator first, in tmp; then the step, in tmp
        np.multiply(v, 1.0 / (1 - self.beta_2**t), out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        step = m * (u_next / (1 - u_product * u_next))
        step += grads * ((1 - u_t) / (1 - u_product))
        step *= lr
        np.divide(step, tmp, out=tmp)
        params -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
