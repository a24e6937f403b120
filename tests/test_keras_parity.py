"""Parity with real Keras 3 on TensorFlow: the same weights give the same numbers.

Runs only where ``keras`` is installed (``.ci/run`` installs ``tensorflow-cpu`` and ``keras``).
Every comparison copies Keras's weights into a glassnet twin with ``set_weights``.

Tolerances, all in float32 (both libraries' default):

* predictions and evaluated losses: 1e-5 relative (plus 1e-6 absolute for values near 0).
  The two libraries sum products in different orders (NumPy's BLAS against oneDNN), which
  moves the last of float32's ~7 significant digits;
* a few epochs of training: 1e-4 relative on per-epoch losses and metrics and on final
  weights. Each step compounds the rounding differences above, so the bound is ten times
  looser, and still a thousand times tighter than any wrong formula would give.

Known, deliberate difference (not tested): Keras on TensorFlow computes a cross-entropy
from the logits of *whatever* sigmoid or softmax produced the output, so
``categorical_crossentropy`` after a sigmoid layer becomes a softmax cross-entropy of the
sigmoid's inputs. glassnet fuses only the matching pairs (softmax with the categorical
cross-entropies, sigmoid with the binary one) and otherwise uses the probabilities.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras")

from glassnet import activations, losses, regularizers  # noqa: E402
from glassnet import optimizers as glassnet_optimizers  # noqa: E402
from glassnet.layers import BatchNormalization, Dense  # noqa: E402
from glassnet.models import Sequential  # noqa: E402
from glassnet.utils import to_categorical  # noqa: E402

pytestmark = pytest.mark.keras

PREDICTION_TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}
TRAINING_TOLERANCE = {"rtol": 1e-4, "atol": 1e-6}
# sparsemax is glassnet's exact projection onto the simplex, which Keras 3.15's formula is
# not (docs/keras-compatibility.md; tests/test_activations_catalog.py checks glassnet's).
KERAS_ACTIVATION_NAMES = [
    name for name in activations.layer_names() if name not in ("identity", "sparsemax")
]


def twins(layer_specs, inputs, seed=0):
    """A Keras model and a glassnet model of the same Dense layers, with Keras's weights."""
    keras.utils.set_random_seed(seed)
    reference = keras.Sequential(
        [keras.Input((inputs,))]
        + [keras.layers.Dense(units, activation=act) for units, act in layer_specs]
    )
    first_units, first_activation = layer_specs[0]
    layers = [Dense(first_units, activation=first_activation, input_shape=(inputs,))]
    layers += [Dense(units, activation=act) for units, act in layer_specs[1:]]
    model = Sequential(layers)
    model.set_weights(reference.get_weights())
    return reference, model


def assert_predictions_close(got, expected):
    """After training, weights agree to 1e-4 relative; a prediction near 0 sums terms of the
    size of the largest predictions, so its error is judged against that size."""
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(got, expected, rtol=TRAINING_TOLERANCE["rtol"], atol=1e-4 * scale)


def inputs_and_rng(rows=40, columns=4, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, columns)).astype("float32"), rng


# --- predictions --------------------------------------------------------------------------


@pytest.mark.parametrize("name", KERAS_ACTIVATION_NAMES)
def test_predictions_match_for_every_activation(name):
    x, rng = inputs_and_rng(rows=32, columns=3)
    reference, model = twins([(6, name)], inputs=3)
    # Weights large enough to reach every regime (saturation, kinks, negative tails).
    weights = [
        rng.normal(scale=2.0, size=(3, 6)).astype("float32"),
        rng.normal(size=6).astype("float32"),
    ]
    reference.set_weights(weights)
    model.set_weights(weights)
    expected = keras.ops.convert_to_numpy(reference(x))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, **PREDICTION_TOLERANCE)


def test_predictions_of_a_deeper_network_match():
    x, _ = inputs_and_rng(rows=100)
    reference, model = twins([(16, "relu"), (8, "tanh"), (3, "softmax")], inputs=4)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reference.predict(x, verbose=0), **PREDICTION_TOLERANCE
    )


