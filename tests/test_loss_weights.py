"""Sample weights of every shape Keras 3 accepts, weighed and reduced as Keras does.

Keras's rules (``keras/src/losses/loss.py``: ``reduce_weighted_values``,
``squeeze_or_expand_to_same_rank``, ``reduce_values``): the per-sample losses (``y_pred``'s
shape without its last axis) and the weights are brought to the same rank by dropping or
adding a last axis of 1, multiplied with broadcasting, summed, and divided by the number of
elements of that product (``"sum_over_batch_size"``, zero weights counted), by 1 (``"sum"``)
or by the sum of the weights (``"mean_with_sample_weight"``).

Three layers of checks:

* Keras's own test cases (``keras/src/losses/losses_test.py``) with their expected numbers
  written here as constants, so that they run without Keras;
* the same and many more shapes against live Keras 3 on TensorFlow (``@pytest.mark.keras``,
  skipped where ``keras`` is not installed): every loss, every weight shape, every reduction,
  then ``evaluate`` and ``fit`` of small models with ``sample_weight``;
* the weighted slopes, of the losses and of whole models, against central differences in
  float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

from glassnet import activations, losses
from glassnet.layers import Dense, Reshape
from glassnet.models import DataError, Sequential
from glassnet.optimizers import SGD

# --- Keras's own test cases, expected numbers as constants --------------------------------
# keras/src/losses/losses_test.py (Keras 3.15): MeanSquaredErrorTest, MeanAbsoluteErrorTest,
# MeanAbsolutePercentageErrorTest, MeanSquaredLogarithmicErrorTest and KLDivergenceTest share
# these arrays; "timestep" reshapes them to (2, 3, 1) targets with (2, 3) weights.

Y_TRUE = [[1, 9, 2], [-5, -2, 6]]
Y_PRED = [[4, 8, 12], [8, 1, 3]]
ROW_WEIGHTS = [[1.2], [3.4]]
STEP_WEIGHTS = [[3, 6, 5], [0, 4, 2]]

# (loss, weights, targets (2, 3) or per step (2, 3, 1), Keras's expected value)
KERAS_TEST_CASES = [
    ("mse", None, "rows", 49.5),
    ("mse", 2.3, "rows", 113.85),
    ("mse", ROW_WEIGHTS, "rows", 767.8 / 6),  # 127.9667; glassnet gave 227.7 before
    ("mse", STEP_WEIGHTS, "steps", 97.833336),  # glassnet gave 293.5 before
    ("mse", 0, "rows", 0.0),
    ("mae", None, "rows", 5.5),
    ("mae", 2.3, "rows", 12.65),
    ("mae", ROW_WEIGHTS, "rows", 81.4 / 6),
    ("mae", STEP_WEIGHTS, "steps", 13.833333),
    ("mae", 0, "rows", 0.0),
    ("mape", None, "rows", 211.8518),
    ("mape", 2.3, "rows", 487.259),
    ("mape", ROW_WEIGHTS, "rows", 422.8888),
    ("mape", STEP_WEIGHTS, "steps", 694.4444),
    ("msle", None, "rows", 1.4370),
    ("msle", 2.3, "rows", 3.3051),
    ("msle", ROW_WEIGHTS, "rows", 3.7856),
    ("msle", STEP_WEIGHTS, "steps", 2.647374),
]

# (loss, reduction, weights, Keras's expected value), on Y_TRUE and Y_PRED
KERAS_REDUCTION_CASES = [
    ("mse", "sum", 2.3, 227.69998),
    ("mae", "sum", 2.3, 25.29999),
    ("mse", "mean_with_sample_weight", ROW_WEIGHTS, (110 / 3 * 1.2 + 187 / 3 * 3.4) / 4.6),
    ("mae", "mean_with_sample_weight", ROW_WEIGHTS, (14 / 3 * 1.2 + 19 / 3 * 3.4) / 4.6),
    ("mape", "mean_with_sample_weight", ROW_WEIGHTS, 183.865),
    ("msle", "mean_with_sample_weight", ROW_WEIGHTS, 1.646),
]

CLASSES_TRUE = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
CLASSES_PRED = [[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]]
CLASSES_LOGITS = [[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]]
CLASS_WEIGHTS = [[1.2], [3.4], [5.6]]
BINARY_TRUE, BINARY_PRED = [[1, 0], [1, 0]], [[1, 1], [1, 0]]
BINARY_LOGITS_TRUE = [[1, 0, 1], [0, 1, 1]]
BINARY_LOGITS = [[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]]
HINGE_TRUE, HINGE_PRED = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]

# (loss, y_true, y_pred, weights, Keras's expected value)
SPARSE_TRUE = [[0], [1], [2]]
KERAS_CLASSIFICATION_CASES = [
    (losses.CategoricalCrossentropy(), CLASSES_TRUE, CLASSES_PRED, 2.3, 0.7449),
    (losses.CategoricalCrossentropy(), CLASSES_TRUE, CLASSES_PRED, CLASS_WEIGHTS, 1.0696),
    (losses.CategoricalCrossentropy(True), CLASSES_TRUE, CLASSES_LOGITS, 2.3, 0.1317),
    (losses.CategoricalCrossentropy(True), CLASSES_TRUE, CLASSES_LOGITS, CLASS_WEIGHTS, 0.31829),
    (losses.SparseCategoricalCrossentropy(), SPARSE_TRUE, CLASSES_PRED, 2.3, 0.7449),
    (losses.SparseCategoricalCrossentropy(), SPARSE_TRUE, CLASSES_PRED, CLASS_WEIGHTS, 1.0696),
    (losses.SparseCategoricalCrossentropy(True), SPARSE_TRUE, CLASSES_LOGITS, 2.3, 0.1317),
    (
        losses.SparseCategoricalCrossentropy(True),
        SPARSE_TRUE,
        CLASSES_LOGITS,
        CLASS_WEIGHTS,
        0.31829,
    ),
    (losses.BinaryCrossentropy(), BINARY_TRUE, BINARY_PRED, 2.3, 9.1668),
    (losses.BinaryCrossentropy(), BINARY_TRUE, BINARY_PRED, [[1.2], [3.4]], 4.7827),
    (losses.BinaryCrossentropy(True), BINARY_LOGITS_TRUE, BINARY_LOGITS, 2.3, 7.666),
    (losses.BinaryCrossentropy(True), BINARY_LOGITS_TRUE, BINARY_LOGITS, [4, 3], 10.0),
    (losses.Hinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.55),
    (losses.Hinge(), HINGE_TRUE, HINGE_PRED, 0.0, 0.0),
    (losses.SquaredHinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.73),
    (losses.Hinge(reduction="sum"), HINGE_TRUE, HINGE_PRED, [1, 0], 1.1),
    (losses.SquaredHinge(reduction="sum"), HINGE_TRUE, HINGE_PRED, [1, 0], 1.46),
]
# Keras's BinaryCrossentropyTest.test_sample_weighted writes y_true as [1, 0, 1, 0] reshaped
# to (2, 2): [[1, 0], [1, 0]], and y_pred [1, 1, 1, 0] as [[1, 1], [1, 0]].


def keras_almost_equal(expected):
    """Keras's ``assertAlmostEqual`` (``keras/src/testing/test_case.py``): 3 decimals, that
    is ``numpy.testing.assert_almost_equal``'s ``|got - expected| < 1.5e-3``. Keras's own
    constants are given to that precision; the live comparisons below are 100 times tighter."""
    return pytest.approx(expected, abs=1.5e-3, rel=0)


def _targets(layout):
    y_true, y_pred = np.array(Y_TRUE, np.float32), np.array(Y_PRED, np.float32)
    if layout == "steps":
        return y_true.reshape(2, 3, 1), y_pred.reshape(2, 3, 1)
    return y_true, y_pred


@pytest.mark.parametrize(("name", "weights", "layout", "expected"), KERAS_TEST_CASES)
def test_keras_test_cases(name, weights, layout, expected):
    y_true, y_pred = _targets(layout)
    assert losses.get(name)(y_true, y_pred, weights) == keras_almost_equal(expected)


@pytest.mark.parametrize(("name", "reduction", "weights", "expected"), KERAS_REDUCTION_CASES)
def test_keras_reduction_test_cases(name, reduction, weights, expected):
    loss = type(losses.get(name))(reduction=reduction)
    assert loss(*_targets("rows"), weights) == keras_almost_equal(expected)


@pytest.mark.parametrize(
    ("loss", "y_true", "y_pred", "weights", "expected"), KERAS_CLASSIFICATION_CASES
)
def test_keras_classification_test_cases(loss, y_true, y_pred, weights, expected):
    y_pred = np.array(y_pred, np.float32)
    assert loss(np.array(y_true), y_pred, weights) == keras_almost_equal(expected)


def _huber(error, delta=1.0):
    quadratic = np.minimum(np.abs(error), delta)
    return 0.5 * quadratic**2 + delta * (np.abs(error) - quadratic)


def test_keras_formula_test_cases():
    """HuberLossTest, LogCoshTest, PoissonTest and KLDivergenceTest compute their expected
    values with a formula; the same formulas, with the same divisors, here."""
    huber_true = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], np.float32)
    huber_pred = np.array([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]], np.float32)
    elements = _huber(huber_pred - huber_true)
    rows = np.array([[1.2], [3.4]])
    steps = np.array([3, 6, 5, 0, 4, 2]).reshape(2, 3)
    huber = losses.Huber()
    assert huber(huber_true, huber_pred, rows) == pytest.approx(np.sum(elements * rows) / 6)
    assert huber(
        huber_true.reshape(2, 3, 1), huber_pred.reshape(2, 3, 1), steps.reshape(2, 3, 1)
    ) == pytest.approx(np.sum(elements * steps) / 6, rel=1e-6)

    y_true, y_pred = _targets("rows")
    log_cosh = np.log(np.cosh(y_pred.astype(np.float64) - y_true))
    assert losses.LogCosh()(y_true, y_pred, [1.2, 3.4]) == pytest.approx(
        np.sum(log_cosh * rows) / 6, rel=1e-6
    )
    assert losses.LogCosh()(
        y_true.reshape(2, 3, 1), y_pred.reshape(2, 3, 1), steps.reshape(2, 3, 1)
    ) == pytest.approx(np.sum(log_cosh * steps) / 6, rel=1e-6)

    counts = np.array([[4, 8, 12], [8, 1, 3]], np.float32)
    rates = np.array([[1, 9, 2], [5, 2, 6]], np.float32)
    poisson = rates - counts * np.log(rates.astype(np.float64))
    assert losses.Poisson()(counts, rates, rows) == pytest.approx(
        np.sum(poisson * rows) / 6, rel=1e-6
    )
    assert losses.Poisson()(
        counts.reshape(2, 3, 1), rates.reshape(2, 3, 1), steps
    ) == pytest.approx(np.sum(poisson * steps) / 6, rel=1e-6)

    kl_true = np.array([0.5, 0.8, 0.12, 0.7, 0.43, 0.8], np.float32).reshape(2, 3)
    kl_pred = np.array([0.4, 0.9, 0.12, 0.36, 0.3, 0.4], np.float32).reshape(2, 3)
    kl = kl_true * np.log(kl_true.astype(np.float64) / kl_pred)
    assert losses.KLDivergence()(kl_true, kl_pred, rows) == pytest.approx(
        np.sum(kl * rows) / 2, rel=1e-5
    )
    # Per step: 2 rows * 3 steps losses, so the divisor is 6, not the 2 rows.
    assert losses.KLDivergence()(
        kl_true.reshape(2, 3, 1), kl_pred.reshape(2, 3, 1), steps
    ) == pytest.approx(np.sum(kl * steps) / 6, rel=1e-5)


def test_row_weights_are_not_an_outer_product():
    """The bug this file was written for: (rows, 1) weights times (rows,) losses broadcast
    to (rows, rows). Each row's weight must multiply that row's loss only."""
    y_true, y_pred = _targets("rows")
    per_row = losses.mean_squared_error(y_true, y_pred)  # [110/3, 187/3]
    expected = float(np.dot(per_row, [1.2, 3.4])) / 2
    for weights in ([1.2, 3.4], [[1.2], [3.4]], np.array([[[1.2]], [[3.4]]])[..., 0]):
        assert losses.MeanSquaredError()(y_true, y_pred, weights) == pytest.approx(expected)


def test_zero_weights_count_in_the_divisor():
    """Keras's default divides by the number of weighted losses, zero weights included."""
    y_true, y_pred = _targets("steps")
    steps = np.array(STEP_WEIGHTS, np.float32)
    errors = (y_pred - y_true)[..., 0] ** 2
    assert losses.MeanSquaredError()(y_true, y_pred, steps) == pytest.approx(
        float(np.sum(errors * steps)) / 6
    )
    mean = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert mean(y_true, y_pred, steps) == pytest.approx(float(np.sum(errors * steps)) / 20)
    assert mean(y_true, y_pred, np.zeros((2, 3))) == 0.0  # divide_no_nan


