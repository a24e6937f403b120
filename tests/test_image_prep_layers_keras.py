"""``ZeroPadding1D``, ``Cropping1D``, ``UpSampling1D``, ``Resizing`` and ``CenterCrop``
against real Keras 3 on TensorFlow: same inputs, same outputs (float32, 1e-5 relative),
Keras's output shapes and config keys, files that go both ways, and TensorFlow's gradient
through ``tf.image.resize``.

The cases follow Keras's own tests (``keras/src/layers/reshaping/zero_padding1d_test.py``,
``cropping1d_test.py``, ``up_sampling1d_test.py``,
``keras/src/layers/preprocessing/image_preprocessing/resizing_test.py``,
``center_crop_test.py``). Runs only where ``keras`` is installed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from test_image_prep_layers import image_prep_model  # noqa: E402

from glassnet import layers as glassnet_layers  # noqa: E402
from glassnet.models import Sequential, load_model  # noqa: E402

pytestmark = pytest.mark.keras

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def compare(name, kwargs, row_shape, seed=0, rows=3):
    """Keras's layer and glassnet's, built from the same arguments, on the same rows."""
    x = np.random.default_rng(seed).normal(size=(rows, *row_shape)).astype(np.float32)
    reference = getattr(keras.layers, name)(**kwargs)
    twin = getattr(glassnet_layers, name)(**kwargs)
    model = Sequential([glassnet_layers.Input(shape=row_shape), twin])
    expected = np.asarray(reference(x, training=False))
    actual = model.predict(x, verbose=0)
    assert actual.shape == expected.shape
    assert twin.output_shape == tuple(reference.compute_output_shape((None, *row_shape))[1:])
    np.testing.assert_allclose(actual, expected, **TOLERANCE)
    config, keras_config = twin.get_config(), reference.get_config()
    assert set(config) == set(keras_config)
    for k, want in keras_config.items():
        if k not in ("name", "dtype"):
            assert config[k] == want, (k, config[k], want)


ONE_D_CASES = [
    ("ZeroPadding1D", {}),
    ("ZeroPadding1D", {"padding": 3}),
    ("ZeroPadding1D", {"padding": (2, 0)}),
    ("ZeroPadding1D", {"padding": (1, 2), "data_format": "channels_first"}),
    ("Cropping1D", {}),
    ("Cropping1D", {"cropping": 2}),
    ("Cropping1D", {"cropping": (0, 4)}),
    ("UpSampling1D", {}),
    ("UpSampling1D", {"size": 3}),
]


@pytest.mark.parametrize(("name", "kwargs"), ONE_D_CASES, ids=str)
def test_one_dimensional_layers_match_keras(name, kwargs):
    compare(name, kwargs, (4, 9) if kwargs.get("data_format") == "channels_first" else (9, 4))


RESIZE_CASES = [
    {"height": 4, "width": 6},
    {"height": 14, "width": 18},
    {"height": 5, "width": 11},
    {"height": 1, "width": 1},
    {"height": 13, "width": 3},
    {"height": 4, "width": 6, "interpolation": "nearest"},
    {"height": 15, "width": 4, "interpolation": "nearest"},
    {"height": 4, "width": 4, "crop_to_aspect_ratio": True},
    {"height": 6, "width": 16, "crop_to_aspect_ratio": True},
    {"height": 9, "width": 2, "crop_to_aspect_ratio": True, "interpolation": "nearest"},
    {"height": 4, "width": 4, "pad_to_aspect_ratio": True},
    {"height": 12, "width": 5, "pad_to_aspect_ratio": True, "fill_value": 0.5},
    {"height": 5, "width": 8, "data_format": "channels_first"},
    {"height": 5, "width": 5, "crop_to_aspect_ratio": True, "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", RESIZE_CASES, ids=str)
def test_resizing_matches_keras(kwargs):
    compare("Resizing", kwargs, (3, 7, 9) if "data_format" in kwargs else (7, 9, 3))


CENTER_CROP_CASES = [
    {"height": 4, "width": 6},
    {"height": 7, "width": 9},  # the whole image
    {"height": 2, "width": 3},  # odd differences: the extra row and column cut at the end
    {"height": 10, "width": 5},  # taller than the image: crop to the aspect ratio, resize
    {"height": 8, "width": 12},  # larger along both axes
    {"height": 3, "width": 12, "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", CENTER_CROP_CASES, ids=str)
def test_center_crop_matches_keras(kwargs):
    compare("CenterCrop", kwargs, (3, 7, 9) if "data_format" in kwargs else (7, 9, 3))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"height": 11, "width": 4},
        {"height": 3, "width": 13, "interpolation": "nearest"},
        {"height": 5, "width": 5, "crop_to_aspect_ratio": True},
        {"height": 6, "width": 6, "pad_to_aspect_ratio": True, "fill_value": 1.0},
    ],
    ids=str,
)
def test_resizing_backward_is_tensorflows_gradient(kwargs):
    import tensorflow as tf

    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 7, 9, 3)).astype(np.float32)
    reference = keras.layers.Resizing(**kwargs)
    twin = glassnet_layers.Resizing(**kwargs)
    twin.build(x.shape[1:])
    grad_out = rng.normal(size=(2, kwargs["height"], kwargs["width"], 3)).astype(np.float32)
    images = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(images)
        total = tf.reduce_sum(reference(images) * grad_out)
    expected = tape.gradient(total, images).numpy()
    np.testing.assert_allclose(twin.backward(None, grad_out), expected, **TOLERANCE)


def keras_and_glassnet_model(module):
    return image_prep_model(module)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_files_go_both_ways(suffix, tmp_path):
    x = np.random.default_rng(0).normal(size=(3, 9, 7, 2)).astype(np.float32)
    theirs = keras_and_glassnet_model(keras)
    theirs.save(tmp_path / f"keras{suffix}")
    loaded = load_model(tmp_path / f"keras{suffix}")
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), **TOLERANCE
    )
    import glassnet

    ours = keras_and_glassnet_model(glassnet)
    ours.save(tmp_path / f"glassnet{suffix}")
    again = keras.saving.load_model(tmp_path / f"glassnet{suffix}", safe_mode=True)
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0), **TOLERANCE)
