"""Losses: Keras's numeric definitions (clipping included) and every slope by finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given
from hypothesis import strategies as st

from glassnet import activations, losses

EPSILON = 1e-7  # Keras's fuzz factor


def regression_targets(rng, shape):
    y_true = rng.normal(size=shape)
    # Keep every error away from 0 and from ±1 (the kinks of mae, mape, hinge and huber).
    error = rng.uniform(0.1, 0.9, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    error += np.sign(error) * rng.choice([0.0, 1.0], size=shape)
    return y_true, y_true + error


def positive_targets(rng, shape):
    return rng.uniform(0.1, 3.0, size=shape), rng.uniform(0.1, 3.0, size=shape)


def probability_targets(rng, shape):
    y_true = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
    y_pred = rng.dirichlet(np.ones(shape[-1]), size=shape[0]) * 0.9 + 0.1 / shape[-1]
    return y_true, y_pred


def one_hot_targets(rng, shape):
    labels = rng.integers(0, shape[-1], size=shape[0])
    # Unnormalised probabilities: the slope must chain through Keras's division by the sum.
    return np.eye(shape[-1])[labels], rng.uniform(0.05, 1.0, size=shape)


def binary_targets(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.uniform(0.02, 0.98, size=shape)


def hinge_targets(rng, shape):
    y_true = rng.choice([-1.0, 1.0], size=shape)
    margin = rng.uniform(0.1, 0.9, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return y_true, y_true * (1 + margin)  # y_true * y_pred stays away from the kink at 1


def logits_with_one_hot(rng, shape):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[0])], rng.normal(size=shape) * 3


def logits_with_unnormalized_targets(rng, shape):
    # Rows of targets that do not sum to 1 (multi-label rows): the slope is p * sum(y) - y.
    return rng.uniform(0, 1, size=shape), rng.normal(size=shape) * 3


def logits_with_labels(rng, shape):
    return rng.integers(0, shape[-1], size=shape[0]), rng.normal(size=shape) * 3


def logits_with_binary(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.normal(size=shape) * 3


def labels_with_probabilities(rng, shape):
    return rng.integers(0, shape[-1], size=shape[0]), rng.uniform(0.05, 1.0, size=shape)


def my_loss(y_true, y_pred):
    """A user-written loss: a plain function, whose slope glassnet takes by differences."""
    e = y_pred - y_true
    return np.mean(e * e * (1 + 0.5 * np.tanh(y_pred)), axis=-1)


# (loss, how to draw targets and predictions where the loss is smooth)
CASES = [
    (losses.MeanSquaredError(), regression_targets),
    (losses.MeanAbsoluteError(), regression_targets),
    (losses.Huber(), regression_targets),
    (losses.Huber(delta=0.5), regression_targets),
    (losses.LogCosh(), regression_targets),
    (losses.MeanAbsolutePercentageError(), regression_targets),
    (losses.MeanSquaredLogarithmicError(), positive_targets),
    (losses.Poisson(), positive_targets),
    (losses.KLDivergence(), probability_targets),
    (losses.Hinge(), hinge_targets),
    (losses.SquaredHinge(), hinge_targets),
    (losses.BinaryCrossentropy(), binary_targets),
    (losses.BinaryCrossentropy(label_smoothing=0.2), binary_targets),
    (losses.BinaryCrossentropy(from_logits=True), logits_with_binary),
    (losses.CategoricalCrossentropy(), one_hot_targets),
    (losses.CategoricalCrossentropy(label_smoothing=0.1), one_hot_targets),
    (losses.CategoricalCrossentropy(from_logits=True), logits_with_one_hot),
    (losses.SparseCategoricalCrossentropy(), labels_with_probabilities),
    (losses.SparseCategoricalCrossentropy(from_logits=True), logits_with_labels),
    (losses.get(my_loss), regression_targets),  # a user's function, as compile(loss=my_loss)
]
CASE_IDS = [
    f"{loss.name}{'-logits' if getattr(loss, 'from_logits', False) else ''}"
    f"{'-smoothed' if getattr(loss, 'label_smoothing', 0) else ''}"
    f"{'-delta' if getattr(loss, 'delta', 1.0) != 1.0 else ''}"
    for loss, _ in CASES
]
shapes = st.tuples(st.integers(1, 5), st.integers(2, 4))


@pytest.mark.parametrize(("loss", "draw"), CASES, ids=CASE_IDS)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_gradient_is_the_slope_of_the_summed_row_losses(loss, draw, shape, seed, float64):
    y_true, y_pred = draw(np.random.default_rng(seed), shape)

    analytic = loss.gradient(y_true, y_pred)
    numeric = numerical_gradient(lambda: float(loss.values(y_true, y_pred).sum()), y_pred)
    terms = loss.values(y_true, y_pred)
    assert_gradient_close(analytic, numeric, rtol=1e-5, atol=1e-7, objective_terms=terms)


@pytest.mark.parametrize(("loss", "draw"), CASES, ids=CASE_IDS)
def test_combined_and_reduced_slopes_match_finite_differences(loss, draw, rng, float64):
    """``values_and_gradient`` (one pass where a loss shares work) and ``reduced`` (the loss
    and slope a training step uses, with per-row weights) against central differences of the
    values they return and of the loss object's reduced value."""
    y_true, y_pred = draw(rng, (6, 3))
    values, grad = loss.values_and_gradient(y_true, y_pred)
    numeric = numerical_gradient(
        lambda: float(loss.values_and_gradient(y_true, y_pred)[0].sum()), y_pred
    )
    assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-7, objective_terms=values)

    for sample_weight in (None, rng.uniform(0.5, 2.0, size=6)):
        value, grad = loss.reduced(y_true, y_pred, sample_weight)
        assert value == pytest.approx(loss(y_true, y_pred, sample_weight), rel=1e-12)
        numeric = numerical_gradient(lambda w=sample_weight: loss(y_true, y_pred, w), y_pred)
        assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-7, objective_terms=[value])


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_reduced_gradient_is_the_slope_of_the_reduced_loss(reduction, rng, float64):
    loss = losses.MeanSquaredError(reduction=reduction)
    y_true, y_pred = regression_targets(rng, (5, 2))
    sample_weight = rng.uniform(0.5, 2.0, size=5)

    analytic = loss.reduce_gradient(loss.gradient(y_true, y_pred), sample_weight)
    numeric = numerical_gradient(lambda: loss(y_true, y_pred, sample_weight), y_pred)
    assert_gradient_close(analytic, numeric)