# --- evaluated losses --------------------------------------------------------------------


def targets(kind, rng, rows, outputs):
    if kind == "real":
        return rng.normal(size=(rows, outputs)).astype("float32")
    if kind == "positive":
        return rng.uniform(0.1, 3, size=(rows, outputs)).astype("float32")
    if kind == "distribution":
        return rng.dirichlet(np.ones(outputs), size=rows).astype("float32")
    if kind == "binary":
        return rng.integers(0, 2, size=(rows, outputs)).astype("float32")
    labels = rng.integers(0, outputs, size=rows)
    return labels if kind == "labels" else to_categorical(labels, outputs)


# (id, Keras loss, glassnet loss, output activation, targets)
LOSS_CASES = [
    ("mse", "mean_squared_error", "mean_squared_error", None, "real"),
    ("mae", "mean_absolute_error", "mae", None, "real"),
    ("huber", "huber", "huber", None, "real"),
    ("huber-delta", keras.losses.Huber(delta=0.3), losses.Huber(delta=0.3), None, "real"),
    ("log_cosh", "log_cosh", "log_cosh", None, "real"),
    ("mape", "mean_absolute_percentage_error", "mape", None, "real"),
    ("msle", "mean_squared_logarithmic_error", "msle", "softplus", "positive"),
    ("poisson", "poisson", "poisson", "softplus", "positive"),
    ("kl_divergence", "kl_divergence", "kl_divergence", "softmax", "distribution"),
    ("hinge", "hinge", "hinge", None, "binary"),
    ("squared_hinge", "squared_hinge", "squared_hinge", None, "binary"),
    ("bce-sigmoid", "binary_crossentropy", "binary_crossentropy", "sigmoid", "binary"),
    (
        "bce-logits",
        keras.losses.BinaryCrossentropy(from_logits=True),
        losses.BinaryCrossentropy(from_logits=True),
        None,
        "binary",
    ),
    (
        "bce-smoothed",
        keras.losses.BinaryCrossentropy(label_smoothing=0.2),
        losses.BinaryCrossentropy(label_smoothing=0.2),
        "sigmoid",
        "binary",
    ),
    ("cce-softmax", "categorical_crossentropy", "categorical_crossentropy", "softmax", "one_hot"),
    (
        "cce-logits",
        keras.losses.CategoricalCrossentropy(from_logits=True),
        losses.CategoricalCrossentropy(from_logits=True),
        None,
        "one_hot",
    ),
    (
        "cce-smoothed",
        keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        losses.CategoricalCrossentropy(label_smoothing=0.1),
        "softmax",
        "one_hot",
    ),
    (
        "scce-softmax",
        "sparse_categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "softmax",
        "labels",
    ),
    (
        "scce-logits",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        losses.SparseCategoricalCrossentropy(from_logits=True),
        None,
        "labels",
    ),
]


def evaluate_both(keras_loss, glassnet_loss, activation, kind, weight_scale=1.0, metrics=None):
    x, rng = inputs_and_rng()
    reference, model = twins([(8, "tanh"), (3, activation)], inputs=4)
    if weight_scale != 1.0:
        scaled = [w * weight_scale for w in reference.get_weights()]
        reference.set_weights(scaled)
        model.set_weights(scaled)
    y = targets(kind, rng, len(x), 3)
    reference.compile(optimizer="sgd", loss=keras_loss, metrics=metrics)
    model.compile(optimizer="sgd", loss=glassnet_loss, metrics=metrics)
    expected = reference.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    got = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    return got, expected, (model, x, y)


@pytest.mark.parametrize(
    ("keras_loss", "glassnet_loss", "activation", "kind"),
    [case[1:] for case in LOSS_CASES],
    ids=[case[0] for case in LOSS_CASES],
)
def test_evaluate_matches_for_every_loss(keras_loss, glassnet_loss, activation, kind):
    got, expected, _ = evaluate_both(keras_loss, glassnet_loss, activation, kind)
    assert got["loss"] == pytest.approx(expected["loss"], rel=1e-5)


