"""``ModelCheckpoint(save_best_only=True)``: a file is written only when the monitored value
beats the best so far (strictly), in the direction ``mode`` says.

Each epoch gives the model a different bias, so a file's contents tell which epoch wrote it;
a file that was not written keeps its inode, size and modification time.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet.callbacks import LambdaCallback, ModelCheckpoint
from glassnet.layers import Dense, Input
from glassnet.models import Sequential, load_model
from glassnet.optimizers import SGD
from glassnet.utils import set_random_seed


def small_model() -> Sequential:
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def stat_of(path):
    """What changes when a file is written again (model.save replaces it atomically)."""
    if not path.exists():
        return None
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def saved_bias(path) -> float:
    return float(load_model(path).get_weights()[1][0])


def drive(checkpoint, model, monitor, values, path):
    """Epoch ``e`` (from 1) sets the model's bias to ``e`` and logs ``values[e - 1]``.

    Returns, after each epoch, the file's stat and the epoch whose weights it holds."""
    checkpoint.set_model(model)
    checkpoint.on_train_begin()
    seen = []
    for epoch, value in enumerate(values):
        kernel, _ = model.get_weights()
        model.set_weights([kernel, np.array([epoch + 1.0], np.float32)])
        checkpoint.on_epoch_end(epoch, {"loss": 9.0, monitor: value})
        seen.append((stat_of(path), saved_bias(path) if path.exists() else None))
    return seen


CASES = [
    # monitor, mode, values per epoch, the epochs (from 1) that write the file
    ("val_loss", "min", [3.0, 2.0, 2.5, 2.0, 1.0], [1, 2, 5]),  # 2.0 again: not better
    ("val_loss", "auto", [3.0, 2.0, 2.5, 2.0, 1.0], [1, 2, 5]),  # a loss: smaller is better
    ("val_loss", "max", [3.0, 2.0, 2.5, 2.0, 1.0], [1]),  # every later value is worse
    ("val_accuracy", "max", [0.5, 0.7, 0.6, 0.7, 0.8], [1, 2, 5]),
    ("val_accuracy", "auto", [0.5, 0.7, 0.6, 0.7, 0.8], [1, 2, 5]),  # accuracy: larger
    ("val_accuracy", "min", [0.5, 0.7, 0.6, 0.7, 0.8], [1]),
    ("val_loss", "auto", [1.0, 1.5, 2.0, 4.0], [1]),  # gets worse every epoch
]


@pytest.mark.parametrize(("monitor", "mode", "values", "writes"), CASES)
def test_the_file_is_written_only_when_the_value_improves(tmp_path, monitor, mode, values, writes):
    path = tmp_path / "best.keras"
    checkpoint = ModelCheckpoint(path, monitor=monitor, mode=mode, save_best_only=True)
    seen = drive(checkpoint, small_model(), monitor, values, path)
    holds = 0
    for epoch, (stat, bias) in enumerate(seen, start=1):
        if epoch in writes:
            holds = epoch
            if epoch > 1:
                assert stat != seen[epoch - 2][0], f"epoch {epoch} improved: the file is new"
        elif epoch > 1:
            assert stat == seen[epoch - 2][0], f"epoch {epoch} did not improve: file untouched"
        assert bias == holds  # the weights of the last improving epoch
    best = [values[e - 1] for e in writes][-1]
    assert checkpoint.best == best


