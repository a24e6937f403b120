"""Functional models in files, against real Keras 3 (TensorFlow backend): a two-input,
two-output graph with a shared layer and a nested ``Sequential``, written by Keras and read
by glassnet, and the reverse (Keras reads glassnet's file in safe mode). Skipped where Keras
is not installed (a failure under CI=true)."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.keras


def build(lib):
    a = lib.Input(shape=(3,), name="a")
    b = lib.Input(shape=(2,), name="b")
    shared = lib.layers.Dense(4, activation="tanh", name="shared")
    encoder = lib.Sequential(
        [lib.Input(shape=(4,)), lib.layers.Dense(3, activation="relu", name="enc")],
        name="encoder",
    )
    joined = lib.layers.Concatenate(name="join")(
        [encoder(shared(a)), lib.layers.Dense(3, name="widen")(b)]
    )
    reg = lib.layers.Dense(1, name="out_reg")(joined)
    cls = lib.layers.Dense(2, activation="softmax", name="out_cls")(shared(a))
    return lib.Model([a, b], [reg, cls], name="two_way")


def data():
    rng = np.random.default_rng(8)
    return [rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(6, 2)).astype("float32")]


def test_glassnet_reads_the_functional_file_keras_writes(tmp_path):
    theirs = build(keras)
    x = data()
    expected = theirs.predict(x, verbose=0)
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"keras{suffix}"
        if suffix == ".h5":
            # One output only; Keras keeps the unused input ``b`` in the graph.
            flat = keras.Model(theirs.inputs, theirs.outputs[1])
            flat.save(path)
            ours = glassnet.models.load_model(path)
            assert [layer.name for layer in ours.layers] == [layer.name for layer in flat.layers]
            np.testing.assert_allclose(ours.predict(x, verbose=0), flat.predict(x, verbose=0),
                                       rtol=1e-5, atol=1e-6)
            continue
        theirs.save(path)
        ours = glassnet.models.load_model(path)
        assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
        for got, want in zip(ours.predict(x, verbose=0), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_keras_reads_the_functional_file_glassnet_writes(tmp_path):
    ours = build(glassnet)
    x = data()
    path = tmp_path / "glassnet.keras"
    ours.save(path)
    theirs = keras.models.load_model(path, safe_mode=True)
    for got, want in zip(theirs.predict(x, verbose=0), ours.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
