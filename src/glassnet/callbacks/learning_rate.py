"""Callbacks that change the learning rate: ``LearningRateScheduler``, ``ReduceLROnPlateau``."""

from __future__ import annotations

import math

from glassnet.callbacks.monitoring import check_monitor
from glassnet.optimizers.schedules import LearningRateSchedule
from glassnet.trainers.callbacks import Callback


def require_settable_rate(optimizer, callback: str) -> None:
    """Raises a ``TypeError`` naming ``callback`` when ``optimizer``'s rate comes from a
    ``LearningRateSchedule``: such a rate cannot be set by number (Keras raises the same
    ``TypeError`` from the optimizer when the callback first sets it; here it comes before
    the first epoch, not after epochs of training)."""
    schedule = getattr(optimizer, "_learning_rate", None)
    if isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            f"{callback} sets the optimizer's learning rate, but the optimizer's learning rate "
            f"is a schedule ({schedule!r}), which cannot be set by number. Use either the "
            f"schedule or {callback}: give the optimizer a float learning_rate to use "
            f"{callback}."
        )


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch from ``schedule(epoch, lr)``.

    Args:
        schedule: a function of ``(epoch, current_lr)`` (or just ``epoch``) returning the
            new learning rate.
        verbose: 1 prints the rate each epoch.
    """

    def __init__(self, schedule, verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        require_settable_rate(self.model.optimizer, "LearningRateScheduler")

    def on_epoch_begin(self, epoch, logs=None):
        current = self.model.optimizer.learning_rate
        try:
            lr = self.schedule(epoch, current)
        except TypeError:  # a schedule of the epoch only, as Keras 1 allowed
            lr = self.schedule(epoch)
        if not isinstance(lr, (int, float)) or not math.isfinite(lr):
            raise ValueError(f"The schedule must return a finite number. Received: {lr!r}")
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.learning_rate


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` stops improving.

    The logic is ``keras/src/callbacks/reduce_lr_on_plateau.py``'s: an improvement is a value
    better than the best by more than ``min_delta``; after ``patience`` epochs without one the
    rate is reduced (not below ``min_lr``) and ``cooldown`` epochs pass, during which waiting
    does not count, before it can be reduced again.

    Args:
        monitor: the logged value to watch (default ``"val_loss"``).
        factor: the multiplier, below 1.
        patience: epochs without improvement before reducing.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (auto: max when ``"acc"`` is in the name).
        min_delta: the smallest change that counts as improvement.
        cooldown: epochs to wait after a reduction.
        min_lr: the lower bound of the learning rate.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"Unexpected argument(s): {', '.join(kwargs)}")
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received: factor={factor}"
            )
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"`mode` must be 'auto', 'min' or 'max'. Received: mode={mode!r}")
        self.monitor = monitor
        self.factor = float(factor)
        self.min_lr = float(min_lr)
        self.min_delta = float(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = mode
        self._reset()

    def _reset(self) -> None:
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self._better = lambda a, b: a < b - self.min_delta
            self.best = math.inf
        else:
            self._better = lambda a, b: a > b + self.min_delta
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        require_settable_rate(self.model.optimizer, "ReduceLROnPlateau")
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        check_monitor(self.monitor, logs, "ReduceLROnPlateau")
        logs["learning_rate"] = self.model.optimizer.learning_rate
        current = float(logs[self.monitor])
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = self.model.optimizer.learning_rate
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(
                            f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new_lr}."
                        )
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
