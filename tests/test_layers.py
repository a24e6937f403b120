"""Layers: Keras defaults, forward values, and every backward slope against finite differences.

Each slope check runs a layer on its own in float64: for a random slope ``grad_out`` arriving
from above, ``backward`` must return the slope of ``sum(grad_out * forward(x))`` with respect
to ``x``, and write the slope with respect to each weight into the layer's gradient views.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient
from gradcheck import check_layer_slopes as shared_check
from hypothesis import given
from hypothesis import strategies as st

from glassnet import activations, initializers, regularizers
from glassnet.layers import Activation, BatchNormalization, Dense, Dropout, Flatten, Input, Reshape


def randomize_weights(layer, rng):
    """Random weights (and biases), so that no node sits exactly on an activation's kink."""
    layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])


def check_layer_slopes(layer, x, rng, **kwargs):
    """``gradcheck.check_layer_slopes`` for a layer that has trainable weights."""
    assert shared_check(layer, x, rng, **kwargs), "the layer should have trainable weights"


# --- Dense ------------------------------------------------------------------------------


def test_dense_defaults_are_keras():
    layer = Dense(3)
    assert layer.units == 3
    assert layer.use_bias is True
    assert isinstance(layer.activation, activations.Linear)
    assert isinstance(layer.kernel_initializer, initializers.GlorotUniform)
    assert isinstance(layer.bias_initializer, initializers.Zeros)
    assert layer.kernel_regularizer is None and layer.bias_regularizer is None


def test_dense_builds_kernel_inputs_by_units_and_zero_bias():
    layer = Dense(3)
    layer.build((None, 4))
    assert layer.kernel.shape == (4, 3) and layer.bias.shape == (3,)
    np.testing.assert_array_equal(layer.bias, np.zeros(3))
    assert np.abs(layer.kernel).max() <= np.sqrt(6 / (4 + 3))
    assert layer.count_params() == 4 * 3 + 3
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (3,)]


def test_dense_without_bias_has_only_a_kernel():
    layer = Dense(2, use_bias=False)
    layer.build((3,))
    assert [w.shape for w in layer.get_weights()] == [(3, 2)]


def test_dense_forward_is_x_kernel_plus_bias_through_the_activation(float64):
    layer = Dense(2, activation="relu")
    layer.build((None, 2))
    layer.set_weights([np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([0.5, -10.0])])
    np.testing.assert_allclose(layer(np.array([[2.0, 3.0]])), [[5.5, 0.0]])
    _, record = layer.forward(np.array([[2.0, 3.0]]))
    np.testing.assert_allclose(record.z, [[5.5, -9.0]])


@pytest.mark.parametrize("activation", activations.layer_names())
@given(
    rows=st.integers(1, 4),
    inputs=st.integers(1, 4),
    units=st.integers(1, 4),
    seed=st.integers(0, 999),
)
def test_dense_slopes_match_finite_differences(activation, rows, inputs, units, seed, float64):
    rng = np.random.default_rng(seed)
    layer = Dense(units, activation=activation)
    layer.build((None, inputs))
    randomize_weights(layer, rng)
    check_layer_slopes(layer, rng.normal(size=(rows, inputs)), rng)


def test_dense_keeps_the_values_the_glass_box_reads(rng, float64):
    layer = Dense(3, activation="tanh")
    layer.build((2,))
    x = rng.normal(size=(4, 2))
    out, record = layer.forward(x)
    assert out is record.a
    grad_a = rng.normal(size=(4, 3))
    layer.backward(record, grad_a)
    np.testing.assert_array_equal(record.x, x)
    np.testing.assert_allclose(record.a, np.tanh(record.z))
    np.testing.assert_array_equal(record.grad_a, grad_a)
    np.testing.assert_allclose(record.grad_z, grad_a * (1 - record.a**2))
    # The course's three factors: value feeding in × slope at the node × activation slope.
    np.testing.assert_allclose(layer.grad_kernel, x.T @ record.grad_z)


def test_a_layer_keeps_no_state_of_its_calls(rng, float64):
    """Two passes through one layer leave two records; backward reads the one it is given."""
    layer = Dense(2, activation="tanh")
    layer.build((3,))
    x1, x2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    _, first = layer.forward(x1)
    _, second = layer.forward(x2)
    grad = rng.normal(size=(4, 2))
    layer.backward(first, grad)
    np.testing.assert_allclose(layer.grad_kernel, x1.T @ (grad * (1 - first.a**2)))
    assert second.grad_z is None
    assert not any(name in vars(layer) for name in ("x", "z", "a", "grad_a", "grad_z"))


