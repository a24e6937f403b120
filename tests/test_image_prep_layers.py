"""``ZeroPadding1D``, ``Cropping1D``, ``UpSampling1D``, ``Resizing`` and ``CenterCrop``:
slopes against central differences in float64, hand-computed outputs, configs, files and
the messages for bad input. Needs no Keras; ``test_image_prep_layers_keras.py`` compares
the same layers with Keras 3 on TensorFlow.

The resizing numbers follow TensorFlow's half-pixel grid (``keras/src/backend/tensorflow/
image.py``, ``resize``, calling ``tf.image.resize`` with ``antialias=False``).
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_layer_slopes

from glassnet import layers
from glassnet.layers.resizing import axis_sampler
from glassnet.models import Sequential, load_model


def slopes(layer, row_shape, rng, rows=2):
    layer.build(row_shape)
    return check_layer_slopes(layer, rng.normal(size=(rows, *row_shape)), rng)


# --- slopes ---------------------------------------------------------------------------------

ONE_D_CASES = [
    ("ZeroPadding1D", {}),
    ("ZeroPadding1D", {"padding": (2, 0), "data_format": "channels_first"}),
    ("Cropping1D", {}),
    ("Cropping1D", {"cropping": (0, 3)}),
    ("UpSampling1D", {"size": 3}),
]


@pytest.mark.parametrize(("name", "kwargs"), ONE_D_CASES, ids=str)
def test_one_dimensional_layers_pass_the_right_slopes(name, kwargs, rng, float64):
    shape = (2, 6) if kwargs.get("data_format") == "channels_first" else (6, 2)
    assert slopes(getattr(layers, name)(**kwargs), shape, rng) == []


RESIZE_CASES = [
    ("Resizing", {"height": 7, "width": 9}),  # up
    ("Resizing", {"height": 3, "width": 2}),  # down
    ("Resizing", {"height": 4, "width": 8, "interpolation": "nearest"}),
    ("Resizing", {"height": 3, "width": 5, "interpolation": "nearest"}),
    ("Resizing", {"height": 4, "width": 4, "crop_to_aspect_ratio": True}),
    ("Resizing", {"height": 3, "width": 6, "pad_to_aspect_ratio": True, "fill_value": 2.0}),
    ("Resizing", {"height": 6, "width": 3, "data_format": "channels_first"}),
    ("CenterCrop", {"height": 3, "width": 2}),  # a plain crop
    ("CenterCrop", {"height": 7, "width": 4}),  # taller than the input: crop and resize
    ("CenterCrop", {"height": 2, "width": 3, "data_format": "channels_first"}),
]


@pytest.mark.parametrize(("name", "kwargs"), RESIZE_CASES, ids=str)
def test_resizing_layers_pass_the_adjoint_of_the_resize(name, kwargs, rng, float64):
    shape = (2, 5, 6) if kwargs.get("data_format") == "channels_first" else (5, 6, 2)
    assert slopes(getattr(layers, name)(**kwargs), shape, rng) == []


# --- hand-computed cases --------------------------------------------------------------------


def column(values):
    """One sequence (or image row) of one channel, as a batch of one."""
    return np.asarray(values, dtype=np.float32).reshape(1, -1, 1)


def test_one_dimensional_layers_by_hand():
    x = column([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(layers.ZeroPadding1D()(x)[0, :, 0], [0, 1, 2, 3, 0])
    np.testing.assert_array_equal(layers.ZeroPadding1D((0, 2))(x)[0, :, 0], [1, 2, 3, 0, 0])
    np.testing.assert_array_equal(layers.Cropping1D()(x)[0, :, 0], [2])
    np.testing.assert_array_equal(layers.Cropping1D((2, 0))(x)[0, :, 0], [3])
    np.testing.assert_array_equal(layers.UpSampling1D()(x)[0, :, 0], [1, 1, 2, 2, 3, 3])
    # channels_first pads the last axis: rows (channels, steps)
    out = layers.ZeroPadding1D(1, data_format="channels_first")(np.ones((1, 2, 3)))
    np.testing.assert_array_equal(out[0], [[0, 1, 1, 1, 0]] * 2)


def test_bilinear_reads_half_pixel_centres():
    # 2 -> 4: output centres fall at -0.25, 0.25, 0.75, 1.25 of the input grid
    image = np.array([[[[0.0], [8.0]]]])
    np.testing.assert_allclose(layers.Resizing(1, 4)(image)[0, 0, :, 0], [0, 2, 6, 8])
    # 4 -> 2: centres at 0.5 and 2.5, the means of neighbours
    image = np.array([[[[0.0], [2.0], [4.0], [10.0]]]])
    np.testing.assert_allclose(layers.Resizing(1, 2)(image)[0, 0, :, 0], [1, 7])


def test_nearest_takes_the_floor_of_the_scaled_centre():
    sampler = axis_sampler(3, 7, "nearest")  # (i + 0.5) * 3/7: 0.21 0.64 1.07 1.5 1.93 ...
    np.testing.assert_array_equal(sampler.low, [0, 0, 1, 1, 1, 2, 2])
    image = np.arange(4.0).reshape(1, 1, 4, 1)
    np.testing.assert_array_equal(
        layers.Resizing(1, 2, interpolation="nearest")(image)[0, 0, :, 0], [1, 3]
    )


def test_resizing_is_the_identity_at_the_same_size(rng):
    x = rng.normal(size=(2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(layers.Resizing(4, 5)(x), x)


def test_crop_to_aspect_ratio_keeps_the_centre_square():
    # a 2x4 image to 2x2: the centred 2x2 window, then no resampling at all
    image = np.arange(8.0).reshape(1, 2, 4, 1)
    out = layers.Resizing(2, 2, crop_to_aspect_ratio=True)(image)
    np.testing.assert_array_equal(out[0, :, :, 0], [[1, 2], [5, 6]])


def test_pad_to_aspect_ratio_pads_the_short_side_with_fill_value():
    image = np.ones((1, 2, 4, 1))  # to 4x4: one row of fill_value above and below
    out = layers.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=-1.0)(image)
    np.testing.assert_array_equal(out[0, :, :, 0], [[-1] * 4, [1] * 4, [1] * 4, [-1] * 4])


def test_center_crop_cuts_the_centre_and_resizes_a_smaller_image():
    image = np.arange(20.0).reshape(1, 4, 5, 1)
    out = layers.CenterCrop(2, 3)(image)[0, :, :, 0]
    np.testing.assert_array_equal(out, [[6, 7, 8], [11, 12, 13]])
    # 6 rows from 4: Keras crops to the aspect ratio (4x2 window) and resizes bilinearly
    assert layers.CenterCrop(6, 3)(image).shape == (1, 6, 3, 1)
    expected = layers.Resizing(6, 3, crop_to_aspect_ratio=True)(image)
    np.testing.assert_allclose(layers.CenterCrop(6, 3)(image), expected)


def test_a_model_learns_through_resizing():
    model = Sequential(
        [layers.Input(shape=(6, 6, 1)), layers.Resizing(3, 3), layers.Flatten(), layers.Dense(1)]
    )
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(16, 6, 6, 1)).astype(np.float32)
    history = model.fit(x, x.mean(axis=(1, 2, 3)), epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# --- shapes and configs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "row_shape", "expected"),
    [
        (layers.ZeroPadding1D((1, 2)), (5, 3), (8, 3)),
        (layers.ZeroPadding1D(2, data_format="channels_first"), (3, 5), (3, 9)),
        (layers.Cropping1D((1, 2)), (5, 3), (2, 3)),
        (layers.UpSampling1D(4), (5, 3), (20, 3)),
        (layers.Resizing(7, 2), (5, 6, 3), (7, 2, 3)),
        (layers.Resizing(7, 2, data_format="channels_first"), (3, 5, 6), (3, 7, 2)),
        (layers.CenterCrop(4, 4), (5, 6, 3), (4, 4, 3)),
        (layers.CenterCrop(9, 4, data_format="channels_first"), (3, 5, 6), (3, 9, 4)),
    ],
    ids=str,
)
def test_output_shapes(layer, row_shape, expected):
    assert tuple(layer.compute_output_shape(row_shape)) == expected


@pytest.mark.parametrize(
    "layer",
    [
        layers.ZeroPadding1D((1, 3), data_format="channels_first"),
        layers.Cropping1D(2),
        layers.UpSampling1D(3),
        layers.Resizing(4, 5, interpolation="nearest", crop_to_aspect_ratio=True),
        layers.Resizing(4, 5, pad_to_aspect_ratio=True, fill_value=0.5),
        layers.CenterCrop(3, 2, data_format="channels_first"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trips(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    declared = {k.name for k in type(layer).config_keys}
    assert set(config) - {"name", "trainable", "dtype"} <= declared


def test_defaults_are_keras_defaults():
    assert layers.ZeroPadding1D().padding == (1, 1)
    assert layers.Cropping1D().cropping == (1, 1)
    assert layers.UpSampling1D().size == 2
    config = layers.Resizing(2, 3).get_config()
    assert {k: config[k] for k in config if k not in ("name", "trainable", "dtype")} == {
        "height": 2,
        "width": 3,
        "interpolation": "bilinear",
        "crop_to_aspect_ratio": False,
        "pad_to_aspect_ratio": False,
        "fill_mode": "constant",
        "fill_value": 0.0,
        "antialias": False,
        "data_format": "channels_last",
    }


def image_prep_model(module=None):
    """Every new layer in one model; ``module`` is ``glassnet`` (the default) or ``keras``."""
    L = layers if module is None else module.layers
    return (Sequential if module is None else module.Sequential)(
        [
            L.Input(shape=(9, 7, 2)),
            L.Resizing(6, 8, crop_to_aspect_ratio=True),
            L.CenterCrop(4, 6),
            L.Resizing(5, 5, interpolation="nearest", pad_to_aspect_ratio=True, fill_value=0.5),
            L.Reshape((25, 2)),
            L.ZeroPadding1D((1, 2)),
            L.Cropping1D((2, 1)),
            L.UpSampling1D(2),
            L.Flatten(),
            L.Dense(2),
        ]
    )


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_models_with_these_layers_save_and_load(suffix, tmp_path):
    model = image_prep_model()
    x = np.random.default_rng(0).normal(size=(3, 9, 7, 2)).astype(np.float32)
    model.save(tmp_path / f"model{suffix}")
    again = load_model(tmp_path / f"model{suffix}")
    assert again.get_config() == model.get_config()
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "x", "words"),
    [
        (layers.Resizing(4, 4), np.zeros((2, 10)), r"Resizing 'resizing\w*' expects rows that "
         r"are images of shape \(height, width, channels\); received rows of shape \(10,\)"),
        (layers.CenterCrop(2, 2), np.zeros((2, 5, 5)), r"CenterCrop .* received rows of shape "
         r"\(5, 5\)"),
        (layers.ZeroPadding1D(), np.zeros((2, 5, 5, 1)), r"ZeroPadding1D .* sequences of shape "
         r"\(steps, channels\); received rows of shape \(5, 5, 1\)"),
        (layers.UpSampling1D(), np.zeros((2, 5)), r"UpSampling1D .*x\.reshape\(-1, 5, 1\)"),
        (layers.Cropping1D((2, 3)), np.zeros((2, 5, 1)), r"Cropping1D .* leaves nothing of "
         r"sequences of length 5"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else None,
)
def test_wrong_rows_name_the_layer_and_the_shapes(layer, x, words):
    with pytest.raises(ValueError, match=words):
        layer(x)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: layers.Resizing(4, 4, interpolation="bicubic"),
         r"interpolation='bicubic' is not supported by glassnet; supported: 'bilinear', "
         r"'nearest'"),
        (lambda: layers.Resizing(4, 4, interpolation="lanczos3"), "'lanczos3' is not supported"),
        (lambda: layers.Resizing(4, 4, interpolation="bilinar"), "Did you mean 'bilinear'"),
        (lambda: layers.Resizing(4, 4, antialias=True), "antialias=True is not supported"),
        (lambda: layers.Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
         "only one of"),
        (lambda: layers.Resizing(4, 4, fill_mode="reflect"), "'constant'"),
        (lambda: layers.Resizing(0, 4), "`height` must be a positive integer"),
        (lambda: layers.CenterCrop(4, 2.5), "`width` must be a positive integer"),
        (lambda: layers.ZeroPadding1D(-1), "padding"),
        (lambda: layers.Cropping1D((1, 2, 3)), "tuple of 2 integers"),
        (lambda: layers.UpSampling1D(0), "positive integer"),
    ],
    ids=str,
)
def test_bad_arguments_name_what_is_supported(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_up_sampling_1d_refuses_a_size_that_is_not_an_int_as_keras_does():
    with pytest.raises(TypeError, match="integer value for `size`"):
        layers.UpSampling1D((2,))


def test_the_one_dimensional_layers_without_data_format_refuse_it():
    for cls in (layers.Cropping1D, layers.UpSampling1D):  # as Keras: no such argument
        with pytest.raises(TypeError, match="data_format"):
            cls(data_format="channels_first")


def test_the_docstring_examples_run():
    import doctest

    from glassnet.layers import rescaling, resizing, spatial

    for module in (rescaling, resizing, spatial):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, module.__name__
