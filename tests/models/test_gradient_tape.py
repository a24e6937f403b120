"""Custom training loops: ``GradientTape``, ``Variable`` and ``optimizer.apply_gradients``.

The tape's slopes come from the layers' own backward passes, so they equal ``fit``'s bit for
bit on the same machine (``compute_gradients`` runs one training step's backward without the
update).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import glassnet as keras
from glassnet import layers


def regression(rows: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")


def sequential():
    model = keras.Sequential([layers.Dense(5, activation="relu", input_shape=(3,)),
                              layers.Dense(1)])
    model.build()
    return model


def functional():
    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(5, activation="tanh")(inputs)
    return keras.Model(inputs, layers.Dense(1)(hidden))


class TwoStep(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(5, activation="relu")
        self.out = layers.Dense(1)

    def call(self, x, training=False):
        return self.out(self.hidden(x))


def subclassed():
    model = TwoStep()
    model(np.zeros((1, 3), "float32"))
    return model


@pytest.mark.parametrize("make", [sequential, functional, subclassed])
def test_tape_slopes_equal_the_training_steps_bit_for_bit(make):
    model = make()
    model.compile(optimizer="sgd", loss="mse")
    x, y = regression()
    loss_fn = keras.losses.MeanSquaredError()
    with keras.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    expected_loss, expected = model.compute_gradients(x, y)
    assert float(loss) == pytest.approx(expected_loss, rel=1e-6)  # float32 against a float
    for ours, reference in zip(grads, expected, strict=True):
        np.testing.assert_array_equal(ours, reference)


def test_tape_slopes_match_finite_differences(float64):
    model = functional()
    x, y = regression()
    loss_fn = keras.losses.MeanSquaredError()
    with keras.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        numeric = numerical_gradient(lambda: float(loss_fn(y, model(x))), weight)
        assert_gradient_close(grad, numeric, rtol=1e-6, atol=1e-9)


def test_watched_input_gets_its_slope(float64):
    model = functional()
    x, y = regression()
    x = x.astype("float64")
    loss_fn = keras.losses.MeanSquaredError()
    with keras.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(y, model(x))
    slope = tape.gradient(loss, x)
    numeric = numerical_gradient(lambda: float(loss_fn(y, model(x))), x)
    assert_gradient_close(slope, numeric, rtol=1e-6, atol=1e-9)


def test_a_tape_gives_one_gradient_unless_persistent():
    model = sequential()
    x, y = regression()
    loss_fn = keras.losses.MeanSquaredError()
    with keras.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    tape.gradient(loss, model.trainable_weights)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(loss, model.trainable_weights)
    with keras.GradientTape(persistent=True) as tape:
        loss = loss_fn(y, model(x))
    first = tape.gradient(loss, model.trainable_weights)
    second = tape.gradient(loss, model.trainable_weights)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_gradient_of_a_value_the_tape_never_saw_is_refused():
    model = sequential()
    x, y = regression()
    outside = keras.losses.MeanSquaredError()(y, model(x))
    with keras.GradientTape() as tape:
        model(x)
    with pytest.raises(ValueError, match="not computed inside this GradientTape"):
        tape.gradient(outside, model.trainable_weights)


def test_unconnected_variables_get_none_or_zeros():
    used, unused = sequential(), sequential()
    x, y = regression()
    with keras.GradientTape(persistent=True) as tape:
        loss = keras.losses.MeanSquaredError()(y, used(x))
    sources = used.trainable_weights[:1] + unused.trainable_weights[:1]
    slope, none = tape.gradient(loss, sources)
    assert slope is not None and none is None
    _, zeros = tape.gradient(loss, sources, unconnected_gradients="zero")
    np.testing.assert_array_equal(zeros, np.zeros(sources[1].shape))


def test_apply_gradients_makes_the_update_fit_makes():
    reference = sequential()
    model = copy.deepcopy(reference)
    reference.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    optimizer = keras.optimizers.Adam(0.01)
    loss_fn = keras.losses.MeanSquaredError()
    x, y = regression()
    for _ in range(3):
        reference.train_on_batch(x, y)
        with keras.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
    assert optimizer.iterations == 3
    for ours, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_apply_gradients_to_some_variables_leaves_the_others():
    model = sequential()
    x, y = regression()
    with keras.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x))
    last = model.trainable_weights[2:]
    grads = tape.gradient(loss, last)
    before = model.get_weights()
    keras.optimizers.SGD(0.1).apply(grads, last)
    after = model.get_weights()
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    np.testing.assert_allclose(after[2], before[2] - 0.1 * grads[0], rtol=1e-6)


def test_bad_gradients_are_refused_and_change_nothing():
    model = sequential()
    weights = model.trainable_weights
    before = model.get_weights()
    optimizer = keras.optimizers.SGD(0.1)
    with pytest.raises(ValueError, match=r"'dense_\d+/kernel' has shape \(2, 2\); expected.*"
                                         r"\(3, 5\)"):
        optimizer.apply_gradients([(np.ones((5,)), weights[1]), (np.ones((2, 2)), weights[0])])
    with pytest.raises(ValueError, match="is None"):
        optimizer.apply_gradients([(None, weights[0])])
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_variables_answer_keras_variable_api():
    model = sequential()
    kernel = model.trainable_weights[0]
    assert kernel.path.endswith("/kernel") and kernel.name == "kernel" and kernel.trainable
    copy_ = kernel.numpy()
    kernel.assign(np.zeros(kernel.shape))
    np.testing.assert_array_equal(model.get_weights()[0], 0)
    kernel.assign_add(np.ones(kernel.shape))
    np.testing.assert_array_equal(model.layers[0].kernel, 1)
    assert not np.array_equal(copy_, kernel.numpy())
    with pytest.raises(ValueError, match="cannot assign a value of shape"):
        kernel.assign(np.zeros((1, 1)))
    doubled = kernel * 2
    assert isinstance(doubled, np.ndarray) and not isinstance(doubled, keras.Variable)


def test_every_eager_result_answers_numpy_without_copying():
    model = sequential()
    x, y = regression()
    results = {
        "model": model(x[:1]),
        "layer": model.layers[0](x[:1]),
        "loss": keras.losses.MeanSquaredError()(y, model(x)),
        "op": keras.ops.mean(keras.ops.square(x)),
        "metric": keras.metrics.MeanAbsoluteError()(y, model(x)),
        "variable": model.trainable_weights[0],
    }
    for what, result in results.items():
        value = result.numpy()
        assert type(value) is np.ndarray or np.ndim(value) == 0, what
    layer_out = results["layer"]
    assert np.shares_memory(layer_out.numpy(), layer_out)
    assert float(results["loss"]) == pytest.approx(float(np.mean((model(x).numpy() - y) ** 2)),
                                                   rel=1e-6)
