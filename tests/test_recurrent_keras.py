"""Recurrent layers against real Keras 3 on TensorFlow: predictions, training and files.

* Each layer and option (``keras/src/layers/rnn/*_test.py`` exercise the same ones): Keras's
  layer with random weights, glassnet's twin with the same weights, the same input: outputs
  equal in float32 to 1e-5 relative; the configs have Keras's keys and values.
* Two epochs of SGD (Embedding → recurrent → Dense softmax) and Adam (recurrent → Dense
  softmax on float sequences), ``shuffle=False``, starting from the same weights: the weights
  after training equal Keras's to 1e-3.
* Files: Keras's ``.keras``, ``.h5`` and ``.weights.h5`` load in glassnet and predict Keras's
  numbers; glassnet's load in Keras (safe mode on) and predict glassnet's.

Runs only where ``keras`` is installed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import glassnet  # noqa: E402
from glassnet import layers as glassnet_layers  # noqa: E402

pytestmark = pytest.mark.keras

LAYER_CASES = [
    ("SimpleRNN", {"units": 4}),
    ("SimpleRNN", {"units": 4, "return_sequences": True, "go_backwards": True}),
    ("SimpleRNN", {"units": 3, "activation": "relu", "use_bias": False}),
    ("LSTM", {"units": 4}),
    ("LSTM", {"units": 4, "return_sequences": True}),
    ("LSTM", {"units": 3, "go_backwards": True}),
    ("LSTM", {"units": 3, "go_backwards": True, "return_sequences": True, "unroll": True}),
    ("LSTM", {"units": 3, "use_bias": False, "unit_forget_bias": False}),
    ("LSTM", {"units": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid"}),
    ("GRU", {"units": 4}),
    ("GRU", {"units": 4, "return_sequences": True, "go_backwards": True}),
    ("GRU", {"units": 3, "reset_after": False}),
    ("GRU", {"units": 3, "reset_after": False, "use_bias": False, "return_sequences": True}),
    ("GRU", {"units": 3, "dropout": 0.2, "recurrent_dropout": 0.3, "seed": 1}),  # inference
]


def _config_matches(config: dict, keras_config: dict) -> None:
    for k, want in keras_config.items():
        if k in ("name", "dtype"):
            continue
        assert k in config, k
        got = config[k]
        if isinstance(want, dict) and "class_name" in want:
            assert got["class_name"] == want["class_name"], k
            if "config" in want and want["class_name"] in ("LSTM", "GRU", "SimpleRNN"):
                _config_matches(got["config"], want["config"])
        else:
            assert got == want, (k, got, want)
    assert set(config) - {"batch_input_shape"} == set(keras_config)


def _twin_weights(reference, rng, scale=0.5):
    return [rng.normal(scale=scale, size=w.shape).astype(np.float32)
            for w in reference.get_weights()]


@pytest.mark.parametrize(("name", "kwargs"), LAYER_CASES, ids=str)
def test_recurrent_layer_predicts_keras_numbers(name, kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 5)).astype(np.float32)
    reference = getattr(keras.layers, name)(**kwargs)
    reference.build((None, 6, 5))
    weights = _twin_weights(reference, rng)
    reference.set_weights(weights)
    twin = getattr(glassnet_layers, name)(**kwargs)
    model = glassnet.Sequential([glassnet_layers.Input(shape=(6, 5)), twin])
    model.set_weights(weights)
    expected = np.asarray(reference(x))
    actual = model.predict(x, verbose=0)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    _config_matches(twin.get_config(), reference.get_config())


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("inner", ["LSTM", "GRU", "SimpleRNN"])
def test_bidirectional_predicts_keras_numbers(merge_mode, inner):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    kwargs = {"units": 3, "return_sequences": merge_mode in ("concat", "mul")}
    reference = keras.layers.Bidirectional(getattr(keras.layers, inner)(**kwargs),
                                           merge_mode=merge_mode)
    reference.build((None, 5, 3))
    weights = _twin_weights(reference, rng)
    reference.set_weights(weights)
    twin = glassnet_layers.Bidirectional(getattr(glassnet_layers, inner)(**kwargs),
                                         merge_mode=merge_mode)
    model = glassnet.Sequential([glassnet_layers.Input(shape=(5, 3)), twin])
    model.set_weights(weights)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(reference(x)),
                               rtol=1e-5, atol=1e-5)
    _config_matches(twin.get_config(), reference.get_config())


def test_bidirectional_with_its_own_backward_layer_matches_keras():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    reference = keras.layers.Bidirectional(
        keras.layers.LSTM(2, return_sequences=True),
        backward_layer=keras.layers.GRU(2, go_backwards=True, return_sequences=True))
    reference.build((None, 4, 3))
    weights = _twin_weights(reference, rng)
    reference.set_weights(weights)
    twin = glassnet_layers.Bidirectional(
        glassnet_layers.LSTM(2, return_sequences=True),
        backward_layer=glassnet_layers.GRU(2, go_backwards=True, return_sequences=True))
    model = glassnet.Sequential([glassnet_layers.Input(shape=(4, 3)), twin])
    model.set_weights(weights)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(reference(x)),
                               rtol=1e-5, atol=1e-5)


# --- training -------------------------------------------------------------------------------


def _sequence_model(lib, recurrent: str, bidirectional: bool, ids: bool):
    """Embedding → recurrent → Dense softmax (``ids``), or the recurrent layer on float
    sequences."""
    layers = lib.layers
    inner = getattr(layers, recurrent)(5)
    front = [layers.Input(shape=(7,)), layers.Embedding(20, 4)] if ids else [
        layers.Input(shape=(7, 4))]
    return lib.Sequential([
        *front,
        layers.Bidirectional(inner) if bidirectional else inner,
        layers.Dense(3, activation="softmax"),
    ])


# Adam runs on float sequences. After an Embedding, Keras on TensorFlow gets the table's slope
# as one slice per lookup (tf.IndexedSlices, an id looked up twice in a batch gives two
# slices); Adam's ``ops.square(gradient)`` squares each slice before the dense sum, so its
# second moment holds sum(g_i**2) where glassnet holds sum(g_i)**2, the square of the
# batch's slope. Without repeated ids in a batch the two agree to 1e-6. That is the
# Embedding's difference, not the recurrent layers'.
TRAIN_CASES = [
    ("sgd", "LSTM", False, True),
    ("sgd", "GRU", False, True),
    ("sgd", "SimpleRNN", False, True),
    ("sgd", "LSTM", True, True),
    ("adam", "LSTM", False, False),
    ("adam", "GRU", True, False),
    ("adam", "SimpleRNN", False, False),
]


@pytest.mark.parametrize(("optimizer", "recurrent", "bidirectional", "ids"), TRAIN_CASES,
                         ids=str)
def test_two_epochs_of_training_match_keras(optimizer, recurrent, bidirectional, ids):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, size=(24, 7)) if ids else rng.normal(size=(24, 7, 4)).astype(
        np.float32)
    y = rng.integers(0, 3, size=24)
    theirs = _sequence_model(keras, recurrent, bidirectional, ids)
    ours = _sequence_model(glassnet, recurrent, bidirectional, ids)
    weights = [rng.normal(scale=0.4, size=w.shape).astype(np.float32)
               for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    make = {"sgd": lambda lib: lib.optimizers.SGD(0.1),
            "adam": lambda lib: lib.optimizers.Adam(0.01)}[optimizer]
    theirs.compile(optimizer=make(keras), loss="sparse_categorical_crossentropy")
    ours.compile(optimizer=make(glassnet), loss="sparse_categorical_crossentropy")
    their_history = theirs.fit(x, y, epochs=2, batch_size=6, shuffle=False, verbose=0)
    our_history = ours.fit(x, y, epochs=2, batch_size=6, shuffle=False, verbose=0)
    np.testing.assert_allclose(our_history.history["loss"], their_history.history["loss"],
                               rtol=1e-3)
    for got, want in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


# --- files ----------------------------------------------------------------------------------


def _file_model(lib):
    layers = lib.layers
    return lib.Sequential([
        layers.Input(shape=(6, 4)),
        layers.LSTM(5, return_sequences=True),
        layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="sum"),
        layers.SimpleRNN(2, go_backwards=True),
        layers.Dense(2),
    ])


FILES = ["m.keras", "m.h5", "m.weights.h5"]


def _save(model, path):
    if path.name.endswith(".weights.h5"):
        model.save_weights(str(path))
    else:
        model.save(str(path))


@pytest.mark.parametrize("file_name", FILES)
def test_keras_files_load_in_glassnet_with_keras_numbers(tmp_path, file_name):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 6, 4)).astype(np.float32)
    theirs = _file_model(keras)
    theirs.set_weights(_twin_weights(theirs, rng))
    path = tmp_path / file_name
    _save(theirs, path)
    if file_name.endswith(".weights.h5"):
        ours = _file_model(glassnet)
        ours.load_weights(str(path))
    else:
        ours = glassnet.models.load_model(str(path))
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("file_name", FILES)
def test_glassnet_files_load_in_keras_safe_mode(tmp_path, file_name):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 6, 4)).astype(np.float32)
    ours = _file_model(glassnet)
    ours.set_weights(_twin_weights(ours, rng))
    path = tmp_path / file_name
    _save(ours, path)
    if file_name.endswith(".weights.h5"):
        theirs = _file_model(keras)
        theirs.load_weights(str(path))
    else:
        theirs = keras.models.load_model(str(path), safe_mode=True)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
