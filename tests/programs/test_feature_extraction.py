"""Feature extraction, as in the Keras functional-API guide: a trained single-input model,
and models on the same weights that output its inner layers
(``keras.Model(model.inputs, model.layers[1].output)`` and one output per layer)."""

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

FEATURES = 10
CLASSES = 3


def build(keras):
    inputs = keras.Input(shape=(FEATURES,), name="pixels")
    x = keras.layers.Dense(24, activation="relu", name="hidden_1")(inputs)
    x = keras.layers.Dense(12, activation="tanh", name="hidden_2")(x)
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="classes")(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="classifier")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def extractors(keras, model):
    """The program's second half: feature extractors on the classifier's weights."""
    first = keras.Model(model.inputs, model.layers[1].output)
    every = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers[1:]])
    return first, every


def data(rows: int = 60, seed: int = 2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 1)


def fit(model, x, y):
    return model.fit(x, y, epochs=3, batch_size=12, shuffle=False, verbose=0).history


def test_the_program_trains_extracts_saves_and_reloads(tmp_path):
    model = build(glassnet)
    x, y = data()
    fit(model, x, y)
    first, every = extractors(glassnet, model)
    assert first.predict(x, verbose=0).shape == (60, 24)
    outs = every.predict(x, verbose=0)
    assert [o.shape for o in outs] == [(60, 24), (60, 12), (60, CLASSES)]
    # The extractors share the classifier's weights: its output is theirs, and a change of
    # a weight reaches them.
    np.testing.assert_allclose(outs[-1], model.predict(x, verbose=0), rtol=1e-6)
    before = first.predict(x, verbose=0)
    model.get_layer("hidden_1").set_weights(
        [w * 2 for w in model.get_layer("hidden_1").get_weights()]
    )
    np.testing.assert_allclose(first.predict(x, verbose=0), 2 * before, rtol=1e-6)
    save_and_reload(first, tmp_path, "first", x)
    save_and_reload(every, tmp_path, "every", x)


def test_the_program_matches_keras(tmp_path):
    keras = real_keras()
    ours, theirs = build(glassnet), build(keras)
    copy_weights(ours, theirs)
    x, y = data()
    our_history, their_history = fit(ours, x, y), fit(theirs, x, y)
    assert sorted(our_history) == sorted(their_history)
    assert_all_close(our_history["loss"], their_history["loss"], TRAINING_RTOL, "loss")
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")

    # The extractors of each library on that library's trained weights; then on the same
    # weights (ours copied over), to the prediction tolerance.
    our_first, our_every = extractors(glassnet, ours)
    their_first, their_every = extractors(keras, theirs)
    assert_all_close(predict(our_every, x), predict(their_every, x), TRAINING_RTOL, "features")
    copy_weights(ours, theirs)
    assert_all_close(predict(our_first, x), predict(their_first, x), PREDICTION_RTOL, "first")
    assert_all_close(predict(our_every, x), predict(their_every, x), PREDICTION_RTOL, "every")

    for name, extractor in (("first", our_first), ("every", our_every)):
        path = save_and_reload(extractor, tmp_path, name, x)
        keras_loads(keras, path, x, predict(extractor, x))
