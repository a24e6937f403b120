"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

import numpy as np

from glassnet._checks import check_flag
from glassnet.optimizers.base import Optimizer, _check_in_range


class SGD(Optimizer):
    """``w -= learning_rate * g``, or with momentum (``keras/src/optimizers/sgd.py``)::

        velocity = momentum * velocity - learning_rate * g
        w += velocity                                   # plain momentum
        w += momentum * velocity - learning_rate * g    # nesterov=True

    Args:
        learning_rate: Keras default 0.01 (the course's ``lr=`` works too).
        momentum: in [0, 1]; 0 (the default) is plain gradient descent.
        nesterov: whether to use Nesterov momentum.

    Example:
        >>> from glassnet.optimizers import SGD
        >>> SGD(lr=0.01).learning_rate
        0.01
    """

    default_learning_rate = 0.01

    def __init__(self, learning_rate=None, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = _check_in_range(momentum, "momentum", high_open=False)
        self.nesterov = check_flag(nesterov, "nesterov")
        self.slot_names = ("momentum",) if self.momentum else ()

    def update_step(self, params, grads, lr, slots, step):
        np.multiply(grads, params.dtype.type(lr), out=step)
        if not self.momentum:
            params -= step
            return
        velocity = slots["momentum"]
        velocity *= params.dtype.type(self.momentum)
        velocity -= step
        if self.nesterov:
            params += velocity * params.dtype.type(self.momentum) - step
        else:
            params += velocity

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