@pytest.mark.parametrize(
    ("loss", "activation", "kind"),
    [
        ("categorical_crossentropy", "softmax", "one_hot"),
        ("sparse_categorical_crossentropy", "softmax", "labels"),
        ("binary_crossentropy", "sigmoid", "binary"),
    ],
)
def test_saturated_outputs_are_scored_from_logits_like_keras(loss, activation, kind):
    """With weights scaled up, probabilities reach 0 and 1 in float32. Keras's fit and evaluate
    then score from the logits (no clipping at -log(1e-7) ≈ 16.1), and so does glassnet."""
    got, expected, (model, x, y) = evaluate_both(loss, loss, activation, kind, weight_scale=25.0)
    from_clipped_probabilities = losses.get(loss)(y, model.predict(x, verbose=0))
    assert expected["loss"] > 1.2 * from_clipped_probabilities  # the logits form is in use
    assert got["loss"] == pytest.approx(expected["loss"], rel=1e-5)


@pytest.mark.parametrize(
    ("loss", "activation", "kind", "metrics"),
    [
        ("binary_crossentropy", "sigmoid", "binary", ["accuracy", "mae"]),
        ("categorical_crossentropy", "softmax", "one_hot", ["accuracy", "acc", "mse"]),
        ("sparse_categorical_crossentropy", "softmax", "labels", ["accuracy"]),
        ("mse", None, "real", ["mae", "mse", "root_mean_squared_error"]),
    ],
)
def test_metrics_match_in_evaluate(loss, activation, kind, metrics):
    got, expected, _ = evaluate_both(loss, loss, activation, kind, metrics=metrics)
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


# --- training ----------------------------------------------------------------------------------


def train_both(keras_optimizer, glassnet_optimizer, loss, activation, kind, metrics=None, epochs=4):
    x, rng = inputs_and_rng(rows=64)
    outputs = 1 if kind == "binary" else 3
    reference, model = twins([(12, "relu"), (8, "tanh"), (outputs, activation)], inputs=4)
    y = targets(kind, rng, len(x), outputs)
    reference.compile(optimizer=keras_optimizer, loss=loss, metrics=metrics)
    model.compile(optimizer=glassnet_optimizer, loss=loss, metrics=metrics)
    settings = dict(epochs=epochs, batch_size=16, validation_split=0.25, shuffle=False, verbose=0)
    expected = reference.fit(x, y, **settings).history
    got = model.fit(x, y, **settings).history
    assert set(got) == set(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, **TRAINING_TOLERANCE, err_msg=key)
    for ours, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, **TRAINING_TOLERANCE)
    assert_predictions_close(model.predict(x, verbose=0), reference.predict(x, verbose=0))


def test_sgd_with_nesterov_momentum_trains_like_keras():
    train_both(
        keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        glassnet_optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        "mse",
        None,
        "real",
        metrics=["mae"],
    )


def test_adam_trains_a_softmax_classifier_like_keras():
    train_both(
        keras.optimizers.Adam(learning_rate=0.01),
        glassnet_optimizers.Adam(learning_rate=0.01),
        "categorical_crossentropy",
        "softmax",
        "one_hot",
        metrics=["accuracy"],
    )


def test_rmsprop_trains_a_sigmoid_classifier_like_keras():
    train_both(
        keras.optimizers.RMSprop(learning_rate=0.01),
        glassnet_optimizers.RMSprop(learning_rate=0.01),
        "binary_crossentropy",
        "sigmoid",
        "binary",
        metrics=["accuracy"],
    )