def test_calling_a_layer_records_a_node_on_an_open_tape(rng, float64):
    from glassnet.ops import recording

    layer = Dense(2, activation="relu")
    layer.build((3,))
    x = rng.normal(size=(4, 3))
    with recording() as tape:
        first = layer(x)
        layer(first @ np.ones((2, 3)))  # an op on a layer's output is recorded too
    assert [getattr(node.op, "name", None) for node in tape.nodes] == [
        layer.name, "matmul", layer.name
    ]
    np.testing.assert_array_equal(tape.nodes[0].inputs, x)
    np.testing.assert_array_equal(tape.nodes[0].records.a, first)
    assert layer(x) is not None and len(tape.nodes) == 3  # nothing records once it is closed


def test_dense_first_layer_can_skip_the_input_slope(rng, float64):
    layer = Dense(2)
    layer.build((3,))
    _, record = layer.forward(rng.normal(size=(5, 3)))
    assert layer.backward(record, rng.normal(size=(5, 2)), need_grad_input=False) is None
    assert np.any(layer.grad_kernel != 0)


def test_frozen_dense_still_passes_its_slope_back(rng, float64):
    layer = Dense(2, trainable=False)
    layer.build((3,))
    x = rng.normal(size=(4, 3))
    _, record = layer.forward(x)
    grad_out = rng.normal(size=(4, 2))
    np.testing.assert_allclose(layer.backward(record, grad_out), grad_out @ layer.kernel.T)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2


# --- Activation, Flatten, Reshape -----------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "softmax", "elu"])
def test_activation_layer_slope_matches_finite_differences(name, rng, float64):
    layer = Activation(name)
    layer.build((None, 4))
    x = rng.normal(size=(3, 4))
    x[np.abs(x) < 1e-3] = 0.5  # away from the kink of relu and elu
    out, records = layer.forward(x)
    grad_out = rng.normal(size=out.shape)
    numeric = numerical_gradient(lambda: float(np.sum(grad_out * layer.forward(x)[0])), x)
    assert_gradient_close(layer.backward(records, grad_out), numeric)


def test_flatten_then_dense_slopes_match_finite_differences(rng, float64):
    flatten = Flatten()
    dense = Dense(3, activation="tanh")
    dense.build((None, 6))
    randomize_weights(dense, rng)
    flatten.plan((2, 3))
    x = rng.normal(size=(4, 2, 3))

    def forward():
        flat, flatten_records = flatten.forward(x)
        out, dense_records = dense.forward(flat)
        return out, (flatten_records, dense_records)

    out, (flatten_records, dense_records) = forward()
    assert out.shape == (4, 3)
    grad_out = rng.normal(size=out.shape)
    grad_x = flatten.backward(flatten_records, dense.backward(dense_records, grad_out))
    assert grad_x.shape == x.shape
    assert_gradient_close(
        grad_x, numerical_gradient(lambda: float(np.sum(grad_out * forward()[0])), x)
    )


def test_reshape_round_trips_shapes():
    layer = Reshape((3, 2))
    assert layer.plan((6,)) == (3, 2)
    x = np.arange(12.0).reshape(2, 6)
    out, records = layer.forward(x)
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(layer.backward(records, out), x)
    with pytest.raises(ValueError, match=r"cannot turn rows of shape \(5,\) into \(3, 2\)"):
        Reshape((3, 2)).plan((5,))


# --- Dropout --------------------------------------------------------------------------------


def test_dropout_does_nothing_at_inference(rng):
    x = rng.normal(size=(5, 4)).astype(np.float32)
    layer = Dropout(0.5)
    out, mask = layer.forward(x, training=False)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(layer.backward(mask, np.ones_like(x)), np.ones_like(x))


def test_dropout_in_training_zeroes_a_share_and_scales_the_rest():
    layer = Dropout(0.25, seed=3)
    x = np.ones((200, 100), dtype=np.float32)
    out, mask = layer.forward(x, training=True)
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    # The mask is the slope: dropped inputs get none, kept ones get the same scale.
    np.testing.assert_array_equal(layer.backward(mask, np.ones_like(x)), out)


def test_dropout_slope_with_a_fixed_mask_matches_finite_differences(rng, float64):
    layer = Dropout(0.4, seed=5)
    x = rng.normal(size=(3, 5))

    def forward_with_fixed_mask():
        layer.rng = np.random.default_rng(5)  # the same mask at every call
        return layer.forward(x, training=True)

    out, mask = forward_with_fixed_mask()
    assert np.any(out == 0) and np.any(out != 0)
    grad_out = rng.normal(size=out.shape)
    numeric = numerical_gradient(
        lambda: float(np.sum(grad_out * forward_with_fixed_mask()[0])), x
    )
    assert_gradient_close(layer.backward(mask, grad_out), numeric)