@pytest.mark.parametrize(("monitor", "mode", "values", "writes"), CASES)
def test_an_epoch_in_the_name_leaves_one_file_per_improvement(
    tmp_path, monitor, mode, values, writes
):
    checkpoint = ModelCheckpoint(
        tmp_path / "ck_{epoch:02d}.keras", monitor=monitor, mode=mode, save_best_only=True
    )
    drive(checkpoint, small_model(), monitor, values, tmp_path / "none.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"ck_{e:02d}.keras" for e in writes]
    for epoch in writes:
        assert saved_bias(tmp_path / f"ck_{epoch:02d}.keras") == epoch


def test_without_save_best_only_every_epoch_writes(tmp_path):
    path = tmp_path / "every.keras"
    seen = drive(ModelCheckpoint(path), small_model(), "val_loss", [1.0, 2.0, 3.0], path)
    assert [bias for _, bias in seen] == [1, 2, 3]


def test_initial_value_threshold_is_the_first_value_to_beat(tmp_path):
    path = tmp_path / "best.keras"
    checkpoint = ModelCheckpoint(path, save_best_only=True, initial_value_threshold=1.8)
    seen = drive(checkpoint, small_model(), "val_loss", [3.0, 2.0, 1.5, 1.7], path)
    assert [bias for _, bias in seen] == [None, None, 3, 3]


def test_verbose_says_whether_it_saved(tmp_path, capsys):
    path = tmp_path / "best.keras"
    checkpoint = ModelCheckpoint(path, save_best_only=True, verbose=1)
    drive(checkpoint, small_model(), "val_loss", [2.0, 3.0, 1.0], path)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Epoch 1: val_loss improved from inf to 2.00000, saving model to {path}",
        "Epoch 2: val_loss did not improve from 2.00000",
        f"Epoch 3: val_loss improved from 2.00000 to 1.00000, saving model to {path}",
    ]


def test_a_missing_monitor_warns_and_writes(tmp_path):
    # keras/src/callbacks/model_checkpoint.py (_should_save_model): without the monitored
    # value Keras warns and saves anyway.
    path = tmp_path / "best.keras"
    checkpoint = ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    checkpoint.set_model(small_model())
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})
    assert path.exists()


def fit_with_batch_checkpoints(folder, checkpoint_factory):
    """10 rows in batches of 2 (5 batches an epoch), 3 epochs; returns the weights after
    each batch, keyed by (epoch, batch) from 1."""
    set_random_seed(3)
    x = np.arange(20, dtype=np.float32).reshape(10, 2) / 10
    y = x.sum(axis=1, keepdims=True)
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer=SGD(learning_rate=0.01), loss="mse")
    seen = {}
    epoch_now = [0]
    track = LambdaCallback(
        on_epoch_begin=lambda e, logs: epoch_now.__setitem__(0, e),
        on_train_batch_end=lambda b, logs: seen.__setitem__(
            (epoch_now[0] + 1, b + 1), model.get_weights()
        ),
    )
    model.fit(x, y, batch_size=2, epochs=3, verbose=0, callbacks=[track, checkpoint_factory()])
    return seen


def test_save_freq_in_batches_counts_across_epochs(tmp_path):
    # 4 batches between writes, 5 batches an epoch: batches 4, 8 and 12 of the run are
    # epoch 1 batch 4, epoch 2 batch 3 and epoch 3 batch 2.
    pattern = str(tmp_path / "m_{epoch}_{batch}.keras")
    seen = fit_with_batch_checkpoints(tmp_path, lambda: ModelCheckpoint(pattern, save_freq=4))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m_1_4.keras",
        "m_2_3.keras",
        "m_3_2.keras",
    ]
    for epoch, batch in [(1, 4), (2, 3), (3, 2)]:
        saved = load_model(tmp_path / f"m_{epoch}_{batch}.keras").get_weights()
        for a, b in zip(saved, seen[(epoch, batch)], strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "batch", True])
def test_bad_save_freq_is_a_value_error(tmp_path, bad):
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint(tmp_path / "m.keras", save_freq=bad)


@pytest.mark.keras
def test_keras_saves_at_the_same_batches(tmp_path):
    keras = require_tool("keras", "compares with keras.callbacks.ModelCheckpoint")
    x = np.arange(20, dtype=np.float32).reshape(10, 2) / 10
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    pattern = str(tmp_path / "m_{epoch}_{batch}.keras")
    callback = keras.callbacks.ModelCheckpoint(pattern, save_freq=4)
    model.fit(x, x[:, :1], batch_size=2, epochs=3, verbose=0, callbacks=[callback])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m_1_4.keras",
        "m_2_3.keras",
        "m_3_2.keras",
    ]