def test_unweighted_sequence_losses_are_means_over_rows_and_steps():
    """Without weights too, losses of shape (rows, steps) are divided by rows * steps."""
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    assert losses.MeanAbsoluteError()(y_true, y_pred) == pytest.approx(
        np.mean(np.abs(y_pred - y_true))
    )
    labels, logits = rng.integers(0, 4, size=(2, 3)), rng.normal(size=(2, 3, 4))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p, labels[..., None], -1)
    scce = losses.SparseCategoricalCrossentropy(from_logits=True)
    assert scce(labels, logits) == pytest.approx(-picked.mean())
    assert scce(labels[..., None], logits) == pytest.approx(-picked.mean())


def test_row_weights_on_sequence_losses_weigh_whole_rows():
    """(rows,) weights on (rows, steps) losses: Keras 3 raises; glassnet weighs each row,
    which is what (rows, 1) weights give in Keras."""
    y_true, y_pred = _targets("steps")
    loss = losses.MeanSquaredError()
    assert loss(y_true, y_pred, [1.2, 3.4]) == pytest.approx(loss(y_true, y_pred, ROW_WEIGHTS))


def test_weights_that_fit_nothing_are_named():
    y_true, y_pred = _targets("steps")
    with pytest.raises(ValueError, match=r"`sample_weight` of shape \(4,\) does not fit"):
        losses.MeanSquaredError()(y_true, y_pred, [1, 2, 3, 4])


