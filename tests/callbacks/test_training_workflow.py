"""The training workflow around fit: validation, callbacks, weights, progress output."""

import csv
import math

import numpy as np
import pytest

from glassnet import callbacks
from glassnet.layers import BatchNormalization, Dense, Dropout
from glassnet.models import NonFiniteLossError, Sequential
from glassnet.optimizers import SGD
from glassnet.regularizers import l2
from glassnet.utils import set_random_seed


def small_regression(rows=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)).astype("float32")
    return x, x @ np.array([1.0, -2.0, 0.5], dtype="float32")


def linear_model(lr=0.01):
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer=SGD(learning_rate=lr), loss="mse")
    return model


class RecordBatches(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_begin(self, batch, logs=None):
        self.batches.append(batch)


def test_validation_split_holds_out_the_last_rows_before_shuffling():
    x, y = small_regression(rows=10)
    model = linear_model()
    # With validation_split=0.3, Keras validates on rows floor(10 * 0.7) = 7, 8, 9.
    history = model.fit(x, y, validation_split=0.3, epochs=1, verbose=0, shuffle=True)
    held_out = model.evaluate(x[7:], y[7:], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(held_out, rel=1e-6)
    recorder = RecordBatches()
    model.fit(x, y, validation_split=0.3, epochs=1, batch_size=2, verbose=0, callbacks=[recorder])
    assert recorder.batches == [0, 1, 2, 3]  # 7 training rows in batches of 2


def test_validation_data_gives_val_keys_for_loss_and_metrics():
    x, y = small_regression()
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, validation_data=(x[:5], y[:5]), epochs=3, verbose=0)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(v) == 3 for v in history.history.values())


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5, "0.3"])
def test_validation_split_outside_unit_interval_is_refused(split):
    x, y = small_regression()
    with pytest.raises(ValueError, match=r"validation_split.*\[0, 1\)"):
        linear_model().fit(x, y, validation_split=split, verbose=0)


def test_validation_data_of_the_wrong_shape_is_refused():
    x, y = small_regression()
    with pytest.raises(ValueError, match="validation_data"):
        linear_model().fit(x, y, validation_data=(x[:, :2], y[:5]), verbose=0)
    with pytest.raises(ValueError, match="validation_data must be a tuple|`validation_data` must"):
        linear_model().fit(x, y, validation_data=x, verbose=0)


def test_early_stopping_in_fit_stops_and_restores_best_weights():
    x, y = small_regression()
    model = linear_model(lr=1.5)  # too large: the loss grows from the start
    saved = {}

    class Keep(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved[epoch] = (logs["val_loss"], self.model.get_weights())

    stopper = callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    history = model.fit(
        x, y, validation_split=0.25, epochs=20, verbose=0, callbacks=[Keep(), stopper]
    )
    assert len(history.epoch) < 20 and model.stop_training
    best_epoch = min(saved, key=lambda e: saved[e][0])
    assert stopper.best_epoch == best_epoch
    for restored, kept in zip(model.get_weights(), saved[best_epoch][1], strict=True):
        np.testing.assert_array_equal(restored, kept)


def test_a_raising_callback_is_named_and_files_are_closed(tmp_path):
    x, y = small_regression()

    class Broken(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyError("boom")

    logger = callbacks.CSVLogger(tmp_path / "log.csv")
    with pytest.raises(callbacks.CallbackError, match=r"Broken raised in on_epoch_end: KeyError"):
        linear_model().fit(x, y, epochs=2, verbose=0, callbacks=[logger, Broken()])
    assert logger._file is None  # closed although training ended in an error


@pytest.mark.parametrize("others", [0, 1])
def test_batch_hooks_get_the_running_loss_and_a_raising_one_is_named(others):
    x, y = small_regression()
    seen = []

    class Batches(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, dict(logs)))

    class BrokenBatch(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                raise ValueError("boom")

    extra = [callbacks.LambdaCallback(on_train_batch_end=lambda b, l: None)] * others
    history = linear_model().fit(
        x, y, epochs=1, batch_size=8, shuffle=False, verbose=0, callbacks=[Batches(), *extra]
    )
    assert [b for b, _ in seen] == list(range(len(seen))) and len(seen) == -(-len(x) // 8)
    assert all(set(logs) == {"loss"} for _, logs in seen)
    assert seen[-1][1]["loss"] == history.history["loss"][0]  # the epoch's running mean
    with pytest.raises(
        callbacks.CallbackError, match=r"BrokenBatch raised in on_train_batch_end: ValueError"
    ):
        linear_model().fit(
            x, y, epochs=1, batch_size=8, verbose=0, callbacks=[BrokenBatch(), *extra]
        )


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = small_regression()
    path = tmp_path / "log.csv"
    linear_model().fit(
        x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[callbacks.CSVLogger(path)]
    )
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "val_loss"}


def test_lambda_callback_and_stop_training_from_any_callback():
    x, y = small_regression()
    seen = []

    def stop_after_two(epoch, logs):
        seen.append(epoch)
        if epoch == 1:
            model.stop_training = True

    model = linear_model()
    history = model.fit(
        x,
        y,
        epochs=10,
        verbose=0,
        callbacks=[callbacks.LambdaCallback(on_epoch_end=stop_after_two)],
    )
    assert seen == [0, 1] and history.epoch == [0, 1]


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    x, y = small_regression()
    model = linear_model(lr=0.1)
    history = model.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))],
    )
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_nan_loss_raises_with_epoch_and_batch_and_keeps_last_good_weights():
    x, y = small_regression()
    model = linear_model(lr=1e10)
    kept = []

    class KeepWeights(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kept.append(self.model.get_weights())

    with pytest.raises(NonFiniteLossError, match=r"epoch 1, batch \d+"):
        model.fit(x * 1e6, y, epochs=2, batch_size=8, verbose=0, callbacks=[KeepWeights()])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert kept, "the first step should succeed; the blow-up comes from its update"
    for now, before in zip(model.get_weights(), kept[-1], strict=True):
        np.testing.assert_array_equal(now, before)  # the failing step was not applied


def test_terminate_on_nan_stops_quietly():
    x, y = small_regression()
    model = linear_model(lr=1e10)
    history = model.fit(
        x * 1e6, y, epochs=5, batch_size=8, verbose=0, callbacks=[callbacks.TerminateOnNaN()]
    )
    assert len(history.epoch) == 1 and math.isnan(history.history["loss"][0])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_initial_epoch_counts_from_there():
    x, y = small_regression()
    history = linear_model().fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert history.epoch == [3, 4]


def test_sample_weight_of_zero_removes_rows_from_the_loss():
    x, y = small_regression()
    model = linear_model()
    weights = np.r_[np.ones(20), np.zeros(20)]
    # sum over batch size: zero-weighted rows still count in the divisor, as in Keras
    assert model.evaluate(x, y, sample_weight=weights, verbose=0) == pytest.approx(
        model.evaluate(x[:20], y[:20], verbose=0) / 2, rel=1e-5
    )


def test_class_weight_scales_the_loss_of_a_class():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    set_random_seed(0)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer=SGD(learning_rate=0.0), loss="binary_crossentropy")
    plain = model.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"][0]
    weighted = model.fit(
        x, y, epochs=1, verbose=0, shuffle=False, class_weight={0: 1.0, 1: 3.0}
    ).history["loss"][0]
    per_row = model.loss.values(y.reshape(-1, 1), model.predict(x, verbose=0))
    expected = float(np.mean(per_row * np.where(y == 1, 3.0, 1.0)))
    assert weighted == pytest.approx(expected, rel=1e-5) and weighted != pytest.approx(plain)


