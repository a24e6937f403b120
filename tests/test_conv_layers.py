"""Image layers: slopes against central differences in float64, hand-computed outputs,
configs, and the messages for bad input.

Every layer and option of ``test_conv_keras_parity.py`` has its slopes checked here, for the
input and for every weight (``gradcheck.check_layer_slopes``); the hand cases need no Keras.
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_layer_slopes

from glassnet import layers
from glassnet.models import Sequential


def built(layer, row_shape):
    layer.build(row_shape)
    for weight in layer.weights:  # non-zero biases, so that their slopes are exercised
        weight[...] = np.random.default_rng(1).normal(size=weight.shape)
    return layer


def slopes(layer, row_shape, rng, rows=2, training=False):
    x = rng.normal(size=(rows, *row_shape))
    return check_layer_slopes(built(layer, row_shape), x, rng, training=training)


CONV_CASES = [
    {"filters": 3, "kernel_size": 3},
    {"filters": 3, "kernel_size": 3, "activation": "tanh"},
    {"filters": 2, "kernel_size": (2, 3), "strides": 2},
    {"filters": 2, "kernel_size": 3, "strides": (2, 1), "padding": "same"},
    {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same"},
    {"filters": 4, "kernel_size": 2, "groups": 2},
    {"filters": 2, "kernel_size": 3, "use_bias": False, "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", CONV_CASES, ids=str)
def test_conv2d_slopes_match_finite_differences(kwargs, rng, float64):
    shape = (2, 6, 5) if kwargs.get("data_format") == "channels_first" else (6, 5, 2)
    names = slopes(layers.Conv2D(**kwargs), shape, rng)
    assert names == (["bias", "kernel"] if kwargs.get("use_bias", True) else ["kernel"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"filters": 3, "kernel_size": 3},
        {"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same", "groups": 2},
    ],
    ids=str,
)
def test_conv1d_slopes_match_finite_differences(kwargs, rng, float64):
    assert slopes(layers.Conv1D(**kwargs), (7, 2), rng) == ["bias", "kernel"]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("DepthwiseConv2D", {"kernel_size": 3}),
        (
            "DepthwiseConv2D",
            {
                "kernel_size": 2,
                "depth_multiplier": 2,
                "strides": 2,
                "padding": "same",
                "activation": "tanh",
            },
        ),
        ("SeparableConv2D", {"filters": 3, "kernel_size": 2}),
        (
            "SeparableConv2D",
            {
                "filters": 3,
                "kernel_size": 3,
                "padding": "same",
                "strides": 2,
                "depth_multiplier": 2,
            },
        ),
        ("Conv2DTranspose", {"filters": 2, "kernel_size": 3}),
        ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}),
        ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3}),
        (
            "Conv2DTranspose",
            {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "data_format": "channels_first"},
        ),
    ],
    ids=str,
)
def test_other_convolution_slopes_match_finite_differences(name, kwargs, rng, float64):
    shape = (2, 5, 4) if kwargs.get("data_format") == "channels_first" else (5, 4, 2)
    assert slopes(getattr(layers, name)(**kwargs), shape, rng)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("MaxPooling2D", {}),
        ("MaxPooling2D", {"pool_size": 3, "strides": 2}),
        ("MaxPooling2D", {"pool_size": 2, "padding": "same", "data_format": "channels_first"}),
        ("AveragePooling2D", {"pool_size": 2}),
        ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}),
        ("GlobalAveragePooling2D", {}),
        ("GlobalMaxPooling2D", {"keepdims": True}),
        ("GlobalMaxPooling2D", {"data_format": "channels_first"}),
        ("ZeroPadding2D", {"padding": ((1, 2), (0, 1))}),
        ("Cropping2D", {"cropping": ((1, 0), (1, 2))}),
        ("UpSampling2D", {"size": (2, 3)}),
        ("Rescaling", {"scale": 0.5, "offset": 1.0}),
    ],
    ids=str,
)
def test_layers_without_weights_pass_the_right_slopes(name, kwargs, rng, float64):
    shape = (2, 5, 5) if kwargs.get("data_format") == "channels_first" else (5, 5, 2)
    assert slopes(getattr(layers, name)(**kwargs), shape, rng) == []


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}),
        ("AveragePooling1D", {"pool_size": 2}),
        ("GlobalAveragePooling1D", {}),
        ("GlobalMaxPooling1D", {}),
    ],
    ids=str,
)
def test_one_dimensional_pooling_slopes(name, kwargs, rng, float64):
    assert slopes(getattr(layers, name)(**kwargs), (7, 2), rng) == []


def test_spatial_dropout_slopes_use_the_same_mask(rng, float64):
    layer = layers.SpatialDropout2D(0.5, seed=3)
    x = rng.normal(size=(3, 4, 4, 5))
    out, mask = layer.forward(x, training=True)
    assert mask.shape == (3, 1, 1, 5)  # whole feature maps
    assert set(np.unique(mask)) <= {0.0, 2.0}
    np.testing.assert_array_equal(
        layer.backward(mask, np.ones_like(x)), np.broadcast_to(mask, x.shape)
    )
    assert layer.forward(x, training=False)[0] is x


def test_batch_normalization_on_images_normalises_each_channel(rng, float64):
    layer = layers.BatchNormalization()
    x = rng.normal(loc=3.0, scale=2.0, size=(4, 3, 3, 2))
    out, _ = built(layer, (3, 3, 2)).forward(x, training=True)
    layer.set_weights([np.ones(2), np.zeros(2), np.zeros(2), np.ones(2)])
    out, _ = layer.forward(x, training=True)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(
        out.var(axis=(0, 1, 2)), x.var(axis=(0, 1, 2)) / (x.var(axis=(0, 1, 2)) + 1e-3), rtol=1e-12
    )
    assert slopes(layers.BatchNormalization(), (3, 3, 2), rng, rows=3, training=True) == [
        "beta",
        "gamma",
    ]


# --- hand-computed cases ---------------------------------------------------------------------


def test_a_sum_kernel_adds_each_window_by_hand():
    layer = layers.Conv2D(1, 2, kernel_initializer="ones")
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    out = layer(x)[0, :, :, 0]
    # windows: [0,1,3,4] [1,2,4,5] / [3,4,6,7] [4,5,7,8]
    np.testing.assert_array_equal(out, [[8.0, 12.0], [20.0, 24.0]])


def test_same_padding_pads_after_when_the_total_is_odd():
    # TensorFlow's "same": 4 positions, kernel 2, stride 1 -> 1 zero after, none before.
    layer = layers.Conv1D(1, 2, padding="same", kernel_initializer="ones")
    np.testing.assert_array_equal(
        layer(np.array([[[1.0], [2.0], [3.0], [4.0]]]))[0, :, 0], [3.0, 5.0, 7.0, 4.0]
    )


def test_max_pooling_slope_goes_to_the_first_of_tied_winners():
    layer = layers.MaxPooling2D(2)
    layer.build((2, 2, 1))
    x = np.array([[[[1.0], [1.0]], [[0.0], [1.0]]]])
    out, records = layer.forward(x)
    grad = layer.backward(records, np.ones((1, 1, 1, 1)))
    np.testing.assert_array_equal(grad[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])


def test_average_pooling_with_same_padding_counts_only_real_positions():
    layer = layers.AveragePooling1D(2, padding="same")
    np.testing.assert_allclose(layer(np.array([[[2.0], [4.0], [9.0]]]))[0, :, 0], [3.0, 9.0])


def test_conv2d_transpose_doubles_the_size_with_stride_two():
    layer = layers.Conv2DTranspose(1, 2, strides=2, kernel_initializer="ones")
    out = layer(np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]]))[0, :, :, 0]
    np.testing.assert_array_equal(out, np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))))


def test_keras_mnist_convnet_shapes_and_parameter_count():
    model = Sequential(
        [
            layers.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.build()
    assert [layer.output_shape for layer in model.layers] == [
        (26, 26, 32),
        (13, 13, 32),
        (11, 11, 64),
        (5, 5, 64),
        (1600,),
        (1600,),
        (10,),
    ]
    assert model.count_params() == 34826  # as Keras's example's summary reports


@pytest.mark.parametrize(
    "layer",
    [
        layers.Conv2D(
            8,
            3,
            strides=2,
            padding="same",
            dilation_rate=1,
            groups=2,
            activation="relu",
            kernel_regularizer="l2",
        ),
        layers.Conv1D(4, 5, padding="causal", data_format="channels_first"),
        layers.DepthwiseConv2D(3, depth_multiplier=2),
        layers.SeparableConv2D(4, 3, padding="same"),
        layers.Conv2DTranspose(4, 3, strides=2),
        layers.MaxPooling2D((3, 2), strides=1, padding="same"),
        layers.AveragePooling1D(3),
        layers.GlobalMaxPooling2D(keepdims=True),
        layers.ZeroPadding2D(((1, 2), (3, 4))),
        layers.Cropping2D(2),
        layers.UpSampling2D(3),
        layers.SpatialDropout2D(0.3, seed=2),
        layers.Rescaling(1 / 255, offset=-1),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trips(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    declared = {k.name for k in type(layer).config_keys}
    assert set(config) - {"name", "trainable", "dtype"} <= declared


# --- bad input -------------------------------------------------------------------------------


def test_flat_rows_given_to_conv2d_show_the_reshape():
    model = Sequential([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"x\.reshape\(-1, 28, 28, 1\)") as info:
        model.build((784,))
    assert "(height, width, channels)" in str(info.value)
    assert "Conv2D" in str(info.value)


def test_flat_data_given_to_an_image_model_shows_the_reshape():
    model = Sequential(
        [layers.Input(shape=(28, 28, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"x\.reshape\(-1, 28, 28, 1\)"):
        model.predict(np.zeros((5, 784)), verbose=0)


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        (layers.Conv2D(2, 7), "kernel (7, 7) is larger than its input (5, 5)"),
        (layers.Conv2D(2, 3, dilation_rate=3), "dilated by (3, 3)"),
        (layers.MaxPooling2D(6), "pool (6, 6) is larger than its input (5, 5)"),
    ],
    ids=str,
)
def test_a_window_larger_than_its_input_is_refused(layer, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Sequential([layers.Input(shape=(5, 5, 1)), layer]).build()


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda: layers.Conv2D(2, 3, padding="sme"), "Did you mean 'same'"),
        (lambda: layers.Conv2D(2, 3, padding="vaild"), "Did you mean 'valid'"),
        (lambda: layers.MaxPooling2D(padding="causal"), "'valid', 'same'"),
        (lambda: layers.Conv2D(2, 3, data_format="channel_last"), "Did you mean 'channels_last'"),
        (lambda: layers.GlobalAveragePooling2D(data_format="NHWC"), "'channels_last'"),
        (lambda: layers.Conv2D(2, (3, 3, 3)), "tuple of 2 integers"),
        (lambda: layers.Conv2D(3, 3, groups=2), "divisible by the number of groups"),
        (lambda: layers.Conv2D(3, 3, strides=2, dilation_rate=2), "strides > 1"),
        (lambda: layers.Conv2D(0, 3), "filters"),
    ],
    ids=str,
)
def test_bad_arguments_name_what_keras_accepts(make, hint):
    with pytest.raises(ValueError, match=hint):
        make()


# --- augmentation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        layers.RandomFlip(seed=1),
        layers.RandomRotation(0.2, seed=1),
        layers.RandomRotation(0.2, fill_mode="constant", interpolation="nearest", seed=1),
        layers.RandomZoom(0.3, 0.2, fill_mode="wrap", seed=1),
        layers.RandomTranslation(0.3, 0.3, fill_mode="nearest", seed=1),
        layers.RandomContrast((0.4, 0.5), value_range=(-1, 1), seed=1),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_augmentation_slopes_follow_the_drawn_transform(layer, rng, float64):
    layer.build((5, 4, 2))
    x = rng.uniform(-0.9, 0.9, size=(3, 5, 4, 2))
    out, records = layer.forward(x, training=True)
    # A fixed draw makes the layer a fixed function of x: check against it.
    saved = layer.rng.bit_generator.state

    def forward():
        layer.rng.bit_generator.state = saved
        return layer.forward(x, training=True)

    assert check_layer_slopes(layer, x, rng, forward=forward) == []


@pytest.mark.parametrize(
    "make",
    [
        lambda s: layers.RandomFlip(seed=s),
        lambda s: layers.RandomRotation(0.3, seed=s),
        lambda s: layers.RandomZoom(0.2, seed=s),
        lambda s: layers.RandomContrast(0.5, seed=s),
        lambda s: layers.RandomTranslation(0.2, 0.2, seed=s),
    ],
    ids=["flip", "rotation", "zoom", "contrast", "translation"],
)
def test_augmentation_is_seeded_and_only_active_in_training(make, rng):
    x = rng.uniform(0, 255, size=(4, 6, 6, 3)).astype(np.float32)
    first, second = make(7), make(7)
    first.build((6, 6, 3))
    second.build((6, 6, 3))
    a, b = first.forward(x, training=True)[0], second.forward(x, training=True)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, x)
    assert first.forward(x, training=False)[0] is x
    model = Sequential([layers.Input(shape=(6, 6, 3)), make(3), layers.Flatten()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x.reshape(4, -1))


def test_quarter_turn_rotation_is_rot90_by_hand():
    layer = layers.RandomRotation((0.25, 0.25))
    layer.build((4, 4, 1))
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    out = layer.forward(x, training=True)[0][0, :, :, 0]
    np.testing.assert_allclose(out, np.rot90(x[0, :, :, 0]), atol=1e-4)


def test_horizontal_flip_by_hand():
    layer = layers.RandomFlip("horizontal", seed=0)
    layer.build((1, 3, 1))
    x = np.tile(np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3, 1), (16, 1, 1, 1))
    out = layer.forward(x, training=True)[0][:, 0, :, 0]
    assert {tuple(row) for row in out} == {(1.0, 2.0, 3.0), (3.0, 2.0, 1.0)}


def test_contrast_scales_the_deviation_from_each_channel_mean():
    layer = layers.RandomContrast((0.0, 0.0))  # a factor of exactly 1: nothing changes
    layer.build((2, 2, 1))
    x = np.array([[[[10.0], [20.0]], [[30.0], [40.0]]]])
    np.testing.assert_allclose(layer.forward(x, training=True)[0], x)
    layer = layers.RandomContrast(0.5, seed=4)  # factors drawn in [1, 1.5]
    layer.build((2, 2, 1))
    out, (factor, kept) = layer.forward(x, training=True)
    assert 1.0 <= float(factor.ravel()[0]) <= 1.5
    np.testing.assert_allclose(out, (x - 25.0) * factor + 25.0, rtol=1e-6)
    assert kept.all()


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda: layers.RandomFlip("horizontl"), "Did you mean 'horizontal'"),
        (lambda: layers.RandomRotation(0.1, fill_mode="reflekt"), "Did you mean 'reflect'"),
        (lambda: layers.RandomRotation(2.0), r"\[-1, 1\]"),
        (lambda: layers.RandomZoom(-1.0), r"\(-1, 1\]"),
        (lambda: layers.RandomContrast(1.5), r"\[0, 1\]"),
    ],
    ids=str,
)
def test_bad_augmentation_arguments(make, hint):
    with pytest.raises(ValueError, match=hint):
        make()
