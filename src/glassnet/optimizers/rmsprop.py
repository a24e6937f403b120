"""RMSprop and Adagrad."""

from __future__ import annotations

import numpy as np

from glassnet._checks import check_flag
from glassnet.optimizers.base import Optimizer, _check_in_range, _check_non_negative


class RMSprop(Optimizer):
    """Divides the step by a moving root mean square of the gradient
    (``keras/src/optimizers/rmsprop.py``)::

        v = rho * v + (1 - rho) * g**2
        w -= learning_rate * g / sqrt(v + epsilon)

    With ``centered=True`` the moving mean of ``g`` is subtracted inside the root; with
    ``momentum > 0`` steps accumulate in a momentum buffer. Defaults: ``learning_rate=0.001``,
    ``rho=0.9``, ``momentum=0.0``, ``epsilon=1e-7``.
    """

    default_learning_rate = 0.001

    def __init__(
        self,
        learning_rate=None,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = _check_in_range(rho, "rho", high_open=False)
        self.momentum = _check_in_range(momentum, "momentum", high_open=False)
        self.epsilon = _check_non_negative(epsilon, "epsilon")
        self.centered = check_flag(centered, "centered")
        self.slot_names = (
            ("velocity",)
            + (("momentum",) if self.momentum else ())
            + (("average_gradient",) if self.centered else ())
        )

    def update_step(self, params, grads, lr, slots, tmp):
        dtype = params.dtype.type
        v = slots["velocity"]
        v *= dtype(self.rho)
        np.multiply(grads, grads, out=tmp)  # in place: no table-sized temporaries
        tmp *= dtype(1 - self.rho)
        v += tmp
        if self.centered:
            avg = slots["average_gradient"]
            avg *= dtype(self.rho)
            avg += dtype(1 - self.rho) * grads
            np.subtract(v, avg * avg, out=tmp)
            tmp += dtype(self.epsilon)
        else:
            np.add(v, dtype(self.epsilon), out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grads, tmp, out=tmp)
        tmp *= dtype(lr)
        if self.momentum:
            mom = slots["momentum"]
            mom *= dtype(self.momentum)
            mom += tmp
            params -= mom
        else:
            params -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Steps shrink with the sum of past squared gradients
    (``keras/src/optimizers/adagrad.py``)::

        accumulator += g**2                 # starts at initial_accumulator_value
        w -= learning_rate * g / sqrt(accumulator + epsilon)

    Defaults: ``learning_rate=0.001``, ``initial_accumulator_value=0.1``, ``epsilon=1e-7``.
    """

    default_learning_rate = 0.001
    slot_names = ("accumulator",)

    def __init__(
        self,
        learning_rate=None,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = _check_non_negative(
            initial_accumulator_value, "initial_accumulator_value"
        )
        self.epsilon = _check_non_negative(epsilon, "epsilon")

    def build(self, parameters, slices):
        super().build(parameters, slices)
        self.slots["accumulator"].fill(self.initial_accumulator_value)

    def update_step(self, params, grads, lr, slots, tmp):
        dtype = params.dtype.type
        acc = slots["accumulator"]
        acc += grads * grads
        np.add(acc, dtype(self.epsilon), out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grads, tmp, out=tmp)
        tmp *= dtype(lr)
        params -= tmp

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
