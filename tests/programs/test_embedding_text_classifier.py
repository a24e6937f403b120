"""The Keras book's first word-embedding program (IMDB sentiment): word-index sequences
padded with ``keras.utils.pad_sequences``, ``Embedding(vocabulary, 8)``, ``Flatten``, a
sigmoid ``Dense``; rmsprop, binary cross-entropy, accuracy, a validation split. The reviews
are synthetic (no network): "positive" reviews use more words from one half of the
vocabulary.

Known difference, from Keras on TensorFlow: TensorFlow hands the optimizer an Embedding's
slope as ``IndexedSlices`` (one slice per use of a word in the batch), and Keras's RMSprop
and Adam square each slice before they are summed (``elementwise_unary`` in
``keras/src/backend/tensorflow/sparse.py``), so a word used twice in a batch gets
``g1**2 + g2**2`` in its second moment instead of ``(g1 + g2)**2``. glassnet squares the
summed slope, as Keras on TensorFlow does when given the dense slope. So the three epochs
are compared with SGD, where the two agree, and one step of the program's rmsprop is
compared with Keras's RMSprop on the dense slope."""

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

VOCABULARY = 200
MAXLEN = 20


def build(keras, optimizer="rmsprop"):
    inputs = keras.Input(shape=(MAXLEN,), dtype="int32", name="words")
    x = keras.layers.Embedding(VOCABULARY, 8, name="embedding")(inputs)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="sentiment")(x)
    model = keras.Model(inputs, outputs, name="imdb")
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["acc"])
    return model


def reviews(count: int = 120, seed: int = 7):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    sequences = []
    for label in labels:
        length = int(rng.integers(5, 30))
        low = rng.integers(1, VOCABULARY // 2, length)
        leaning = rng.random(length) < 0.3
        words = np.where(leaning & (label == 1), low + VOCABULARY // 2 - 1, low)
        sequences.append(words.tolist())
    return sequences, labels


def data(keras):
    sequences, labels = reviews()
    x = keras.utils.pad_sequences(sequences, maxlen=MAXLEN)
    return x, labels.astype("float32")


def fit(model, x, y):
    return model.fit(
        x, y, epochs=3, batch_size=16, validation_split=0.25, shuffle=False, verbose=0
    ).history


def test_the_program_trains_saves_and_reloads(tmp_path):
    model = build(glassnet)
    x, y = data(glassnet)
    assert x.shape == (120, MAXLEN) and x.dtype.kind == "i"
    history = fit(model, x, y)
    assert sorted(history) == ["acc", "loss", "val_acc", "val_loss"]
    assert history["loss"][-1] < history["loss"][0]
    assert model.get_layer("embedding").get_weights()[0].shape == (VOCABULARY, 8)
    save_and_reload(model, tmp_path, "imdb", x)


def test_the_program_matches_keras(tmp_path):
    keras = real_keras()
    ours, theirs = build(glassnet, "sgd"), build(keras, "sgd")
    copy_weights(ours, theirs)
    x, y = data(glassnet)
    np.testing.assert_array_equal(x, data(keras)[0])  # the same padding
    assert_all_close(predict(ours, x), predict(theirs, x), PREDICTION_RTOL, "predictions")
    our_history, their_history = fit(ours, x, y), fit(theirs, x, y)
    assert sorted(our_history) == sorted(their_history)
    for key in ("loss", "val_loss"):
        assert_all_close(our_history[key], their_history[key], TRAINING_RTOL, key)
    for key, rows in (("acc", 90), ("val_acc", 30)):
        # A fraction of the rows: one row's prediction may sit on the other side of 0.5.
        np.testing.assert_allclose(our_history[key], their_history[key], atol=1.01 / rows)
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")
    path = save_and_reload(ours, tmp_path, "imdb", x)
    keras_loads(keras, path, x, predict(ours, x))


def test_rmsprop_moves_the_embedding_as_keras_does_with_the_dense_slope():
    keras = real_keras()
    import tensorflow as tf

    ours, theirs = build(glassnet), build(keras)
    copy_weights(ours, theirs)
    x, y = data(glassnet)
    x, y = x[:16], y[:16]
    counts = np.bincount(x.ravel(), minlength=VOCABULARY)
    assert counts.max() > 1  # words used several times in the batch: the case that differs

    ours.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    optimizer = keras.optimizers.RMSprop()  # what "rmsprop" names
    loss_fn = keras.losses.BinaryCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(y[:, None], theirs(x, training=True))
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, theirs.trainable_weights)]
    optimizer.apply_gradients(zip(grads, theirs.trainable_weights, strict=True))
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "one rmsprop step")
