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
    first = np.asarray(Image.open(tmp_path / "cats" / "00.png").convert("L"), dtype=np.float32)
    np.testing.assert_array_equal(x[0, :, :, 0], first)
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