def test_reductions_follow_keras():
    y_true = np.zeros((4, 1))
    y_pred = np.array([[1.0], [2.0], [3.0], [4.0]])
    weights = np.array([1.0, 0.0, 0.0, 1.0])
    assert losses.MeanSquaredError()(y_true, y_pred) == pytest.approx(30 / 4)
    assert losses.MeanSquaredError(reduction="sum")(y_true, y_pred) == pytest.approx(30)
    # Keras's default divides by the number of rows even when some weights are zero ...
    assert losses.MeanSquaredError()(y_true, y_pred, weights) == pytest.approx(17 / 4)
    # ... and "mean_with_sample_weight" by the sum of the weights.
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(y_true, y_pred, weights) == pytest.approx(17 / 2)


@pytest.mark.parametrize(
    ("loss", "activation", "draw"),
    [
        (losses.CategoricalCrossentropy(), "softmax", logits_with_one_hot),
        (losses.CategoricalCrossentropy(label_smoothing=0.1), "softmax", logits_with_one_hot),
        (losses.CategoricalCrossentropy(), "softmax", logits_with_unnormalized_targets),
        (losses.SparseCategoricalCrossentropy(), "softmax", logits_with_labels),
        (losses.BinaryCrossentropy(), "sigmoid", logits_with_binary),
        (losses.BinaryCrossentropy(label_smoothing=0.2), "sigmoid", logits_with_binary),
    ],
    ids=["cce", "cce-smoothed", "cce-unnormalized-targets", "scce", "bce", "bce-smoothed"],
)
def test_fused_logits_slope_is_the_slope_through_the_activation(
    loss, activation, draw, rng, float64
):
    """The fused form (slope ``prediction - target`` at the logits) equals the chain rule
    through the output activation, wherever Keras's clipping is not active."""
    y_true, z = draw(rng, (6, 3))
    squash = activations.get(activation)
    assert loss.fused_activation == activation

    values, grad_z = loss.values_and_gradient_from_logits(y_true, z)
    np.testing.assert_allclose(values, loss.values(y_true, squash(z)), rtol=1e-10)
    numeric = numerical_gradient(lambda: float(loss.values(y_true, squash(z)).sum()), z)
    assert_gradient_close(grad_z, numeric)


def test_fused_form_is_not_clipped_but_stays_finite(float64):
    """Far beyond the clipping range the logits form keeps growing, as Keras's does in fit."""
    values, grad = losses.CategoricalCrossentropy().values_and_gradient_from_logits(
        np.array([[0.0, 1.0]]), np.array([[50.0, 0.0]])
    )
    assert values[0] == pytest.approx(50.0, rel=1e-12)
    np.testing.assert_allclose(grad, [[1.0, -1.0]], atol=1e-12)
    values, _ = losses.BinaryCrossentropy().values_and_gradient_from_logits(
        np.array([[1.0]]), np.array([[-800.0]])
    )
    assert values[0] == pytest.approx(800.0)


# --- Keras's definitions at clipped probabilities ----------------------------------------


def test_categorical_crossentropy_clips_a_zero_probability_at_epsilon(float64):
    loss = losses.get("categorical_crossentropy")
    assert loss([[0.0, 1.0]], [[1.0, 0.0]]) == pytest.approx(-math.log(EPSILON), rel=1e-9)
    assert loss([[0.0, 1.0]], [[1.0, 0.0]]) == pytest.approx(16.11809565095832, rel=1e-9)
    # A certain and right prediction costs -log(1 - epsilon), not 0.
    assert loss([[0.0, 1.0]], [[0.0, 1.0]]) == pytest.approx(-math.log1p(-EPSILON), rel=1e-6)


