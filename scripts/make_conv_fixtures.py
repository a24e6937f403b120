"""Regenerates the Keras-written convolutional fixtures in ``tests/fixtures/keras/conv/``.

Run it with Keras 3 installed (and tf_keras too, for Keras 2 files)::

    python scripts/make_conv_fixtures.py            # writes tests/fixtures/keras/conv/
    python scripts/make_conv_fixtures.py --out DIR

Each model is built in Keras from a plain description, trained for 2 epochs on fixed
random images and saved as ``STEM.keras``, ``STEM.h5`` and ``STEM.weights.h5`` (tf_keras:
``STEM.h5`` and ``STEM_weights.h5``). ``STEM.json`` beside them records the plain layers,
the input shape, 3 probe images and Keras's predictions for them, in the form of the
fixtures in ``tests/fixtures/keras/own/``. ``tests/saving/test_conv_fixtures.py`` reads
only the committed files; it never needs TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

ROWS, BATCH, EPOCHS = 32, 8, 2

# stem, input shape, plain layers ({"class": name, **arguments}), optimizer, Keras 2 too?
SPECS = [
    (
        "conv_mnist_like",
        (12, 12, 1),
        [
            {"class": "Rescaling", "scale": 0.5},
            {"class": "Conv2D", "filters": 4, "kernel_size": [3, 3], "activation": "relu"},
            {"class": "MaxPooling2D", "pool_size": [2, 2]},
            {"class": "Conv2D", "filters": 6, "kernel_size": [3, 3], "activation": "relu"},
            {"class": "MaxPooling2D", "pool_size": [2, 2]},
            {"class": "Flatten"},
            {"class": "Dropout", "rate": 0.5},
            {"class": "Dense", "units": 3, "activation": "softmax"},
        ],
        "adam",
        True,
    ),
    (
        "conv_options",
        (9, 8, 4),
        [
            {"class": "ZeroPadding2D", "padding": [[1, 0], [2, 1]]},
            {
                "class": "Conv2D",
                "filters": 6,
                "kernel_size": [3, 2],
                "strides": [2, 1],
                "padding": "same",
                "groups": 2,
                "activation": "tanh",
            },
            {"class": "BatchNormalization", "momentum": 0.5},
            {
                "class": "DepthwiseConv2D",
                "kernel_size": [2, 2],
                "depth_multiplier": 2,
                "dilation_rate": [2, 2],
                "padding": "same",
            },
            {"class": "SeparableConv2D", "filters": 4, "kernel_size": [2, 2], "activation": "relu"},
            {
                "class": "AveragePooling2D",
                "pool_size": [2, 2],
                "strides": [1, 1],
                "padding": "same",
            },
            {"class": "Conv2DTranspose", "filters": 3, "kernel_size": [3, 3], "strides": [2, 2]},
            {"class": "Cropping2D", "cropping": [[1, 1], [2, 0]]},
            {"class": "UpSampling2D", "size": [1, 2]},
            {"class": "SpatialDropout2D", "rate": 0.2},
            {"class": "GlobalMaxPooling2D"},
            {"class": "Dense", "units": 3, "activation": "softmax"},
        ],
        "sgd",
        False,
    ),
    (
        "conv_channels_first",
        (3, 8, 8),
        [
            {
                "class": "Conv2D",
                "filters": 4,
                "kernel_size": [3, 3],
                "data_format": "channels_first",
                "activation": "relu",
            },
            {"class": "MaxPooling2D", "pool_size": [2, 2], "data_format": "channels_first"},
            {"class": "GlobalAveragePooling2D", "data_format": "channels_first"},
            {"class": "Dense", "units": 3, "activation": "softmax"},
        ],
        "rmsprop",
        False,
    ),
    (
        "conv_augmented",
        (8, 8, 3),
        [
            {"class": "RandomFlip", "mode": "horizontal", "seed": 1},
            {"class": "RandomRotation", "factor": 0.1, "seed": 2},
            {"class": "RandomZoom", "height_factor": 0.1, "seed": 3},
            {"class": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1, "seed": 4},
            {"class": "RandomContrast", "factor": 0.2, "seed": 5},
            {"class": "Conv2D", "filters": 4, "kernel_size": [3, 3], "activation": "relu"},
            {"class": "GlobalAveragePooling2D"},
            {"class": "Dense", "units": 3, "activation": "softmax"},
        ],
        "adam",
        False,
    ),
    (
        "conv_sequence",
        (10, 3),
        [
            {
                "class": "Conv1D",
                "filters": 4,
                "kernel_size": 3,
                "padding": "causal",
                "dilation_rate": 2,
                "activation": "relu",
            },
            {"class": "MaxPooling1D", "pool_size": 2},
            {"class": "Conv1D", "filters": 4, "kernel_size": 2, "strides": 2, "padding": "same"},
            {"class": "AveragePooling1D", "pool_size": 2, "padding": "same"},
            {"class": "GlobalMaxPooling1D"},
            {"class": "Dense", "units": 3, "activation": "softmax"},
        ],
        "adam",
        True,
    ),
]


def _layer(keras, plain: dict):
    args = dict(plain)
    return getattr(keras.layers, args.pop("class"))(**args)


def _exact(array) -> list:
    return np.asarray(array, dtype=np.float64).tolist()


def make(keras, tf_version, stem, input_shape, layers, optimizer, out):
    keras.utils.set_random_seed(1234)
    keras2 = not keras.__version__.startswith("3")
    built = [_layer(keras, p) for p in layers]
    if keras2:  # tf.keras 2 course style: the first layer declares the input shape
        built[0] = _layer(keras, {**layers[0], "input_shape": input_shape})
    else:
        built.insert(0, keras.Input(shape=input_shape))
    model = keras.Sequential(built)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(len(stem))
    x = rng.uniform(0, 2, size=(ROWS, *input_shape)).astype(np.float32)
    y = rng.integers(0, 3, size=ROWS)
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    stem = f"{stem}_k2" if keras2 else stem
    weights = f"{stem}_weights.h5" if keras2 else f"{stem}.weights.h5"
    files = [f"{stem}.h5", weights] if keras2 else [f"{stem}.keras", f"{stem}.h5", weights]
    for name in files[:-1]:
        model.save(os.path.join(out, name))
    model.save_weights(os.path.join(out, files[-1]))
    probe = np.random.default_rng(99).uniform(0, 2, size=(3, *input_shape)).astype(np.float32)
    meta = {
        "name": stem,
        "framework": "tf_keras" if keras2 else "keras",
        "keras_version": keras.__version__,
        "tensorflow_version": tf_version,
        "files": files,
        "input_shape": [None, *input_shape],
        "layers": layers,
        "optimizer": optimizer,
        "input": _exact(probe),
        "predictions": _exact(model.predict(probe, verbose=0)),
    }
    with open(os.path.join(out, f"{stem}.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("wrote", stem)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "tests", "fixtures", "keras", "conv"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import keras
    import tensorflow as tf

    for stem, shape, layers, optimizer, _ in SPECS:
        make(keras, tf.__version__, stem, shape, layers, optimizer, args.out)
    try:
        import tf_keras
    except ImportError:
        print("tf_keras is not installed: no Keras 2 fixtures made")
        return
    for stem, shape, layers, optimizer, keras2 in SPECS:
        if keras2:
            make(tf_keras, tf.__version__, stem, shape, layers, optimizer, args.out)


if __name__ == "__main__":
    main()
