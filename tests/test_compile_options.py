"""``compile``'s Keras options that glassnet accepts but does not use.

docs/keras-compatibility.md: "Options that only a graph or a device would use (`run_eagerly`,
`jit_compile`, `steps_per_execution`, `loss_weights`) are accepted by `compile` and change
nothing." ``compile`` also takes ``auto_scale_loss`` (nothing to scale without mixed
precision) and ``weighted_metrics`` (their metrics are reported, weighted by
``sample_weight``, as Keras reports its weighted metrics).
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet.layers import Dense, Input
from glassnet.models import Sequential
from glassnet.optimizers import SGD
from glassnet.utils import set_random_seed

IGNORED = {
    "run_eagerly": True,
    "jit_compile": True,
    "steps_per_execution": 4,
    "loss_weights": [2.0],  # Keras would double the loss and its gradient (see below)
    "auto_scale_loss": True,
}


@pytest.fixture
def data(rng):
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    weights = rng.uniform(0.1, 2.0, size=40).astype(np.float32)
    return x, y, weights


def trained(data, **options):
    """History, weights and scores of the same seeded training with ``options`` in compile."""
    x, y, weights = data
    set_random_seed(3)
    model = Sequential([Input(shape=(3,)), Dense(4, activation="tanh"), Dense(1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # accepted quietly: no warning either
        model.compile(optimizer=SGD(learning_rate=0.05), loss="mse", metrics=["mae"], **options)
        history = model.fit(x, y, epochs=3, batch_size=8, sample_weight=weights, verbose=0)
        scores = model.evaluate(x, y, return_dict=True, verbose=0)
    return history.history, model.get_weights(), scores


@pytest.mark.parametrize(
    "options",
    [{name: value} for name, value in IGNORED.items()]
    + [IGNORED, {"loss_weights": 2.0}, {"loss_weights": {"output": 3.0}}],
    ids=[*IGNORED, "all-at-once", "loss_weights-number", "loss_weights-dict"],
)
def test_options_are_accepted_and_change_nothing(data, options):
    plain_history, plain_weights, plain_scores = trained(data)
    history, weights, scores = trained(data, **options)
    assert history == plain_history  # bit for bit: the loss is not scaled, nothing else runs
    assert scores == plain_scores
    for a, b in zip(weights, plain_weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_weighted_metrics_are_reported_weighted_by_sample_weight(data):
    x, y, weights = data
    set_random_seed(3)
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae"])
    history = model.fit(x, y, epochs=1, sample_weight=weights, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    errors = np.abs(model.predict(x, verbose=0) - y)[:, 0]
    scores = model.evaluate(x, y, sample_weight=weights, return_dict=True, verbose=0)
    expected = float(np.sum(errors * weights) / np.sum(weights))  # a weighted mean
    assert scores["mae"] == pytest.approx(expected, rel=1e-5)
    assert scores["mae"] != pytest.approx(float(errors.mean()), rel=1e-3)  # not unweighted
    unweighted = model.evaluate(x, y, return_dict=True, verbose=0)
    assert unweighted["mae"] == pytest.approx(float(errors.mean()), rel=1e-5)


def test_an_option_that_keras_does_not_have_is_refused():
    model = Sequential([Input(shape=(3,)), Dense(1)])
    with pytest.raises(TypeError, match="sample_weight_mode"):
        model.compile(optimizer="sgd", loss="mse", sample_weight_mode="temporal")


@pytest.mark.keras
def test_the_options_are_keras_3_compile_options(data):
    keras = require_tool("keras", "compares with keras.Model.compile: pip install keras")
    ours = set(inspect.signature(Sequential.compile).parameters) - {"self"}
    theirs = set(inspect.signature(keras.Model.compile).parameters) - {"self"}
    assert ours == theirs
    # Keras, by contrast, does use loss_weights on a single output: the loss doubles.
    x, y, _ = data
    losses = []
    for loss_weights in (None, 2.0):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse", loss_weights=loss_weights)
        model.set_weights([np.ones((3, 1), np.float32), np.zeros(1, np.float32)])
        losses.append(model.evaluate(x, y, verbose=0))
    assert losses[1] == pytest.approx(2 * losses[0], rel=1e-5)


@pytest.mark.keras
def test_weighted_metrics_match_keras(data):
    keras = require_tool("keras", "compares with Keras's weighted_metrics: pip install keras")
    x, y, weights = data
    kernel, bias = np.array([[0.5], [-1.0], [0.25]], np.float32), np.array([0.1], np.float32)
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    reference.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae"])
    reference.set_weights([kernel, bias])
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae"])
    model.set_weights([kernel, bias])
    expected = reference.evaluate(x, y, sample_weight=weights, return_dict=True, verbose=0)
    got = model.evaluate(x, y, sample_weight=weights, return_dict=True, verbose=0)
    assert got["mae"] == pytest.approx(expected["mae"], rel=1e-5)