# --- the weighted slopes against finite differences (float64) ------------------------------


def _regression(rng, shape):
    y_true = rng.normal(size=shape)
    error = rng.uniform(0.1, 0.9, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return y_true, y_true + error + np.sign(error) * rng.choice([0.0, 1.0], size=shape)


def _positive(rng, shape):
    return rng.uniform(0.1, 3.0, size=shape), rng.uniform(0.1, 3.0, size=shape)


def _probabilities(rng, shape):
    return (
        rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]),
        rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]) * 0.9 + 0.1 / shape[-1],
    )


def _one_hot(rng, shape):
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    return np.eye(shape[-1])[labels], rng.uniform(0.05, 1.0, size=shape)


def _binary(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.uniform(0.02, 0.98, size=shape)


def _hinge(rng, shape):
    y_true = rng.choice([-1.0, 1.0], size=shape)
    return y_true, y_true * (1 + rng.uniform(0.1, 0.9, size=shape) * rng.choice([-1, 1], shape))


def _logits_one_hot(rng, shape):
    return _one_hot(rng, shape)[0], rng.normal(size=shape) * 3


def _logits_binary(rng, shape):
    return rng.integers(0, 2, size=shape).astype(float), rng.normal(size=shape) * 3


def _labels(rng, shape):
    return rng.integers(0, shape[-1], size=shape[:-1]), rng.uniform(0.05, 1.0, size=shape)


def _logits_labels(rng, shape):
    return rng.integers(0, shape[-1], size=shape[:-1]), rng.normal(size=shape) * 3


def my_loss(y_true, y_pred):
    """A user's loss, as one writes it for ``compile(loss=my_loss)``."""
    return np.mean(np.abs(y_pred - y_true) ** 1.5, axis=-1)


# (glassnet loss, Keras class name and arguments, how to draw targets and predictions)
LOSS_SPECS = [
    (losses.MeanSquaredError(), ("MeanSquaredError", {}), _regression),
    (losses.MeanAbsoluteError(), ("MeanAbsoluteError", {}), _regression),
    (losses.MeanAbsolutePercentageError(), ("MeanAbsolutePercentageError", {}), _regression),
    (losses.MeanSquaredLogarithmicError(), ("MeanSquaredLogarithmicError", {}), _positive),
    (losses.Huber(), ("Huber", {}), _regression),
    (losses.Huber(delta=0.5), ("Huber", {"delta": 0.5}), _regression),
    (losses.LogCosh(), ("LogCosh", {}), _regression),
    (losses.Poisson(), ("Poisson", {}), _positive),
    (losses.KLDivergence(), ("KLDivergence", {}), _probabilities),
    (losses.Hinge(), ("Hinge", {}), _hinge),
    (losses.SquaredHinge(), ("SquaredHinge", {}), _hinge),
    (losses.BinaryCrossentropy(), ("BinaryCrossentropy", {}), _binary),
    (
        losses.BinaryCrossentropy(label_smoothing=0.2),
        ("BinaryCrossentropy", {"label_smoothing": 0.2}),
        _binary,
    ),
    (
        losses.BinaryCrossentropy(from_logits=True),
        ("BinaryCrossentropy", {"from_logits": True}),
        _logits_binary,
    ),
    (losses.CategoricalCrossentropy(), ("CategoricalCrossentropy", {}), _one_hot),
    (
        losses.CategoricalCrossentropy(label_smoothing=0.1),
        ("CategoricalCrossentropy", {"label_smoothing": 0.1}),
        _one_hot,
    ),
    (
        losses.CategoricalCrossentropy(from_logits=True),
        ("CategoricalCrossentropy", {"from_logits": True}),
        _logits_one_hot,
    ),
    (losses.SparseCategoricalCrossentropy(), ("SparseCategoricalCrossentropy", {}), _labels),
    (
        losses.SparseCategoricalCrossentropy(from_logits=True),
        ("SparseCategoricalCrossentropy", {"from_logits": True}),
        _logits_labels,
    ),
]
SPEC_IDS = [
    f"{loss.name}{'-logits' if getattr(loss, 'from_logits', False) else ''}"
    f"{'-smoothed' if getattr(loss, 'label_smoothing', 0) else ''}"
    f"{'-delta' if getattr(loss, 'delta', 1.0) != 1.0 else ''}"
    for loss, _, _ in LOSS_SPECS
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight"]


def _weight_cases(rng, rows, steps=None):
    """Every weight shape Keras accepts for losses of shape (rows,) or (rows, steps), each
    with a zero in it."""

    def with_zero(shape):
        weights = rng.uniform(0.2, 2.0, size=shape)
        weights.reshape(-1)[1] = 0.0
        return weights

    cases = {"scalar": 2.3, "zero": 0.0, "column": with_zero((rows, 1))}
    if steps is None:
        cases["rows"] = with_zero(rows)
    else:
        cases["steps"] = with_zero((rows, steps))
        cases["steps-column"] = with_zero((rows, steps, 1))
    return cases


def _layouts(loss):
    """Targets shapes: rows of 3 outputs, 3 steps of 4 outputs, and for the element-wise
    losses 3 steps of 1 output (Keras's "timestep" cases)."""
    layouts = [(4, 3), (2, 3, 4)]
    over_classes = (
        losses.CategoricalCrossentropy,
        losses.SparseCategoricalCrossentropy,
        losses.KLDivergence,  # one class: every probability is 1, at the clipping edge
    )
    if not isinstance(loss, over_classes):
        layouts.append((2, 3, 1))
    return layouts


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("loss", "keras_spec", "draw"), LOSS_SPECS, ids=SPEC_IDS)
def test_weighted_slope_matches_finite_differences(loss, keras_spec, draw, reduction, float64):
    """``reduced`` (the training step's loss and slope) against central differences of the
    loss object's value, for every weight shape and reduction."""
    loss = type(loss).from_config({**loss.get_config(), "reduction": reduction})
    rng = np.random.default_rng(7)
    for shape in _layouts(loss):
        y_true, y_pred = draw(rng, shape)
        steps = shape[1] if len(shape) == 3 else None
        for case, weights in _weight_cases(rng, shape[0], steps).items():
            value, grad = loss.reduced(y_true, y_pred, weights)
            assert value == pytest.approx(loss(y_true, y_pred, weights), rel=1e-12), case
            numeric = numerical_gradient(
                lambda t=y_true, p=y_pred, w=weights: loss(t, p, w), y_pred
            )
            assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-7, objective_terms=[value])


