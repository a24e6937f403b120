"""The course's worked cases (shared/course-cases.md), through the public Keras-style API.

Weights are written the course's way, one list per node holding the weights of the lines
that end at that node; a Dense kernel has one *column* per node, so the course's node lists
are stacked as columns.

Tolerance: in float64 every case below is exact to 1e-12 relative (integer cases exactly).
In float32, the library's default, the integer cases are still exact (every intermediate
value is a small integer) and the tanh cases agree to 1e-6 relative: a float32 carries 24
bits (about 6e-8 relative per operation), and tanh of 5 and 9 is near 1, where float32's
spacing is 6e-8, so a handful of operations stay well inside 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet.explain import last_pass
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD


def kernel(*nodes):
    """The course's per-node weight lists as a Dense kernel (one column per node)."""
    return np.array(nodes, dtype=np.float64).T


def course_network(hidden_nodes, output_node, hidden_activation, output_activation=None, extra=()):
    """Inputs → one or more hidden Dense layers → one output, without biases, as in the course."""
    layers = [
        Dense(len(hidden_nodes), activation=hidden_activation, use_bias=False, input_shape=(2,))
    ]
    weights = [kernel(*hidden_nodes)]
    for nodes in extra:
        layers.append(Dense(len(nodes), activation=hidden_activation, use_bias=False))
        weights.append(kernel(*nodes))
    layers.append(Dense(1, activation=output_activation, use_bias=False))
    weights.append(kernel(output_node))
    model = Sequential(layers)
    model.set_weights(weights)
    return model


F1_NODES = ([1, 1], [-1, 1])
F2_NODES = ([2, 4], [4, -5])

# (case, input rows, hidden nodes, output node, hidden activation, output activation, extra
#  hidden layers, expected predictions)
FORWARD_CASES = [
    ("F1", [[2, 3]], F1_NODES, [2, -1], None, None, (), [9]),
    ("F2", [[3, 5]], F2_NODES, [2, 7], None, None, (), [-39]),
    ("F3", [[3, 5]], F2_NODES, [2, 7], "relu", None, (), [52]),
    ("F4", [[2, 3]], F1_NODES, [2, -1], "tanh", None, (), [1.2382242525694254]),
    ("F4b", [[-1, 2]], ([3, 3], [1, 5]), [2, -1], "tanh", None, (), [0.99010953783342]),
    (
        "F5",
        [[3, 5], [1, -1], [0, 0], [8, 4]],
        F2_NODES,
        [2, 7],
        "relu",
        "relu",
        (),
        [52, 63, 0, 148],
    ),
    ("F6", [[3, 5]], F2_NODES, [2, 7], "relu", None, (([-1, 2], [1, 2]),), [182]),
]


@pytest.mark.parametrize(
    ("rows", "hidden", "output", "hidden_activation", "output_activation", "extra", "expected"),
    [case[1:] for case in FORWARD_CASES],
    ids=[case[0] for case in FORWARD_CASES],
)
def test_forward_case_in_float64_is_exact(
    rows, hidden, output, hidden_activation, output_activation, extra, expected, float64
):
    model = course_network(hidden, output, hidden_activation, output_activation, extra)
    prediction = model.predict(np.array(rows, dtype=float), verbose=0)
    assert prediction.dtype == np.float64
    np.testing.assert_allclose(prediction[:, 0], expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("rows", "hidden", "output", "hidden_activation", "output_activation", "extra", "expected"),
    [case[1:] for case in FORWARD_CASES],
    ids=[case[0] for case in FORWARD_CASES],
)
def test_forward_case_in_float32_within_float32_precision(
    rows, hidden, output, hidden_activation, output_activation, extra, expected
):
    model = course_network(hidden, output, hidden_activation, output_activation, extra)
    prediction = model.predict(np.array(rows, dtype=float), verbose=0)
    assert prediction.dtype == np.float32
    np.testing.assert_allclose(prediction[:, 0], expected, rtol=1e-6, atol=0)


def test_f1_hidden_layer_values(float64):
    model = course_network(F1_NODES, [2, -1], None)
    model.predict(np.array([[2.0, 3.0]]), verbose=0)
    np.testing.assert_array_equal(last_pass(model).layers[0].output, [[5.0, 1.0]])


def test_f6_first_hidden_layer_values(float64):
    model = course_network(F2_NODES, [2, 7], "relu", extra=(([-1, 2], [1, 2]),))
    model.predict(np.array([[3.0, 5.0]]), verbose=0)
    recorded = last_pass(model).layers
    np.testing.assert_array_equal(recorded[0].output, [[26.0, 0.0]])
    np.testing.assert_array_equal(recorded[1].output, [[0.0, 26.0]])


