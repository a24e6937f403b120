"""A two-input, two-output functional model, in the style of the Keras book's "working with
Keras" chapter (a support-ticket triage model): a multi-hot bag of words and a few tabular
features, concatenated, predicting a priority (a score in [0, 1], mean squared error) and a
department (softmax, categorical cross-entropy), with per-output losses, loss weights and
metrics; History names each output's loss and metrics after its layer, as Keras 3 does."""

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

VOCABULARY = 60
FEATURES = 5
DEPARTMENTS = 4


def build(keras):
    """The program, as written for Keras (``keras`` is either library)."""
    from_text = keras.Input(shape=(VOCABULARY,), name="text")
    from_table = keras.Input(shape=(FEATURES,), name="table")
    words = keras.layers.Dense(16, activation="relu", name="words")(from_text)
    facts = keras.layers.Dense(8, activation="relu", name="facts")(from_table)
    features = keras.layers.Concatenate(name="joined")([words, facts])
    features = keras.layers.Dense(16, activation="relu", name="mixed")(features)
    priority = keras.layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = keras.layers.Dense(DEPARTMENTS, activation="softmax", name="department")(features)
    model = keras.Model(inputs=[from_text, from_table], outputs=[priority, department])
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.01),
        loss=["mean_squared_error", "categorical_crossentropy"],
        loss_weights=[1.0, 0.3],
        metrics=[["mean_absolute_error"], ["accuracy"]],
    )
    return model


def data(rows: int = 96, seed: int = 0):
    rng = np.random.default_rng(seed)
    text = (rng.random((rows, VOCABULARY)) < 0.1).astype("float32")
    table = rng.normal(size=(rows, FEATURES)).astype("float32")
    priority = rng.random((rows, 1)).astype("float32")
    labels = rng.integers(0, DEPARTMENTS, rows)
    department = np.eye(DEPARTMENTS, dtype="float32")[labels]
    return [text, table], [priority, department]


def fit(model, x, y):
    return model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history


def test_the_program_trains_saves_and_reloads(tmp_path):
    model = build(glassnet)
    x, y = data()
    history = fit(model, x, y)
    assert sorted(history) == [
        "department_accuracy",
        "department_loss",
        "loss",
        "priority_loss",
        "priority_mean_absolute_error",
    ]
    assert history["loss"][-1] < history["loss"][0]
    # The total is the weighted sum of the outputs' losses (each epoch's mean of batches).
    np.testing.assert_allclose(
        history["loss"],
        np.add(history["priority_loss"], 0.3 * np.asarray(history["department_loss"])),
        rtol=1e-5,
    )
    priority, department = model.predict(x, verbose=0)
    assert priority.shape == (96, 1) and department.shape == (96, DEPARTMENTS)
    save_and_reload(model, tmp_path, "triage", x)


def test_the_program_matches_keras(tmp_path):
    keras = real_keras()
    ours, theirs = build(glassnet), build(keras)
    copy_weights(ours, theirs)
    x, y = data()
    assert_all_close(predict(ours, x), predict(theirs, x), PREDICTION_RTOL, "predictions")

    our_history, their_history = fit(ours, x, y), fit(theirs, x, y)
    assert sorted(our_history) == sorted(their_history)
    for key in their_history:
        if key.endswith("accuracy"):
            # A fraction of 96 rows: one row's argmax may tie differently, no more.
            np.testing.assert_allclose(our_history[key], their_history[key], atol=1.01 / 96)
        else:
            assert_all_close(our_history[key], their_history[key], TRAINING_RTOL, key)
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")

    path = save_and_reload(ours, tmp_path, "triage", x)
    keras_loads(keras, path, x, predict(ours, x))