@pytest.mark.parametrize(
    ("loss", "draw"),
    [
        (losses.CategoricalCrossentropy(), _logits_one_hot),
        (losses.CategoricalCrossentropy(label_smoothing=0.1), _logits_one_hot),
        (losses.SparseCategoricalCrossentropy(), _logits_labels),
        (losses.BinaryCrossentropy(), _logits_binary),
        (losses.BinaryCrossentropy(label_smoothing=0.2), _logits_binary),
    ],
    ids=["cce", "cce-smoothed", "scce", "bce", "bce-smoothed"],
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_fused_step_with_weights_matches_finite_differences(loss, draw, reduction, float64):
    """``fused_step`` (the loss computed from the output layer's logits, as fit does after a
    softmax or sigmoid) against central differences through the activation."""
    loss = type(loss).from_config({**loss.get_config(), "reduction": reduction})
    squash = activations.get(loss.fused_activation)
    rng = np.random.default_rng(11)
    y_true, z = draw(rng, (5, 3))
    cases = {"none": None, **_weight_cases(rng, 5)}
    for case, weights in cases.items():
        for rows_sum_to_one in (False, True) if weights is None else (False,):
            value, grad, prediction = loss.fused_step(y_true, z, weights, rows_sum_to_one)
            np.testing.assert_allclose(prediction, squash(z), rtol=1e-12)
            assert value == pytest.approx(loss(y_true, squash(z), weights), rel=1e-9), case
            numeric = numerical_gradient(lambda w=weights: loss(y_true, squash(z), w), z)
            assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-8, objective_terms=[value])