def test_f4_tanh_layer_turns_f1s_hidden_inputs_5_and_1_into_tanh_5_and_tanh_1(float64):
    # The course's F4 is F1's network with tanh on the hidden nodes: their inputs stay F1's
    # values 5 and 1, glassnet's tanh turns them into tanh 5 and tanh 1, and the output
    # weights [2, -1] make 2·tanh 5 − tanh 1, the number the course prints.
    model = course_network(F1_NODES, [2, -1], "tanh")
    prediction = model.predict(np.array([[2.0, 3.0]]), verbose=0)
    assert model.layers[0].activation.name == "tanh"
    hidden = last_pass(model).layers[0].record
    np.testing.assert_array_equal(hidden.z, [[5.0, 1.0]])
    np.testing.assert_allclose(hidden.a, [[math.tanh(5), math.tanh(1)]], rtol=1e-12, atol=0)
    assert prediction[0, 0] == pytest.approx(2 * math.tanh(5) - math.tanh(1), rel=1e-12)
    assert prediction[0, 0] == pytest.approx(1.2382242525694254, rel=1e-12)


def test_f4b_the_course_listing_gives_its_own_number_not_the_printed_one(float64):
    # The listing types the input [-1, 2] with other weights: hidden inputs 3 and 9, and a
    # prediction of 2·tanh 3 − tanh 9, which is not the 1.2382242525694254 printed under it.
    listing = course_network(([3, 3], [1, 5]), [2, -1], "tanh")
    prediction = listing.predict(np.array([[-1.0, 2.0]]), verbose=0)[0, 0]
    hidden = last_pass(listing).layers[0].record
    np.testing.assert_array_equal(hidden.z, [[3.0, 9.0]])
    np.testing.assert_allclose(hidden.a, [[math.tanh(3), math.tanh(9)]], rtol=1e-12, atol=0)
    assert prediction == pytest.approx(2 * math.tanh(3) - math.tanh(9), rel=1e-12)
    assert prediction == pytest.approx(0.99010953783342, rel=1e-13)
    assert abs(prediction - 1.2382242525694254) > 0.2


# --- gradient descent and backpropagation ---------------------------------------------------


def test_g1_error_and_better_output_weights(float64):
    model = course_network(F1_NODES, [2, -1], None)
    x = np.array([[2.0, 3.0]])
    assert 13 - model.predict(x, verbose=0)[0, 0] == 4
    model.layers[1].set_weights([kernel([3, -2])])
    assert model.predict(x, verbose=0)[0, 0] == 13


def test_g2_slope_and_update_of_one_weight(float64):
    model = Sequential([Dense(1, use_bias=False, input_shape=(1,))])
    model.set_weights([np.array([[2.0]])])
    model.compile(optimizer=SGD(lr=0.01), loss="mean_squared_error")
    x, y = np.array([[3.0]]), np.array([[10.0]])

    loss, (grad_weight,) = model.compute_gradients(x, y)
    assert loss == (6 - 10) ** 2
    assert grad_weight[0, 0] == 2 * (6 - 10) * 3 == -24
    model.fit(x, y, epochs=1, batch_size=1, verbose=0)
    assert model.get_weights()[0][0, 0] == pytest.approx(2.24, abs=1e-12)


def test_g3_two_weights_one_step(float64):
    model = Sequential([Dense(1, use_bias=False, input_shape=(2,))])
    model.set_weights([kernel([1, 2])])
    model.compile(optimizer=SGD(learning_rate=0.01), loss="mse")
    x, y = np.array([[3.0, 4.0]]), np.array([[6.0]])
    assert model.predict(x, verbose=0)[0, 0] - 6 == 5

    _, (grad,) = model.compute_gradients(x, y)
    np.testing.assert_allclose(grad[:, 0], [30, 40])
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0][:, 0], [0.7, 1.6], atol=1e-12)
    assert model.predict(x, verbose=0)[0, 0] == pytest.approx(8.5, abs=1e-12)
    assert model.predict(x, verbose=0)[0, 0] - 6 == pytest.approx(2.5, abs=1e-12)


def test_g4_slopes_of_the_last_layer(float64):
    # Nodes of value [1, 3] feed the output through weights [1, 2]: prediction 7; target 4
    # makes the error 3, so 2 × error = 6; ReLU at a positive node has slope 1.
    model = Sequential([Dense(1, activation="relu", use_bias=False, input_shape=(2,))])
    model.set_weights([kernel([1, 2])])
    model.compile(optimizer="sgd", loss="mse")
    _, (grad,) = model.compute_gradients(np.array([[1.0, 3.0]]), np.array([[4.0]]))
    np.testing.assert_allclose(grad[:, 0], [6, 18])


def test_g5_slopes_one_layer_back(float64):
    # Inputs [0, 1] feed two ReLU nodes (both of value 1); the output adds them (weights 1),
    # predicting 2 for a target of -1: 2 × error = 6 at the output, so 6 × 1 = 6 at the top
    # hidden node. Its incoming weights get 0 × 6 × 1 = 0 and 1 × 6 × 1 = 6.
    model = course_network(([1, 1], [1, 1]), [1, 1], "relu")
    model.compile(optimizer="sgd", loss="mse")
    _, (grad_hidden, grad_output) = model.compute_gradients(
        np.array([[0.0, 1.0]]), np.array([[-1.0]])
    )
    np.testing.assert_allclose(last_pass(model).layers[0].record.grad_z[0, 0], 6)
    np.testing.assert_allclose(grad_hidden[:, 0], [0, 6])
    np.testing.assert_allclose(grad_output[:, 0], [6, 6])