def test_dropout_rate_must_be_in_zero_one():
    with pytest.raises(ValueError, match=r"`rate` must be a number in \[0, 1\). Received: rate=1"):
        Dropout(1)


# --- BatchNormalization -------------------------------------------------------------------


def test_batch_normalization_training_slopes_match_finite_differences(rng, float64):
    layer = BatchNormalization()
    layer.build((None, 3))
    layer.gamma[...] = rng.normal(size=3)
    layer.beta[...] = rng.normal(size=3)
    x = rng.normal(size=(6, 3)) * 2 + 1
    check_layer_slopes(layer, x, rng, training=True)


def test_batch_normalization_inference_slopes_match_finite_differences(rng, float64):
    layer = BatchNormalization()
    layer.build((None, 3))
    layer.set_weights(
        [rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), rng.uniform(1, 2, 3)]
    )
    check_layer_slopes(layer, rng.normal(size=(4, 3)), rng, training=False)


def test_batch_normalization_normalizes_and_updates_moving_statistics(float64):
    layer = BatchNormalization()
    layer.build((None, 1))
    x = np.array([[1.0], [3.0]])  # mean 2, biased variance 1
    out, _ = layer.forward(x, training=True)
    np.testing.assert_allclose(out, [[-1 / np.sqrt(1.001)], [1 / np.sqrt(1.001)]])
    # Keras: moving = moving * 0.99 + batch * 0.01, starting from mean 0 and variance 1.
    np.testing.assert_allclose(layer.moving_mean, [0.02])
    np.testing.assert_allclose(layer.moving_variance, [1.0])
    assert [w.shape for w in layer.get_weights()] == [(1,)] * 4  # gamma, beta, moving mean/var


# --- regularizers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "regularizer",
    [regularizers.L2(0.1), regularizers.L1(0.05), regularizers.L1L2(l1=0.02, l2=0.3)],
    ids=["l2", "l1", "l1_l2"],
)
def test_regularized_dense_slopes_include_the_penalty(regularizer, rng, float64):
    layer = Dense(
        3, activation="tanh", kernel_regularizer=regularizer, bias_regularizer=regularizer
    )
    layer.build((None, 2))
    randomize_weights(layer, rng)
    check_layer_slopes(layer, rng.normal(size=(4, 2)), rng, penalty=True)


def test_regularizer_penalties_by_hand():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert regularizers.L2(0.1)(w) == pytest.approx(0.1 * (1 + 4 + 0.25))
    assert regularizers.L1(0.1)(w) == pytest.approx(0.1 * 3.5)
    assert regularizers.get("l2").l2 == 0.01  # Keras's default
    np.testing.assert_allclose(regularizers.L1L2(l1=1.0, l2=1.0).gradient(w), np.sign(w) + 2 * w)
    with pytest.raises(ValueError, match="`l2` must be a non-negative number. Received: l2=-1"):
        regularizers.L2(-1)


# --- construction errors and naming ----------------------------------------------------------


def test_layers_get_keras_style_unique_names():
    first, second = Dense(1), Dense(1)
    assert first.name != second.name
    assert first.name.startswith("dense") and second.name.startswith("dense")
    assert Dense(1, name="out").name == "out"


@pytest.mark.parametrize("units", [0, -3, 2.5, True, "3"])
def test_dense_units_must_be_a_positive_integer(units):
    with pytest.raises(ValueError, match=r"`units` must be a positive integer. Received: units="):
        Dense(units)


def test_unknown_layer_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="Dense got unexpected keyword argument.*: activaton"):
        Dense(3, activaton="relu")


def test_input_shape_and_input_dim_are_both_accepted():
    assert Dense(3, input_shape=(4,)).declared_input_shape == (4,)
    assert Dense(3, input_dim=4).declared_input_shape == (4,)
    assert Input(shape=(5,)).shape == (None, 5)  # a symbolic tensor, as keras.Input gives


def test_config_round_trip_rebuilds_an_equal_layer():
    layer = Dense(4, activation="relu", use_bias=False, kernel_regularizer=regularizers.L2(0.2))
    again = Dense.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_a_layer_called_on_rows_of_the_wrong_shape_names_itself_and_both_shapes():
    layer = Dense(2, name="hidden")
    layer.build((3,))
    with pytest.raises(ValueError, match=r"Layer 'hidden' \(Dense\) expects rows of shape \(3,\); "
                       r"received an input of shape \(4, 5\)"):
        layer(np.ones((4, 5)))