def _check_model_gradients(model, x, y, sample_weight):
    """``compute_gradients`` against central differences of ``evaluate`` on one batch."""

    def evaluated():
        return model.evaluate(x, y, batch_size=len(x), sample_weight=sample_weight, verbose=0)

    loss, grads = model.compute_gradients(x, y, sample_weight=sample_weight)
    assert loss == pytest.approx(evaluated(), rel=1e-10)
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        numeric = numerical_gradient(evaluated, weight)
        assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-8, objective_terms=[loss])


MODEL_CASES = [
    ("mse", None, _regression),
    ("mae", None, _regression),
    ("categorical_crossentropy", "softmax", _one_hot),  # fused with the softmax
    ("sparse_categorical_crossentropy", "softmax", _labels),  # fused with the softmax
    ("binary_crossentropy", "sigmoid", _binary),  # fused with the sigmoid
    (my_loss, None, _regression),  # a user's function: slope by differences inside
]


@pytest.mark.parametrize("weights", ["rows", "column", "zeros"])
@pytest.mark.parametrize(
    ("loss", "activation", "draw"),
    MODEL_CASES,
    ids=["mse", "mae", "cce", "scce", "bce", "my_loss"],
)
def test_model_gradient_with_sample_weights(loss, activation, draw, weights, float64):
    rng = np.random.default_rng(3)
    model = Sequential([Dense(4, "tanh", input_shape=(3,)), Dense(3, activation)])
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    model.compile(optimizer="sgd", loss=loss)
    x = rng.normal(size=(6, 3))
    y = draw(rng, (6, 3))[0]
    sample_weight = {
        "rows": rng.uniform(0, 2, size=6),
        "column": rng.uniform(0, 2, size=(6, 1)),
        "zeros": np.array([1.5, 0.0, 0.0, 2.0, 0.5, 0.0]),
    }[weights]
    if loss is my_loss:
        assert isinstance(model.loss, losses.FunctionLoss)
    _check_model_gradients(model, x, y, sample_weight)


