"""``mnist.load_data()``: 70,000 28x28 handwritten digits, as ``keras.datasets.mnist``.

Downloads ``mnist.npz`` once (11 MB) into ``~/.keras/datasets`` (or ``$KERAS_HOME``), from
the same public file and with the same sha256 as Keras (``keras/src/datasets/mnist.py``).
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets._keras_files import ORIGIN_FOLDER
from glassnet.utils.file_utils import get_file

SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz"):
    """Loads the MNIST digits.

    Args:
        path: the file's name in the cache (``~/.keras/datasets``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(60000, 28, 28)`` and
        ``(10000, 28, 28)`` with pixels 0-255, and uint8 labels 0-9 ``(60000,)``,
        ``(10000,)``.
    """
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}mnist.npz", file_hash=SHA256)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
