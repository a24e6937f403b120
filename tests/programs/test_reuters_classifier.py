"""The Keras book's Reuters newswire classifier (multiclass classification): word-index
sequences vectorized into multi-hot rows, ``Dense(64)-Dense(64)-Dense(46, softmax)``,
rmsprop, categorical cross-entropy on one-hot labels, accuracy, with a validation split.
The newswires are synthetic (no network): random word indices whose topic shifts which
words appear, so the model has something to learn."""

from __future__ import annotations

import numpy as np
from twins import (
    PREDICTION_RTOL,
    TRAINING_RTOL,
    assert_all_close,
    keras_loads,
    predict,
    real_keras,
    save_and_reload,
    weights_of,
)

import glassnet

WORDS = 1000
TOPICS = 46


def vectorize_sequences(sequences, dimension=WORDS):
    """The book's multi-hot encoding: a row of zeros with a 1 at each word index."""
    results = np.zeros((len(sequences), dimension))
    for i, sequence in enumerate(sequences):
        for j in sequence:
            results[i, j] = 1.0
    return results


def newswires(count: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, TOPICS, count)
    sequences = []
    for label in labels:
        length = int(rng.integers(10, 60))
        common = rng.integers(0, WORDS, length // 2)
        topical = (label * 20 + rng.integers(0, 20, length - length // 2)) % WORDS
        sequences.append(np.concatenate([common, topical]).tolist())
    return sequences, labels


def build(keras):
    model = keras.Sequential(
        [
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(TOPICS, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def data():
    sequences, labels = newswires(300)
    x = vectorize_sequences(sequences).astype("float32")
    y = np.eye(TOPICS, dtype="float32")[labels]  # to_categorical(labels)
    return x, y


def fit(model, x, y):
    return model.fit(
        x, y, epochs=3, batch_size=32, validation_split=0.2, shuffle=False, verbose=0
    ).history


def test_the_program_trains_saves_and_reloads(tmp_path):
    model = build(glassnet)
    x, y = data()
    history = fit(model, x, y)
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history["loss"][-1] < history["loss"][0]
    assert model.predict(x[:5], verbose=0).shape == (5, TOPICS)
    np.testing.assert_allclose(model.predict(x[:5], verbose=0).sum(axis=1), 1.0, rtol=1e-5)
    save_and_reload(model, tmp_path, "reuters", x)


def test_the_program_matches_keras(tmp_path):
    keras = real_keras()
    x, y = data()
    ours, theirs = build(glassnet), build(keras)
    ours.build((None, WORDS))
    theirs.build((None, WORDS))
    theirs.set_weights(ours.get_weights())
    for our_layer, their_layer in zip(ours.layers, theirs.layers, strict=True):
        for a, b in zip(our_layer.get_weights(), their_layer.get_weights(), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert_all_close(predict(ours, x), predict(theirs, x), PREDICTION_RTOL, "predictions")

    our_history, their_history = fit(ours, x, y), fit(theirs, x, y)
    assert sorted(our_history) == sorted(their_history)
    for key in ("loss", "val_loss"):
        assert_all_close(our_history[key], their_history[key], TRAINING_RTOL, key)
    for key, rows in (("accuracy", 240), ("val_accuracy", 60)):
        # A fraction of the rows: one row's argmax may tie differently, no more.
        np.testing.assert_allclose(our_history[key], their_history[key], atol=1.01 / rows)
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")
    path = save_and_reload(ours, tmp_path, "reuters", x)
    keras_loads(keras, path, x, predict(ours, x))
