"""Training: whole-model slopes against finite differences, and fit/evaluate/predict semantics.

The whole-model check compares ``model.compute_gradients(x, y)`` with central differences of
the loss ``evaluate`` reports (same batch, inference mode), for each loss, including the
fused softmax + categorical cross-entropy and sigmoid + binary cross-entropy paths.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet import losses, regularizers
from glassnet.layers import Activation, BatchNormalization, Dense, Dropout
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adam
from glassnet.utils import set_random_seed, to_categorical


def random_network(rng, inputs, hidden, outputs, output_activation=None, **dense_kwargs):
    model = Sequential(
        [
            Dense(hidden, activation="tanh", input_shape=(inputs,), **dense_kwargs),
            Dense(hidden, activation="relu", **dense_kwargs),
            Dense(outputs, activation=output_activation),
        ]
    )
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    return model


def check_model_gradients(model, x, y, sample_weight=None):
    """``compute_gradients`` against central differences of ``evaluate`` on the same batch."""

    def evaluated_loss():
        return model.evaluate(x, y, batch_size=len(x), sample_weight=sample_weight, verbose=0)

    loss, grads = model.compute_gradients(x, y, sample_weight=sample_weight)
    assert loss == pytest.approx(evaluated_loss(), rel=1e-12)
    assert len(grads) == len(model.trainable_weights)
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        numeric = numerical_gradient(evaluated_loss, weight)
        # Every row loss is non-negative, so the loss itself sets the rounding floor.
        assert_gradient_close(grad, numeric, rtol=1e-5, atol=1e-8, objective_terms=[loss])


def regression_data(rng, rows=6, inputs=3, outputs=2):
    return rng.normal(size=(rows, inputs)), rng.normal(size=(rows, outputs))


# (loss, output activation, how the targets look)
MODEL_CASES = [
    ("mean_squared_error", None, "real"),
    ("mean_absolute_error", None, "real"),
    ("huber", None, "real"),
    ("log_cosh", None, "real"),
    ("mean_absolute_percentage_error", None, "real"),
    ("mean_squared_logarithmic_error", "softplus", "positive"),
    ("poisson", "softplus", "positive"),
    ("kl_divergence", "softmax", "distribution"),
    ("hinge", None, "signs"),
    ("squared_hinge", None, "signs"),
    ("binary_crossentropy", "sigmoid", "binary"),  # fused with the sigmoid
    (losses.BinaryCrossentropy(from_logits=True), None, "binary"),
    ("binary_crossentropy", "softmax", "binary"),  # probabilities, not fused
    ("categorical_crossentropy", "softmax", "one_hot"),  # fused with the softmax
    (losses.CategoricalCrossentropy(label_smoothing=0.1), "softmax", "one_hot"),
    (losses.CategoricalCrossentropy(from_logits=True), None, "one_hot"),
    ("categorical_crossentropy", "sigmoid", "one_hot"),  # probabilities, not fused
    ("sparse_categorical_crossentropy", "softmax", "labels"),  # fused with the softmax
    (losses.SparseCategoricalCrossentropy(from_logits=True), None, "labels"),
    ("sparse_categorical_crossentropy", "sigmoid", "labels"),  # probabilities, not fused
]


def make_targets(kind, rng, rows, outputs):
    if kind == "real":
        return rng.normal(size=(rows, outputs)) * 2
    if kind == "positive":
        return rng.uniform(0.1, 3, size=(rows, outputs))
    if kind == "distribution":
        return rng.dirichlet(np.ones(outputs), size=rows)
    if kind == "signs":
        return rng.choice([-1.0, 1.0], size=(rows, outputs))
    if kind == "binary":
        return rng.integers(0, 2, size=(rows, outputs)).astype(float)
    labels = rng.integers(0, outputs, size=rows)
    return labels if kind == "labels" else to_categorical(labels, outputs)


def case_id(case):
    loss, activation, _ = case
    name = (
        loss if isinstance(loss, str) else f"{loss.name}-logits" if loss.from_logits else loss.name
    )
    return f"{name}-{activation or 'linear'}"


@pytest.mark.parametrize(
    ("loss", "activation", "targets"), MODEL_CASES, ids=map(case_id, MODEL_CASES)
)
def test_model_gradients_match_finite_differences(loss, activation, targets, rng, float64):
    model = random_network(rng, inputs=3, hidden=4, outputs=3, output_activation=activation)
    model.compile(optimizer="sgd", loss=loss)
    x = rng.normal(size=(5, 3))
    check_model_gradients(model, x, make_targets(targets, rng, 5, 3))


@pytest.mark.parametrize(
    ("loss", "activation", "kernel", "target", "expected"),
    [
        # Matching pairs are scored from the logits: a logit 50 below the right class costs 50.
        ("categorical_crossentropy", "softmax", [[50.0, 0.0]], [[0.0, 1.0]], 50.0),
        ("sparse_categorical_crossentropy", "softmax", [[50.0, 0.0]], [1], 50.0),
        ("binary_crossentropy", "sigmoid", [[-50.0]], [[1.0]], 50.0),
        # Any other pair uses the probabilities, clipped at epsilon: -log(1e-7).
        ("categorical_crossentropy", "sigmoid", [[50.0, -50.0]], [[0.0, 1.0]], 16.118095),
    ],
    ids=["softmax-cce", "softmax-scce", "sigmoid-bce", "sigmoid-cce"],
)
def test_cross_entropy_is_fused_exactly_with_its_own_activation(
    loss, activation, kernel, target, expected
):
    model = Sequential(
        [Dense(len(kernel[0]), activation=activation, use_bias=False, input_shape=(1,))]
    )
    model.set_weights([np.array(kernel)])
    model.compile(optimizer="sgd", loss=loss)
    assert model.evaluate(np.ones((1, 1)), np.array(target), verbose=0) == pytest.approx(
        expected, rel=1e-6
    )


HIDDEN_ACTIVATIONS = [
    "linear",
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "gelu",
    "silu",
    "mish",
    "hard_sigmoid",
]


@settings(max_examples=15)
@given(
    widths=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    activation=st.sampled_from(HIDDEN_ACTIVATIONS),
    head=st.sampled_from(
        [("mse", None), ("categorical_crossentropy", "softmax"), ("binary_crossentropy", "sigmoid")]
    ),
    rows=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_random_architectures_have_correct_gradients(widths, activation, head, rows, seed, float64):
    rng = np.random.default_rng(seed)
    loss, output_activation = head
    outputs = 1 if loss == "binary_crossentropy" else 3
    layers = [Dense(w, activation=activation) for w in widths]
    layers.append(Dense(outputs, activation=output_activation))
    model = Sequential(layers)
    model.build((None, 2))
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    model.compile(optimizer="sgd", loss=loss)
    kind = {"mse": "real", "categorical_crossentropy": "one_hot"}.get(loss, "binary")
    check_model_gradients(model, rng.normal(size=(rows, 2)), make_targets(kind, rng, rows, outputs))


def test_softmax_as_its_own_layer_has_correct_gradients(rng, float64):
    model = random_network(rng, 3, 4, 3)
    model.add(Activation("softmax"))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    check_model_gradients(model, rng.normal(size=(5, 3)), to_categorical(rng.integers(0, 3, 5), 3))


def test_one_sigmoid_unit_with_binary_crossentropy_and_1d_targets(rng, float64):
    model = random_network(rng, 3, 4, 1, "sigmoid")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    check_model_gradients(model, rng.normal(size=(6, 3)), rng.integers(0, 2, size=6).astype(float))


def test_sample_weights_enter_the_gradient(rng, float64):
    model = random_network(rng, 3, 4, 2)
    model.compile(optimizer="sgd", loss="mse")
    x, y = regression_data(rng)
    check_model_gradients(model, x, y, sample_weight=rng.uniform(0, 2, size=len(x)))


def test_regularization_penalties_enter_loss_and_gradient(rng, float64):
    model = random_network(
        rng,
        3,
        4,
        2,
        kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.1),
        bias_regularizer=regularizers.L2(0.05),
    )
    model.compile(optimizer="sgd", loss="mse")
    x, y = regression_data(rng)
    check_model_gradients(model, x, y)
    penalty = sum(layer.regularization_penalty() for layer in model.layers)
    data_loss = np.mean((model.predict(x, verbose=0) - y) ** 2)
    assert penalty > 0
    assert model.evaluate(x, y, verbose=0) == pytest.approx(data_loss + penalty, rel=1e-12)


def test_frozen_layer_has_no_gradient_and_does_not_move(rng, float64):
    model = random_network(rng, 3, 4, 2)
    model.layers[0].trainable = False
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    x, y = regression_data(rng)
    _, grads = model.compute_gradients(x, y)
    assert len(grads) == 4  # two kernels and two biases: the frozen layer's are not there
    frozen_before = model.layers[0].get_weights()
    moving_before = model.layers[1].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for before, after in zip(frozen_before, model.layers[0].get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(moving_before[0], model.layers[1].get_weights()[0])


def test_training_mode_gradients_through_dropout_and_batch_normalization(rng, float64):
    """With a fixed dropout mask, the training-mode loss's slope is checked the same way."""
    model = Sequential(
        [
            Dense(4, activation="tanh", input_shape=(3,)),
            BatchNormalization(),
            Dropout(0.3, seed=1),
            Dense(2),
        ]
    )
    model.set_weights([rng.normal(size=w.shape) if w.ndim > 1 else w for w in model.get_weights()])
    model.compile(optimizer="sgd", loss="mse")
    x, y = regression_data(rng)
    dropout = model.layers[2]

    def training_loss():
        dropout.rng = np.random.default_rng(1)  # the same mask at every call
        return model.compute_gradients(x, y)[0]

    dropout.rng = np.random.default_rng(1)
    _, grads = model.compute_gradients(x, y)
    mask = next(node.records for node in model.tape.nodes if node.op is dropout)
    assert np.any(mask == 0)
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        assert_gradient_close(grad, numerical_gradient(training_loss, weight), rtol=1e-5, atol=1e-8)


