"""``fashion_mnist.load_data()``: 70,000 28x28 images of 10 kinds of clothing, as
``keras.datasets.fashion_mnist`` (``keras/src/datasets/fashion_mnist.py``): four gzipped IDX
files cached in ``~/.keras/datasets/fashion-mnist``.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from glassnet.datasets._keras_files import ORIGIN_FOLDER
from glassnet.utils.file_utils import get_file

FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def _read(path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data():
    """Loads Fashion-MNIST (labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat,
    5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(60000, 28, 28)`` and
        ``(10000, 28, 28)``, uint8 labels ``(60000,)`` and ``(10000,)``.
    """
    folder = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(name, origin=ORIGIN_FOLDER + name, cache_subdir=folder) for name in FILES]
    y_train = _read(paths[0], 8)
    x_train = _read(paths[1], 16).reshape(len(y_train), 28, 28)
    y_test = _read(paths[2], 8)
    x_test = _read(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
