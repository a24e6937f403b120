"""``boston_housing.load_data()``: 506 Boston suburbs of the 1970s, 13 features and the median
home value, as ``keras.datasets.boston_housing`` (``keras/src/datasets/boston_housing.py``).
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets._keras_files import ORIGIN_FOLDER, check_test_split, shuffled_split
from glassnet.utils.file_utils import get_file

SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113):
    """Loads the Boston housing prices.

    Args:
        path: the file's name in the cache.
        test_split: the fraction of rows kept for testing, in ``[0, 1)``.
        seed: the shuffle's seed (Keras's ``np.random.RandomState(seed)``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 ``x`` of 13 columns, float64 ``y``
        in thousands of dollars (404 training rows with the default split).
    """
    check_test_split(test_split)
    path = get_file(path, origin=f"{ORIGIN_FOLDER}boston_housing.npz", file_hash=SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffled_split(x, y, test_split, seed)
