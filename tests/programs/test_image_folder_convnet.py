"""A small convnet with data augmentation trained from a folder of images, as in Keras's
image-classification tutorial and the Keras book's "training a convnet from scratch":
``keras.utils.image_dataset_from_directory(folder, validation_split=0.2,
subset="training"/"validation", seed=..., image_size=..., batch_size=...)``, a
``data_augmentation`` Sequential (``RandomFlip("horizontal")``, ``RandomRotation(0.1)``,
``RandomZoom(0.1)``) called on the input, ``Rescaling(1./255)``, two
``Conv2D``/``MaxPooling2D`` blocks, ``Dropout``, ``Flatten``, ``Dense``, logits with
``SparseCategoricalCrossentropy(from_logits=True)``; ``fit(train_ds,
validation_data=val_ds, epochs=3)``, one image classified as the tutorial does
(``load_img``, ``img_to_array``, ``ops.expand_dims``, ``ops.softmax``), saved to ``.keras``
and reloaded. The test writes the folder itself with Pillow: three classes of noisy
synthetic shapes (circles, squares, triangles), 32x32 RGB PNGs.

What is compared with Keras, and why (augmentation and dropout are random, and glassnet's
random streams are not TensorFlow's):

* the data: both libraries' ``image_dataset_from_directory`` give the same class names and
  the same training and validation files for the program's seed, and, with
  ``shuffle=False``, the same batches in the same order, pixel for pixel. With
  ``shuffle=True`` Keras also reshuffles the training files every epoch with
  ``tf.data``'s ``shuffle`` (``keras/src/utils/image_dataset_utils.py``), a stream glassnet
  cannot reproduce, so training is compared on the ``shuffle=False`` datasets;
* predictions of the program's model, augmentation and dropout included (both are the
  identity at inference), with the same weights: 1e-5 relative, before and after
  training, on the validation dataset and on the one classified image;
* three epochs of training, 1e-3 relative on losses and weights: the same program with
  the randomness taken out (``augment=False`` leaves the ``data_augmentation`` block out,
  ``dropout=0.0`` makes ``Dropout`` the identity), since the random draws of the two
  libraries cannot agree;
* the program as written (augmentation, dropout, shuffled files) trains under glassnet
  only: its loss falls and its history has Keras's keys, taken from Keras running the same
  program; its saved file loads in Keras and predicts glassnet's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from twins import (
    PREDICTION_RTOL,
    TRAINING_RTOL,
    assert_all_close,
    copy_weights,
    keras_loads,
    predict,
    real_keras,
    save_and_reload,
    weights_of,
)

import glassnet

Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")

CLASSES = ("circles", "squares", "triangles")
PER_CLASS = 30
IMAGE_SIZE = (32, 32)
BATCH_SIZE = 16
SEED = 123


def write_shapes(folder, per_class: int = PER_CLASS, seed: int = 0):
    """``folder/<class>/<n>.png``: a filled shape of a random size, place and colour on a
    dark background, with pixel noise (no flat regions, where max-pooling would meet exact
    ties that the two libraries' rounding may break differently)."""
    rng = np.random.default_rng(seed)
    for name in CLASSES:
        (folder / name).mkdir(parents=True)
        for n in range(per_class):
            image = Image.new(
                "RGB", IMAGE_SIZE[::-1], tuple(int(v) for v in rng.integers(0, 60, 3))
            )
            draw = ImageDraw.Draw(image)
            size = int(rng.integers(10, 22))
            left, top = (int(v) for v in rng.integers(2, 32 - size - 1, 2))
            colour = tuple(int(v) for v in rng.integers(120, 256, 3))
            box = (left, top, left + size, top + size)
            if name == "circles":
                draw.ellipse(box, fill=colour)
            elif name == "squares":
                draw.rectangle(box, fill=colour)
            else:
                draw.polygon(
                    [(left, top + size), (left + size, top + size), (left + size // 2, top)],
                    fill=colour,
                )
            pixels = np.asarray(image, dtype=np.int16) + rng.integers(-12, 13, (*IMAGE_SIZE, 3))
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
                folder / name / f"{n:02d}.png"
            )
    return folder


def datasets(keras, folder, shuffle: bool = True):
    """The tutorial's two calls: 80% of the files to train on, 20% to validate on."""
    common = dict(
        validation_split=0.2,
        seed=SEED,
        image_size=IMAGE_SIZE,
        batch_size=BATCH_SIZE,
        shuffle=shuffle,
        verbose=False,
    )
    train_ds = keras.utils.image_dataset_from_directory(folder, subset="training", **common)
    val_ds = keras.utils.image_dataset_from_directory(folder, subset="validation", **common)
    return train_ds, val_ds


def build(keras, augment: bool = True, dropout: float = 0.2):
    data_augmentation = keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomRotation(0.1),
            keras.layers.RandomZoom(0.1),
        ],
        name="data_augmentation",
    )
    inputs = keras.Input(shape=(*IMAGE_SIZE, 3), name="image")
    x = data_augmentation(inputs) if augment else inputs
    x = keras.layers.Rescaling(1.0 / 255, name="rescaling")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_1")(x)
    x = keras.layers.MaxPooling2D(name="pool_1")(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_2")(x)
    x = keras.layers.MaxPooling2D(name="pool_2")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(32, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(len(CLASSES), name="outputs")(x)
    model = keras.Model(inputs, outputs, name="shapes")
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def fit(model, train_ds, val_ds):
    return model.fit(train_ds, validation_data=val_ds, epochs=3, verbose=0).history


def classify(keras, model, path):
    """The tutorial's last step: one image file, its class probabilities."""
    img = keras.utils.load_img(path, target_size=IMAGE_SIZE)
    img_array = keras.ops.expand_dims(keras.utils.img_to_array(img), 0)  # a batch of one
    predictions = model.predict(img_array, verbose=0)
    return np.asarray(keras.ops.softmax(predictions[0]))


def batches(dataset):
    """Every ``(x, y)`` batch of one pass, as NumPy arrays."""
    return [(np.asarray(x), np.asarray(y)) for x, y in dataset]


def test_the_program_trains_classifies_saves_and_reloads(tmp_path):
    folder = write_shapes(tmp_path / "shapes")
    train_ds, val_ds = datasets(glassnet, folder)
    assert train_ds.class_names == list(CLASSES) == val_ds.class_names
    assert len(train_ds.file_paths) == 72 and len(val_ds.file_paths) == 18
    assert not set(train_ds.file_paths) & set(val_ds.file_paths)
    x, y = next(iter(train_ds))
    assert x.shape == (BATCH_SIZE, *IMAGE_SIZE, 3) and x.dtype == np.float32 and x.max() > 1

    glassnet.utils.set_random_seed(7)
    model = build(glassnet)
    augmentation = model.get_layer("data_augmentation")
    # Augmentation changes the images while training and leaves them alone otherwise.
    assert not np.allclose(np.asarray(augmentation(x, training=True)), x)
    np.testing.assert_array_equal(np.asarray(augmentation(x, training=False)), x)

    history = fit(model, train_ds, val_ds)
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 3 for values in history.values())
    assert history["loss"][-1] < history["loss"][0]

    scores = classify(glassnet, model, val_ds.file_paths[0])
    assert scores.shape == (len(CLASSES),)
    np.testing.assert_allclose(scores.sum(), 1.0, rtol=1e-6)
    val_x = np.concatenate([x for x, _ in batches(val_ds)])
    assert model.predict(val_ds, verbose=0).shape == (18, len(CLASSES))
    save_and_reload(model, tmp_path, "shapes", val_x)


def test_the_datasets_are_kerass(tmp_path):
    """The same split, class names and (unshuffled) batches as Keras's: what makes the
    comparisons below compare the same program on the same data."""
    keras = real_keras()
    folder = write_shapes(tmp_path / "shapes")
    for ours, theirs in zip(datasets(glassnet, folder), datasets(keras, folder), strict=True):
        assert ours.class_names == theirs.class_names == list(CLASSES)
        assert ours.file_paths == theirs.file_paths
    for ours, theirs in zip(
        datasets(glassnet, folder, shuffle=False),
        datasets(keras, folder, shuffle=False),
        strict=True,
    ):
        assert ours.file_paths == theirs.file_paths
        our_batches, their_batches = batches(ours), batches(theirs)
        assert len(our_batches) == len(their_batches)
        for (x, y), (their_x, their_y) in zip(our_batches, their_batches, strict=True):
            np.testing.assert_array_equal(x, their_x)
            np.testing.assert_array_equal(y, their_y)


# Keras's fit warns that its default shuffle=True does not apply to a tf.data dataset.
@pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
def test_the_program_matches_keras(tmp_path):
    keras = real_keras()
    folder = write_shapes(tmp_path / "shapes")
    our_data, their_data = datasets(glassnet, folder, False), datasets(keras, folder, False)
    val_x = np.concatenate([x for x, _ in batches(our_data[1])])
    image_path = our_data[1].file_paths[0]

    # The program's model, augmentation and dropout included: the same predictions.
    ours, theirs = build(glassnet), build(keras)
    copy_weights(ours, theirs)
    assert_all_close(
        predict(ours, our_data[1]), predict(theirs, their_data[1]), PREDICTION_RTOL, "predictions"
    )
    assert_all_close(
        classify(glassnet, ours, image_path),
        classify(keras, theirs, image_path),
        PREDICTION_RTOL,
        "one image's class probabilities",
    )

    # Three epochs of the program without its random parts, on the same batches.
    plain_ours, plain_theirs = build(glassnet, False, 0.0), build(keras, False, 0.0)
    copy_weights(ours, plain_ours)
    copy_weights(plain_ours, plain_theirs)
    our_history, their_history = fit(plain_ours, *our_data), fit(plain_theirs, *their_data)
    assert sorted(our_history) == sorted(their_history)
    for key in ("loss", "val_loss"):
        assert_all_close(our_history[key], their_history[key], TRAINING_RTOL, key)
    for key, rows in (("accuracy", 72), ("val_accuracy", 18)):
        # A fraction of the rows: one image's largest logit may tie differently, no more.
        np.testing.assert_allclose(our_history[key], their_history[key], atol=1.01 / rows)
    assert_all_close(
        weights_of(plain_ours), weights_of(plain_theirs), TRAINING_RTOL, "trained weights"
    )

    # The program as written, shuffled files, augmentation and dropout, under each library:
    # the same history keys; glassnet's loss falls; with glassnet's trained weights Keras's
    # model predicts glassnet's numbers, and it loads glassnet's file.
    glassnet.utils.set_random_seed(7)
    keras.utils.set_random_seed(7)
    copy_weights(ours, theirs)
    our_history = fit(ours, *datasets(glassnet, folder))
    their_history = fit(theirs, *datasets(keras, folder))
    assert sorted(our_history) == sorted(their_history)
    assert our_history["loss"][-1] < our_history["loss"][0]
    copy_weights(ours, theirs)
    assert_all_close(
        predict(ours, our_data[1]), predict(theirs, their_data[1]), PREDICTION_RTOL, "trained"
    )
    path = save_and_reload(ours, tmp_path, "shapes", val_x)
    keras_loads(keras, path, val_x, predict(ours, val_x))
