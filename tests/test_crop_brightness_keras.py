"""``RandomCrop`` and ``RandomBrightness`` against real Keras 3 on TensorFlow: the config
keys and values, the draws that involve no randomness (a brightness range of one value, a
crop not smaller than the image), Keras's ``smart_resize`` at inference, and files read
both ways. Runs only where ``keras`` is installed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from glassnet import layers as glassnet_layers  # noqa: E402
from glassnet.models import load_model  # noqa: E402

pytestmark = pytest.mark.keras

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def twins(name, kwargs):
    return getattr(keras.layers, name)(**kwargs), getattr(glassnet_layers, name)(**kwargs)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("RandomCrop", {"height": 3, "width": 4, "seed": 5}),
        ("RandomCrop", {"height": 3, "width": 4, "data_format": "channels_first"}),
        ("RandomBrightness", {"factor": 0.2}),
        ("RandomBrightness", {"factor": [0.1, -0.3], "value_range": [255, 0], "seed": 2}),
        (
            "RandomBrightness",
            {"factor": 0.5, "value_range": (0, 1), "data_format": "channels_first"},
        ),
    ],
    ids=str,
)
def test_configs_are_keras_configs(name, kwargs):
    reference, twin = twins(name, kwargs)
    config, keras_config = twin.get_config(), reference.get_config()
    assert set(config) == set(keras_config)
    for k, want in keras_config.items():
        if k in ("name", "dtype") or (k == "seed" and "seed" not in kwargs):
            continue  # without a seed, RandomCrop's is random in both
        got = config[k]
        if isinstance(want, (list, tuple)):
            assert list(got) == list(want), (k, got, want)
        else:
            assert got == want, (k, got, want)
    assert type(getattr(keras.layers, name).from_config(config)).__name__ == name


@pytest.mark.parametrize(
    ("kwargs", "row_shape"),
    [
        ({"factor": (0.1, 0.1)}, (5, 4, 3)),
        ({"factor": (-0.35, -0.35)}, (5, 4, 3)),  # clipped at 0
        ({"factor": (0.6, 0.6), "value_range": (0, 1)}, (5, 4, 3)),  # clipped at 1
        ({"factor": (0.2, 0.2), "value_range": (-1, 1), "data_format": "channels_first"},
         (3, 5, 4)),
    ],
    ids=str,
)
def test_brightness_of_one_value_matches_keras(kwargs, row_shape):
    high = kwargs.get("value_range", (0, 255))[1]
    x = np.random.default_rng(0).uniform(0, high, size=(2, *row_shape)).astype(np.float32)
    reference, twin = twins("RandomBrightness", kwargs)
    twin.build(row_shape)
    np.testing.assert_allclose(twin.forward(x, training=True)[0], reference(x, training=True),
                               **TOLERANCE)
    np.testing.assert_array_equal(twin.forward(x, training=False)[0], reference(x, training=False))


@pytest.mark.parametrize(
    ("kwargs", "row_shape"),
    [
        ({"height": 7, "width": 9}, (7, 9, 2)),  # the whole image
        ({"height": 7, "width": 4}, (7, 9, 2)),  # as tall: the centred columns
        ({"height": 3, "width": 9}, (7, 9, 2)),  # as wide: the centred rows
        ({"height": 10, "width": 12}, (7, 9, 2)),  # larger: the image, resized
        ({"height": 4, "width": 13}, (7, 9, 2)),  # wider, shorter: a band, resized
        ({"height": 11, "width": 5}, (7, 9, 2)),
        ({"height": 9, "width": 3, "data_format": "channels_first"}, (2, 7, 9)),
    ],
    ids=str,
)
def test_a_crop_not_smaller_than_the_image_matches_keras_in_training(kwargs, row_shape):
    x = np.random.default_rng(1).normal(size=(3, *row_shape)).astype(np.float32)
    reference, twin = twins("RandomCrop", kwargs)
    twin.build(row_shape)
    expected = np.asarray(reference(x, training=True))
    np.testing.assert_allclose(twin.forward(x, training=True)[0], expected, **TOLERANCE)
    assert twin.output_shape == tuple(reference.compute_output_shape((None, *row_shape))[1:])


def test_a_random_crop_is_a_window_of_keras_shape():
    x = np.random.default_rng(2).normal(size=(2, 8, 9, 3)).astype(np.float32)
    reference, twin = twins("RandomCrop", {"height": 5, "width": 4})
    twin.build((8, 9, 3))
    expected = np.asarray(reference(x, training=True))
    out, plan = twin.forward(x, training=True)
    assert out.shape == expected.shape == (2, 5, 4, 3)
    (top, _), (left, _) = plan.crop
    np.testing.assert_array_equal(out, x[:, top : top + 5, left : left + 4])


@pytest.mark.parametrize("size", [(4, 4), (5, 11), (12, 3), (7, 9)], ids=str)
def test_inference_is_kerass_smart_resize(size):
    """Keras's docstring: at inference, the largest centred window of the target's aspect
    ratio, resized. (Keras 3.15's layer returns the image uncut there instead; if a later
    Keras cuts, its numbers must be these.)"""
    x = np.random.default_rng(3).normal(size=(2, 7, 9, 3)).astype(np.float32)
    reference, twin = twins("RandomCrop", {"height": size[0], "width": size[1]})
    twin.build((7, 9, 3))
    expected = np.asarray(keras.preprocessing.image.smart_resize(x, size))
    actual = twin.forward(x, training=False)[0]
    np.testing.assert_allclose(actual, expected, **TOLERANCE)
    keras_inference = np.asarray(reference(x, training=False))
    if keras_inference.shape == actual.shape:
        np.testing.assert_allclose(actual, keras_inference, **TOLERANCE)


def crop_brightness_model(module):
    L = module.layers
    return module.Sequential(
        [
            L.Input(shape=(8, 8, 3)),
            L.RandomBrightness((-0.1, 0.3), value_range=(0, 1), seed=1),
            L.RandomCrop(8, 8, seed=2),  # the input's size: no cut at inference in either
            L.Flatten(),
            L.Dense(2),
        ]
    )


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_files_go_both_ways(suffix, tmp_path):
    import glassnet

    x = np.random.default_rng(0).uniform(0, 1, size=(3, 8, 8, 3)).astype(np.float32)
    if suffix == ".keras":  # Keras 3.15 itself fails to write these layers to .h5
        # ("TypeError: cannot pickle 'module' object"); it reads glassnet's .h5 below
        theirs = crop_brightness_model(keras)
        theirs.save(tmp_path / f"keras{suffix}")
        loaded = load_model(tmp_path / f"keras{suffix}")
        assert loaded.layers[1].get_config()["seed"] == 2
        np.testing.assert_allclose(
            loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), **TOLERANCE
        )
    ours = crop_brightness_model(glassnet)
    ours.save(tmp_path / f"glassnet{suffix}")
    again = keras.saving.load_model(tmp_path / f"glassnet{suffix}", safe_mode=True)
    assert again.layers[0].get_config()["value_range"] == [0, 1]
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0),
                               **TOLERANCE)