def test_model_gradient_of_a_sequence_output(float64):
    """A (rows, steps, outputs) output: the slope of the mean over rows and steps."""
    rng = np.random.default_rng(5)
    model = Sequential([Dense(6, "tanh", input_shape=(3,)), Reshape((3, 2))])
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3, 2))
    for loss in ("mae", "huber", "mse", my_loss):
        model.compile(optimizer="sgd", loss=loss)
        _check_model_gradients(model, x, y, None)
        _check_model_gradients(model, x, y, rng.uniform(0, 2, size=5))
    model.compile(optimizer="sgd", loss="mae")
    expected = np.mean(np.abs(model.predict(x, verbose=0) - y))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-12)


def test_user_loss_slope_matches_finite_differences(float64):
    """A user's function, unweighted, per-row weights and a scalar result."""
    rng = np.random.default_rng(9)
    y_true, y_pred = _regression(rng, (4, 3))

    def elementwise(t, p):
        return (p - t) ** 2 * np.cos(p)

    def batch_mean(t, p):  # couples the rows: one number for the batch
        return np.mean((p - t) ** 2) / (1 + np.mean(p) ** 2)

    for fn in (my_loss, elementwise, batch_mean):
        loss = losses.get(fn)
        for weights in (None, rng.uniform(0, 2, size=4), rng.uniform(0, 2, size=(4, 1))):
            value, grad = loss.reduced(y_true, y_pred, weights)
            numeric = numerical_gradient(lambda f=loss, w=weights: f(y_true, y_pred, w), y_pred)
            assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-8, objective_terms=[value])
        numeric = numerical_gradient(lambda f=loss: float(f.values(y_true, y_pred).sum()), y_pred)
        assert_gradient_close(loss.gradient(y_true, y_pred), numeric, rtol=1e-5, atol=1e-8)


