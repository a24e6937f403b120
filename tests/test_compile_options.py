"""``compile``'s Keras options.

docs/keras-compatibility.md: "Options that only a graph or a device would use (`run_eagerly`,
`jit_compile`, `steps_per_execution`) are accepted by `compile` and change nothing."
``compile`` also takes ``auto_scale_loss`` (nothing to scale without mixed precision). As in
Keras 3, ``loss_weights`` multiplies the loss of the one output (and so every slope),
``weighted_metrics`` are reported weighted by ``sample_weight``, and plain ``metrics`` are
not weighted.
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
    [{name: value} for name, value in IGNORED.items()] + [IGNORED],
    ids=[*IGNORED, "all-at-once"],
)
def test_options_are_accepted_and_change_nothing(data, options):
    plain_history, plain_weights, plain_scores = trained(data)
    history, weights, scores = trained(data, **options)
    assert history == plain_history  # bit for bit: nothing else runs
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


def test_plain_metrics_are_not_weighted_and_a_weighted_twin_gets_its_own_name(data):
    """Keras 3 reports ``metrics`` unweighted; the same metric among ``weighted_metrics``
    is reported as ``weighted_<name>`` (keras/src/trainers/compile_utils.py)."""
    x, y, weights = data
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    scores = model.evaluate(x, y, sample_weight=weights, return_dict=True, verbose=0)
    errors = np.abs(model.predict(x, verbose=0) - y)[:, 0]
    assert set(scores) == {"loss", "mae", "weighted_mae"}
    assert scores["mae"] == pytest.approx(float(errors.mean()), rel=1e-5)
    weighted = float(np.sum(errors * weights) / np.sum(weights))
    assert scores["weighted_mae"] == pytest.approx(weighted, rel=1e-5)
    history = model.fit(x, y, sample_weight=weights, epochs=1, verbose=0).history
    assert set(history) == {"loss", "mae", "weighted_mae"}


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
    # loss_weights on a single output: the loss doubles in Keras as in glassnet.
    x, y, _ = data
    for loss_weights in (None, 2.0):
        reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        reference.compile(optimizer="sgd", loss="mse", loss_weights=loss_weights)
        model = Sequential([Input(shape=(3,)), Dense(1)])
        model.compile(optimizer="sgd", loss="mse", loss_weights=loss_weights)
        for m in (reference, model):
            m.set_weights([np.ones((3, 1), np.float32), np.zeros(1, np.float32)])
        expected = reference.evaluate(x, y, verbose=0)
        assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("loss_weights", [2.0, [2.0], {"out": 2.0}], ids=["number", "list", "dict"])
def test_loss_weights_scale_the_loss_and_every_slope(data, loss_weights):
    x, y, weights = data

    def model_with(scale):
        model = Sequential([Input(shape=(3,)), Dense(4, activation="tanh"), Dense(1, name="out")])
        model.compile(optimizer="sgd", loss="mse", loss_weights=scale)
        model.set_weights([np.full(w.shape, 0.3, np.float32) for w in model.get_weights()])
        return model

    plain, scaled = model_with(None), model_with(loss_weights)
    loss, grads = plain.compute_gradients(x, y, sample_weight=weights)
    scaled_loss, scaled_grads = scaled.compute_gradients(x, y, sample_weight=weights)
    assert scaled_loss == pytest.approx(2 * loss, rel=1e-6)
    for g, s in zip(grads, scaled_grads, strict=True):
        np.testing.assert_allclose(s, 2 * g, rtol=1e-6)
    assert scaled.evaluate(x, y, verbose=0) == pytest.approx(2 * plain.evaluate(x, y, verbose=0))


@pytest.mark.parametrize(
    "loss_weights, message",
    [
        ({"other": 2.0}, "names the output 'other', but the model's output is 'out'"),
        ([1.0, 2.0], "must be a number, or a list or dict of one number"),
        ("heavy", "must be a number"),
        (float("nan"), "must be finite"),
    ],
)
def test_bad_loss_weights_are_refused_by_name(loss_weights, message):
    model = Sequential([Input(shape=(3,)), Dense(1, name="out")])
    with pytest.raises(ValueError, match=message):
        model.compile(optimizer="sgd", loss="mse", loss_weights=loss_weights)


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
