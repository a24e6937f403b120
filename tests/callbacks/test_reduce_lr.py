"""ReduceLROnPlateau: patience, cooldown and min_lr, pinned with numbers and against Keras."""

import pytest

from glassnet.callbacks import ReduceLROnPlateau


class StubOptimizer:
    def __init__(self, lr):
        self.learning_rate = lr


class StubModel:
    def __init__(self, lr):
        self.optimizer = StubOptimizer(lr)
        self.stop_training = False


def rates(callback, values, lr=1.0, keras_model=None):
    """The learning rate after each epoch's end, for monitored values `values`."""
    model = keras_model or StubModel(lr)
    callback.set_model(model)
    callback.on_train_begin()
    seen = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {"val_loss": value})
        seen.append(round(float(model.optimizer.learning_rate), 8))
    return seen


CASES = [
    # patience 1: each epoch without improvement halves the rate
    ({"factor": 0.5, "patience": 1}, [1.0, 1.0, 1.0, 1.0], [1.0, 0.5, 0.25, 0.125]),
    # cooldown 2: the epochs right after a reduction do not count as waiting
    ({"factor": 0.5, "patience": 1, "cooldown": 2}, [1.0] * 6, [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]),
    # min_lr bounds the rate
    ({"factor": 0.1, "patience": 1, "min_lr": 0.05}, [1.0, 1.0, 1.0, 1.0], [1.0, 0.1, 0.05, 0.05]),
    # improvements reset the wait; min_delta decides what counts
    (
        {"factor": 0.5, "patience": 2, "min_delta": 0.01},
        [1.0, 0.995, 0.9, 0.9, 0.9],
        [1.0, 1.0, 1.0, 1.0, 0.5],
    ),
]


@pytest.mark.parametrize("kwargs, values, expected", CASES)
def test_reduce_lr_schedule(kwargs, values, expected):
    assert rates(ReduceLROnPlateau(**kwargs), values) == expected


@pytest.mark.keras
@pytest.mark.parametrize("kwargs, values, expected", CASES)
def test_reduce_lr_schedule_matches_keras(kwargs, values, expected):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    assert rates(keras.callbacks.ReduceLROnPlateau(**kwargs), values, keras_model=model) == expected


def test_factor_of_one_or_more_is_refused():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)
