"""Convolutional models written by Keras 3 and tf.keras 2 load in glassnet and predict
Keras's numbers (``tests/fixtures/keras/conv/``, made by ``scripts/make_conv_fixtures.py``).

Whole-model files (``.keras``, ``.h5``) are loaded with ``load_model``; weights files into
the same architecture built from the fixture's plain layers. Predictions agree with
Keras's to 1e-5 relative (float32, sums in another order). Needs no TensorFlow.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from image_models import every_image_layer_model

from glassnet import layers as layers_module
from glassnet.models import Sequential, load_model
from glassnet.saving import ModelFileError

FOLDER = Path(__file__).resolve().parent.parent / "fixtures" / "keras" / "conv"
METAS = [json.loads(p.read_text()) for p in sorted(FOLDER.glob("*.json"))]
CASES = [(meta, name) for meta in METAS for name in meta["files"]]


def build_plain(meta) -> Sequential:
    model = Sequential([layers_module.Input(shape=tuple(meta["input_shape"][1:]))])
    for plain in meta["layers"]:
        args = dict(plain)
        model.add(getattr(layers_module, args.pop("class"))(**args))
    model.build()
    return model


def test_the_fixtures_cover_keras_3_and_keras_2_files():
    assert {meta["framework"] for meta in METAS} == {"keras", "tf_keras"}
    assert {name.rsplit(".", 1)[-1] for _, name in CASES} == {"keras", "h5"}


@pytest.mark.parametrize(("meta", "name"), CASES, ids=[name for _, name in CASES])
def test_conv_fixture_predicts_keras_numbers(meta, name):
    path = FOLDER / name
    if name.endswith(("weights.h5", "_weights.h5")):
        model = build_plain(meta)
        model.load_weights(path)
    else:
        model = load_model(path)
        assert [type(layer).__name__ for layer in model.layers] == [
            plain["class"] for plain in meta["layers"]
        ]
    x = np.asarray(meta["input"], dtype=np.float32)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), np.asarray(meta["predictions"]), rtol=1e-5, atol=1e-6
    )


def test_a_kernel_that_does_not_fit_the_layer_is_refused(tmp_path):
    meta = next(m for m in METAS if m["name"] == "conv_mnist_like")
    plain = [dict(p) for p in meta["layers"]]
    plain[1]["filters"] = 5  # the file's first kernel has 4 filters
    model = build_plain({**meta, "layers": plain})
    with pytest.raises(ModelFileError, match=r"Conv2D.*kernel should have shape \(3, 3, 1, 5\)"):
        model.load_weights(FOLDER / "conv_mnist_like.weights.h5")


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_image_models_save_and_load_bit_for_bit(suffix, tmp_path):
    model = every_image_layer_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 255, size=(8, 12, 12, 3)).astype(np.float32)
    model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    path = tmp_path / f"model{suffix}"
    if suffix == ".weights.h5":
        model.save_weights(path)
        again = every_image_layer_model()
        again.load_weights(path)
    else:
        model.save(path)
        again = load_model(path)
        assert again.get_config() == model.get_config()
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
