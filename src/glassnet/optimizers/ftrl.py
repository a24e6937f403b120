"""FTRL-Proximal ("follow the regularized leader")."""

from __future__ import annotations

import numbers

import numpy as np

from glassnet._checks import is_finite
from glassnet.optimizers.base import Optimizer


def _sign_checked(value, what: str, negative: bool) -> float:
    """A finite number >= 0 (or <= 0 with ``negative``), in Keras's message form."""
    wrong = (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not is_finite(value)
        or (value > 0 if negative else value < 0)
    )
    if wrong:
        need = "negative or zero" if negative else "positive or zero"
        raise ValueError(f"`{what}` needs to be {need}. Received: {what}={value}.")
    return float(value)


class Ftrl(Optimizer):
    """FTRL (``keras/src/optimizers/ftrl.py``), with ``p = -learning_rate_power``::

        g2 = g + 2 * l2_shrinkage_regularization_strength * w
        new_acc = acc + g**2
        linear += g2 - (new_acc**p - acc**p) / learning_rate * w
        quadratic = new_acc**p / learning_rate + 2 * (l2 + beta / (2 * learning_rate))
        w = (clip(linear, -l1, l1) - linear) / quadratic
        acc = new_acc

    Keras's defaults: ``learning_rate=0.001``, ``learning_rate_power=-0.5``,
    ``initial_accumulator_value=0.1``, the three regularization strengths and ``beta`` 0.
    """

    default_learning_rate = 0.001
    slot_names = ("accumulator", "linear")

    def __init__(
        self,
        learning_rate=None,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = _sign_checked(
            initial_accumulator_value, "initial_accumulator_value", negative=False
        )
        self.learning_rate_power = _sign_checked(
            learning_rate_power, "learning_rate_power", negative=True
        )
        self.l1_regularization_strength = _sign_checked(
            l1_regularization_strength, "l1_regularization_strength", negative=False
        )
        self.l2_regularization_strength = _sign_checked(
            l2_regularization_strength, "l2_regularization_strength", negative=False
        )
        self.l2_shrinkage_regularization_strength = _sign_checked(
            l2_shrinkage_regularization_strength,
            "l2_shrinkage_regularization_strength",
            negative=False,
        )
        self.beta = _sign_checked(beta, "beta", negative=False)

    def own_slot_groups(self):
        # one add_optimizer_variables call: accumulator and linear interleave per weight
        return [("accumulator", "linear")]

    def build(self, parameters, slices):
        super().build(parameters, slices)
        self.slots["accumulator"].fill(self.initial_accumulator_value)

    def update_step(self, params, grads, lr, slots, tmp):
        acc, linear = slots["accumulator"], slots["linear"]
        power = -self.learning_rate_power
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        new_acc = acc + grads * grads
        new_power = np.power(new_acc, power)
        linear += grads + (2 * self.l2_shrinkage_regularization_strength) * params
        linear -= (new_power - np.power(acc, power)) / lr * params
        np.clip(linear, -self.l1_regularization_strength, self.l1_regularization_strength, out=tmp)
        tmp -= linear
        params[...] = tmp / (new_power / lr + 2 * l2)
        acc[...] = new_acc

    def get_config(self):
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
