"""The Keras guide "Making new layers and models via subclassing": a ``Linear`` layer whose
``build`` creates its weights with ``add_weight`` and whose ``call`` is
``ops.matmul(inputs, self.w) + self.b``, used by a subclassed ``keras.Model`` whose ``call``
applies it with ``ops.relu`` between; compiled and fitted like any model. The classes are
defined inside ``build(keras)``, on whichever library it is given."""

from __future__ import annotations

import numpy as np
import pytest
from twins import (
    PREDICTION_RTOL,
    TRAINING_RTOL,
    assert_all_close,
    assert_bitwise_equal,
    predict,
    real_keras,
    weights_of,
)

import glassnet

FEATURES = 6


def build(keras):
    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="random_normal",
                trainable=True,
                name="kernel",
                regularizer=keras.regularizers.L2(1e-3),
            )
            self.b = self.add_weight(
                shape=(self.units,), initializer="zeros", trainable=True, name="bias"
            )

        def call(self, inputs):
            return keras.ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class MLP(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.linear_1 = Linear(16, name="linear_1")
            self.linear_2 = Linear(8, name="linear_2")
            self.linear_3 = Linear(1, name="linear_3")

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = keras.ops.relu(x)
            x = self.linear_2(x)
            x = keras.ops.relu(x)
            return self.linear_3(x)

    model = MLP(name="mlp")
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.02, momentum=0.9),
        loss="mse",
        metrics=["mae"],
    )
    return model


def data(rows: int = 64, seed: int = 6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] + np.tanh(x[:, 2:3])).astype("float32")
    return x, y


def fit(model, x, y):
    return model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history


def test_the_program_trains_and_reloads_its_weights(tmp_path):
    model = build(glassnet)
    x, y = data()
    model(x[:1])  # built on its first call
    assert [layer.name for layer in model.layers] == ["linear_1", "linear_2", "linear_3"]
    assert [w.shape for w in model.trainable_weights] == [
        (FEATURES, 16),
        (16,),
        (16, 8),
        (8,),
        (8, 1),
        (1,),
    ]
    history = fit(model, x, y)
    assert sorted(history) == ["loss", "mae"]
    assert history["loss"][-1] < history["loss"][0]

    path = tmp_path / "mlp.weights.h5"
    model.save_weights(path)
    again = build(glassnet)
    again(x[:1])
    again.load_weights(path)
    assert_bitwise_equal(predict(again, x), predict(model, x), "reloaded predictions")


def test_the_custom_layer_regularizes_its_kernel():
    """``add_weight(regularizer=...)`` adds ``1e-3 * sum(w**2)`` per kernel to the loss."""
    model = build(glassnet)
    x, y = data()
    model(x[:1])
    penalty = sum(1e-3 * float(np.sum(np.square(layer.get_weights()[0]))) for layer in model.layers)
    mse = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0)[0], mse + penalty, rtol=1e-5)


def test_the_program_saves_as_a_keras_file(tmp_path):
    model = build(glassnet)
    x, _ = data()
    model(x[:1])
    glassnet.saving.register_keras_serializable(package="programs")(type(model))
    model.save(tmp_path / "mlp.keras")
    again = glassnet.models.load_model(tmp_path / "mlp.keras")
    assert_bitwise_equal(predict(again, x), predict(model, x), "reloaded predictions")


# Keras's reader is compiled but has not trained, so its optimizer has no slots to load yet.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_the_program_matches_keras(tmp_path):
    keras = real_keras()
    ours, theirs = build(glassnet), build(keras)
    x, y = data()
    ours(x[:1])
    theirs(x[:1])
    theirs.set_weights(ours.get_weights())
    for name in ("linear_1", "linear_2", "linear_3"):
        for a, b in zip(
            ours.get_layer(name).get_weights(), theirs.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)
    assert_all_close(predict(ours, x), predict(theirs, x), PREDICTION_RTOL, "predictions")
    assert_all_close(
        ours.evaluate(x, y, verbose=0),
        theirs.evaluate(x, y, verbose=0),
        PREDICTION_RTOL,
        "evaluate (with the kernels' L2 penalty)",
    )

    our_history, their_history = fit(ours, x, y), fit(theirs, x, y)
    assert sorted(our_history) == sorted(their_history)
    for key in their_history:
        assert_all_close(our_history[key], their_history[key], TRAINING_RTOL, key)
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")

    # Keras reads glassnet's weights file into its own twin of the program.
    path = tmp_path / "mlp.weights.h5"
    ours.save_weights(path)
    reader = build(keras)
    reader(x[:1])
    reader.load_weights(path)
    assert_all_close(predict(reader, x), predict(ours, x), PREDICTION_RTOL, "Keras reading")
