"""Images from folders: ``image_dataset_from_directory``, ``load_img``, ``img_to_array``,
``array_to_img`` (Pillow), against hand-made PNG folders, and Keras's file split where
Keras is installed."""

from __future__ import annotations

import os

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image")

import glassnet as keras  # noqa: E402
from glassnet import layers  # noqa: E402
from glassnet.utils import (  # noqa: E402
    array_to_img,
    image_dataset_from_directory,
    img_to_array,
    load_img,
)


def make_folder(root, counts=(("cats", 5), ("dogs", 7)), size=(12, 10)):
    rng = np.random.default_rng(0)
    for name, count in counts:
        (root / name).mkdir(parents=True)
        for i in range(count):
            pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:02d}.png")
    (root / "cats" / "notes.txt").write_text("not an image")
    return root


def test_batches_have_the_shape_labels_and_count_keras_gives(tmp_path, capsys):
    batches = image_dataset_from_directory(
        make_folder(tmp_path), image_size=(8, 6), batch_size=5, seed=1
    )
    assert capsys.readouterr().out == "Found 12 files belonging to 2 classes.\n"
    assert batches.class_names == ["cats", "dogs"] and len(batches) == 3
    seen = list(batches)
    assert [x.shape for x, _ in seen] == [(5, 8, 6, 3), (5, 8, 6, 3), (2, 8, 6, 3)]
    assert all(x.dtype == np.float32 and y.dtype == np.int64 for x, y in seen)
    assert sorted(np.concatenate([y for _, y in seen]).tolist()) == [0] * 5 + [1] * 7


def test_label_modes_and_a_pixel_read_by_hand(tmp_path):
    make_folder(tmp_path)
    batches = image_dataset_from_directory(
        tmp_path,
        label_mode="categorical",
        image_size=None,
        shuffle=False,
        batch_size=12,
        color_mode="grayscale",
        verbose=False,
    )
    x, y = next(iter(batches))
    assert x.shape == (12, 10, 12, 1) and y.shape == (12, 2)
    # A colour PNG goes grey as TensorFlow's PNG decoder (libpng) makes it, in 15-bit fixed
    # point rounded down: Pillow's convert("L") rounds 0.299 R + 0.587 G + 0.114 B instead
    # and is one level higher on about half the pixels.
    r, g, b = np.moveaxis(np.asarray(Image.open(tmp_path / "cats" / "00.png"), np.int64), -1, 0)
    np.testing.assert_array_equal(x[0, :, :, 0], (9797 * r + 19234 * g + 3737 * b) >> 15)
    np.testing.assert_array_equal(y[:, 1], [0] * 5 + [1] * 7)
    binary = image_dataset_from_directory(
        tmp_path, label_mode="binary", image_size=(4, 4), verbose=False
    )
    assert next(iter(binary))[1].shape == (12, 1)


def test_the_split_is_kerass_split(tmp_path):
    tf_keras = pytest.importorskip("keras")
    make_folder(tmp_path)
    ours = image_dataset_from_directory(
        tmp_path, validation_split=0.25, subset="both", seed=7, image_size=(4, 4), verbose=False
    )
    theirs = tf_keras.utils.image_dataset_from_directory(
        str(tmp_path),
        validation_split=0.25,
        subset="both",
        seed=7,
        image_size=(4, 4),
        verbose=False,
    )
    for mine, keras_part in zip(ours, theirs, strict=True):
        assert mine.file_paths == keras_part.file_paths


def mixed_folder(root):
    """PNGs of several sizes and Pillow modes (RGB, RGBA, palette, grey, grey with alpha)."""
    rng = np.random.default_rng(4)
    shapes = {"RGB": (3,), "RGBA": (4,), "L": (), "LA": (2,)}
    files = [
        ("apples", "RGB", (20, 30)),
        ("apples", "RGBA", (17, 9)),
        ("apples", "P", (25, 25)),
        ("pears", "L", (12, 40)),
        ("pears", "LA", (31, 14)),
        ("pears", "RGB", (8, 8)),
    ]
    for i, (name, mode, (height, width)) in enumerate(files):
        (root / name).mkdir(parents=True, exist_ok=True)
        source = "RGB" if mode == "P" else mode
        pixels = rng.integers(0, 256, size=(height, width, *shapes[source]), dtype=np.uint8)
        image = Image.fromarray(pixels, source)
        if mode == "P":
            image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        image.save(root / name / f"{i}.png")
    return root


def test_hidden_folders_are_not_classes(tmp_path):
    make_folder(tmp_path)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / ".ipynb_checkpoints" / "a.png")
    batches = image_dataset_from_directory(tmp_path, image_size=(4, 4), verbose=False)
    assert batches.class_names == ["cats", "dogs"] and len(batches.file_paths) == 12


