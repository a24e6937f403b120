"""``ModelCheckpoint``: save the model (or its weights) during training."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

from glassnet.callbacks.monitoring import improvement_direction
from glassnet.trainers.callbacks import Callback


class ModelCheckpoint(Callback):
    """Saves the model at the end of every epoch, or only when ``monitor`` improves.

    Follows ``keras/src/callbacks/model_checkpoint.py``: ``filepath`` may hold format fields
    filled from the epoch number (counted from 1) and the logs, e.g.
    ``"model_{epoch:02d}_{val_loss:.2f}.keras"``. With ``save_best_only`` a file is written
    only when the monitored value beats the best so far (strictly; ``initial_value_threshold``
    sets the first value to beat). Files are written atomically by ``model.save``.

    With an integer ``save_freq`` the file is written every that many training batches,
    counted across epochs as Keras counts them, and ``filepath`` may also hold ``{batch}``
    (the batch within its epoch, from 1). Batch logs hold the running training values only,
    so ``save_best_only`` on ``val_*`` then warns and writes, as Keras does whenever the
    monitored value is missing.

    Args:
        filepath: where to save; ``.keras`` or ``.h5`` for whole models, ``.weights.h5``
            with ``save_weights_only=True``.
        monitor: the logged value to watch for ``save_best_only``.
        verbose: 1 prints a line each time a file is written.
        save_best_only: write only when ``monitor`` improves.
        save_weights_only: write only the weights.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        save_freq: ``"epoch"``, or a positive number of batches between writes.
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
        if save_freq != "epoch" and (
            isinstance(save_freq, bool)
            or not isinstance(save_freq, (int, np.integer))
            or save_freq <= 0
        ):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq!r}. "
                "Expected save_freq are 'epoch' or a positive integer (a number of batches)"
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
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.best = self._initial_best()
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0

    def _initial_best(self) -> float:
        if self.initial_value_threshold is not None:
            return float(self.initial_value_threshold)
        return math.inf if self.mode == "min" else -math.inf

    def on_train_begin(self, logs=None):
        # Keras keeps `best` across fit() calls on the same callback; so do we.
        pass

    def _improved(self, value: float) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        """Counts batches as Keras does: a batch number not above the last one starts a new
        epoch and adds ``batch + 1``; otherwise the difference is added."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as error:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {error}'
            ) from None

    def _should_save(self, epoch: int, logs: dict, path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: saving model to {path}")
            return True
        if logs.get(self.monitor) is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available. Available keys: "
                f"{', '.join(logs) or '(none)'}",
                stacklevel=3,
            )
            return True
        current = float(logs[self.monitor])
        if not self._improved(current):
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
            return False
        if self.verbose > 0:
            print(
                f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                f"{current:.5f}, saving model to {path}"
            )
        self.best = current
        return True

    def _save(self, epoch: int, batch: int | None, logs) -> None:
        logs = dict(logs or {})
        path = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, path):
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if os.path.isdir(path):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {path}"
            )
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)
