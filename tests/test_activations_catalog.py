"""Keras 3's newer activations (``keras/src/activations/activations.py``, the NumPy
backend's ``keras/src/backend/numpy/nn.py``): values at hand-computed points, the ones the
shared tests cannot draw at random (glu, sparsemax, threshold) checked by finite differences
here, arguments given in a call, and real Keras as the oracle where installed."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from glassnet import activations

PINNED = [
    ("celu", -1.0, {}, math.expm1(-1.0)),
    ("celu", -1.0, {"alpha": 2.0}, 2 * math.expm1(-0.5)),
    ("celu", 3.0, {}, 3.0),
    ("hard_shrink", 0.4, {}, 0.0),
    ("hard_shrink", -0.7, {}, -0.7),
    ("hard_shrink", 0.7, {"threshold": 1.0}, 0.0),
    ("soft_shrink", 0.7, {}, 0.2),
    ("soft_shrink", -0.7, {}, -0.2),
    ("soft_shrink", 0.3, {}, 0.0),
    ("hard_tanh", 2.0, {}, 1.0),
    ("hard_tanh", -0.3, {}, -0.3),
    ("log_sigmoid", 0.0, {}, -math.log(2.0)),
    ("log_sigmoid", -800.0, {}, -800.0),  # no overflow
    ("sparse_plus", 0.0, {}, 0.25),
    ("sparse_plus", -2.0, {}, 0.0),
    ("sparse_plus", 2.0, {}, 2.0),
    ("sparse_sigmoid", 0.5, {}, 0.75),
    ("sparse_sigmoid", 3.0, {}, 1.0),
    ("squareplus", 0.0, {}, 1.0),
    ("squareplus", 0.0, {"b": 16}, 2.0),
    ("tanh_shrink", 1.0, {}, 1 - math.tanh(1.0)),
    ("threshold", 0.5, {"threshold": 1.0, "default_value": -3.0}, -3.0),
    ("threshold", 1.5, {"threshold": 1.0, "default_value": -3.0}, 1.5),
]


@pytest.mark.parametrize(("name", "z", "kwargs", "expected"), PINNED)
def test_values_at_hand_computed_points(name, z, kwargs, expected):
    out = getattr(activations, name)(np.array([z]), **kwargs)
    assert out[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_get_returns_the_module_functions():
    for name in ("celu", "glu", "sparsemax", "log_softmax", "threshold", "tanh_shrink"):
        assert activations.get(name) is getattr(activations, name)


def test_glu_gates_the_first_half_with_the_second(float64):
    z = np.array([[1.0, 2.0, 0.0, -1.0]])
    sig = 1 / (1 + np.exp(-np.array([0.0, -1.0])))
    np.testing.assert_allclose(activations.glu(z), [[1.0, 2.0]] * sig)
    np.testing.assert_allclose(activations.glu(z.T, axis=0), ([[1.0], [2.0]] * sig[:, None]))
    with pytest.raises(ValueError, match="divisible by 2"):
        activations.glu(np.ones((2, 3)))


def test_log_softmax_is_the_log_of_softmax(float64):
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(
        activations.log_softmax(z[:1]), np.log(activations.softmax(z[:1])), rtol=1e-12
    )
    assert np.isfinite(activations.log_softmax(z)).all()
    np.testing.assert_allclose(activations.log_softmax(z.T, axis=0)[:, 1], [0, -1000, -2000])


def test_sparsemax_projects_onto_the_simplex(float64):
    # Keras's own cases (keras/src/activations/activations_test.py): one winner per row
    x = np.linspace(1, 12, num=12).reshape(-1, 2)
    np.testing.assert_allclose(activations.sparsemax(x), np.eye(2)[[1] * 6])
    np.testing.assert_allclose(activations.sparsemax(x, axis=-2)[-1], [1.0, 1.0])
    # two positive outputs: the projection (Keras 3.15 gives [0.35, 0.15] here)
    np.testing.assert_allclose(activations.sparsemax(np.array([[1.0, 0.0]])), [[1.0, 0.0]])
    np.testing.assert_allclose(activations.sparsemax(np.array([[0.5, 0.3]])), [[0.6, 0.4]])
    out = activations.sparsemax(np.random.default_rng(0).normal(size=(5, 6)))
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)
    assert (out >= 0).all() and (out == 0).any()


def test_threshold_needs_its_arguments():
    with pytest.raises(TypeError, match="default_value"):
        activations.threshold(np.array([1.0]))
    with pytest.raises(TypeError, match="unexpected"):
        activations.celu(np.array([1.0]), beta=2.0)


@pytest.mark.parametrize(
    "activation",
    [
        activations.Glu(),
        activations.Glu(axis=0),
        activations.LogSoftmax(),
        activations.LogSoftmax(axis=0),
        activations.Sparsemax(),
        activations.Threshold(threshold=0.2, default_value=-1.0),
        activations.Celu(alpha=0.5),
        activations.Squareplus(b=2.0),
    ],
    ids=lambda a: f"{a.name}-{a.get_config()}",
)
def test_backward_matches_finite_differences(activation, float64):
    rng = np.random.default_rng(1)
    # sparsemax and threshold have kinks: these draws sit away from them (checked below)
    z = rng.normal(size=(4, 6)) * 1.5
    z = np.where(np.abs(z - 0.2) < 0.05, z + 0.2, z)
    a = activation(z)
    grad_a = rng.normal(size=a.shape)
    analytic = activation.backward(z, a, grad_a)
    numeric = numerical_gradient(lambda: float(np.sum(grad_a * activation(z))), z)
    assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-7, objective_terms=grad_a * a)


def test_values_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    z = np.random.default_rng(2).normal(size=(3, 8)).astype(np.float32) * 2
    calls = [
        ("celu", {"alpha": 0.7}),
        ("glu", {}),
        ("hard_shrink", {"threshold": 0.3}),
        ("hard_tanh", {}),
        ("log_sigmoid", {}),
        ("log_softmax", {}),
        ("soft_shrink", {}),
        ("sparse_plus", {}),
        ("sparse_sigmoid", {}),
        ("squareplus", {"b": 3.0}),
        ("tanh_shrink", {}),
        ("threshold", {"threshold": 0.1, "default_value": 5.0}),
    ]
    for name, kwargs in calls:
        ours = getattr(activations, name)(z, **kwargs)
        theirs = np.asarray(getattr(keras.activations, name)(z, **kwargs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=name)