def test_categorical_crossentropy_divides_predictions_by_their_sum(float64):
    loss = losses.get("categorical_crossentropy")
    assert loss([[0.0, 1.0]], [[2.0, 2.0]]) == pytest.approx(math.log(2.0))


def test_categorical_crossentropy_in_float32_matches_keras_float32_value():
    value = losses.get("categorical_crossentropy")(
        np.array([[0, 1]], np.float32), np.array([[1, 0]], np.float32)
    )
    assert value == pytest.approx(16.118095, rel=1e-6)


def test_sparse_categorical_crossentropy_clips_like_categorical(float64):
    loss = losses.get("sparse_categorical_crossentropy")
    assert loss([1], [[1.0, 0.0]]) == pytest.approx(-math.log(EPSILON), rel=1e-9)
    assert loss([[0], [1]], [[0.25, 0.75], [0.25, 0.75]]) == pytest.approx(
        -(math.log(0.25) + math.log(0.75)) / 2
    )


def test_binary_crossentropy_clips_both_ends(float64):
    loss = losses.get("binary_crossentropy")
    assert loss([[1.0]], [[0.0]]) == pytest.approx(-math.log(EPSILON), rel=1e-9)
    assert loss([[0.0]], [[1.0]]) == pytest.approx(-math.log(EPSILON), rel=1e-6)
    assert loss([[1.0]], [[1.0]]) == pytest.approx(-math.log1p(-EPSILON), rel=1e-6)
    # Averaged over the outputs of a row: (-log 0.8 - log 0.6) / 2.
    assert loss([[1.0, 0.0]], [[0.8, 0.4]]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_binary_crossentropy_in_float32_matches_keras_float32_values():
    loss = losses.get("binary_crossentropy")
    one, zero = np.array([[1.0]], np.float32), np.array([[0.0]], np.float32)
    assert loss(one, zero) == pytest.approx(16.118095, rel=1e-6)
    # 1 - epsilon rounds in float32, so the other end is -log(1.1920929e-07), as in Keras.
    assert loss(zero, one) == pytest.approx(15.942385, rel=1e-6)


def test_gradient_is_zero_where_clipping_is_active(float64):
    grad = losses.BinaryCrossentropy().gradient(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    np.testing.assert_array_equal(grad, [[0.0, 0.0]])


def test_regression_losses_at_hand_computed_points(float64):
    y_true, y_pred = np.array([[0.0, 1.0]]), np.array([[2.0, 0.5]])
    assert losses.get("mse")(y_true, y_pred) == pytest.approx((4 + 0.25) / 2)
    assert losses.get("mae")(y_true, y_pred) == pytest.approx((2 + 0.5) / 2)
    # Huber with delta 1: linear beyond 1 (2 - 0.5), quadratic inside (0.5 * 0.25).
    assert losses.get("huber")(y_true, y_pred) == pytest.approx((1.5 + 0.125) / 2)
    assert losses.get("log_cosh")(y_true, y_pred) == pytest.approx(
        (math.log(math.cosh(2)) + math.log(math.cosh(0.5))) / 2
    )
    assert losses.get("hinge")([[1.0]], [[0.25]]) == pytest.approx(0.75)
    # 0/1 targets become -1/1, as in Keras.
    assert losses.get("hinge")([[0.0]], [[0.25]]) == pytest.approx(1.25)


def test_function_forms_return_one_value_per_row(float64):
    rows = losses.mean_squared_error([[0.0, 0.0], [1.0, 1.0]], [[1.0, 3.0], [1.0, 1.0]])
    np.testing.assert_allclose(rows, [5.0, 0.0])


def test_names_and_aliases_resolve_to_the_same_loss():
    assert isinstance(losses.get("mse"), losses.MeanSquaredError)
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    assert isinstance(losses.get("mean_absolute_error"), losses.MeanAbsoluteError)
    assert isinstance(losses.get("huber"), losses.Huber)
    assert isinstance(losses.get(losses.categorical_crossentropy), losses.CategoricalCrossentropy)


def test_unknown_loss_name_suggests_the_closest():
    with pytest.raises(
        ValueError, match=r"Unknown loss: 'mean_squared_eror'.*'mean_squared_error'"
    ):
        losses.get("mean_squared_eror")


def test_bad_reduction_is_named():
    with pytest.raises(ValueError, match="`reduction` must be one of .*Received: reduction='avg'"):
        losses.MeanSquaredError(reduction="avg")


def test_sparse_labels_out_of_range_are_named():
    with pytest.raises(ValueError, match=r"Class labels must lie in \[0, 1\].*from 0 to 3"):
        losses.get("sparse_categorical_crossentropy")([0, 3], [[0.5, 0.5], [0.5, 0.5]])


def test_config_round_trip_keeps_parameters():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    again = losses.CategoricalCrossentropy.from_config(loss.get_config())
    assert (again.from_logits, again.label_smoothing) == (True, 0.2)
    assert losses.get({"class_name": "Huber", "config": {"delta": 2.0}}).delta == 2.0