def test_adagrad_trains_on_sparse_labels_like_keras():
    train_both(
        keras.optimizers.Adagrad(learning_rate=0.05),
        glassnet_optimizers.Adagrad(learning_rate=0.05),
        "sparse_categorical_crossentropy",
        "softmax",
        "labels",
        metrics=["accuracy"],
    )


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.05}),
        ("Adam", {"learning_rate": 0.01, "amsgrad": True, "clipvalue": 0.05}),
        ("SGD", {"learning_rate": 0.1, "momentum": 0.8, "clipnorm": 0.5}),
        ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
        ("Adam", {"learning_rate": 0.01, "global_clipnorm": 0.3}),
    ],
    ids=[
        "adamw",
        "amsgrad-clipvalue",
        "sgd-clipnorm",
        "rmsprop-centered-momentum",
        "global-clipnorm",
    ],
)
def test_optimizer_options_train_like_keras(name, kwargs):
    train_both(
        getattr(keras.optimizers, name)(**kwargs),
        getattr(glassnet_optimizers, name)(**kwargs),
        "mse",
        None,
        "real",
        epochs=3,
    )


def test_optimizers_by_name_train_like_keras():
    # "adam" and "sgd" by name: both libraries must pick the same defaults.
    train_both("adam", "adam", "mse", None, "real", epochs=3)
    train_both("sgd", "sgd", "mse", None, "real", epochs=3)


def test_batch_normalization_regularizers_and_sample_weights_train_like_keras():
    x, rng = inputs_and_rng(rows=64)
    y = rng.normal(size=(64, 1)).astype("float32")
    sample_weight = rng.uniform(0, 2, size=64).astype("float32")
    keras.utils.set_random_seed(0)
    reference = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(
                8, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01)
            ),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.02)),
        ]
    )
    model = Sequential(
        [
            Dense(8, activation="relu", input_shape=(4,), kernel_regularizer=regularizers.L2(0.01)),
            BatchNormalization(),
            Dense(1, kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.02)),
        ]
    )
    model.set_weights(reference.get_weights())
    reference.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.5), loss="mse")
    model.compile(optimizer=glassnet_optimizers.SGD(0.05, momentum=0.5), loss="mse")

    expected = reference.evaluate(x, y, sample_weight=sample_weight, verbose=0)
    assert model.evaluate(x, y, sample_weight=sample_weight, verbose=0) == pytest.approx(
        expected, rel=1e-5
    )
    settings = dict(epochs=3, batch_size=16, validation_split=0.25, shuffle=False, verbose=0)
    expected = reference.fit(x, y, sample_weight=sample_weight, **settings).history
    got = model.fit(x, y, sample_weight=sample_weight, **settings).history
    for key, values in expected.items():
        np.testing.assert_allclose(got[key], values, **TRAINING_TOLERANCE, err_msg=key)
    # Keras's order: gamma, beta, moving mean, moving variance; the moving statistics too.
    for ours, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, **TRAINING_TOLERANCE)
    assert_predictions_close(model.predict(x, verbose=0), reference.predict(x, verbose=0))


# --- definitions ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "AdamW"])
def test_optimizer_defaults_match_keras(name):
    theirs = getattr(keras.optimizers, name)().get_config()
    ours = glassnet_optimizers.get(name).get_config()
    shared = set(theirs) & set(ours) - {"name"}
    assert {"learning_rate"} <= shared
    for key in shared:
        assert (
            ours[key] == pytest.approx(theirs[key])
            if isinstance(theirs[key], float)
            else ours[key] == theirs[key]
        ), key


def test_dense_defaults_match_keras():
    theirs = keras.layers.Dense(3).get_config()
    ours = Dense(3).get_config()
    assert ours["use_bias"] == theirs["use_bias"] is True
    assert ours["activation"] == theirs["activation"] == "linear"
    assert ours["kernel_initializer"]["class_name"] == theirs["kernel_initializer"]["class_name"]
    assert ours["bias_initializer"]["class_name"] == theirs["bias_initializer"]["class_name"]


def test_to_categorical_matches_keras():
    labels = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(to_categorical(labels), keras.utils.to_categorical(labels))
    np.testing.assert_array_equal(to_categorical(labels, 5), keras.utils.to_categorical(labels, 5))
