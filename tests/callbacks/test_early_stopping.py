"""EarlyStopping's counting and restoring, pinned with numbers and checked against Keras.

Each case feeds a fixed sequence of monitored values to the callback, epoch by epoch, and
records the epoch after which training stops and which epoch's weights are restored.
The expected numbers follow keras/src/callbacks/early_stopping.py; when Keras is
installed the same sequences go through Keras's own callback too.
"""

import numpy as np
import pytest

from glassnet.callbacks import EarlyStopping


class StubModel:
    """Just enough of a model: weights that record the epoch they came from."""

    def __init__(self):
        self.stop_training = False
        self.epoch = -1
        self.metrics = []

    def get_weights(self):
        return [np.array(self.epoch)]

    def set_weights(self, weights):
        self.epoch = int(weights[0])


def run(callback, values, key="val_loss"):
    """Feeds `values` one epoch at a time; returns (epochs run, epoch whose weights remain)."""
    model = StubModel()
    callback.set_model(model)
    callback.on_train_begin()
    ran = 0
    for epoch, value in enumerate(values):
        model.epoch = epoch
        ran += 1
        callback.on_epoch_end(epoch, {key: value, "loss": 1.0})
        if model.stop_training:
            break
    callback.on_train_end()
    return ran, model.epoch


CASES = [
    # (kwargs, values, key, epochs run, epoch of the weights kept at the end)
    ({"patience": 2}, [1.0, 0.9, 0.95, 0.96, 0.5], "val_loss", 4, 3),
    ({"patience": 0}, [1.0, 1.1, 0.5], "val_loss", 2, 1),
    ({"patience": 2, "restore_best_weights": True}, [1.0, 0.9, 0.95, 0.96, 0.5], "val_loss", 4, 1),
    # training ends before patience runs out: best weights are still restored
    ({"patience": 5, "restore_best_weights": True}, [1.0, 0.8, 0.9, 0.95], "val_loss", 4, 1),
    # an improvement smaller than min_delta does not count
    ({"patience": 1, "min_delta": 0.1}, [1.0, 0.95, 0.93, 0.5], "val_loss", 2, 1),
    (
        {"patience": 1, "min_delta": 0.1, "restore_best_weights": True},
        [1.0, 0.85, 0.8, 0.7],
        "val_loss",
        3,
        1,
    ),
    # accuracy is maximised
    (
        {"monitor": "val_accuracy", "mode": "max", "patience": 1},
        [0.5, 0.6, 0.55, 0.58, 0.9],
        "val_accuracy",
        3,
        2,
    ),
    (
        {
            "monitor": "val_accuracy",
            "mode": "max",
            "patience": 1,
            "min_delta": 0.05,
            "restore_best_weights": True,
        },
        [0.5, 0.6, 0.62, 0.64, 0.9],
        "val_accuracy",
        3,
        1,
    ),
    # nothing counts before start_from_epoch
    ({"patience": 1, "start_from_epoch": 2}, [1.0, 2.0, 3.0, 4.0, 5.0], "val_loss", 4, 3),
    # baseline: an improvement that does not beat it leaves the wait as it is, but an
    # improving epoch never stops training; a non-improving one stops once wait >= patience
    ({"patience": 2, "baseline": 0.5}, [1.0, 0.9, 0.8, 0.7, 0.6], "val_loss", 5, 4),
    ({"patience": 2, "baseline": 0.5}, [1.0, 1.1, 1.2, 1.3], "val_loss", 2, 1),
]


@pytest.mark.parametrize("kwargs, values, key, epochs_run, kept", CASES)
def test_early_stopping_counts_like_keras(kwargs, values, key, epochs_run, kept):
    assert run(EarlyStopping(**kwargs), values, key) == (epochs_run, kept)


@pytest.mark.keras
@pytest.mark.parametrize("kwargs, values, key, epochs_run, kept", CASES)
def test_same_numbers_from_real_keras(kwargs, values, key, epochs_run, kept):
    keras = pytest.importorskip("keras")
    assert run(keras.callbacks.EarlyStopping(**kwargs), values, key) == (epochs_run, kept)


def test_unknown_monitor_with_mode_auto_raises_value_error():
    # keras/src/callbacks/monitor_callback.py: a name that is neither loss nor a compiled
    # metric cannot be judged, so the first epoch's end raises ValueError.
    callback = EarlyStopping(monitor="val_los")
    callback.set_model(StubModel())
    callback.on_train_begin()
    with pytest.raises(ValueError, match=r"monitor=val_los.*mode='max'.*mode='min'"):
        callback.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.0})


def test_missing_monitor_with_explicit_mode_warns_and_never_stops():
    callback = EarlyStopping(monitor="val_los", mode="min", patience=0)
    model = StubModel()
    callback.set_model(model)
    callback.on_train_begin()
    for epoch in range(3):
        with pytest.warns(UserWarning, match=r"`val_los` which is not available.*: loss,val_loss"):
            callback.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 1.0})
    assert not model.stop_training and callback.wait == 0


def test_val_loss_without_validation_data_warns():
    callback = EarlyStopping()
    callback.set_model(StubModel())
    callback.on_train_begin()
    with pytest.warns(UserWarning, match="Early stopping conditioned on metric `val_loss`"):
        callback.on_epoch_end(0, {"loss": 1.0})


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="EarlyStopping mode 'up' is unknown"):
        callback = EarlyStopping(mode="up")
    assert callback.mode == "auto"


def test_in_fit_an_unknown_monitor_is_a_value_error_not_a_callback_error():
    from glassnet.callbacks import CallbackError
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential

    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    with pytest.raises(ValueError, match="monitor=val_accuracy") as caught:
        model.fit(x, y, epochs=2, verbose=0, callbacks=[EarlyStopping(monitor="val_accuracy")])
    assert not isinstance(caught.value, CallbackError)
    # a compiled metric is known by its logged name, with or without val_
    stop = EarlyStopping(monitor="mae", patience=0)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[stop])
    assert stop.monitor_op == "min"


@pytest.mark.keras
def test_keras_raises_the_same_value_error_for_an_unknown_monitor():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    with pytest.raises(ValueError, match=r"monitor=val_accuracy.*mode='max'"):
        model.fit(
            x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.EarlyStopping("val_accuracy")]
        )


def test_negative_patience_is_refused():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