@pytest.mark.keras
def test_keras_also_writes_when_the_monitor_is_missing(tmp_path):
    keras = require_tool("keras", "compares with keras.callbacks.ModelCheckpoint")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "best.keras"
    checkpoint = keras.callbacks.ModelCheckpoint(str(path), save_best_only=True)
    checkpoint.set_model(model)
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})
    assert path.exists()


def test_in_fit_a_validation_loss_that_gets_worse_keeps_the_first_epoch(tmp_path, rng):
    # Validation targets are the training targets negated: as the model learns the
    # training rows, the validation loss grows, so only epoch 1 is ever the best.
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0]]) + 1.0).astype(np.float32)
    set_random_seed(1)
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer=SGD(learning_rate=0.05), loss="mse")
    path = tmp_path / "best.keras"
    after_epoch: list = []  # (the weights at the end of the epoch, the file's stat)
    record = LambdaCallback(on_epoch_end=lambda e, logs: after_epoch.append(model.get_weights()))
    watch = LambdaCallback(on_epoch_end=lambda e, logs: after_epoch.append(stat_of(path)))
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    history = model.fit(
        x,
        y,
        epochs=5,
        batch_size=16,
        validation_data=(x, -y),
        shuffle=False,
        verbose=0,
        callbacks=[record, checkpoint, watch],
    )
    val_loss = history.history["val_loss"]
    assert all(b > a for a, b in zip(val_loss, val_loss[1:], strict=False)), val_loss
    weights, stats = after_epoch[0::2], after_epoch[1::2]
    assert stats[0] is not None and all(s == stats[0] for s in stats)  # written once
    assert checkpoint.best == val_loss[0]
    for a, b in zip(load_model(path).get_weights(), weights[0], strict=True):
        np.testing.assert_array_equal(a, b)  # epoch 1's weights, not the last epoch's
    assert not np.allclose(weights[-1][0], weights[0][0])


def test_in_fit_mode_decides_which_epochs_write(tmp_path, rng):
    # The training loss falls every epoch: with mode="min" every epoch is a new best, with
    # mode="max" (as if the loss were a score) only the first.
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0]]) + 1.0).astype(np.float32)
    written = {}
    for mode in ("min", "max"):
        set_random_seed(1)
        model = Sequential([Input(shape=(2,)), Dense(1)])
        model.compile(optimizer=SGD(learning_rate=0.05), loss="mse")
        folder = tmp_path / mode
        checkpoint = ModelCheckpoint(
            folder / "e{epoch}.keras", monitor="loss", mode=mode, save_best_only=True
        )
        history = model.fit(x, y, epochs=4, batch_size=16, callbacks=[checkpoint], verbose=0)
        loss = history.history["loss"]
        assert all(b < a for a, b in zip(loss, loss[1:], strict=False)), loss
        written[mode] = sorted(p.name for p in folder.iterdir())
    assert written == {"min": [f"e{e}.keras" for e in (1, 2, 3, 4)], "max": ["e1.keras"]}


@pytest.fixture(scope="module")
def keras_model():
    keras = require_tool("keras", "compares with keras.callbacks.ModelCheckpoint")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    # Keras 3's mode="auto" asks the model's built metrics which way accuracy goes.
    model.fit(np.zeros((2, 2)), np.ones((2, 1)), validation_split=0.5, verbose=0)
    return keras, model


@pytest.mark.keras
@pytest.mark.parametrize(("monitor", "mode", "values", "writes"), CASES)
def test_keras_writes_at_the_same_epochs(tmp_path, keras_model, monitor, mode, values, writes):
    keras, model = keras_model
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "k{epoch}.keras"), monitor=monitor, mode=mode, save_best_only=True
    )
    checkpoint.set_model(model)
    checkpoint.on_train_begin()
    for epoch, value in enumerate(values):
        checkpoint.on_epoch_end(epoch, {"loss": 9.0, monitor: value})
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"k{e}.keras" for e in writes]
    assert math.isclose(checkpoint.best, [values[e - 1] for e in writes][-1])