# --- live Keras 3 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


KERAS_TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}  # float32, as in tests/test_keras_parity.py
TRAINING_TOLERANCE = {"rtol": 1e-4, "atol": 1e-6}


@pytest.mark.keras
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("loss", "keras_spec", "draw"), LOSS_SPECS, ids=SPEC_IDS)
def test_every_weight_shape_matches_keras(loss, keras_spec, draw, reduction, keras):
    loss = type(loss).from_config({**loss.get_config(), "reduction": reduction})
    name, kwargs = keras_spec
    reference = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    rng = np.random.default_rng(1)
    for shape in _layouts(loss):
        y_true, y_pred = (a.astype(np.float32) for a in draw(rng, shape))
        if isinstance(loss, losses.SparseCategoricalCrossentropy):
            y_true = y_true.astype(np.int64)
        steps = shape[1] if len(shape) == 3 else None
        cases = {"none": None, **_weight_cases(rng, shape[0], steps)}
        for case, weights in cases.items():
            if weights is not None:
                weights = np.asarray(weights, np.float32)
            expected = float(reference(y_true, y_pred, sample_weight=weights))
            got = loss(y_true, y_pred, weights)
            np.testing.assert_allclose(got, expected, **KERAS_TOLERANCE, err_msg=f"{shape} {case}")


def _keras_twin(keras, loss):
    """The Keras loss of the same class and arguments as a glassnet loss."""
    return getattr(keras.losses, type(loss).__name__).from_config(loss.get_config())


@pytest.mark.keras
def test_keras_test_case_constants_are_what_keras_computes(keras):
    """The constants above are Keras's own; recomputed live so that they cannot drift."""
    for name, weights, layout, expected in KERAS_TEST_CASES:
        reference = _keras_twin(keras, losses.get(name))
        got = float(reference(*_targets(layout), sample_weight=weights))
        assert got == keras_almost_equal(expected), (name, weights, layout)
    for name, reduction, weights, expected in KERAS_REDUCTION_CASES:
        reference = _keras_twin(keras, type(losses.get(name))(reduction=reduction))
        got = float(reference(*_targets("rows"), sample_weight=weights))
        assert got == keras_almost_equal(expected), (name, reduction)
    for loss, y_true, y_pred, weights, expected in KERAS_CLASSIFICATION_CASES:
        got = float(_keras_twin(keras, loss)(np.array(y_true), np.array(y_pred), weights))
        assert got == keras_almost_equal(expected), loss


def _twins(keras, activation, outputs=3, reshape=None, seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((3,)), keras.layers.Dense(outputs, activation=activation)]
    mine = [Dense(outputs, activation=activation, input_shape=(3,))]
    if reshape:
        layers.append(keras.layers.Reshape(reshape))
        mine.append(Reshape(reshape))
    reference = keras.Sequential(layers)
    model = Sequential(mine)
    model.set_weights(reference.get_weights())
    return reference, model


KERAS_MODEL_CASES = [
    ("mean_squared_error", None, _regression),
    ("mean_absolute_error", None, _regression),
    ("huber", None, _regression),
    ("categorical_crossentropy", "softmax", _one_hot),
    ("sparse_categorical_crossentropy", "softmax", _labels),
    ("binary_crossentropy", "sigmoid", _binary),
]


