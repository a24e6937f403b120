"""``EarlyStopping``: stop when a monitored value has stopped improving."""

from __future__ import annotations

import warnings

import numpy as np

from glassnet.callbacks.monitoring import keras_mode, monitor_direction
from glassnet.trainers.callbacks import Callback


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    The counting follows ``keras/src/callbacks/early_stopping.py`` exactly: each epoch
    (from ``start_from_epoch`` on) adds one to ``wait``; an improvement of more than
    ``min_delta`` over the best value so far resets it to 0 (if ``baseline`` is set, only
    when the value also beats the baseline); training stops at the end of the first epoch
    after the first where ``wait >= patience``. With ``restore_best_weights=True`` the
    weights of the best epoch are put back when training ends, whether or not it stopped
    early.

    An unknown or missing ``monitor`` behaves as in Keras 3.15: with ``mode="auto"`` a name
    that is neither ``loss`` nor a compiled metric (``val_`` or not) raises ``ValueError`` at
    the end of the first epoch, since nothing says which way is better; a name that can be
    judged but is absent from an epoch's logs (``val_loss`` without validation data) warns
    and that epoch is not counted. An unknown ``mode`` warns and falls back to ``"auto"``.

    Args:
        monitor: the logged value to watch, e.g. ``"val_loss"`` (default) or ``"val_accuracy"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a line when stopping.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        baseline: a value the monitored quantity must beat for ``wait`` to reset.
        restore_best_weights: put back the best epoch's weights at the end.
        start_from_epoch: epochs to wait before watching at all.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__()
        if (
            isinstance(patience, bool)
            or not isinstance(patience, (int, np.integer))
            or patience < 0
        ):
            raise ValueError(
                f"`patience` must be a non-negative integer. Received: patience={patience!r}"
            )
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = keras_mode("EarlyStopping", mode)
        self.monitor_op: str | None = None  # "min" or "max", decided at the first epoch's end
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.monitor_op == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:  # the model's metrics exist once an epoch has run
            self.monitor_op = monitor_direction(
                "EarlyStopping", self.monitor, self.mode, self.model
            )
        logs = logs or {}
        if logs.get(self.monitor) is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs)}",
                stacklevel=2,
            )
            return
        current = float(logs[self.monitor])
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)
