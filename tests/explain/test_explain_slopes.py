"""``slopes`` and ``step`` agree with training: the slope reported for every weight is the
gradient ``compute_gradients`` hands the optimizer, its three factors multiply to it, and the
node slopes follow the course's rule, for every activation, loss and layer type."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from glassnet import activations, regularizers
from glassnet.explain import from_node_weights, slopes, step
from glassnet.layers import Activation, BatchNormalization, Dense, Dropout
from glassnet.models import NotCompiledError, Sequential

ACTIVATIONS = sorted({type(activations.get(n)).__name__: activations.get(n).name
                      for n in activations.layer_names()}.values())


def check_agrees_with_training(model, x, y, sample_weight=None):
    """The checks every network must pass; returns the ``Slopes``."""
    s = slopes(model, x, y, sample_weight=sample_weight)
    loss, grads = model.compute_gradients(x, y, sample_weight=sample_weight)
    assert s.loss == loss
    assert len(s.gradients) == len(grads) == len(s.weight_names)
    for mine, theirs in zip(s.gradients, grads, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    layers = s.layers
    for index, ls in enumerate(layers):
        for short, ws in ls.weights.items():
            if ws.slope is None:
                continue
            if ws.products is not None:  # the three factors multiply to the slope
                total = ws.products.sum(axis=0)
                if ws.penalty_slope is not None:
                    total = total + ws.penalty_slope
                np.testing.assert_allclose(total, ws.slope, rtol=1e-12, atol=1e-12,
                                           err_msg=f"{ls.name}/{short}")
            np.testing.assert_array_equal(ws.slope, s[ws.name])
        if ls.grad_a is not None and ls.activation_slope is not None:
            np.testing.assert_allclose(ls.grad_a * ls.activation_slope, ls.grad_z,
                                       rtol=1e-12, atol=1e-14, err_msg=ls.name)
        after = layers[index + 1] if index + 1 < len(layers) else None
        if ls.grad_a is not None and after is not None and after.kind == "Dense":
            # the slope at a node's value: the sum over the weights coming out of it
            kernel = after.weights["kernel"].value
            np.testing.assert_allclose(ls.grad_a, after.grad_z @ kernel.T, rtol=1e-12,
                                       atol=1e-14, err_msg=ls.name)
    return s


def small_network(rng, hidden, output, units_out, input_dim=4, regularize=False, scale=0.7):
    model = Sequential([
        Dense(5, activation=hidden, input_shape=(input_dim,),
              kernel_regularizer=regularizers.l2(0.01) if regularize else None),
        Dense(4, activation=hidden),
        Dense(units_out, activation=output),
    ])
    model.build()
    model.set_weights([rng.normal(scale=scale, size=w.shape) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_matches_compute_gradients_and_finite_differences(
        float64, rng, activation):
    # Small weights keep exponential's exp(exp(exp(z))) within what float64 differences resolve.
    model = small_network(rng, activation, activation, 2, regularize=True, scale=0.4)
    model.compile(optimizer="sgd", loss="mean_squared_error")
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    s = check_agrees_with_training(model, x, y)
    assert s.prediction_slope is not None and not s.fused
    for weight, slope in zip(model.trainable_weights, s.gradients, strict=True):
        numeric = numerical_gradient(lambda: model.compute_gradients(x, y)[0], weight)
        assert_gradient_close(slope, numeric, rtol=1e-5, atol=1e-7)


LOSS_SETUPS = {
    # loss: (output activation, units, target maker)
    "mean_squared_error": ("linear", 2, lambda r, n: r.normal(size=(n, 2))),
    "mean_absolute_error": ("linear", 2, lambda r, n: r.normal(size=(n, 2))),
    "mean_absolute_percentage_error": ("linear", 2, lambda r, n: r.uniform(1, 2, (n, 2))),
    "mean_squared_logarithmic_error": ("softplus", 2, lambda r, n: r.uniform(0, 2, (n, 2))),
    "huber": ("linear", 2, lambda r, n: 2 * r.normal(size=(n, 2))),
    "log_cosh": ("linear", 2, lambda r, n: r.normal(size=(n, 2))),
    "poisson": ("softplus", 2, lambda r, n: r.poisson(2, (n, 2)).astype(float)),
    "kl_divergence": ("softmax", 3, lambda r, n: r.dirichlet(np.ones(3), n)),
    "hinge": ("tanh", 2, lambda r, n: r.choice([-1.0, 1.0], (n, 2))),
    "squared_hinge": ("tanh", 2, lambda r, n: r.choice([-1.0, 1.0], (n, 2))),
    "binary_crossentropy": ("sigmoid", 2, lambda r, n: r.integers(0, 2, (n, 2)).astype(float)),
    "categorical_crossentropy": ("softmax", 3, lambda r, n: np.eye(3)[r.integers(0, 3, n)]),
    "sparse_categorical_crossentropy": ("softmax", 3, lambda r, n: r.integers(0, 3, n)),
}
FUSED = {"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"}


@pytest.mark.parametrize("loss", sorted(LOSS_SETUPS))
def test_every_loss_matches_compute_gradients(float64, rng, loss):
    output, units, target = LOSS_SETUPS[loss]
    model = small_network(rng, "tanh", output, units)
    model.compile(optimizer="adam", loss=loss)
    x = rng.normal(size=(7, 4))
    s = check_agrees_with_training(model, x, target(rng, 7))
    assert s.fused == (loss in FUSED)
    last = s.layer(-1)
    if s.fused:  # reported honestly: no slope at the prediction, the fused slope at z
        assert s.prediction_slope is None and last.grad_a is None
        assert last.activation_slope is None and "fused" in last.note
        assert last.grad_z is not None
    else:
        np.testing.assert_array_equal(s.prediction_slope, last.grad_a)


def test_fused_softmax_slope_is_prediction_minus_target_over_rows(float64, rng):
    model = small_network(rng, "relu", "softmax", 3)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = rng.normal(size=(5, 4)), np.eye(3)[[0, 1, 2, 2, 1]]
    s = slopes(model, x, y)
    np.testing.assert_allclose(s.layer(-1).grad_z, (s.prediction - y) / 5, atol=1e-15)
    assert "softmax and categorical_crossentropy are fused" in str(s)
    one = str(slopes(model, x[:1], y[:1])).splitlines()
    assert any(line.split()[:5] == ["weight", "value", "node", "value", "x"] and
               "x slope at z" in line for line in one)  # two factors: node value x grad_z


def test_fused_sigmoid_slope_is_averaged_over_outputs_too(float64, rng):
    model = small_network(rng, "relu", "sigmoid", 2)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 2, (5, 2)).astype(float)
    s = slopes(model, x, y)
    np.testing.assert_allclose(s.layer(-1).grad_z, (s.prediction - y) / 10, atol=1e-15)
    assert "(prediction - target) / (rows x outputs)" in s.layer(-1).note


def test_softmax_without_its_cross_entropy_has_no_per_node_slope(float64, rng):
    model = small_network(rng, "relu", "softmax", 3)
    model.compile(optimizer="sgd", loss="mean_squared_error")
    s = check_agrees_with_training(model, rng.normal(size=(5, 4)), rng.uniform(size=(5, 3)))
    last = s.layer(-1)
    assert last.grad_a is not None and last.activation_slope is None
    assert "mixes the nodes" in last.note


def test_every_layer_type_and_frozen_layers(float64, rng):
    model = Sequential([
        Dense(6, activation="relu", input_shape=(4,)), BatchNormalization(),
        Dropout(0.3, seed=3), Dense(5, name="frozen", trainable=False),
        Dense(5), Activation("tanh"), Dense(3), Activation("softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)]
    s = check_agrees_with_training(model, x, y)  # same dropout mask: the random state is kept
    assert "frozen/kernel" not in s.weight_names
    assert s.layer("frozen").weights["kernel"].slope is None
    bn = s.layer(1)
    assert set(bn.weights) == {"gamma", "beta", "moving_mean", "moving_variance"}
    assert bn.weights["gamma"].slope is not None and bn.weights["gamma"].products is None
    assert bn.weights["moving_mean"].slope is None
    assert s.fused and "fused" in s.layer(-1).note


def test_sample_weights_are_used_as_in_training(float64, rng):
    model = small_network(rng, "elu", "linear", 1)
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 1))
    check_agrees_with_training(model, x, y, sample_weight=rng.uniform(size=6))


def test_slopes_leave_the_model_as_it_was(rng):
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dropout(0.5), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    before = model.get_weights()
    state = model.layers[2].rng.bit_generator.state
    slopes(model, x, y)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # moving statistics included
    assert model.layers[2].rng.bit_generator.state == state
    assert model.optimizer.iterations == 0


def test_uncompiled_model_needs_compile_or_a_loss():
    model = from_node_weights({"output": [2]})
    with pytest.raises(NotCompiledError, match=r"compile.*or pass the loss.*loss="):
        slopes(model, [3], [10])
    with pytest.raises(NotCompiledError, match="step"):
        step(model, [3], [10])
    s = slopes(model, [3], [10], loss="mse")
    assert s.loss == 16
    assert not model.compiled and model.loss is None and model.optimizer is None


def test_loss_argument_overrides_the_compiled_loss_only_for_the_call():
    model = from_node_weights({"output": [2]})
    model.compile(optimizer="sgd", loss="mean_absolute_error")
    assert slopes(model, [3], [10]).prediction_slope.tolist() == [[-1]]  # sign(6 - 10)
    assert slopes(model, [3], [10], loss="mse").prediction_slope.tolist() == [[-8]]
    assert model.loss.name == "mean_absolute_error"


def test_wrong_feature_count_is_a_clear_error():
    with pytest.raises(ValueError, match="a row of 3 values, but the model expects 1"):
        slopes(from_node_weights({"output": [2]}), [3, 4, 5], [10], loss="mse")


def test_printed_slopes_read_like_the_course():
    s = slopes(from_node_weights({"output": [2]}), [3], [10], loss="mse")
    lines = str(s).splitlines()
    assert "slope of the loss at the prediction: -8" in lines
    assert any(line.split() == ["input_0", "->", "output", "2", "3", "-8", "1", "-24"]
               for line in lines)


def test_records_frame_and_dict():
    model = from_node_weights({"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]})
    s = slopes(model, [[2, 3], [1, 1]], [[13], [5]], loss="mse")
    frame = s.to_frame()
    assert len(frame) == 2 * (4 + 2)  # rows x weights
    assert frame.groupby(["layer", "from", "to"]).product.sum().round(12).to_dict() == {
        (r["layer"], r["from"], r["to"]): round(r["slope"], 12)
        for r in s.records() if r["row"] == 0
    }
    data = s.to_dict()
    assert data["loss"] == s.loss and data["layers"][1]["weights"]["kernel"]["slope"] == [
        [v] for v in s["output/kernel"].ravel().tolist()]
    assert "sum over the 2 rows" in str(s)
    with pytest.raises(KeyError, match="output/kernel"):
        s["output/bias"]


def test_step_can_only_show():
    model = from_node_weights({"output": [1, 2]})
    model.compile(optimizer="sgd", loss="mse")
    shown = step(model, [3, 4], [6], learning_rate=0.01, apply=False)
    assert model.get_weights()[0].ravel().tolist() == [1, 2]
    assert not shown.applied and "(shown only; the model is unchanged)" in str(shown)
    assert shown["output/kernel"].ravel() == pytest.approx([0.7, 1.6])
    assert [u.ravel().tolist() for u in shown.updates][0] == pytest.approx([-0.3, -0.4])
    assert model.optimizer.iterations == 0
    text = str(shown)
    assert "loss: 25 -> 6.25" in text and "error: 5 -> 2.5" in text
    assert shown.to_frame().new.tolist() == pytest.approx([0.7, 1.6])


@pytest.mark.parametrize("bad", [-0.1, float("nan"), "0.01", True])
def test_step_rejects_bad_learning_rates(bad):
    with pytest.raises(ValueError, match="learning_rate"):
        step(from_node_weights({"output": [1]}), [1], [1], learning_rate=bad, loss="mse")


def test_repeated_steps_follow_gradient_descent():
    model = from_node_weights({"output": [2]})
    w = 2.0
    for _ in range(5):
        update = step(model, [3], [10], learning_rate=0.01, loss="mse")
        w = w - 0.01 * (2 * (3 * w - 10) * 3)  # the course's update, by hand
        assert update["output/kernel"][0, 0] == pytest.approx(w, abs=1e-13)
    assert update.loss_after < update.loss_before