@pytest.mark.keras
@pytest.mark.parametrize("weights", ["rows", "column"])
@pytest.mark.parametrize(
    ("loss", "activation", "draw"),
    KERAS_MODEL_CASES,
    ids=["mse", "mae", "huber", "cce", "scce", "bce"],
)
def test_evaluate_and_fit_with_sample_weights_match_keras(loss, activation, draw, weights, keras):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = draw(rng, (10, 3))[0].astype(np.float32)
    sample_weight = rng.uniform(0, 2, size=10).astype(np.float32)
    sample_weight[[1, 6]] = 0.0
    if weights == "column":
        sample_weight = sample_weight[:, None]
    reference, model = _twins(keras, activation)
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    model.compile(optimizer=SGD(0.1), loss=loss)

    # evaluate: equal to Keras's, and to the loss object's weighted value on the predictions
    for batch_size in (10, 4):
        expected = reference.evaluate(
            x, y, sample_weight=sample_weight, batch_size=batch_size, verbose=0
        )
        got = model.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size, verbose=0)
        np.testing.assert_allclose(got, expected, **KERAS_TOLERANCE)
    prediction = model.predict(x, verbose=0)
    np.testing.assert_allclose(
        model.evaluate(x, y, sample_weight=sample_weight, batch_size=10, verbose=0),
        losses.get(loss)(y, prediction, sample_weight),
        **KERAS_TOLERANCE,
    )

    # fit: the same per-epoch losses and the same final weights
    settings = {"epochs": 2, "batch_size": 4, "shuffle": False, "verbose": 0}
    expected = reference.fit(x, y, sample_weight=sample_weight, **settings).history["loss"]
    got = model.fit(x, y, sample_weight=sample_weight, **settings).history["loss"]
    np.testing.assert_allclose(got, expected, **TRAINING_TOLERANCE)
    for mine, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, **TRAINING_TOLERANCE)


@pytest.mark.keras
@pytest.mark.parametrize("loss", ["mean_absolute_error", "huber", "mean_squared_error"])
def test_sequence_output_evaluate_and_fit_match_keras(loss, keras):
    """A (rows, 3, 2) output (Dense then Reshape): losses of shape (rows, 3), divided by
    rows * 3, unweighted and with (rows, 1) weights."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = rng.normal(size=(10, 3, 2)).astype(np.float32)
    reference, model = _twins(keras, None, outputs=6, reshape=(3, 2))
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    model.compile(optimizer=SGD(0.1), loss=loss)
    column = rng.uniform(0, 2, size=(10, 1)).astype(np.float32)
    for sample_weight in (None, column):
        expected = reference.evaluate(x, y, sample_weight=sample_weight, verbose=0)
        got = model.evaluate(x, y, sample_weight=sample_weight, verbose=0)
        np.testing.assert_allclose(got, expected, **KERAS_TOLERANCE)
    settings = {"epochs": 2, "batch_size": 4, "shuffle": False, "verbose": 0}
    expected = reference.fit(x, y, sample_weight=column, **settings).history["loss"]
    got = model.fit(x, y, sample_weight=column, **settings).history["loss"]
    np.testing.assert_allclose(got, expected, **TRAINING_TOLERANCE)
    for mine, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, **TRAINING_TOLERANCE)


def test_fit_and_evaluate_take_weights_per_row_and_step():
    """Sequence outputs take ``(rows, steps)`` weights in ``fit`` and ``evaluate`` as in
    Keras; the loss is the weighted sum over the number of per-sample losses."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4)).astype("float32")
    y = rng.normal(size=(5, 3, 1)).astype("float32")
    weights = rng.uniform(0, 2, size=(5, 3)).astype("float32")
    weights[0, 1] = 0
    model = Sequential([Dense(3, input_shape=(4,)), Reshape((3, 1))])
    model.compile(optimizer="sgd", loss="mse")
    squared = (model.predict(x, verbose=0) - y)[..., 0] ** 2
    expected = float(np.sum(squared * weights) / squared.size)
    got = model.evaluate(x, y, sample_weight=weights, verbose=0)
    assert got == pytest.approx(expected, rel=1e-6)
    model.fit(x, y, sample_weight=weights, epochs=1, verbose=0)
    with pytest.raises(DataError, match=r"has shape \(5, 2\); it needs one value per row"):
        model.evaluate(x, y, sample_weight=weights[:, :2], verbose=0)
