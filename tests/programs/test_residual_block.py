"""A residual block, in the style of the Keras functional-API guide's "toy ResNet": the block's
input is added back to its output with ``layers.Add`` (both branches train through the sum),
then a regression head; Adam and mean squared error."""

from __future__ import annotations

import numpy as np
from twins import (
    PREDICTION_RTOL,
    TRAINING_RTOL,
    assert_all_close,
    copy_weights,
    keras_loads,
    predict,
    real_keras,
    save_and_reload,
    weights_of,
)

import glassnet

FEATURES = 12


def build(keras):
    inputs = keras.Input(shape=(FEATURES,), name="features")
    x = keras.layers.Dense(16, activation="relu", name="stem")(inputs)
    block_input = x
    x = keras.layers.Dense(16, activation="relu", name="block_a")(x)
    x = keras.layers.Dense(16, name="block_b")(x)
    x = keras.layers.Add(name="skip")([x, block_input])
    x = keras.layers.Activation("relu", name="block_out")(x)
    outputs = keras.layers.Dense(1, name="value")(x)
    model = keras.Model(inputs, outputs, name="toy_resnet")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005), loss="mse", metrics=["mae"])
    return model


def data(rows: int = 80, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype("float32")
    y = (np.sin(x[:, :3]).sum(axis=1, keepdims=True) + 0.1 * x[:, 3:4]).astype("float32")
    return x, y


def fit(model, x, y):
    return model.fit(x, y, epochs=3, batch_size=10, shuffle=False, verbose=0).history


def test_the_program_trains_saves_and_reloads(tmp_path):
    model = build(glassnet)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "Dense",
        "Dense",
        "Dense",
        "Add",
        "Activation",
        "Dense",
    ]
    x, y = data()
    history = fit(model, x, y)
    assert sorted(history) == ["loss", "mae"]
    assert history["loss"][-1] < history["loss"][0]
    save_and_reload(model, tmp_path, "toy_resnet", x)


def test_the_skip_connection_carries_the_block_input():
    """With the block's last layer at zero, the block passes its input through unchanged."""
    model = build(glassnet)
    block_b = model.get_layer("block_b")
    block_b.set_weights([np.zeros_like(w) for w in block_b.get_weights()])
    x, _ = data(rows=4)
    stem = glassnet.Model(model.inputs, model.get_layer("stem").output)
    block = glassnet.Model(model.inputs, model.get_layer("block_out").output)
    np.testing.assert_array_equal(block.predict(x, verbose=0), stem.predict(x, verbose=0))


def test_the_program_matches_keras(tmp_path):
    keras = real_keras()
    ours, theirs = build(glassnet), build(keras)
    copy_weights(ours, theirs)
    x, y = data()
    assert_all_close(predict(ours, x), predict(theirs, x), PREDICTION_RTOL, "predictions")
    our_history, their_history = fit(ours, x, y), fit(theirs, x, y)
    assert sorted(our_history) == sorted(their_history)
    for key in their_history:
        assert_all_close(our_history[key], their_history[key], TRAINING_RTOL, key)
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")
    path = save_and_reload(ours, tmp_path, "toy_resnet", x)
    keras_loads(keras, path, x, predict(ours, x))