def test_dropout_acts_only_in_training():
    set_random_seed(3)
    model = Sequential([Dense(20, input_shape=(4,)), Dropout(0.5), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 4), dtype="float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    dropout = model.layers[1]
    trained = dropout(np.ones((1000, 20), dtype="float32"), training=True)
    assert set(np.unique(trained)) == {0.0, 2.0}
    assert 0.45 < np.mean(trained == 0) < 0.55


def test_l2_penalty_is_part_of_the_reported_loss():
    x, y = small_regression()
    model = Sequential([Dense(1, input_shape=(3,), kernel_regularizer=l2(0.1))])
    model.compile(optimizer=SGD(learning_rate=0.0), loss="mse")
    model.build()
    kernel = model.get_weights()[0]
    plain = float(np.mean((model.predict(x, verbose=0)[:, 0] - y) ** 2))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        plain + 0.1 * np.sum(kernel**2), rel=1e-5
    )


def test_batch_normalization_uses_batch_statistics_only_in_training():
    set_random_seed(0)
    layer = BatchNormalization()
    model = Sequential([Dense(4, input_shape=(3,)), layer, Dense(1)])
    model.compile(optimizer=SGD(learning_rate=0.0), loss="mse")
    assert layer.momentum == 0.99 and layer.epsilon == 0.001
    x, y = small_regression()
    model.fit(x, y, epochs=1, batch_size=40, verbose=0, shuffle=False)
    z = x @ model.layers[0].kernel + model.layers[0].bias
    np.testing.assert_allclose(layer.moving_mean, 0.01 * z.mean(axis=0), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(layer.moving_variance, 0.99 + 0.01 * z.var(axis=0), rtol=1e-5)


def test_verbose_two_prints_one_line_per_epoch(capsys):
    x, y = small_regression()
    linear_model().fit(x, y, epochs=3, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/3" and len(lines) == 6
    assert lines[1].startswith("2/2 ") and " - loss: " in lines[1]


def test_verbose_one_does_not_flood_a_log_file(capsys):
    x, y = small_regression(rows=400)
    linear_model().fit(x, y, epochs=2, batch_size=4, verbose=1)  # 100 steps per epoch
    assert len(capsys.readouterr().out.strip().splitlines()) == 4


def test_verbose_zero_is_silent(capsys):
    x, y = small_regression()
    linear_model().fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_fit_from_a_generator_with_steps_per_epoch():
    x, y = small_regression()

    def batches():
        while True:
            for start in range(0, 40, 8):
                yield x[start : start + 8], y[start : start + 8]

    model = linear_model()
    history = model.fit(batches(), steps_per_epoch=5, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="steps_per_epoch"):
        linear_model().fit(batches(), epochs=1, verbose=0)


def test_fit_from_a_reiterable_source_matches_arrays():
    x, y = small_regression()
    set_random_seed(0)
    from_arrays = linear_model()
    from_arrays.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    set_random_seed(0)
    from_stream = linear_model()
    batches = [(x[s : s + 8], y[s : s + 8]) for s in range(0, 40, 8)]
    from_stream.fit(iter_again(batches), epochs=2, verbose=0)
    for a, b in zip(from_arrays.get_weights(), from_stream.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


class iter_again:  # noqa: N801 - a tiny re-iterable, like glassnet.data readers
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)
