"""Activations: Keras 3's definitions at pinned points, and every slope by finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import assert_gradient_close, away_from, numerical_gradient
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from glassnet import activations

# Points where an activation has no derivative; finite differences straddling them disagree
# with any one-sided slope, so generated inputs are kept a little away from them.
KINKS = {
    "relu": [0.0],
    "leaky_relu": [0.0],
    "relu6": [0.0, 6.0],
    "hard_sigmoid": [-3.0, 3.0],
    "hard_silu": [-3.0, 3.0],
    "hard_swish": [-3.0, 3.0],
    "elu": [0.0],
    "selu": [0.0],
    "hard_shrink": [-0.5, 0.5],
    "soft_shrink": [-0.5, 0.5],
    "hard_tanh": [-1.0, 1.0],
    "sparse_sigmoid": [-1.0, 1.0],
}
# glu halves its axis, sparsemax has kinks wherever its support changes, and threshold
# needs its arguments: tests/test_activations_catalog.py checks them on chosen inputs.
ALL_NAMES = [n for n in activations.names() if n not in ("glu", "sparsemax", "threshold")]
ELEMENTWISE_NAMES = [name for name in ALL_NAMES if name not in ("softmax", "log_softmax")]

batches = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 5)),
    elements=st.floats(-7, 7, allow_nan=False, allow_infinity=False),
)

# Values computed by hand from Keras 3's formulas (keras/src/activations/activations.py).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
PINNED = [
    ("linear", -2.5, -2.5),
    ("relu", -1.0, 0.0),
    ("relu", 2.0, 2.0),
    ("leaky_relu", -1.0, -0.2),  # Keras 3: negative_slope=0.2 (not tf.nn's 0.2 by accident)
    ("relu6", 7.0, 6.0),
    ("tanh", 1.0, math.tanh(1.0)),
    ("sigmoid", 0.0, 0.5),
    ("sigmoid", 2.0, 1 / (1 + math.exp(-2.0))),
    ("hard_sigmoid", 1.0, 4 / 6),  # Keras 3: relu6(x + 3) / 6; Keras 2 gave 0.2 * 1 + 0.5 = 0.7
    ("hard_sigmoid", -3.5, 0.0),
    ("hard_silu", 1.0, 1.0 * 4 / 6),
    ("elu", -1.0, math.exp(-1.0) - 1),
    ("selu", -1.0, SELU_SCALE * SELU_ALPHA * (math.exp(-1.0) - 1)),
    ("selu", 2.0, SELU_SCALE * 2.0),
    ("softplus", 0.0, math.log(2.0)),
    ("softsign", 1.0, 0.5),
    ("silu", 1.0, 1 / (1 + math.exp(-1.0))),
    ("swish", -2.0, -2.0 / (1 + math.exp(2.0))),
    ("gelu", 1.0, 0.5 * (1 + math.erf(1 / math.sqrt(2)))),  # Keras 3 default: exact, not tanh
    ("exponential", 1.0, math.e),
    ("mish", 1.0, math.tanh(math.log1p(math.e))),
]


@pytest.mark.parametrize(("name", "z", "expected"), PINNED)
def test_activation_matches_keras_definition_at_a_point(name, z, expected):
    assert activations.get(name)(np.array([z]))[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_softmax_rows_sum_to_one_and_survive_huge_logits():
    out = activations.get("softmax")(np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out.sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(out[0], [1.0, 0.0, 0.0])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(out[1], e / e.sum())


def test_sigmoid_does_not_overflow_for_large_negative_inputs():
    with np.errstate(all="raise"):
        out = activations.get("sigmoid")(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_relu_slope_at_exactly_zero_is_zero():
    z = np.array([-1.0, 0.0, 1.0])
    relu = activations.get("relu")
    np.testing.assert_array_equal(relu.slope(z, relu(z)), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("name", ALL_NAMES)
@given(z=batches, seed=st.integers(0, 2**16))
def test_backward_matches_finite_differences(name, z, seed, float64):
    """``backward(z, a, grad_a)`` is the slope of ``sum(grad_a * f(z))`` with respect to ``z``."""
    activation = activations.get(name)
    z = away_from(z, KINKS.get(name, []))
    grad_a = np.random.default_rng(seed).normal(size=z.shape)

    analytic = activation.backward(z, activation(z), grad_a)
    numeric = numerical_gradient(lambda: float(np.sum(grad_a * activation(z))), z)
    terms = grad_a * activation(z)
    assert_gradient_close(analytic, numeric, rtol=1e-6, atol=1e-7, objective_terms=terms)


@pytest.mark.parametrize("name", ELEMENTWISE_NAMES)
def test_slope_is_the_elementwise_derivative(name, float64):
    activation = activations.get(name)
    z = away_from(np.linspace(-6.5, 6.5, 27), KINKS.get(name, []))
    numeric = numerical_gradient(lambda: float(np.sum(activation(z))), z)
    assert_gradient_close(
        activation.slope(z, activation(z)),
        numeric,
        rtol=1e-6,
        atol=1e-7,
        objective_terms=activation(z),
    )


def test_gelu_approximate_form_and_its_slope(float64):
    gelu = activations.Gelu(approximate=True)
    z = np.linspace(-4, 4, 17)
    c = math.sqrt(2 / math.pi)
    np.testing.assert_allclose(gelu(z), 0.5 * z * (1 + np.tanh(c * (z + 0.044715 * z**3))))
    numeric = numerical_gradient(lambda: float(np.sum(gelu(z))), z)
    assert_gradient_close(gelu.slope(z, gelu(z)), numeric)


def test_leaky_relu_and_elu_take_their_parameters(float64):
    z = np.array([-2.0, 3.0])
    np.testing.assert_allclose(activations.LeakyReLU(negative_slope=0.1)(z), [-0.2, 3.0])
    np.testing.assert_allclose(activations.Elu(alpha=2.0)(z), [2 * (math.exp(-2) - 1), 3.0])


def test_float32_inputs_give_float32_outputs():
    z = np.linspace(-3, 3, 7, dtype=np.float32)
    for name in ALL_NAMES:
        activation = activations.get(name)
        a = activation(z.reshape(1, -1))
        assert a.dtype == np.float32, name
        grad_z = activation.backward(z.reshape(1, -1), a, np.ones((1, 7), np.float32))
        assert grad_z.dtype == np.float32, name


def test_names_are_case_insensitive_and_aliases_resolve():
    assert isinstance(activations.get("ReLU"), activations.ReLU)
    assert isinstance(activations.get("swish"), activations.Silu)
    assert isinstance(activations.get("identity"), activations.Linear)
    assert isinstance(activations.get(None), activations.Linear)
    assert activations.get(activations.relu) is activations.relu


def test_unknown_name_lists_valid_names_and_suggests_the_closest():
    with pytest.raises(
        ValueError, match=r"Unknown activation: 'rleu'\. Did you mean 'relu'"
    ) as info:
        activations.get("rleu")
    for name in ("sigmoid", "softmax", "tanh"):
        assert name in str(info.value)


def test_a_non_callable_identifier_is_a_type_error():
    with pytest.raises(TypeError, match="`activation` must be a name.*Received: activation=3"):
        activations.get(3)


def test_a_plain_function_gets_a_numerical_slope():
    def cube(z):
        return z**3

    activation = activations.get(cube)
    z = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(activation(z), z**3)
    np.testing.assert_allclose(activation.slope(z, activation(z)), 3 * z**2, rtol=1e-6)
