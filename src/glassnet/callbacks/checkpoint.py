"""``ModelCheckpoint``: save the model (or its weights) during training."""

from __future__ import annotations

import math
import warnings

from glassnet.callbacks.monitoring import improvement_direction
from glassnet.trainers.callbacks import Callback


class ModelCheckpoint(Callback):
    """Saves the model at the end of every epoch, or only when ``monitor`` improves.

    Follows ``keras/src/callbacks/model_checkpoint.py``: ``filepath`` may hold format fields
    filled from the epoch number (counted from 1) and the logs, e.g.
    ``"model_{epoch:02d}_{val_loss:.2f}.keras"``. With ``save_best_only`` a file is written
    only when the monitored value beats the best so far (strictly; ``initial_value_threshold``
    sets the first value to beat). Files are written atomically by ``model.save``.

    Args:
        filepath: where to save; ``.keras`` or ``.h5`` for whole models, ``.weights.h5``
            with ``save_weights_only=True``.
        monitor: the logged value to watch for ``save_best_only``.
        verbose: 1 prints a line each time a file is written.
        save_best_only: write only when ``monitor`` improves.
        save_weights_only: write only the weights.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        save_freq: ``"epoch"`` (the only supported value).
        initial_value_threshold: a value the first saved epoch must beat.
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise NotImplementedError(
                f"save_freq must be 'epoch'. Received: save_freq={save_freq!r}"
            )
        filepath = str(filepath)
        if save_weights_only and not filepath.endswith(".weights.h5"):
            raise ValueError(
                "With save_weights_only=True the filepath must end in `.weights.h5`. "
                f"Received: filepath={filepath}"
            )
        if not save_weights_only and not filepath.endswith((".keras", ".h5")):
            raise ValueError(
                "The filepath must end in `.keras` (or `.h5`, the legacy format). "
                f"Received: filepath={filepath}"
            )
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = improvement_direction(monitor, mode)
        self.initial_value_threshold = initial_value_threshold
        self.best = self._initial_best()

    def _initial_best(self) -> float:
        if self.initial_value_threshold is not None:
            return float(self.initial_value_threshold)
        return math.inf if self.mode == "min" else -math.inf

    def on_train_begin(self, logs=None):
        # Keras keeps `best` across fit() calls on the same callback; so do we.
        pass

    def _improved(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            if self.monitor not in logs:
                warnings.warn(
                    f"Can save best model only with {self.monitor} available. Available keys: "
                    f"{', '.join(logs) or '(none)'}",
                    stacklevel=2,
                )
                return
            current = float(logs[self.monitor])
            if not self._improved(current):
                if self.verbose > 0:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(
                    f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{current:.5f}, saving model to {path}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
