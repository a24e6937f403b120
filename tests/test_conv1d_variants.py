"""Keras's 1-D variants built as the 2-D layers on images of height one:
``Conv1DTranspose`` (``keras/src/layers/convolutional/conv1d_transpose.py``),
``DepthwiseConv1D`` (``depthwise_conv1d.py``, ``base_depthwise_conv.py``),
``SeparableConv1D`` (``separable_conv1d.py``, ``base_separable_conv.py``) and
``SpatialDropout1D`` (``keras/src/layers/regularization/spatial_dropout.py``).

Slopes against central differences in float64 (no Keras needed); then, where Keras is
installed, outputs, shapes and configs against Keras's layers from the same weights, and
model files both ways (``.keras`` and ``.h5``, Keras loading glassnet's in safe mode).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from gradcheck import check_layer_slopes

from glassnet import layers
from glassnet.models import Sequential

TRANSPOSE_CASES = [
    {"filters": 3, "kernel_size": 3},
    {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "tanh"},
    {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same"},
    {"filters": 2, "kernel_size": 2, "strides": 3},
    {"filters": 2, "kernel_size": 3, "strides": 3, "output_padding": 2},
    {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1},
    {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same", "output_padding": 2},
    {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "use_bias": False},
    {"filters": 2, "kernel_size": 3, "strides": 2, "data_format": "channels_first"},
]

DEPTHWISE_CASES = [
    {"kernel_size": 3},
    {"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"},
    {"kernel_size": 4, "padding": "same", "activation": "tanh"},
    {"kernel_size": 2, "dilation_rate": 2, "depth_multiplier": 3, "use_bias": False},
    {"kernel_size": 3, "strides": 3, "data_format": "channels_first"},
]

SEPARABLE_CASES = [
    {"filters": 3, "kernel_size": 3},
    {"filters": 2, "kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"},
    {"filters": 4, "kernel_size": 4, "padding": "same", "activation": "tanh"},
    {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "use_bias": False},
    {"filters": 3, "kernel_size": 3, "strides": 2, "data_format": "channels_first"},
]


def row_shape(kwargs, steps=7, channels=3):
    return (channels, steps) if kwargs.get("data_format") == "channels_first" else (steps, channels)


@pytest.mark.parametrize("kwargs", TRANSPOSE_CASES, ids=str)
def test_conv1d_transpose_slopes_match_finite_differences(kwargs, rng, float64):
    layer = layers.Conv1DTranspose(**kwargs)
    shape = row_shape(kwargs)
    layer.build(shape)
    for weight in layer.weights:  # non-zero biases, so that their slopes are exercised
        weight[...] = np.random.default_rng(1).normal(size=weight.shape)
    check_layer_slopes(layer, rng.normal(size=(2, *shape)), rng)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("DepthwiseConv1D", kwargs) for kwargs in DEPTHWISE_CASES]
    + [("SeparableConv1D", kwargs) for kwargs in SEPARABLE_CASES],
    ids=str,
)
def test_depthwise_and_separable_slopes_match_finite_differences(name, kwargs, rng, float64):
    layer = getattr(layers, name)(**kwargs)
    shape = row_shape(kwargs)
    layer.build(shape)
    for weight in layer.weights:
        weight[...] = np.random.default_rng(1).normal(size=weight.shape)
    check_layer_slopes(layer, rng.normal(size=(2, *shape)), rng)


def test_depthwise_conv1d_kernel_is_kernel_channels_multiplier_and_keeps_channels_apart():
    layer = layers.DepthwiseConv1D(2, depth_multiplier=2, use_bias=False)
    layer.build((3, 2))
    assert layer.kernel.shape == (2, 2, 2)  # (kernel_size, channels, depth_multiplier)
    layer.kernel[...] = np.arange(1.0, 9.0).reshape(2, 2, 2)
    x = np.array([[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]])  # channel 0 only, at step 0
    out = np.asarray(layer(x))[0]
    # output channel c·m_count + m is input channel c through kernel m
    np.testing.assert_array_equal(out, [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_separable_conv1d_weights_are_keras_shapes_and_a_depthwise_then_pointwise():
    layer = layers.SeparableConv1D(3, 2, depth_multiplier=2)
    layer.build((5, 4))
    assert [w.shape for w in layer.weights] == [(2, 4, 2), (1, 8, 3), (3,)]
    rng = np.random.default_rng(2)
    for weight in layer.weights:
        weight[...] = rng.normal(size=weight.shape)
    depthwise = layers.DepthwiseConv1D(2, depth_multiplier=2, use_bias=False)
    depthwise.build((5, 4))
    depthwise.kernel[...] = layer.depthwise_kernel
    x = rng.normal(size=(2, 5, 4))
    expected = np.asarray(depthwise(x)) @ layer.pointwise_kernel[0] + layer.bias
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5, atol=1e-6)


def test_conv1d_transpose_kernel_is_kernel_filters_channels_and_spreads_each_step():
    layer = layers.Conv1DTranspose(1, 2, strides=2, use_bias=False)
    layer.build((3, 1))
    assert layer.kernel.shape == (2, 1, 1)  # (kernel_size, filters, channels), as Keras
    layer.kernel[...] = np.array([1.0, 10.0]).reshape(2, 1, 1)
    out = layer(np.array([[[1.0], [2.0], [3.0]]]))
    np.testing.assert_array_equal(np.asarray(out)[0, :, 0], [1, 10, 2, 20, 3, 30])


def test_spatial_dropout1d_drops_whole_channels_only_in_training(rng, float64):
    layer = layers.SpatialDropout1D(0.5, seed=3)
    layer.build((6, 5))
    x = rng.normal(size=(4, 6, 5))
    out, mask = layer.forward(x, training=True)
    assert mask.shape == (4, 1, 5)  # Keras's noise shape (rows, 1, channels)
    assert set(np.unique(mask)) <= {0.0, 2.0}
    np.testing.assert_array_equal(out, x * mask)
    # the slope of out = x * mask is the same mask (a linear map: exact, no differences)
    grad_out = rng.normal(size=x.shape)
    np.testing.assert_array_equal(layer.backward(mask, grad_out), grad_out * mask)
    assert layer.forward(x, training=False)[0] is x
    again = layers.SpatialDropout1D(0.5, seed=3)
    again.build((6, 5))
    np.testing.assert_array_equal(again.forward(x, training=True)[1], mask)  # seeded


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=2), "strictly less"),
        (lambda: layers.Conv1DTranspose(2, 3, padding="causal"), "padding"),
        (lambda: layers.Conv1DTranspose(2, (3, 3)), "kernel_size"),
        (lambda: layers.SpatialDropout1D(1.5), "SpatialDropout1D"),
        (lambda: layers.DepthwiseConv1D(3, padding="causal"), "padding"),
        (lambda: layers.DepthwiseConv1D((3, 3)), "kernel_size"),
        (lambda: layers.DepthwiseConv1D(3, strides=2, dilation_rate=2), "DepthwiseConv1D"),
        (lambda: layers.SeparableConv1D(2, 3, padding="causal"), "padding"),
        (lambda: layers.SeparableConv1D(2, 3, strides=(1, 1)), "strides"),
        (lambda: layers.SeparableConv1D(2, 3, strides=2, dilation_rate=2), "SeparableConv1D"),
    ],
)
def test_bad_arguments_are_refused_by_name(make, words):
    with pytest.raises(ValueError, match=words):
        make()


@pytest.mark.parametrize(
    "layer",
    [
        layers.Conv1DTranspose(2, 3),
        layers.DepthwiseConv1D(2),
        layers.SeparableConv1D(2, 2),
        layers.SpatialDropout1D(0.3, seed=1),
    ],
    ids=str,
)
def test_images_given_to_a_sequence_layer_are_refused_by_name(layer):
    with pytest.raises(ValueError, match=type(layer).__name__) as info:
        Sequential([layers.Input(shape=(4, 4, 2)), layer]).build()
    assert "(steps, channels)" in str(info.value)


# --- against Keras -------------------------------------------------------------------------

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("Conv1DTranspose", {**kwargs, "filters": 3}) for kwargs in TRANSPOSE_CASES]
    + [("DepthwiseConv1D", kwargs) for kwargs in DEPTHWISE_CASES]
    + [("SeparableConv1D", kwargs) for kwargs in SEPARABLE_CASES]
    + [
        (
            "Conv2DTranspose",
            {"filters": 3, "kernel_size": 3, "strides": (2, 3), "output_padding": (1, 2)},
        ),
        ("SpatialDropout1D", {"rate": 0.5}),
        ("SpatialDropout1D", {"rate": 0.2, "seed": 4}),
    ],
    ids=str,
)
def test_matches_keras(name, kwargs, keras):
    from test_conv_keras_parity import compare

    shape = row_shape(kwargs, steps=11, channels=4)
    compare(name, kwargs, (9, *shape) if name.startswith("Conv2D") else shape)
    twin = getattr(layers, name)(**kwargs)
    assert set(twin.get_config()) == set(getattr(keras.layers, name)(**kwargs).get_config())


def sequence_model(module):
    L = module.layers
    return module.Sequential(
        [
            L.Input(shape=(6, 3)),
            L.Conv1DTranspose(4, 3, strides=2, padding="same", output_padding=1, activation="relu"),
            L.SpatialDropout1D(0.3, seed=5),
            L.Conv1DTranspose(2, 2),
            L.DepthwiseConv1D(3, depth_multiplier=2, padding="same", activation="tanh"),
            L.SeparableConv1D(3, 2, strides=2, depth_multiplier=2),
            L.GlobalAveragePooling1D(),
            L.Dense(2),
        ]
    )


@pytest.mark.keras
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_files_both_ways(suffix, tmp_path, keras):
    import glassnet

    x = np.random.default_rng(0).normal(size=(5, 6, 3)).astype(np.float32)
    reference = sequence_model(keras)
    reference.save(tmp_path / f"keras{suffix}")
    loaded = glassnet.saving.load_model(tmp_path / f"keras{suffix}")
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), reference.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    ours = sequence_model(glassnet)
    ours.save(tmp_path / f"glassnet{suffix}")
    back = keras.saving.load_model(tmp_path / f"glassnet{suffix}", safe_mode=True)
    assert [type(layer).__name__ for layer in back.layers][:5] == [
        "Conv1DTranspose",
        "SpatialDropout1D",
        "Conv1DTranspose",
        "DepthwiseConv1D",
        "SeparableConv1D",
    ]
    assert back.layers[0].output_padding == (1,)
    assert back.layers[3].kernel.shape == (3, 2, 2)
    assert back.layers[4].pointwise_kernel.shape == (1, 8, 3)  # 4 channels · 2
    np.testing.assert_allclose(
        back.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
