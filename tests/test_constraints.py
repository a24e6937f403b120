"""``glassnet.constraints`` (``keras/src/constraints/constraints_test.py``'s cases worked by
hand, and real Keras as the oracle where installed), and Dense's ``kernel_constraint`` and
``bias_constraint``, applied by the optimizer after each update and kept in configs."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from glassnet import constraints
from glassnet.layers import Dense
from glassnet.models import Sequential


def _weights():
    return np.random.default_rng(0).normal(size=(100, 30)) * 10  # as Keras's test: rows of 30


def test_max_norm_caps_each_column():
    w = _weights()
    for max_value in (0.5, 2.0, 5.0):
        out = constraints.MaxNorm(max_value)(w)
        assert np.all(np.sqrt((out**2).sum(axis=0)) <= max_value + 1e-6)
    small = np.array([[0.3], [0.4]])
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(small), small / (1 + 1e-7 / 0.5))


def test_non_neg_zeroes_negatives():
    np.testing.assert_array_equal(constraints.NonNeg()(np.array([-1.0, 0.0, 2.0])), [0, 0, 2])


def test_unit_norm_and_its_axis():
    w = _weights()
    np.testing.assert_allclose(
        np.sqrt((constraints.UnitNorm()(w) ** 2).sum(axis=0)), 1.0, rtol=1e-6
    )
    np.testing.assert_allclose(
        np.sqrt((constraints.UnitNorm(axis=1)(w) ** 2).sum(axis=1)), 1.0, rtol=1e-6
    )


def test_min_max_norm_with_rate():
    w = np.array([[3.0], [4.0]])  # norm 5
    np.testing.assert_allclose(constraints.MinMaxNorm(0.0, 1.0)(w), w / 5, rtol=1e-6)
    half = constraints.MinMaxNorm(0.0, 1.0, rate=0.5)(w)  # desired 0.5 * 1 + 0.5 * 5 = 3
    np.testing.assert_allclose(half, w * 3 / 5, rtol=1e-6)
    up = constraints.MinMaxNorm(10.0, 20.0)(w)
    np.testing.assert_allclose(np.linalg.norm(up), 10.0, rtol=1e-6)


def test_get_serialize_deserialize():
    assert constraints.get(None) is None
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert isinstance(constraints.get(constraints.UnitNorm), constraints.UnitNorm)
    c = constraints.MinMaxNorm(0.1, 2.0, rate=0.5, axis=[0, 1])
    again = constraints.deserialize(constraints.serialize(c))
    assert again.get_config() == c.get_config()
    assert constraints.serialize(c)["module"] == "keras.constraints"
    with pytest.raises(ValueError, match="Unknown constraint: 'maxnorm2'.*Did you mean"):
        constraints.get("maxnorm2")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: 3"):
        constraints.get(3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: constraints.MaxNorm(-1.0), "`max_value` must be a finite number >= 0"),
        (lambda: constraints.MaxNorm(axis="0"), "`axis` must be an integer"),
        (lambda: constraints.MinMaxNorm(2.0, 1.0), "`max_value` must be >= `min_value`"),
        (lambda: constraints.MinMaxNorm(rate=float("nan")), "`rate` must be a finite number"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_an_axis_that_does_not_fit_the_weight_is_named():
    with pytest.raises(ValueError, match=r"axis=2 does not fit a weight of shape \(3, 4\)"):
        constraints.MaxNorm(axis=2)(np.ones((3, 4)))


def test_dense_constraints_hold_after_every_step_and_travel_in_its_config():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 4)) * 5, rng.normal(size=(64, 1)) * 5
    model = Sequential(
        [
            Dense(
                8,
                input_shape=(4,),
                kernel_constraint=constraints.MaxNorm(0.3),
                bias_constraint="non_neg",
            ),
            Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    kernel, bias = model.layers[0].get_weights()
    assert np.sqrt((kernel**2).sum(axis=0)).max() <= 0.3 + 1e-6
    assert bias.min() >= 0
    config = model.layers[0].get_config()
    assert config["kernel_constraint"] == {
        "module": "keras.constraints",
        "class_name": "MaxNorm",
        "config": {"max_value": 0.3, "axis": 0},
        "registered_name": None,
    }
    again = Dense.from_config(config)
    assert isinstance(again.bias_constraint, constraints.NonNeg)


def test_a_layer_without_constraints_trains_as_before():
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0)
    assert model.optimizer.constraints == []


@pytest.mark.keras
@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="keras not installed")
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("MaxNorm", {"max_value": 1.5}),
        ("MaxNorm", {"max_value": 1.0, "axis": [0, 1]}),
        ("NonNeg", {}),
        ("UnitNorm", {"axis": 1}),
        ("MinMaxNorm", {"min_value": 0.5, "max_value": 2.0, "rate": 0.7}),
    ],
)
def test_constraints_equal_keras(name, kwargs):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    w = np.random.default_rng(2).normal(size=(6, 5)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(getattr(keras.constraints, name)(**kwargs)(w))
    np.testing.assert_allclose(
        getattr(constraints, name)(**kwargs)(w), expected, rtol=1e-6, atol=1e-7
    )
    assert (
        getattr(constraints, name)(**kwargs).get_config()
        == getattr(keras.constraints, name)(**kwargs).get_config()
    )
