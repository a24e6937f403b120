"""``BackupAndRestore`` and ``TerminateOnNaN(raise_error=True)``.

A run interrupted by an error and resumed from its backup, in a new model with fresh weights
and generators, ends with exactly the weights of a run that was never interrupted: the
backup holds the weights, the optimizer's state and the random state (shuffling, dropout),
and a mid-epoch backup replays the epoch's order. The file names and the JSON's ``epoch`` and
``batch`` follow keras/src/callbacks/backup_and_restore.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from glassnet.callbacks import BackupAndRestore, Callback, LambdaCallback, TerminateOnNaN
from glassnet.layers import Dense, Dropout, Input
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adam
from glassnet.utils import set_random_seed


class Interrupt(Exception):
    pass


class InterruptAt(Callback):
    """Raises after training batch ``batch`` (from 0) of epoch ``epoch`` (from 0)."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt  # passes through the callback list as it is


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    return x, y


def model(seed: int) -> Sequential:
    set_random_seed(seed)
    m = Sequential([Input(shape=(3,)), Dense(8, activation="relu"), Dropout(0.3), Dense(1)])
    m.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    return m


def fit(m, callbacks, epochs=4):
    x, y = data()
    return m.fit(x, y, batch_size=8, epochs=epochs, verbose=0, callbacks=callbacks)


def reference_weights():
    m = model(1)
    fit(m, [])
    return m.get_weights()


