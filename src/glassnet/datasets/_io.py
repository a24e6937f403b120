"""Private helpers for ``glassnet.datasets``: reading the shipped files, optional imports.

Everything here works without pandas; pandas is imported only when a loader is asked for a
DataFrame. Files are read with :mod:`importlib.resources`, so the data are found wherever
glassnet is installed (a directory, a wheel, a zip) and nothing ever touches the network.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from importlib import resources
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

_DATA_PACKAGE = "glassnet.datasets"
_DATA_DIR = "data"


def data_bytes(filename: str) -> bytes:
    """Return the raw bytes of a file shipped in ``glassnet/datasets/data/``.

    Args:
        filename: the file's name inside the data directory, e.g. ``"titanic.csv"``.

    Returns:
        The file's contents, still gzip-compressed for ``.gz`` files.
    """
    return resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR).joinpath(filename).read_bytes()


def read_numeric_csv(filename: str, *, header: bool, dtype: type = np.float64) -> np.ndarray:
    """Read an all-numeric CSV (optionally gzip-compressed) shipped with glassnet.

    Args:
        filename: the file's name inside the data directory.
        header: whether the first line holds column names (it is skipped).
        dtype: dtype to parse into (``np.int64`` is much faster for all-integer files).

    Returns:
        An array of shape ``(rows, columns)`` and the given dtype.
    """
    raw = data_bytes(filename)
    if filename.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = io.StringIO(raw.decode("ascii"))
    return np.loadtxt(text, delimiter=",", skiprows=1 if header else 0, dtype=dtype, ndmin=2)


def csv_header(filename: str) -> list[str]:
    """Return the column names on the first line of a shipped, uncompressed CSV file."""
    first = data_bytes(filename).decode("ascii").split("\n", 1)[0]
    return first.strip().split(",")


def require_pandas(loader: str) -> ModuleType:
    """Import pandas, or explain how to get it.

    Args:
        loader: the public loader's name, used in the message.

    Returns:
        The pandas module.

    Raises:
        ImportError: if pandas is not installed.
    """
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            f"glassnet.datasets.{loader}(as_frame=True) returns a pandas DataFrame, but pandas "
            "is not installed. Install it with `pip install pandas`, or call "
            f"{loader}(as_frame=False) to get NumPy arrays instead."
        ) from exc
    return pandas


def require_sklearn(loader: str) -> ModuleType:
    """Import ``sklearn.datasets``, or explain how to get scikit-learn.

    Args:
        loader: the public loader's name, used in the message.

    Returns:
        The ``sklearn.datasets`` module.

    Raises:
        ImportError: if scikit-learn is not installed.
    """
    try:
        from sklearn import datasets
    except ImportError as exc:
        raise ImportError(
            f"glassnet.datasets.{loader}() reads its data from scikit-learn, which is not "
            "installed. Install it with `pip install 'scikit-learn>=1.6'`."
        ) from exc
    return datasets


def permutation(n: int, seed: int | None) -> np.ndarray:
    """Return the row order used when a loader shuffles: ``default_rng(seed).permutation(n)``."""
    return np.random.default_rng(seed).permutation(n)


def to_frame(
    loader: str,
    columns: dict[str, np.ndarray],
    *,
    name: str,
    target: str,
) -> pd.DataFrame:
    """Build a DataFrame from named columns and record the dataset's name and target.

    Args:
        loader: the public loader's name, for the ImportError message.
        columns: column name -> 1-D array, in the order the columns should appear.
        name: the dataset's canonical name, stored in ``frame.attrs["name"]``.
        target: the target column, stored in ``frame.attrs["target"]``.

    Returns:
        The DataFrame, with a fresh ``RangeIndex``.
    """
    pd = require_pandas(loader)
    frame = pd.DataFrame(columns, copy=False)
    frame.attrs["name"] = name
    frame.attrs["target"] = target
    return frame


def block_frame(
    loader: str,
    values: np.ndarray,
    column_names: Sequence[str],
    *,
    name: str,
    target: str,
) -> pd.DataFrame:
    """Like :func:`to_frame` but from one 2-D array of a single dtype (fast for wide tables)."""
    pd = require_pandas(loader)
    frame = pd.DataFrame(values, columns=list(column_names), copy=False)
    frame.attrs["name"] = name
    frame.attrs["target"] = target
    return frame


def split_xy(values: Any, target_index: int, y_dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """Split a 2-D numeric array into float32 predictors and a 1-D target.

    Args:
        values: the table as a 2-D array, target column included.
        target_index: position of the target column.
        y_dtype: dtype of the returned target (``np.int64`` for class labels, ``np.float32``
            for regression targets).

    Returns:
        ``(x, y)``: ``x`` of shape ``(rows, columns - 1)`` and dtype float32, ``y`` of shape
        ``(rows,)``.
    """
    values = np.asarray(values)
    x = np.delete(values, target_index, axis=1).astype(np.float32)
    y = values[:, target_index].astype(y_dtype)
    return np.ascontiguousarray(x), y
