"""Image layers against real Keras 3 on TensorFlow: same weights, same inputs, same outputs.

Each case builds a Keras layer and its glassnet twin from the same arguments, copies Keras's
(randomised) weights into the twin and compares the outputs in float32 to 1e-5 relative
(the two libraries sum products in different orders). The cases follow Keras's own tests
(``keras/src/layers/convolutional/conv_test.py``, ``pooling/*_test.py``,
``reshaping/*_test.py``). Runs only where ``keras`` is installed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from glassnet import layers as glassnet_layers  # noqa: E402
from glassnet.models import Sequential  # noqa: E402

pytestmark = pytest.mark.keras

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def channels_first(kwargs):
    return kwargs.get("data_format") == "channels_first"


def compare(name, kwargs, row_shape, seed=0, rows=3, training=False, check_config=True):
    rng = np.random.default_rng(seed)
    reference = getattr(keras.layers, name)(**kwargs)
    reference.build((None, *row_shape))
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in reference.get_weights()]
    reference.set_weights(weights)
    twin = getattr(glassnet_layers, name)(**kwargs)
    model = Sequential([glassnet_layers.Input(shape=row_shape), twin])
    model.set_weights(weights)
    x = rng.normal(size=(rows, *row_shape)).astype(np.float32)
    expected = np.asarray(reference(x, training=training))
    actual = model.predict(x, verbose=0)
    assert actual.shape == expected.shape
    assert twin.output_shape == tuple(reference.compute_output_shape((None, *row_shape))[1:])
    np.testing.assert_allclose(actual, expected, **TOLERANCE)
    if not check_config:
        return
    config = twin.get_config()
    keras_config = reference.get_config()
    for k in keras_config:
        if k in ("name", "dtype"):
            continue
        assert k in config, k
        got, want = config[k], keras_config[k]
        if isinstance(want, dict):
            assert got["class_name"] == want["class_name"], k
        else:
            assert (
                list(np.ravel(got)) == list(np.ravel(want))
                if isinstance(want, (list, tuple))
                else got == want
            ), (k, got, want)


CONV2D_CASES = [
    {"filters": 4, "kernel_size": 3},
    {"filters": 4, "kernel_size": 3, "activation": "relu"},
    {"filters": 3, "kernel_size": (2, 3), "strides": 2},
    {"filters": 3, "kernel_size": 3, "strides": (2, 1), "padding": "same"},
    {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same"},
    {"filters": 3, "kernel_size": 3, "dilation_rate": 2},
    {"filters": 3, "kernel_size": 2, "dilation_rate": (2, 3), "padding": "same"},
    {"filters": 6, "kernel_size": 3, "groups": 2},
    {"filters": 4, "kernel_size": 3, "groups": 4, "padding": "same", "use_bias": False},
    {"filters": 4, "kernel_size": 3, "data_format": "channels_first", "padding": "same"},
    {"filters": 4, "kernel_size": 1, "activation": "sigmoid"},
]


@pytest.mark.parametrize("kwargs", CONV2D_CASES, ids=str)
def test_conv2d_matches_keras(kwargs):
    shape = (4, 9, 8) if channels_first(kwargs) else (9, 8, 4)
    compare("Conv2D", kwargs, shape)


CONV1D_CASES = [
    {"filters": 4, "kernel_size": 3},
    {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
    {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
    {"filters": 4, "kernel_size": 2, "groups": 2, "activation": "tanh"},
    {"filters": 4, "kernel_size": 3, "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", CONV1D_CASES, ids=str)
def test_conv1d_matches_keras(kwargs):
    compare("Conv1D", kwargs, (4, 11) if channels_first(kwargs) else (11, 4))


OTHER_CONV_CASES = [
    ("DepthwiseConv2D", {"kernel_size": 3}),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"}),
    ("DepthwiseConv2D", {"kernel_size": 2, "dilation_rate": 2, "activation": "relu"}),
    ("DepthwiseConv2D", {"kernel_size": 3, "data_format": "channels_first"}),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3}),
    (
        "SeparableConv2D",
        {
            "filters": 5,
            "kernel_size": 3,
            "depth_multiplier": 2,
            "padding": "same",
            "strides": 2,
            "activation": "relu",
        },
    ),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3, "data_format": "channels_first"}),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3}),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2}),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 3}),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "dilation_rate": 2}),
    (
        "Conv2DTranspose",
        {
            "filters": 2,
            "kernel_size": 3,
            "strides": 2,
            "data_format": "channels_first",
            "activation": "relu",
        },
    ),
]


@pytest.mark.parametrize(("name", "kwargs"), OTHER_CONV_CASES, ids=str)
def test_other_convolutions_match_keras(name, kwargs):
    compare(name, kwargs, (4, 9, 8) if channels_first(kwargs) else (9, 8, 4))


POOL_CASES = [
    ("MaxPooling2D", {}),
    ("MaxPooling2D", {"pool_size": 3}),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2}),
    ("MaxPooling2D", {"pool_size": 2, "padding": "same"}),
    ("MaxPooling2D", {"pool_size": (3, 2), "strides": (2, 1), "padding": "same"}),
    ("MaxPooling2D", {"data_format": "channels_first"}),
    ("AveragePooling2D", {"pool_size": 2}),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2}),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("AveragePooling2D", {"pool_size": 2, "padding": "same", "data_format": "channels_first"}),
    ("GlobalAveragePooling2D", {}),
    ("GlobalAveragePooling2D", {"keepdims": True}),
    ("GlobalMaxPooling2D", {}),
    ("GlobalMaxPooling2D", {"data_format": "channels_first", "keepdims": True}),
    ("ZeroPadding2D", {}),
    ("ZeroPadding2D", {"padding": ((1, 2), (0, 3))}),
    ("ZeroPadding2D", {"padding": 2, "data_format": "channels_first"}),
    ("Cropping2D", {"cropping": ((1, 2), (0, 3))}),
    ("Cropping2D", {"cropping": 1, "data_format": "channels_first"}),
    ("UpSampling2D", {}),
    ("UpSampling2D", {"size": (2, 3), "data_format": "channels_first"}),
    ("SpatialDropout2D", {"rate": 0.5}),
    ("Rescaling", {"scale": 1 / 255}),
    ("Rescaling", {"scale": 2.0, "offset": -1.0}),
]


@pytest.mark.parametrize(("name", "kwargs"), POOL_CASES, ids=str)
def test_pooling_and_reshaping_layers_match_keras(name, kwargs):
    compare(name, kwargs, (4, 9, 7) if channels_first(kwargs) else (9, 7, 4))


POOL_1D_CASES = [
    ("MaxPooling1D", {}),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("AveragePooling1D", {"pool_size": 3, "strides": 1}),
    ("AveragePooling1D", {"pool_size": 2, "padding": "same"}),
    ("GlobalAveragePooling1D", {}),
    ("GlobalMaxPooling1D", {"keepdims": True}),
    ("GlobalMaxPooling1D", {"data_format": "channels_first"}),
]


@pytest.mark.parametrize(("name", "kwargs"), POOL_1D_CASES, ids=str)
def test_one_dimensional_pooling_matches_keras(name, kwargs):
    compare(name, kwargs, (4, 11) if channels_first(kwargs) else (11, 4))


# --- augmentation: deterministic draws (a range of one value) against Keras in training -------

AUGMENTATION_CASES = [
    ("RandomRotation", {"factor": (0.1, 0.1)}),
    ("RandomRotation", {"factor": (-0.3, -0.3), "fill_mode": "constant", "fill_value": 0.5}),
    ("RandomRotation", {"factor": (0.2, 0.2), "fill_mode": "wrap", "interpolation": "nearest"}),
    ("RandomRotation", {"factor": (0.15, 0.15), "fill_mode": "nearest"}),
    ("RandomRotation", {"factor": (0.25, 0.25), "data_format": "channels_first"}),
    ("RandomTranslation", {"height_factor": (0.2, 0.2), "width_factor": (-0.35, -0.35)}),
    (
        "RandomTranslation",
        {"height_factor": (-0.5, -0.5), "width_factor": (0.1, 0.1), "fill_mode": "constant"},
    ),
    ("RandomZoom", {"height_factor": (0.3, 0.3)}),
    (
        "RandomZoom",
        {"height_factor": (-0.4, -0.4), "width_factor": (0.2, 0.2), "fill_mode": "wrap"},
    ),
]


@pytest.mark.parametrize(("name", "kwargs"), AUGMENTATION_CASES, ids=str)
def test_geometric_augmentation_reads_the_pixels_keras_reads(name, kwargs):
    row_shape = (3, 9, 7) if channels_first(kwargs) else (9, 7, 3)
    x = np.random.default_rng(0).uniform(0, 1, size=(2, *row_shape)).astype(np.float32)
    reference = getattr(keras.layers, name)(**kwargs)
    twin = getattr(glassnet_layers, name)(**kwargs)
    twin.build(row_shape)
    expected = np.asarray(reference(x, training=True))
    actual, _ = twin.forward(x, training=True)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(twin.forward(x, training=False)[0], x)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("RandomFlip", {"mode": "horizontal", "seed": 1}),
        ("RandomContrast", {"factor": 0.2}),
        ("RandomRotation", {"factor": 0.1, "seed": 3}),
        ("RandomZoom", {"height_factor": 0.2}),
        ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.2}),
    ],
    ids=str,
)
def test_augmentation_configs_are_keras_configs(name, kwargs):
    reference = getattr(keras.layers, name)(**kwargs)
    twin = getattr(glassnet_layers, name)(**kwargs)
    config, keras_config = twin.get_config(), reference.get_config()
    for k, want in keras_config.items():
        if k in ("name", "dtype"):
            continue
        got = config[k]
        if isinstance(want, (list, tuple)) or isinstance(got, (list, tuple)):
            assert np.allclose(np.ravel(got), np.ravel(want)), (k, got, want)
        else:
            assert got == want, (k, got, want)
    rebuilt = getattr(keras.layers, name).from_config(config)
    assert type(rebuilt).__name__ == name


# --- training ------------------------------------------------------------------------------


def small_convnet(module, batch_norm=False):
    L = module.layers
    stack = [L.Input(shape=(10, 10, 2)), L.Conv2D(6, 3, activation="relu", padding="same")]
    if batch_norm:
        stack.append(L.BatchNormalization())
    stack += [
        L.MaxPooling2D(2),
        L.Conv2D(8, 3, activation="relu"),
        L.GlobalAveragePooling2D() if batch_norm else L.Flatten(),
        L.Dense(3, activation="softmax"),
    ]
    return module.Sequential(stack)


@pytest.mark.parametrize(
    ("optimizer", "batch_norm"),
    [("sgd", False), ("adam", False), ("adam", True)],
    ids=["sgd", "adam", "adam-batchnorm"],
)
def test_two_epochs_of_a_small_convnet_match_keras(optimizer, batch_norm):
    """Two epochs with shuffle=False from Keras's initial weights: losses, accuracies and
    final weights agree to 1e-3 relative (every step compounds float32 rounding)."""
    import glassnet

    rng = np.random.default_rng(5)
    x = rng.normal(size=(96, 10, 10, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=96)
    keras.utils.set_random_seed(0)
    reference = small_convnet(keras, batch_norm)
    model = small_convnet(glassnet, batch_norm)
    model.set_weights(reference.get_weights())
    make = {
        "sgd": lambda m: m.optimizers.SGD(learning_rate=0.05),
        "adam": lambda m: m.optimizers.Adam(learning_rate=0.003),
    }[optimizer]
    for net, module in ((reference, keras), (model, glassnet)):
        net.compile(
            optimizer=make(module), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
    settings = dict(epochs=2, batch_size=16, shuffle=False, verbose=0)
    expected = reference.fit(x, y, **settings).history
    got = model.fit(x, y, **settings).history
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-3)
    np.testing.assert_allclose(got["accuracy"], expected["accuracy"], rtol=1e-3)
    for ours, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-3, atol=1e-5
    )


def test_batch_normalization_on_images_matches_keras():
    # (its config is tested with the Dense layers; glassnet leaves out `synchronized`)
    compare("BatchNormalization", {}, (5, 4, 3), check_config=False)
    compare("BatchNormalization", {"epsilon": 0.01, "center": False}, (6, 3), check_config=False)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_glassnet_image_models_load_in_keras_with_safe_mode(suffix, tmp_path):
    from image_models import every_image_layer_model

    model = every_image_layer_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 255, size=(8, 12, 12, 3)).astype(np.float32)
    model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    model.save(tmp_path / f"model{suffix}")
    loaded = keras.saving.load_model(tmp_path / f"model{suffix}", safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