@pytest.mark.parametrize(
    ("save_freq", "interrupt_at"),
    [
        ("epoch", (2, 3)),  # resumes at the start of epoch 2 (from 0)
        (3, (2, 3)),  # the last backup was after batch 8 of the run: epoch 1, batch 3
        (5, (1, 2)),  # a backup at the last batch of epoch 0 resumes at epoch 1
        (1, (0, 2)),
    ],
)
def test_an_interrupted_fit_resumes_bit_for_bit(tmp_path, save_freq, interrupt_at):
    expected = reference_weights()
    backup_dir = tmp_path / "backup"
    first = model(1)
    with pytest.raises(KeyboardInterrupt):
        fit(first, [BackupAndRestore(backup_dir, save_freq=save_freq), InterruptAt(*interrupt_at)])
    assert (backup_dir / "latest.weights.h5").exists()
    metadata = json.loads((backup_dir / "training_metadata.json").read_text())
    assert set(metadata) == {"epoch", "batch", "glassnet"}
    resumed = model(99)  # other weights, other generators: all of it comes from the backup
    epochs_run = []
    history = fit(
        resumed,
        [
            BackupAndRestore(backup_dir, save_freq=save_freq),
            LambdaCallback(on_epoch_begin=lambda e, logs: epochs_run.append(e)),
        ],
    )
    assert epochs_run[0] == metadata["epoch"] and epochs_run[-1] == 3
    assert len(history.epoch) == 4 - metadata["epoch"]
    for a, b in zip(resumed.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not backup_dir.exists()  # delete_checkpoint=True, training ended normally


def test_epoch_backup_metadata_is_keras_shaped(tmp_path):
    m = model(1)
    fit(m, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)], epochs=2)
    metadata = json.loads((tmp_path / "b" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 2 and metadata["batch"] == 0
    assert metadata["glassnet"]["steps_done"] == 0


def test_a_finished_backup_with_delete_checkpoint_false_runs_no_more_epochs(tmp_path):
    m = model(1)
    fit(m, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    again = model(5)
    history = fit(again, [BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    assert history.epoch == []
    for a, b in zip(again.get_weights(), m.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    backup_dir = tmp_path / "b"
    first = model(1)
    with pytest.raises(KeyboardInterrupt):
        fit(first, [BackupAndRestore(backup_dir, double_checkpoint=True), InterruptAt(2, 0)])
    assert (backup_dir / "latest.weights.h5.bkp").exists()
    (backup_dir / "latest.weights.h5").write_bytes(b"not an HDF5 file")
    resumed = model(7)
    epochs_run = []
    fit(
        resumed,
        [
            BackupAndRestore(backup_dir, double_checkpoint=True),
            LambdaCallback(on_epoch_begin=lambda e, logs: epochs_run.append(e)),
        ],
    )
    assert epochs_run == [1, 2, 3]  # the previous backup was taken after epoch 0
    for a, b in zip(resumed.get_weights(), reference_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "batch", True])
def test_bad_save_freq_is_refused(tmp_path, bad):
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore(tmp_path, save_freq=bad)


def test_empty_backup_dir_is_refused():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")


def exploding_model() -> Sequential:
    set_random_seed(2)
    m = Sequential([Input(shape=(3,)), Dense(1)])
    m.compile(optimizer=SGD(learning_rate=1e10), loss="mse")
    return m


def test_terminate_on_nan_raise_error_raises_and_skips_on_train_end():
    x, y = data()
    ended = []
    with pytest.raises(RuntimeError, match=r"NaN or Inf loss encountered at batch \d+"):
        exploding_model().fit(
            x * 1e6,
            y,
            epochs=3,
            batch_size=8,
            verbose=0,
            callbacks=[
                TerminateOnNaN(raise_error=True),
                LambdaCallback(on_train_end=lambda logs: ended.append(True)),
            ],
        )
    assert ended == []
    history = exploding_model().fit(
        x * 1e6,
        y,
        epochs=3,
        batch_size=8,
        verbose=0,
        callbacks=[TerminateOnNaN(), LambdaCallback(on_train_end=lambda logs: ended.append(1))],
    )
    assert len(history.epoch) == 1 and ended == [1]


@pytest.mark.keras
def test_keras_writes_the_same_files(tmp_path):
    keras = pytest.importorskip("keras")
    x, y = data()
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    k.compile(optimizer="adam", loss="mse")
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "k"), delete_checkpoint=False)
    k.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[backup])
    names = sorted(p.name for p in (tmp_path / "k").iterdir())
    assert names == ["latest.weights.h5", "training_metadata.json"]
    metadata = json.loads((tmp_path / "k" / "training_metadata.json").read_text())
    assert metadata == {"epoch": 2, "batch": 0}


@pytest.mark.keras
def test_a_backup_keras_wrote_resumes_at_its_epoch(tmp_path):
    # Keras's metadata has no "glassnet" key: training resumes at the start of the epoch it
    # names, from Keras's weights (and Adam's state), as Keras itself would.
    keras = pytest.importorskip("keras")
    x, y = data()
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    k.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "k"), delete_checkpoint=False)
    k.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[backup])
    ours = Sequential([Input(shape=(3,)), Dense(1)])
    ours.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    seen = []
    watch = LambdaCallback(
        on_train_begin=lambda logs: seen.append(ours.get_weights()),
        on_epoch_begin=lambda epoch, logs: seen.append(epoch),
    )
    restore = BackupAndRestore(tmp_path / "k", delete_checkpoint=False)
    ours.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[restore, watch])
    for a, b in zip(seen[0], k.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert seen[1:] == [2]
    assert ours.optimizer.iterations == 15  # 10 of Keras's steps, then 5 more


@pytest.mark.keras
def test_keras_resumes_from_a_backup_glassnet_wrote(tmp_path):
    keras = pytest.importorskip("keras")
    x, y = data()
    ours = Sequential([Input(shape=(3,)), Dense(1)])
    ours.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    ours.fit(x, y, batch_size=8, epochs=2, verbose=0,
             callbacks=[BackupAndRestore(tmp_path / "g", delete_checkpoint=False)])  # fmt: skip
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    k.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    seen = []
    watch = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append(k.get_weights()),
        on_epoch_begin=lambda epoch, logs: seen.append(epoch),
    )
    restore = keras.callbacks.BackupAndRestore(str(tmp_path / "g"), delete_checkpoint=False)
    k.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[restore, watch])
    for a, b in zip(seen[0], ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert seen[1:] == [2]