def test_the_validation_half_of_both_keeps_its_order(tmp_path):
    """subset="both": Keras shuffles only the training part's batches each pass; the
    validation part keeps its file order, so predictions line up with ``file_paths``."""
    make_folder(tmp_path)
    train, val = image_dataset_from_directory(
        tmp_path, validation_split=0.5, subset="both", seed=2, image_size=None, verbose=False
    )
    expected = np.stack(
        [np.asarray(Image.open(path).convert("RGB"), np.float32) for path in val.file_paths]
    )
    for _ in range(2):
        x, y = next(iter(val))
        np.testing.assert_array_equal(x, expected)
        assert y.tolist() == [int("dogs" in path) for path in val.file_paths]
    orders = [np.concatenate([x for x, _ in train])[:, 0, 0, 0] for _ in range(4)]
    assert any(not np.array_equal(orders[0], other) for other in orders[1:])


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale", "rgba"])
def test_batches_are_kerass_pixel_for_pixel(tmp_path, color_mode):
    """shuffle=False: the same files, labels and float32 pixels as Keras's tf.data pipeline
    (``keras/src/utils/image_dataset_utils.py``: ``tf.image.decode_image``, then
    ``tf.image.resize``, ``smart_resize`` or ``resize_with_pad``), for shrinking and
    enlarging, both TensorFlow interpolations glassnet computes, both data formats."""
    tf_keras = pytest.importorskip("keras")
    mixed_folder(tmp_path)
    cases = [
        dict(image_size=(16, 24)),
        dict(image_size=(40, 11), interpolation="nearest"),
        dict(image_size=(16, 24), crop_to_aspect_ratio=True),
        dict(image_size=(9, 20), pad_to_aspect_ratio=True, interpolation="nearest"),
        dict(image_size=(30, 30), pad_to_aspect_ratio=True),
        dict(image_size=(13, 7), data_format="channels_first"),
    ]
    for case in cases:
        arguments = dict(color_mode=color_mode, shuffle=False, batch_size=4, verbose=False)
        ours = image_dataset_from_directory(tmp_path, **arguments, **case)
        theirs = tf_keras.utils.image_dataset_from_directory(str(tmp_path), **arguments, **case)
        assert ours.class_names == theirs.class_names
        assert ours.file_paths == theirs.file_paths
        our_batches, their_batches = list(ours), list(theirs)
        assert len(our_batches) == len(their_batches) == len(ours)
        for (x, y), (their_x, their_y) in zip(our_batches, their_batches, strict=True):
            assert x.dtype == np.float32
            np.testing.assert_array_equal(x, their_x.numpy(), err_msg=f"{color_mode} {case}")
            np.testing.assert_array_equal(y, their_y.numpy())


def test_interpolations_keras_names_and_refuses(tmp_path):
    make_folder(tmp_path)
    for name in ("bicubic", "area", "lanczos3", "lanczos5"):
        x, _ = next(
            iter(
                image_dataset_from_directory(
                    tmp_path, image_size=(5, 7), interpolation=name, verbose=False
                )
            )
        )
        assert x.shape == (12, 5, 7, 3) and x.min() >= 0 and x.max() <= 255.5
    with pytest.raises(ValueError, match="gaussian"):
        image_dataset_from_directory(tmp_path, interpolation="gaussian")
    with pytest.raises(ValueError, match="interpolation"):
        image_dataset_from_directory(tmp_path, interpolation="hamming")
    with pytest.raises(ValueError, match="Only one of"):
        image_dataset_from_directory(tmp_path, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="data_format"):
        image_dataset_from_directory(tmp_path, data_format="channels_middle")


def test_a_convnet_with_augmentation_trains_from_a_folder(tmp_path):
    make_folder(tmp_path)
    train, val = image_dataset_from_directory(
        tmp_path,
        validation_split=0.25,
        subset="both",
        seed=3,
        image_size=(8, 8),
        batch_size=4,
        verbose=False,
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 3)),
            layers.Rescaling(1 / 255),
            layers.RandomFlip(seed=1),
            layers.Conv2D(4, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_mixed_sizes_without_image_size_name_the_files(tmp_path):
    make_folder(tmp_path)
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "dogs" / "99.png")
    batches = image_dataset_from_directory(
        tmp_path, image_size=None, shuffle=False, batch_size=20, verbose=False
    )
    with pytest.raises(ValueError, match=r"99\.png.*image_size=\(height, width\)"):
        list(batches)


def test_an_unreadable_image_is_named(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not a png")
    batches = image_dataset_from_directory(tmp_path, shuffle=False, batch_size=20, verbose=False)
    with pytest.raises(ValueError, match="broken.png"):
        list(batches)


def test_bad_arguments(tmp_path):
    make_folder(tmp_path)
    with pytest.raises(ValueError, match="seed"):
        image_dataset_from_directory(tmp_path, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="not a folder"):
        image_dataset_from_directory(tmp_path / "missing")
    with pytest.raises(ValueError, match="label_mode"):
        image_dataset_from_directory(tmp_path, label_mode="onehot")


def test_load_img_img_to_array_and_back(tmp_path):
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    array = img_to_array(load_img(os.fspath(tmp_path / "a.png")))
    np.testing.assert_array_equal(array, pixels)
    assert img_to_array(load_img(tmp_path / "a.png", target_size=(2, 3))).shape == (2, 3, 3)
    np.testing.assert_array_equal(np.asarray(array_to_img(array, scale=False)), pixels)
    assert img_to_array(array_to_img(array), data_format="channels_first").shape == (3, 4, 4)
