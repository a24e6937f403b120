"""``cifar100.load_data()``: 60,000 32x32 colour images of 100 classes in 20 superclasses,
as ``keras.datasets.cifar100`` (``keras/src/datasets/cifar100.py``); the pickles are read with
a restricted unpickler that builds NumPy arrays and nothing else.
"""

from __future__ import annotations

import os

import numpy as np

from glassnet import config
from glassnet.datasets._keras_files import load_cifar_batch
from glassnet.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode: str = "fine"):
    """Loads CIFAR-100.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(50000, 32, 32, 3)`` and
        ``(10000, 32, 32, 3)``, integer labels ``(50000, 1)`` and ``(10000, 1)``.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.'
        )
    path = get_file(fname="cifar-100-python-target", origin=ORIGIN, extract=True, file_hash=SHA256)
    path = os.path.join(path, "cifar-100-python")
    key = f"{label_mode}_labels"
    x_train, y_train = load_cifar_batch(os.path.join(path, "train"), label_key=key)
    x_test, y_test = load_cifar_batch(os.path.join(path, "test"), label_key=key)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    if config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
