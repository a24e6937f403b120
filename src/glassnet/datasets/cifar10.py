"""``cifar10.load_data()``: 60,000 32x32 colour images of 10 classes, as
``keras.datasets.cifar10`` (``keras/src/datasets/cifar10.py``): the python-format archive
(163 MB) is downloaded and extracted once into ``~/.keras/datasets``. Its batches are pickles,
read with a restricted unpickler that builds NumPy arrays and nothing else.
"""

from __future__ import annotations

import os

import numpy as np

from glassnet import config
from glassnet.datasets._keras_files import load_cifar_batch
from glassnet.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """Loads CIFAR-10 (0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog,
    7 horse, 8 ship, 9 truck).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(50000, 32, 32, 3)`` and
        ``(10000, 32, 32, 3)`` (channels first with ``image_data_format()`` set to
        ``"channels_first"``), uint8 labels ``(50000, 1)`` and ``(10000, 1)``.
    """
    path = get_file(
        fname="cifar-10-batches-py-target", origin=ORIGIN, extract=True, file_hash=SHA256
    )
    path = os.path.join(path, "cifar-10-batches-py")
    parts = [load_cifar_batch(os.path.join(path, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in parts]).astype(np.uint8)
    y_train = np.concatenate([np.asarray(y) for _, y in parts]).astype(np.uint8)
    x_test, y_test = load_cifar_batch(os.path.join(path, "test_batch"))
    x_test = x_test.astype(np.uint8)
    y_train = y_train.reshape(len(y_train), 1)
    y_test = np.asarray(y_test).astype(np.uint8).reshape(len(y_test), 1)
    if config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
