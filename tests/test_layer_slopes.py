"""Slopes not covered by ``test_layers.py``, against central differences in float64.

``Normalization`` (both directions), ``BatchNormalization`` without ``gamma`` or ``beta``
and with regularizers on them, and ``Softmax`` over an axis other than the last. Each layer
is checked on its own (``backward`` against the slope of ``sum(grad_out * forward(x))``,
for the input and for every trainable weight) and, where a model adds something of its own
(penalties, a loss fused with the output activation), through ``compute_gradients``
against the slope of the loss the model reports for the output it computes.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, check_layer_slopes, numerical_gradient

from glassnet import activations, regularizers
from glassnet.layers import Activation, BatchNormalization, Dense, Input, Normalization, Reshape
from glassnet.models import Sequential


def check_model_gradients(model, x, y, training=True):
    """``compute_gradients`` against the slope of the loss of the model's own output.

    The reference loss is recomputed from ``model.forward`` with the compiled loss and the
    layers' penalties, so it does not share the training step's shortcuts (the fused
    cross-entropy) with what it checks.
    """

    def loss():
        value = model.loss.reduced(y, model.forward(x, training=training))[0]
        return float(value) + sum(layer.regularization_penalty() for layer in model.layers)

    reported, grads = model.compute_gradients(x, y, training=training)
    assert reported == pytest.approx(loss(), rel=1e-12, abs=1e-12)
    weights = model.trainable_weights
    assert len(grads) == len(weights) > 0
    for weight, grad in zip(weights, grads, strict=True):
        assert_gradient_close(grad, numerical_gradient(loss, weight), rtol=1e-5, atol=1e-8)


# --- Normalization --------------------------------------------------------------------------


@pytest.mark.parametrize("invert", [False, True], ids=["normalize", "invert"])
@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3)], ids=["rows", "sequences"])
def test_normalization_slopes_match_finite_differences(invert, shape, rng, float64):
    layer = Normalization(invert=invert)
    layer.build(shape[1:])
    # The last variance is below epsilon**2, so its standard deviation is the epsilon floor.
    layer.set_weights(
        [rng.normal(size=shape[-1]), np.r_[rng.uniform(0.2, 3.0, shape[-1] - 1), 1e-20]]
    )
    assert check_layer_slopes(layer, rng.normal(size=shape), rng) == []  # mean, variance: fixed
    assert layer.trainable_weights == []


@pytest.mark.parametrize("invert", [False, True], ids=["normalize", "invert"])
def test_normalization_in_a_model_passes_the_slope_to_the_weights_before_it(invert, rng, float64):
    model = Sequential(
        [
            Input(shape=(3,)),
            Dense(3, activation="tanh"),
            Normalization(mean=[0.5, -1.0, 2.0], variance=[4.0, 0.25, 1.0], invert=invert),
            Dense(2),
        ]
    )
    model.compile(optimizer="sgd", loss="mean_squared_error")
    model.build()
    model.set_weights(
        [
            rng.normal(size=w.shape) if w.ndim == 2 or i < 2 else w
            for i, w in enumerate(model.get_weights())
        ]
    )
    check_model_gradients(model, rng.normal(size=(6, 3)), rng.normal(size=(6, 2)))


# --- BatchNormalization ---------------------------------------------------------------------


def batch_normalization(rng, n, **kwargs):
    layer = BatchNormalization(**kwargs)
    layer.build((None, n))
    # gamma and beta away from 0 (L1's kink), moving statistics other than the defaults.
    for weight in layer.trainable_weights:
        weight[...] = rng.choice([-1, 1], n) * rng.uniform(0.5, 2.0, n)
    layer.moving_mean[...] = rng.normal(size=n)
    layer.moving_variance[...] = rng.uniform(0.5, 2.0, n)
    return layer


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize(
    ("center", "scale", "weights"),
    [
        (True, True, ["beta", "gamma"]),
        (False, True, ["gamma"]),
        (True, False, ["beta"]),
        (False, False, []),
    ],
    ids=["both", "no_center", "no_scale", "neither"],
)
def test_batch_normalization_without_gamma_or_beta_slopes_match(
    center, scale, weights, training, rng, float64
):
    layer = batch_normalization(rng, 3, center=center, scale=scale)
    x = rng.normal(size=(6, 3)) * 2 + 1
    assert check_layer_slopes(layer, x, rng, training=training) == weights


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize(
    ("gamma_regularizer", "beta_regularizer"),
    [
        (regularizers.L2(0.3), None),
        (None, regularizers.L1(0.2)),
        (regularizers.L1L2(l1=0.05, l2=0.4), regularizers.L2(0.1)),
    ],
    ids=["gamma_l2", "beta_l1", "both"],
)
def test_regularized_batch_normalization_slopes_include_the_penalty(
    gamma_regularizer, beta_regularizer, training, rng, float64
):
    layer = batch_normalization(
        rng, 3, gamma_regularizer=gamma_regularizer, beta_regularizer=beta_regularizer
    )
    assert layer.regularization_penalty() > 0
    x = rng.normal(size=(5, 3)) - 0.5
    assert check_layer_slopes(layer, x, rng, training=training, penalty=True) == ["beta", "gamma"]


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize(
    ("center", "scale"),
    [(True, True), (False, True), (True, False)],
    ids=["both", "no_center", "no_scale"],
)
def test_regularized_batch_normalization_in_a_model_matches_compute_gradients(
    center, scale, training, rng, float64
):
    model = Sequential(
        [
            Input(shape=(4,)),
            Dense(3, activation="tanh", kernel_regularizer=regularizers.L2(0.05)),
            BatchNormalization(
                center=center,
                scale=scale,
                gamma_regularizer=regularizers.L2(0.3),
                beta_regularizer=regularizers.L1(0.2),
            ),
            Dense(2, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.build()
    norm = model.layers[1]
    for weight in model.trainable_weights:  # away from 0, L1's kink
        weight[...] = rng.choice([-1, 1], weight.shape) * rng.uniform(0.5, 1.5, weight.shape)
    norm.moving_mean[...] = rng.normal(size=3)
    norm.moving_variance[...] = rng.uniform(0.5, 2.0, 3)
    assert norm.regularization_penalty() > 0
    x = rng.normal(size=(7, 4))
    y = rng.integers(0, 2, (7, 2)).astype(np.float64)
    # compute_gradients in training mode moves the moving statistics at every call, which
    # changes nothing here: the batch statistics are used.
    check_model_gradients(model, x, y, training=training)


# --- Softmax over another axis ----------------------------------------------------------


@pytest.mark.parametrize(
    ("axis", "shape"),
    [
        (1, (3, 4, 5)),
        (-2, (3, 4, 5)),
        (0, (3, 4, 5)),
        (0, (5, 3)),
        (1, (5, 3)),
    ],
    ids=["axis1_3d", "axis-2_3d", "axis0_3d", "axis0_2d", "axis1_2d"],
)
def test_softmax_over_any_axis_sums_to_one_and_its_slope_matches(axis, shape, rng, float64):
    layer = Activation(activations.Softmax(axis=axis))
    x = rng.normal(size=shape) * 2
    np.testing.assert_allclose(layer(x).sum(axis=axis), 1.0, rtol=1e-12)
    assert check_layer_slopes(layer, x, rng) == []


@pytest.mark.parametrize(
    "loss", ["categorical_crossentropy", "kl_divergence", "mean_squared_error"]
)
def test_dense_softmax_over_the_rows_trains_on_its_own_loss(loss, rng, float64):
    """``Softmax(axis=0)`` normalises each output over the batch. The fused cross-entropy
    (which assumes one distribution per row) must not replace it; it used to, so training
    followed the slope of a different loss than the one the model computes."""
    model = Sequential([Input(shape=(4,)), Dense(3, activation=activations.Softmax(axis=0))])
    model.compile(optimizer="sgd", loss=loss)
    model.build()
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    x = rng.normal(size=(5, 4))
    y = rng.dirichlet(np.ones(3), 5)
    check_model_gradients(model, x, y)
    assert not model.fused_output
    evaluated = model.evaluate(x, y, batch_size=5, verbose=0)
    assert evaluated == pytest.approx(
        float(model.loss.reduced(y, model.predict(x, batch_size=5, verbose=0))[0]), rel=1e-12
    )


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "mean_squared_error"])
def test_softmax_over_the_middle_axis_of_a_3d_output_in_a_model(loss, rng, float64):
    model = Sequential(
        [
            Input(shape=(3,)),
            Dense(8, activation="tanh"),
            Reshape((4, 2)),
            Activation(activations.Softmax(axis=1)),
        ]
    )
    model.compile(optimizer="sgd", loss=loss)
    model.build()
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    x = rng.normal(size=(3, 3))
    np.testing.assert_allclose(model.forward(x).sum(axis=1), 1.0, rtol=1e-12)
    check_model_gradients(model, x, rng.dirichlet(np.ones(4), (3, 2)).transpose(0, 2, 1))


def test_softmax_over_the_last_axis_is_still_fused(rng, float64):
    for axis in (-1, 1):
        model = Sequential([Input(shape=(4,)), Dense(3, activation=activations.Softmax(axis))])
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        model.build()
        model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
        x, y = rng.normal(size=(5, 4)), rng.dirichlet(np.ones(3), 5)
        check_model_gradients(model, x, y)
        assert model.fused_output