def test_fused_and_from_logits_forms_train_identically(rng, float64):
    """softmax + categorical_crossentropy (fused) and linear + from_logits are the same model."""
    x = rng.normal(size=(20, 3))
    y = to_categorical(rng.integers(0, 3, 20), 3)
    weights = random_network(rng, 3, 4, 3).get_weights()
    results = []
    for activation, loss in [
        ("softmax", "categorical_crossentropy"),
        (None, losses.CategoricalCrossentropy(from_logits=True)),
    ]:
        model = random_network(rng, 3, 4, 3, activation)
        model.set_weights(weights)
        model.compile(optimizer=SGD(learning_rate=0.1), loss=loss)
        history = model.fit(x, y, epochs=3, batch_size=5, shuffle=False, verbose=0)
        results.append((history.history["loss"], model.get_weights()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# --- fit, evaluate, predict ---------------------------------------------------------------


def linear_model(inputs=2, learning_rate=0.0):
    model = Sequential([Dense(1, input_shape=(inputs,))])
    model.compile(optimizer=SGD(learning_rate=learning_rate), loss="mse", metrics=["mae"])
    return model


def test_history_has_loss_metrics_and_their_validation_versions(rng):
    x, y = regression_data(rng, rows=20, outputs=1)
    model = linear_model(inputs=3, learning_rate=0.01)
    history = model.fit(x, y, epochs=4, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert all(len(values) == 4 for values in history.history.values())
    assert model.history is history
    assert history.epoch == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("rows", "split", "train_rows"), [(10, 0.25, 7), (10, 0.3, 7), (9, 0.5, 4), (3, 0.5, 1)]
)
def test_validation_split_holds_out_the_last_rows(rows, split, train_rows, rng):
    """Keras: the first floor(rows * (1 - split)) rows train; the rest, unshuffled, validate."""
    x, y = regression_data(rng, rows=rows, outputs=1)
    model = linear_model(inputs=3)  # learning rate 0: the weights stay put
    history = model.fit(x, y, epochs=1, validation_split=split, shuffle=True, verbose=0)
    assert history.history["loss"][0] == pytest.approx(
        model.evaluate(x[:train_rows], y[:train_rows], verbose=0)[0]
    )
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[train_rows:], y[train_rows:], verbose=0)[0]
    )


