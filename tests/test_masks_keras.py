"""Masks against real Keras 3 on TensorFlow: ``Embedding(mask_zero=True)`` and ``Masking``
feeding recurrent layers (``glassnet.layers.masks``).

* Predictions of padded sequences (zeros at the end, at the start, in the middle, and rows
  that are all padding) through SimpleRNN, LSTM, GRU and Bidirectional, ``go_backwards``,
  stacked layers with ``return_sequences``, layers that pass the mask on (``Dropout``,
  ``Activation``), in ``Sequential`` and functional models: equal to Keras's to 1e-5.
* Two epochs of SGD after an Embedding (Adam after an Embedding differs for a reason of
  TensorFlow's, see docs/recurrent.md) and of Adam after ``Masking`` on float sequences,
  ``shuffle=False``, from the same weights: weights and losses equal Keras's to 1e-3.
* ``GlobalAveragePooling1D`` after a mask (through ``Dropout``): predictions, TensorFlow's
  slopes (a row of only padding included) and two epochs of SGD.
* Files: models with ``mask_zero=True`` and ``Masking`` saved by Keras load in glassnet with
  Keras's numbers, functional ones included (their mask operations, ``NotEqual`` and
  ``Any``, read as glassnet's masks), and glassnet's load in Keras (safe mode) with
  glassnet's.

Keras's sources: ``keras/src/backend/tensorflow/rnn.py`` (``rnn``: masked steps keep the state
and output), ``keras/src/layers/rnn/bidirectional.py`` (the mask goes to both layers).
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

pytestmark = pytest.mark.keras

# ids: padding at the end, at the start, in the middle, a row of only padding, no padding
IDS = np.array([
    [3, 5, 7, 0, 0, 0],
    [0, 0, 2, 9, 4, 1],
    [6, 0, 8, 0, 3, 2],
    [0, 0, 0, 0, 0, 0],
    [1, 2, 3, 4, 5, 6],
])


def _floats(rng):
    """Float sequences with padding steps (all features 0.0) where ``IDS`` has 0."""
    x = rng.normal(size=(*IDS.shape, 3)).astype(np.float32)
    x[IDS == 0] = 0.0
    return x


def _recurrent(lib, kind: str, **kwargs):
    layers = lib.layers
    if kind == "Bidirectional":
        return layers.Bidirectional(layers.LSTM(3, **kwargs))
    return getattr(layers, kind)(3, **kwargs)


def _ids_model(lib, middle: list, functional: bool):
    """Input ids → Embedding(mask_zero=True) → ``middle`` → Dense."""
    layers = lib.layers
    stack = [layers.Embedding(12, 4, mask_zero=True), *middle, layers.Dense(2)]
    inputs = layers.Input(shape=(IDS.shape[1],))
    if not functional:
        return lib.Sequential([inputs, *stack])
    x = inputs
    for layer in stack:
        x = layer(x)
    return lib.Model(inputs, x)


MIDDLES = {
    "LSTM": lambda lib: [_recurrent(lib, "LSTM")],
    "GRU": lambda lib: [_recurrent(lib, "GRU")],
    "GRU-reset-before": lambda lib: [_recurrent(lib, "GRU", reset_after=False)],
    "SimpleRNN": lambda lib: [_recurrent(lib, "SimpleRNN")],
    "Bidirectional-LSTM": lambda lib: [_recurrent(lib, "Bidirectional")],
    "LSTM-backwards": lambda lib: [_recurrent(lib, "LSTM", go_backwards=True)],
    "GRU-backwards": lambda lib: [_recurrent(lib, "GRU", go_backwards=True)],
    "stacked-LSTM": lambda lib: [_recurrent(lib, "LSTM", return_sequences=True),
                                 _recurrent(lib, "LSTM")],
    "stacked-backwards": lambda lib: [
        _recurrent(lib, "SimpleRNN", return_sequences=True, go_backwards=True),
        _recurrent(lib, "GRU")],
    "Bidirectional-sequences": lambda lib: [
        lib.layers.Bidirectional(lib.layers.GRU(3, return_sequences=True), merge_mode="sum"),
        _recurrent(lib, "LSTM")],
    "zero-output": lambda lib: [
        _recurrent(lib, "LSTM", return_sequences=True, zero_output_for_mask=True),
        _recurrent(lib, "SimpleRNN", zero_output_for_mask=True)],
    "through-dropout-activation": lambda lib: [
        lib.layers.Dropout(0.3), lib.layers.Activation("tanh"), lib.layers.Dense(4),
        _recurrent(lib, "LSTM")],
    # the mean of the steps that count; the row of only padding gives NaN in both
    "average-pooling": lambda lib: [lib.layers.GlobalAveragePooling1D()],
    "dropout-average-pooling": lambda lib: [
        lib.layers.Dropout(0.3), lib.layers.GlobalAveragePooling1D()],
    "average-pooling-keepdims": lambda lib: [
        lib.layers.Dense(4), lib.layers.GlobalAveragePooling1D(keepdims=True)],
    "sequences-average-pooling": lambda lib: [
        _recurrent(lib, "GRU", return_sequences=True), lib.layers.GlobalAveragePooling1D()],
}


def _same_weights(theirs, ours, rng, scale=0.5):
    weights = [rng.normal(scale=scale, size=w.shape).astype(np.float32)
               for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)


@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
@pytest.mark.parametrize("middle", list(MIDDLES))
def test_padded_ids_predict_keras_numbers(middle, functional):
    rng = np.random.default_rng(0)
    theirs = _ids_model(keras, MIDDLES[middle](keras), functional)
    ours = _ids_model(glassnet, MIDDLES[middle](glassnet), functional)
    _same_weights(theirs, ours, rng)
    expected = theirs.predict(IDS, verbose=0)
    np.testing.assert_allclose(ours.predict(IDS, verbose=0), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(ours(IDS)), expected, rtol=1e-5, atol=1e-5)
    # the mask counts: without it the numbers are others
    unmasked = _ids_model(glassnet, MIDDLES[middle](glassnet), functional)
    unmasked.layers[1 if functional else 0].mask_zero = False
    unmasked.set_weights(ours.get_weights())
    assert not np.allclose(unmasked.predict(IDS, verbose=0), expected, atol=1e-3)


def _masking_model(lib, kind: str, mask_value: float = 0.0):
    layers = lib.layers
    return lib.Sequential([
        layers.Input(shape=(IDS.shape[1], 3)),
        layers.Masking(mask_value=mask_value),
        _recurrent(lib, kind, return_sequences=True),
        _recurrent(lib, kind),
        layers.Dense(2, activation="softmax"),
    ])


def test_masking_then_average_pooling_predicts_keras_numbers():
    rng = np.random.default_rng(6)
    x = _floats(rng)
    x[2, 4] = 0.0  # a step whose features are all mask_value is masked, wherever it is
    x[2, 4, 1] = 2.0
    models = [lib.Sequential([lib.layers.Input(shape=(IDS.shape[1], 3)), lib.layers.Masking(),
                              lib.layers.GlobalAveragePooling1D(), lib.layers.Dense(2)])
              for lib in (keras, glassnet)]
    _same_weights(*models, rng)
    expected = models[0].predict(x, verbose=0)
    assert np.isnan(expected[3]).all()
    np.testing.assert_allclose(models[1].predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_average_pooling_slopes_equal_tensorflows_with_a_row_of_only_padding():
    import tensorflow as tf

    rng = np.random.default_rng(7)
    x = rng.normal(size=(*IDS.shape, 3)).astype(np.float32)
    grad_out = rng.normal(size=(len(IDS), 3)).astype(np.float32)
    for data_format in ("channels_last", "channels_first"):
        given = np.ascontiguousarray(np.moveaxis(x, 1, 2)) if (
            data_format == "channels_first") else x
        variable = tf.Variable(given)
        with tf.GradientTape() as tape:
            out = keras.layers.GlobalAveragePooling1D(data_format=data_format)(
                variable, mask=IDS != 0)
            total = tf.reduce_sum(tf.where(tf.math.is_nan(out), 0.0, out) * grad_out)
        expected = tape.gradient(total, variable).numpy()
        layer = glassnet.layers.GlobalAveragePooling1D(data_format=data_format)
        layer.build(given.shape[1:])
        ours, records = layer.forward(given, mask=IDS != 0)
        np.testing.assert_allclose(ours, out.numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(layer.backward(records, grad_out), expected,
                                   rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "SimpleRNN", "Bidirectional"])
def test_masking_on_float_sequences_predicts_keras_numbers(kind):
    rng = np.random.default_rng(1)
    x = _floats(rng)
    x[2, 4] = 0.5  # a step with some features at mask_value is kept
    x[2, 4, 0] = -1.0
    theirs, ours = _masking_model(keras, kind, 0.5), _masking_model(glassnet, kind, 0.5)
    x[IDS == 0] = 0.5
    _same_weights(theirs, ours, rng)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    ours_config, their_config = ours.layers[0].get_config(), theirs.layers[0].get_config()
    for config in (ours_config, their_config):
        del config["name"], config["dtype"]
    assert ours_config == their_config


# --- training -------------------------------------------------------------------------------

TRAIN_CASES = [
    ("sgd", "ids", "LSTM"),
    ("sgd", "ids", "GRU"),
    ("sgd", "ids", "SimpleRNN"),
    ("sgd", "ids", "Bidirectional"),
    ("sgd", "ids", "stacked-LSTM"),
    ("adam", "floats", "LSTM"),
    ("adam", "floats", "GRU"),
    ("adam", "floats", "Bidirectional"),
]


def _train_model(lib, data: str, kind: str):
    layers = lib.layers
    if kind == "stacked-LSTM":
        middle = [_recurrent(lib, "LSTM", return_sequences=True), _recurrent(lib, "LSTM")]
    else:
        middle = [_recurrent(lib, kind)]
    if data == "ids":
        front = [layers.Input(shape=(IDS.shape[1],)), layers.Embedding(12, 4, mask_zero=True)]
    else:
        front = [layers.Input(shape=(IDS.shape[1], 3)), layers.Masking()]
    return lib.Sequential([*front, *middle, layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize(("optimizer", "data", "kind"), TRAIN_CASES, ids=str)
def test_two_epochs_of_training_with_masks_match_keras(optimizer, data, kind):
    rng = np.random.default_rng(2)
    ids = np.concatenate([IDS, rng.integers(1, 12, size=(7, IDS.shape[1]))])
    ids[5:, :2] = 0
    ids[8:, -3:] = 0
    x = ids if data == "ids" else np.where(
        (ids == 0)[..., None], 0.0, rng.normal(size=(*ids.shape, 3))).astype(np.float32)
    y = rng.integers(0, 3, size=len(ids))
    theirs, ours = _train_model(keras, data, kind), _train_model(glassnet, data, kind)
    _same_weights(theirs, ours, rng, scale=0.4)
    make = {"sgd": lambda lib: lib.optimizers.SGD(0.1),
            "adam": lambda lib: lib.optimizers.Adam(0.01)}[optimizer]
    theirs.compile(optimizer=make(keras), loss="sparse_categorical_crossentropy")
    ours.compile(optimizer=make(glassnet), loss="sparse_categorical_crossentropy")
    their_history = theirs.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    our_history = ours.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(our_history.history["loss"], their_history.history["loss"],
                               rtol=1e-3)
    for got, want in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("dropout", [False, True], ids=["plain", "dropout"])
@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
def test_two_epochs_of_sgd_through_masked_average_pooling_match_keras(functional, dropout):
    """The text classifier: Embedding(mask_zero=True) → [Dropout] → GlobalAveragePooling1D
    → Dense. Dropout is 0 in the comparison (its draws are the library's own); with a rate
    above 0 the mask still goes through it (checked in tests/test_masks.py)."""
    rng = np.random.default_rng(8)
    ids = rng.integers(1, 12, size=(12, IDS.shape[1]))
    ids[:5] = np.where(IDS == 0, 0, ids[:5])
    ids[3, 1] = 4  # every row keeps a step: a row of only padding would make the loss NaN
    ids[6:, -3:] = 0
    ids[9:, :2] = 0
    y = rng.integers(0, 2, size=len(ids))

    def make(lib):
        middle = [lib.layers.Dropout(0.0)] if dropout else []
        return _ids_model(lib, [*middle, lib.layers.GlobalAveragePooling1D()], functional)

    theirs, ours = make(keras), make(glassnet)
    _same_weights(theirs, ours, rng, scale=0.4)
    for model, lib in ((theirs, keras), (ours, glassnet)):
        model.compile(optimizer=lib.optimizers.SGD(0.1),
                      loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True))
    their_history = theirs.fit(ids, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    our_history = ours.fit(ids, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(our_history.history["loss"], their_history.history["loss"],
                               rtol=1e-3)
    for got, want in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


# --- files ----------------------------------------------------------------------------------


def _file_model(lib, data: str, functional: bool = False):
    layers = lib.layers
    if data == "ids":
        front = [layers.Input(shape=(IDS.shape[1],)), layers.Embedding(12, 4, mask_zero=True)]
    else:
        front = [layers.Input(shape=(IDS.shape[1], 3)), layers.Masking(mask_value=0.0)]
    stack = [*front, layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
             layers.GRU(2), layers.Dense(2)]
    if not functional:
        return lib.Sequential(stack)
    x = stack[0]
    for layer in stack[1:]:
        x = layer(x)
    return lib.Model(stack[0], x)


def _data(data: str, rng):
    return IDS if data == "ids" else _floats(rng)


# Keras's own functional files with a mask hold the mask's ops as graph nodes
# (``keras.src.ops.numpy``: NotEqual for Embedding's, NotEqual and Any for Masking's), which
# glassnet reads as the masks it computes itself (glassnet.engine.mask_ops). Keras 3.15 itself
# cannot read back its functional .h5 of a masked model ("Unknown layer: 'NotEqual'"), so the
# numbers are compared with the model that wrote the file.
@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
@pytest.mark.parametrize("file_name", ["m.keras", "m.h5"])
@pytest.mark.parametrize("data", ["ids", "floats"])
def test_masked_models_saved_by_keras_load_in_glassnet(tmp_path, data, file_name, functional):
    rng = np.random.default_rng(4)
    theirs = _file_model(keras, data, functional)
    theirs.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                        for w in theirs.get_weights()])
    path = tmp_path / file_name
    theirs.save(str(path))
    ours = glassnet.models.load_model(str(path))
    x = _data(data, rng)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def _small_functional(lib, data: str, pooling: bool):
    """Input → Embedding(mask_zero=True) or Masking → LSTM (or Dropout →
    GlobalAveragePooling1D) → Dense, functional."""
    layers = lib.layers
    inputs = layers.Input(shape=(IDS.shape[1],) if data == "ids" else (IDS.shape[1], 3))
    x = (layers.Embedding(12, 4, mask_zero=True) if data == "ids" else layers.Masking())(inputs)
    middle = [layers.Dropout(0.2), layers.GlobalAveragePooling1D()] if pooling else [
        layers.LSTM(3)]
    for layer in middle:
        x = layer(x)
    return lib.Model(inputs, layers.Dense(2)(x))


@pytest.mark.parametrize("pooling", [False, True], ids=["LSTM", "pooling"])
@pytest.mark.parametrize("file_name", ["m.keras", "m.h5"])
@pytest.mark.parametrize("data", ["ids", "floats"])
def test_small_masked_functional_files_of_keras_load_in_glassnet(tmp_path, data, file_name,
                                                                 pooling):
    rng = np.random.default_rng(9)
    theirs = _small_functional(keras, data, pooling)
    theirs.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                        for w in theirs.get_weights()])
    path = tmp_path / file_name
    theirs.save(str(path))
    if file_name == "m.keras":  # the mask operations are there
        import json
        import zipfile

        config = json.loads(zipfile.ZipFile(path).read("config.json"))
        names = {entry["class_name"] for entry in config["config"]["layers"]}
        assert "NotEqual" in names and ("Any" in names) == (data == "floats")
    ours = glassnet.models.load_model(str(path))
    x = _data(data, rng)
    expected = theirs.predict(x, verbose=0)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    if file_name == "m.keras":
        again = keras.models.load_model(str(path))
        np.testing.assert_allclose(again.predict(x, verbose=0), expected, rtol=1e-6)


@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
@pytest.mark.parametrize("file_name", ["m.keras", "m.h5"])
@pytest.mark.parametrize("data", ["ids", "floats"])
def test_masked_models_saved_by_glassnet_load_in_keras(tmp_path, data, file_name, functional):
    rng = np.random.default_rng(5)
    ours = _file_model(glassnet, data, functional)
    ours.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                      for w in ours.get_weights()])
    path = tmp_path / file_name
    ours.save(str(path))
    theirs = keras.models.load_model(str(path), safe_mode=True)
    x = _data(data, rng)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
