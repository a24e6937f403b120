"""``BackupAndRestore``: back up the training state so that an interrupted ``fit`` resumes.

The files are Keras's (``keras/src/callbacks/backup_and_restore.py``): ``backup_dir`` holds
``latest.weights.h5`` (the weights and the optimizer's state, as ``model.save_weights``
writes them) and ``training_metadata.json`` (``{"epoch": epochs done, "batch": last batch
seen}``). glassnet adds one key to the JSON, ``"glassnet"``, which Keras never reads: the
state of the model's random generators (the epoch shuffler and each Dropout's) and how many
batches of the current epoch were done, so that a run resumed from a backup goes on bit for
bit as if it had never stopped, even from the middle of an epoch. A backup Keras wrote
resumes at the start of the epoch it names, as in Keras.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import warnings

import numpy as np

from glassnet.saving.config_values import ReadContext
from glassnet.saving.errors import ModelFileError
from glassnet.saving.training_state import restore_glassnet_state
from glassnet.trainers.callbacks import Callback

WEIGHTS_FILE = "latest.weights.h5"
METADATA_FILE = "training_metadata.json"


class BackupAndRestore(Callback):
    """Backs up the training state every epoch (or every ``save_freq`` batches) and, when
    ``fit`` starts and a backup exists, restores it and resumes from where it was taken.

    Args:
        backup_dir: the folder of the backup (created when needed). Use a different one for
            each model trained at the same time.
        save_freq: ``"epoch"``, or a positive number of batches between backups (counted
            across epochs, as ``ModelCheckpoint`` counts them).
        double_checkpoint: keep the previous backup too (``*.bkp``); if the latest cannot be
            read, the previous one is restored instead.
        delete_checkpoint: remove ``backup_dir`` when training ends normally (not when it is
            interrupted by an error).

    Example:
        >>> import glassnet as keras
        >>> backup = keras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
    """

    def __init__(
        self,
        backup_dir,
        save_freq="epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (
            isinstance(save_freq, bool)
            or not isinstance(save_freq, (int, np.integer))
            or save_freq <= 0
        ):
            raise ValueError(
                "Invalid value for argument `save_freq`. "
                f"Received: save_freq={save_freq!r}. "
                "Expected either 'epoch' or a positive integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._weights_path = os.path.join(self.backup_dir, WEIGHTS_FILE)
        self._metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_metadata_path = self._metadata_path + ".bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self._steps_done = 0
        self._epoch_shuffle_state: dict | None = None

    # --- restoring ----------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        try:
            self._load()
        except (OSError, ModelFileError, json.JSONDecodeError):
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_metadata_path):
                shutil.copyfile(self._prev_metadata_path, self._metadata_path)
            elif os.path.exists(self._metadata_path):
                os.remove(self._metadata_path)
            self._load()

    def _load(self) -> None:
        """Puts the backed-up weights, optimizer state and random state into the model and
        tells ``fit`` where to resume."""
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you "
                f"call `fit()`. Model {self.model.name!r} is unbuilt."
            )
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if not os.path.exists(self._metadata_path):
            return
        with open(self._metadata_path, encoding="utf-8") as f:
            metadata = json.load(f)
        epoch = metadata.get("epoch") if isinstance(metadata, dict) else None
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ModelFileError(
                f"{self._metadata_path!r}: `epoch` must be a non-negative integer. "
                f"Received: {epoch!r}"
            )
        self.model._initial_epoch = epoch
        self._current_epoch = epoch
        own = metadata.get("glassnet")
        if not isinstance(own, dict):
            return
        steps = own.get("steps_done", 0)
        if isinstance(steps, int) and not isinstance(steps, bool) and steps > 0:
            self.model._initial_step = steps
            self._steps_done = steps
            self._last_batch_seen = steps - 1
        ctx = ReadContext(repr(self._metadata_path))
        shuffle = own.get("shuffle")
        if steps and isinstance(own.get("epoch_shuffle_state"), dict):
            # Mid-epoch: redraw this epoch's order from the state it was drawn from.
            shuffle = own["epoch_shuffle_state"]
        layers = own.get("layers") if isinstance(own.get("layers"), list) else []
        by_name = {
            layer.name: state
            for layer, state in zip(self.model.layers, layers, strict=False)
            if state is not None
        }
        state = {"random_state": {"shuffle": shuffle, "dropout": by_name}}
        restore_glassnet_state(self.model, state, ctx)
        for message in ctx.warnings:
            warnings.warn(message, UserWarning, stacklevel=3)

    # --- backing up ---------------------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch
        # The state this epoch's order is drawn from (on a resumed epoch, the restored one).
        shuffle = self.model.random_generators()["shuffle"]
        self._epoch_shuffle_state = copy.deepcopy(shuffle.bit_generator.state)

    def on_train_batch_end(self, batch, logs=None):
        self._steps_done = batch + 1
        if self._should_save_on_batch(batch):
            steps = self.params.get("steps")
            if steps is not None and batch + 1 >= steps:  # the epoch's last batch
                self._save(self._current_epoch + 1, 0, batch)
            else:
                self._save(self._current_epoch, batch + 1, batch)

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        self._steps_done = 0
        if self.save_freq == "epoch":
            self._save(epoch + 1, 0, 0)

    def _should_save_on_batch(self, batch: int) -> bool:
        """Keras's count: a batch number not above the last one starts a new epoch."""
        if self.save_freq == "epoch":
            return False
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save(self, epochs_done: int, steps_done: int, last_batch: int) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path, prev in (
                (self._weights_path, self._prev_weights_path),
                (self._metadata_path, self._prev_metadata_path),
            ):
                if os.path.exists(path):
                    shutil.copyfile(path, prev)
        self.model.save_weights(self._weights_path, overwrite=True)
        own = {
            "steps_done": steps_done,
            "shuffle": self.model.random_generators()["shuffle"].bit_generator.state,
            # by position, so that a model rebuilt with other automatic names resumes too
            "layers": [
                rng.bit_generator.state if isinstance(rng, np.random.Generator) else None
                for rng in (getattr(layer, "rng", None) for layer in self.model.layers)
            ],
        }
        if steps_done and self._epoch_shuffle_state is not None:
            own["epoch_shuffle_state"] = self._epoch_shuffle_state
        metadata = {"epoch": epochs_done, "batch": last_batch, "glassnet": own}
        temporary = self._metadata_path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(metadata, f)
        os.replace(temporary, self._metadata_path)

    def on_train_end(self, logs=None):
        self._steps_done = 0
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
