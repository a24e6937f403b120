"""``RandomCrop`` and ``RandomBrightness``: Keras 3's rules
(``keras/src/layers/preprocessing/image_preprocessing/random_crop.py``,
``random_brightness.py`` and their base ``base_image_preprocessing_layer.py``), worked by
hand; slopes against central differences with the random draw fixed; seeding, training
against inference, files and bad input. Needs no Keras (``test_crop_brightness_keras.py``
compares with it).
"""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_layer_slopes

from glassnet import layers
from glassnet.models import Sequential, load_model

# --- slopes -------------------------------------------------------------------------------------


def fixed_draw(layer, x, training=True):
    """The layer's forward with its generator reset before each call: one fixed function."""
    saved = layer.rng.bit_generator.state

    def forward():
        layer.rng.bit_generator.state = saved
        return layer.forward(x, training=training)

    return forward


@pytest.mark.parametrize(
    ("layer", "row_shape", "training"),
    [
        (layers.RandomCrop(3, 2, seed=1), (5, 4, 2), True),  # a random window
        (layers.RandomCrop(5, 3, seed=1), (5, 4, 2), True),  # as tall: centred, no resize
        (layers.RandomCrop(7, 3, seed=1), (5, 4, 2), True),  # taller: cut, then resized
        (layers.RandomCrop(3, 3, seed=1), (5, 4, 2), False),  # inference: smart_resize
        (layers.RandomCrop(2, 3, seed=1, data_format="channels_first"), (2, 5, 4), True),
        (layers.RandomBrightness((0.2, 0.6), value_range=(0, 1), seed=1), (5, 4, 2), True),
        (layers.RandomBrightness(0.5, value_range=(-1, 1), seed=2), (5, 4, 2), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else str(v),
)
def test_slopes_follow_the_drawn_crop_and_brightness(layer, row_shape, training, rng, float64):
    layer.build(row_shape)
    x = rng.uniform(0.0, 0.95, size=(3, *row_shape))
    forward = fixed_draw(layer, x, training)
    assert check_layer_slopes(layer, x, rng, forward=forward) == []


def test_the_crop_slope_lands_in_the_window_and_zeros_elsewhere(rng):
    layer = layers.RandomCrop(2, 3, seed=4)
    layer.build((5, 6, 1))
    x = rng.normal(size=(2, 5, 6, 1))
    out, plan = layer.forward(x, training=True)
    (top, _), (left, _) = plan.crop
    np.testing.assert_array_equal(out, x[:, top : top + 2, left : left + 3])
    grad = layer.backward(plan, np.ones_like(out))
    expected = np.zeros_like(x)
    expected[:, top : top + 2, left : left + 3] = 1.0
    np.testing.assert_array_equal(grad, expected)


def test_the_brightness_slope_stops_where_clipping_cut_the_value():
    layer = layers.RandomBrightness((0.5, 0.5), value_range=(0, 1))  # adds exactly 0.5
    layer.build((1, 3, 1))
    x = np.array([[[[0.1], [0.5], [0.8]]]])
    out, kept = layer.forward(x, training=True)
    np.testing.assert_allclose(out[0, 0, :, 0], [0.6, 1.0, 1.0])
    # 0.5 + 0.5 lands on the edge: not cut, the slope passes (as np.clip's does).
    np.testing.assert_array_equal(layer.backward(kept, np.ones_like(x))[0, 0, :, 0], [1, 1, 0])


# --- Keras's rules, by hand -----------------------------------------------------------------


def test_one_crop_offset_per_batch():
    """Keras draws one ``h_start`` and one ``w_start`` per call (shape ``()``)."""
    layer = layers.RandomCrop(2, 2, seed=0)
    layer.build((6, 6, 1))
    base = np.arange(36.0).reshape(1, 6, 6, 1)
    x = base + 1000.0 * np.arange(4).reshape(4, 1, 1, 1)  # the same picture, shifted
    for _ in range(5):
        out, _ = layer.forward(x, training=True)
        np.testing.assert_array_equal(out - out[:1], x[:, :2, :2] - x[:1, :2, :2])


def test_every_window_inside_the_image_can_be_drawn():
    """Offsets are uniform over ``[0, size - target]`` (``maxval=size - target + 1``,
    cast to int)."""
    layer = layers.RandomCrop(2, 3, seed=0)
    layer.build((4, 5, 1))
    x = np.arange(20.0).reshape(1, 4, 5, 1)
    corners = {float(layer.forward(x, training=True)[0][0, 0, 0, 0]) for _ in range(300)}
    assert corners == {float(5 * top + left) for top in range(3) for left in range(3)}


def test_an_image_not_larger_than_the_crop_along_both_axes():
    """Keras's else branch: the offset of the centred aspect-ratio window, ``height ×
    width`` cut from there (less where the image ends), resized if it is not that size."""
    x = np.arange(48.0).reshape(1, 6, 8, 1)
    same = layers.RandomCrop(6, 8)
    same.build((6, 8, 1))
    np.testing.assert_array_equal(same.forward(x, training=True)[0], x)
    narrower = layers.RandomCrop(6, 4)  # window 6 × 4 at column int((8 - 4) / 2) = 2
    narrower.build((6, 8, 1))
    np.testing.assert_array_equal(narrower.forward(x, training=True)[0], x[:, :, 2:6])
    larger = layers.RandomCrop(8, 10)  # the whole image, stretched to 8 × 10
    larger.build((6, 8, 1))
    stretched = layers.Resizing(8, 10)
    stretched.build((6, 8, 1))
    np.testing.assert_allclose(larger.forward(x, training=True)[0], stretched.forward(x)[0])


def test_inference_resizes_the_largest_centred_window_of_the_aspect_ratio(rng):
    x = rng.normal(size=(2, 6, 9, 3)).astype(np.float32)
    layer = layers.RandomCrop(4, 4, seed=1)
    reference = layers.Resizing(4, 4, crop_to_aspect_ratio=True)
    model = Sequential([layers.Input(shape=(6, 9, 3)), layer])
    np.testing.assert_allclose(model.predict(x, verbose=0), reference(x), rtol=1e-6)
    assert layer.output_shape == (4, 4, 3)


def test_brightness_adds_one_delta_per_image_scaled_by_the_range():
    """``delta`` in ``factor`` times ``high - low``, the same for every pixel of an image."""
    layer = layers.RandomBrightness(0.2, seed=3)  # deltas in [-0.2, 0.2] · 255
    layer.build((4, 4, 3))
    x = np.full((16, 4, 4, 3), 100.0, dtype=np.float32)
    out, _ = layer.forward(x, training=True)
    shift = out - x
    assert np.all(shift == shift[:, :1, :1, :1])
    assert np.all(np.abs(shift) <= 0.2 * 255 + 1e-4)
    assert len(np.unique(shift[:, 0, 0, 0])) == 16


def test_brightness_clips_to_the_value_range():
    high = layers.RandomBrightness((1.0, 1.0))  # +255: white
    low = layers.RandomBrightness((-1.0, -1.0), value_range=(-1, 1))  # -2: black
    x = np.linspace(0, 1, 12).reshape(1, 2, 2, 3)
    np.testing.assert_array_equal(high(x, training=True), np.full_like(x, 255))
    np.testing.assert_array_equal(low(x, training=True), np.full_like(x, -1))


def test_defaults_are_keras_defaults():
    """``random_brightness.py``: ``value_range=(0, 255)`` stored sorted, ``factor=f`` as
    ``(-f, f)`` (the base layer's ``_set_factor``, bounds [-1, 1]); ``random_crop.py``: a
    seed made when none is given (``make_default_seed``), ``data_format`` from the config."""
    brightness = layers.RandomBrightness(0.2).get_config()
    assert brightness["value_range"] == [0, 255]
    assert brightness["factor"] == [-0.2, 0.2]
    assert brightness["seed"] is None
    assert brightness["data_format"] == "channels_last"
    reversed_ = layers.RandomBrightness([0.1, -0.3], value_range=[255, 0]).get_config()
    assert reversed_["factor"] == [-0.3, 0.1] and reversed_["value_range"] == [0, 255]
    assert layers.RandomBrightness(None).factor == (0.0, 0.0)  # Keras: `factor or 0.0`
    crop = layers.RandomCrop(3, 4).get_config()
    assert isinstance(crop["seed"], int) and 1 <= crop["seed"] <= 10**9
    assert (crop["height"], crop["width"], crop["data_format"]) == (3, 4, "channels_last")


# --- seeding, training and inference ---------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [lambda s: layers.RandomCrop(4, 5, seed=s), lambda s: layers.RandomBrightness(0.3, seed=s)],
    ids=["crop", "brightness"],
)
def test_same_seed_same_draws_other_seed_other_draws(make, rng):
    x = rng.uniform(0, 255, size=(4, 9, 9, 3)).astype(np.float32)
    outs = {}
    for seed in (7, 7, 8):
        layer = make(seed)
        layer.build((9, 9, 3))
        outs.setdefault(seed, []).append(
            np.concatenate([layer.forward(x, training=True)[0] for _ in range(3)])
        )
    np.testing.assert_array_equal(outs[7][0], outs[7][1])
    assert not np.array_equal(outs[7][0], outs[8][0])


def test_a_crop_without_seed_reproduces_from_its_config(rng):
    x = rng.normal(size=(2, 9, 9, 1))
    first = layers.RandomCrop(3, 3)
    again = layers.RandomCrop.from_config(first.get_config())
    for layer in (first, again):
        layer.build((9, 9, 1))
    for _ in range(3):
        np.testing.assert_array_equal(
            first.forward(x, training=True)[0], again.forward(x, training=True)[0]
        )


def test_brightness_is_the_identity_at_inference(rng):
    x = rng.uniform(0, 255, size=(3, 4, 4, 3)).astype(np.float32)
    layer = layers.RandomBrightness(0.5, seed=1)
    layer.build((4, 4, 3))
    assert layer.forward(x, training=False)[0] is x
    assert not np.array_equal(layer.forward(x, training=True)[0], x)
    model = Sequential([layers.Input(shape=(4, 4, 3)), layers.RandomBrightness(0.5)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def crop_brightness_model():
    return Sequential(
        [
            layers.Input(shape=(10, 9, 3)),
            layers.RandomBrightness((-0.2, 0.4), value_range=(0, 1), seed=3),
            layers.RandomCrop(6, 5, seed=2),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_models_with_these_layers_train_save_and_load(suffix, tmp_path):
    model = crop_brightness_model()
    model.compile("adam", "mse")
    x = np.random.default_rng(0).uniform(0, 1, size=(8, 10, 9, 3)).astype(np.float32)
    model.fit(x, np.zeros((8, 2)), epochs=1, verbose=0)
    model.save(tmp_path / f"model{suffix}")
    again = load_model(tmp_path / f"model{suffix}")
    assert again.get_config() == model.get_config()
    assert [type(layer).__name__ for layer in again.layers] == [
        "RandomBrightness", "RandomCrop", "Flatten", "Dense"
    ]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# --- bad arguments and bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: layers.RandomBrightness(1.5), r"`factor` .* \[-1, 1\]. Received: factor=1.5"),
        (lambda: layers.RandomBrightness((0.1, 0.2, 0.3)), r"Received: factor=\(0.1, 0.2, 0.3\)"),
        (lambda: layers.RandomBrightness("a"), r"\[-1, 1\]. Received: factor='a'"),
        (lambda: layers.RandomBrightness((2, 3)), r"\[-1, 1\]. Received: factor=\(2, 3\)"),
        (lambda: layers.RandomBrightness((1.2, 0.5)), r"\[-1, 1\]"),
        (lambda: layers.RandomBrightness(0.1, value_range=5),
         r"`value_range` argument should be a list of two numbers. Received: value_range=5"),
        (lambda: layers.RandomBrightness(0.1, value_range=(1, 2, 3)),
         r"Received: value_range=\(1, 2, 3\)"),
        (lambda: layers.RandomBrightness(0.1, value_range=("a", "b")), "two numbers"),
        (lambda: layers.RandomCrop(0, 2), "`height` must be a positive integer. Received: "
         "height=0"),
        (lambda: layers.RandomCrop(2, 2.5), "`width` must be a positive integer"),
        (lambda: layers.RandomCrop(2, 2, seed=-1), "`seed` must be None or a non-negative"),
    ],
    ids=str,
)
def test_bad_arguments_raise_keras_errors(make, words):
    with pytest.raises(ValueError, match=words):
        make()


@pytest.mark.parametrize(
    ("layer", "words"),
    [
        (layers.RandomCrop(2, 2), r"RandomCrop 'random_crop\w*' expects rows that are images "
         r"of shape \(height, width, channels\); received rows of shape \(5,\)"),
        (layers.RandomBrightness(0.1), r"RandomBrightness 'random_brightness\w*' expects rows "
         r"that are images of shape \(height, width, channels\); received rows of shape \(5,\)"),
    ],
    ids=["crop", "brightness"],
)
def test_a_table_is_not_an_image(layer, words):
    with pytest.raises(ValueError, match=words):
        layer(np.zeros((2, 5)), training=True)


def test_the_docstring_examples_run():
    import doctest

    from glassnet.layers import augmentation

    result = doctest.testmod(augmentation, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
