"""The TensorFlow/Keras guide "Writing a training loop from scratch": a functional MNIST-style
classifier that outputs logits, trained by hand with a gradient tape,
``optimizer.apply_gradients``, a from-logits sparse cross-entropy and accuracy metric
objects, with a validation pass after each epoch. The loop is written once; glassnet runs it
with ``glassnet.GradientTape``, Keras on TensorFlow with ``tf.GradientTape``."""

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

PIXELS = 64
CLASSES = 10
BATCH_SIZE = 16


def build(keras):
    inputs = keras.Input(shape=(PIXELS,), name="digits")
    x1 = keras.layers.Dense(32, activation="relu", name="dense_1")(inputs)
    x2 = keras.layers.Dense(32, activation="relu", name="dense_2")(x1)
    outputs = keras.layers.Dense(CLASSES, name="predictions")(x2)
    return keras.Model(inputs=inputs, outputs=outputs)


def train(keras, GradientTape, model, x_train, y_train, x_val, y_val, epochs=3):
    """The guide's loop; returns each epoch's last batch loss and its two accuracies."""
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    log = []
    for _epoch in range(epochs):
        for start in range(0, len(x_train), BATCH_SIZE):
            x_batch = x_train[start : start + BATCH_SIZE]
            y_batch = y_train[start : start + BATCH_SIZE]
            with GradientTape() as tape:
                logits = model(x_batch, training=True)
                loss_value = loss_fn(y_batch, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
            train_acc_metric.update_state(y_batch, logits)
        train_acc = train_acc_metric.result()
        train_acc_metric.reset_state()
        val_logits = model(x_val, training=False)
        val_acc_metric.update_state(y_val, val_logits)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
        log.append((float(loss_value), float(train_acc), float(val_acc)))
    return log


def data(rows: int = 96, seed: int = 5):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, rows)
    centres = rng.normal(size=(CLASSES, PIXELS))
    x = (centres[labels] + rng.normal(size=(rows, PIXELS))).astype("float32")
    return x[:80], labels[:80], x[80:], labels[80:]


def test_the_loop_trains_saves_and_reloads(tmp_path):
    model = build(glassnet)
    x_train, y_train, x_val, y_val = data()
    before = [w.numpy().copy() for w in model.trainable_weights]
    log = train(glassnet, glassnet.GradientTape, model, x_train, y_train, x_val, y_val)
    assert len(log) == 3 and log[-1][0] < log[0][0]
    assert all(0.0 <= acc <= 1.0 for _, *accs in log for acc in accs)
    after = model.trainable_weights
    assert all(np.abs(a.numpy() - b).max() > 0 for a, b in zip(after, before, strict=True))
    # The loop's model is an ordinary one: predict agrees with a call, and it saves.
    np.testing.assert_allclose(
        model.predict(x_val, verbose=0), model(x_val).numpy(), rtol=1e-6, atol=1e-6
    )
    save_and_reload(model, tmp_path, "loop", x_val)


def test_the_loop_matches_keras(tmp_path):
    keras = real_keras()
    import tensorflow as tf

    ours, theirs = build(glassnet), build(keras)
    copy_weights(ours, theirs)
    x_train, y_train, x_val, y_val = data()
    assert_all_close(predict(ours, x_val), predict(theirs, x_val), PREDICTION_RTOL, "predictions")

    our_log = train(glassnet, glassnet.GradientTape, ours, x_train, y_train, x_val, y_val)
    their_log = train(keras, tf.GradientTape, theirs, x_train, y_train, x_val, y_val)
    our_log, their_log = np.array(our_log), np.array(their_log)
    assert_all_close(our_log[:, 0], their_log[:, 0], TRAINING_RTOL, "last batch losses")
    # Accuracies are fractions of 80 and 16 rows: one row's argmax may tie differently.
    np.testing.assert_allclose(our_log[:, 1], their_log[:, 1], atol=1.01 / 80)
    np.testing.assert_allclose(our_log[:, 2], their_log[:, 2], atol=1.01 / 16)
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")
    path = save_and_reload(ours, tmp_path, "loop", x_val)
    keras_loads(keras, path, x_val, predict(ours, x_val))