def test_validation_data_is_used_as_given(rng):
    x, y = regression_data(rng, rows=8, outputs=1)
    x_val, y_val = regression_data(rng, rows=5, outputs=1)
    model = linear_model(inputs=3)
    history = model.fit(x, y, validation_data=(x_val, y_val), verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x_val, y_val, verbose=0)[0]
    )


def test_nb_epoch_is_an_alias_of_epochs_with_a_deprecation_warning(rng):
    x, y = regression_data(rng, rows=8, outputs=1)
    model = linear_model(inputs=3)
    with pytest.warns(DeprecationWarning, match="`nb_epoch` is deprecated; use `epochs`"):
        history = model.fit(x, y, nb_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 3


def test_default_batch_size_is_32(rng):
    x, y = regression_data(rng, rows=70, outputs=1)
    model = linear_model(inputs=3, learning_rate=0.01)
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer.iterations == 3  # 32 + 32 + 6 rows


def test_training_loss_is_the_row_weighted_mean_of_batch_losses(float64):
    # lr 0: batch losses are those of the initial weights; batches of 2, 2 and 1 rows.
    x = np.arange(5.0).reshape(5, 1)
    y = np.zeros((5, 1))
    model = Sequential([Dense(1, input_shape=(1,), use_bias=False)])
    model.set_weights([np.array([[1.0]])])
    model.compile(optimizer=SGD(learning_rate=0.0), loss="mse")
    history = model.fit(x, y, batch_size=2, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx((0 + 1 + 4 + 9 + 16) / 5)


def test_fit_lowers_the_loss_on_a_learnable_problem(rng):
    set_random_seed(0)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = Sequential([Dense(8, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer=Adam(learning_rate=0.01), loss="mean_squared_error")
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


def test_evaluate_returns_a_float_without_metrics_and_a_list_or_dict_with(rng):
    x, y = regression_data(rng, rows=6, outputs=1)
    plain = Sequential([Dense(1, input_shape=(3,))])
    plain.compile(optimizer="sgd", loss="mse")
    assert isinstance(plain.evaluate(x, y, verbose=0), float)
    model = linear_model(inputs=3)
    loss, mae = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "mae": mae}
    predictions = model.predict(x, verbose=0)
    assert loss == pytest.approx(np.mean((predictions - y) ** 2), rel=1e-5)
    assert mae == pytest.approx(np.mean(np.abs(predictions - y)), rel=1e-5)


def test_evaluate_does_not_depend_on_batch_size(rng):
    x, y = regression_data(rng, rows=37, outputs=1)
    model = linear_model(inputs=3)
    full = model.evaluate(x, y, batch_size=37, verbose=0)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=5, verbose=0), full, rtol=1e-6)


def test_train_on_batch_takes_one_step_and_test_on_batch_none(rng):
    x, y = regression_data(rng, rows=6, outputs=1)
    model = linear_model(inputs=3, learning_rate=0.1)
    before = model.get_weights()
    model.test_on_batch(x, y)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    expected_loss = model.evaluate(x, y, verbose=0)[0]
    loss, _ = model.train_on_batch(x, y)
    assert loss == pytest.approx(expected_loss)  # the loss before the step
    assert model.optimizer.iterations == 1
    assert not np.allclose(before[0], model.get_weights()[0])


def test_class_weight_zero_removes_a_class_from_the_gradient(rng, float64):
    x = rng.normal(size=(8, 3))
    labels = np.array([0, 1] * 4)
    y = to_categorical(labels, 2)
    model = random_network(rng, 3, 4, 2, "softmax")
    model.compile(optimizer=SGD(learning_rate=0.1), loss="categorical_crossentropy")
    weights = model.get_weights()
    model.fit(x, y, class_weight={0: 1.0, 1: 0.0}, batch_size=8, verbose=0)
    only_class_0 = model.get_weights()

    model.set_weights(weights)
    rows = labels == 0
    model.fit(x[rows], y[rows], sample_weight=np.full(rows.sum(), 0.5), batch_size=8, verbose=0)
    # Keras divides by all 8 rows; on the 4 class-0 rows alone, weight 1/2 gives the same slope.
    for a, b in zip(only_class_0, model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_verbose_zero_prints_nothing(rng, capsys):
    x, y = regression_data(rng, rows=6, outputs=1)
    model = linear_model(inputs=3)
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_pandas_inputs_train_like_arrays(rng):
    pd = pytest.importorskip("pandas")
    x, y = regression_data(rng, rows=10, outputs=1)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    series = pd.Series(y[:, 0], name="target")
    model = linear_model(inputs=3)
    assert model.evaluate(frame, series, verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0)
    )


# --- determinism ------------------------------------------------------------------------


def train_seeded_model(seed, rng_data):
    set_random_seed(seed)
    x, y = rng_data
    model = Sequential(
        [
            Dense(16, activation="relu", input_shape=(4,)),
            Dropout(0.3),
            Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.2, verbose=0)
    return model.get_weights(), history.history


def test_same_seed_gives_bit_identical_training():
    data_rng = np.random.default_rng(3)
    data = (data_rng.normal(size=(60, 4)), to_categorical(data_rng.integers(0, 3, 60), 3))
    first_weights, first_history = train_seeded_model(42, data)
    second_weights, second_history = train_seeded_model(42, data)
    for a, b in zip(first_weights, second_weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first_history == second_history
    other_weights, _ = train_seeded_model(43, data)
    assert not np.array_equal(first_weights[0], other_weights[0])


def test_set_random_seed_rejects_negative_or_fractional_seeds():
    for bad in (-1, 1.5, "7", True):
        with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
            set_random_seed(bad)


# --- to_categorical ----------------------------------------------------------------------


def test_to_categorical_one_hot_rows():
    out = to_categorical([0, 2, 1])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])


def test_to_categorical_with_num_classes_and_a_column_of_labels():
    np.testing.assert_array_equal(to_categorical(np.array([[1], [0]]), 3), [[0, 1, 0], [1, 0, 0]])


def test_to_categorical_takes_a_pandas_series_and_float_labels():
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(to_categorical(pd.Series([1, 0, 1])), [[0, 1], [1, 0], [0, 1]])
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    ("labels", "kwargs", "message"),
    [
        ([0.5, 1], {}, "integer class labels; received fractions"),
        (["cat", "dog"], {}, "integer class labels. Received values of type"),
        ([-1, 0], {}, "Class labels must be >= 0. Received a label -1"),
        ([0, 3], {"num_classes": 2}, "num_classes=2 is too small for the label 3"),
    ],
)
def test_to_categorical_errors_say_what_is_wrong(labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        to_categorical(labels, **kwargs)


def test_warnings_are_not_raised_by_a_plain_fit(rng):
    x, y = regression_data(rng, rows=8, outputs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        linear_model(inputs=3).fit(x, y, epochs=1, verbose=0)


def test_fitting_a_model_with_nothing_to_train_warns_as_keras_does(rng):
    """Keras's default ``train_step`` warns when the model has no trainable weights
    (``keras/src/backend/tensorflow/trainer.py``); a model with some does not."""
    from glassnet import Input

    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=1, verbose=0)
    model.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(UserWarning, match="^The model does not have any trainable weights.$"):
        model.fit(x, y, epochs=1, verbose=0)
