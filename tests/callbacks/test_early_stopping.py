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


def test_unknown_monitor_names_the_available_keys():
    callback = EarlyStopping(monitor="val_los")
    callback.set_model(StubModel())
    callback.on_train_begin()
    with pytest.raises(ValueError, match=r"'val_los'.*Available keys are: loss, val_loss"):
        callback.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.0})


def test_negative_patience_is_refused():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
