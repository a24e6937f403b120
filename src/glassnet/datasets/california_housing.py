"""``california_housing.load_data()``: 20,640 California districts of the 1990 census,
8 features and the median house value, as ``keras.datasets.california_housing``
(``keras/src/datasets/california_housing.py``).
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets._keras_files import ORIGIN_FOLDER, check_test_split, shuffled_split
from glassnet.utils.file_utils import get_file

SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(
    version: str = "large",
    path: str = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
):
    """Loads the California housing prices.

    Args:
        version: ``"large"`` (all 20,640 rows) or ``"small"`` (the first 600).
        path: the file's name in the cache.
        test_split: the fraction of rows kept for testing, in ``[0, 1)``.
        seed: the shuffle's seed.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` of 8 columns and ``y`` in dollars.
    """
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError(
            f"Argument `version` must be one of 'small', 'large'. Received: version={version}"
        )
    path = get_file(path, origin=f"{ORIGIN_FOLDER}california_housing.npz", file_hash=SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffled_split(x, y, test_split, seed)
