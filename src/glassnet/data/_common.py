"""What both readers check: paths, column choices, sizes, and numbers in a chunk."""

from __future__ import annotations

import difflib
import numbers
import os
from collections.abc import Sequence

import numpy as np

from glassnet.models import DataError


def check_paths(path) -> list[str]:
    """One path or a list of them, each an existing file."""
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path or [])
    if not paths:
        raise ValueError("`path` must name at least one file")
    out = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"`path` must be a file path or a list of them. Received: {p!r}")
        p = os.fspath(p)
        if not os.path.isfile(p):
            raise FileNotFoundError(f"No such file: {p!r}")
        out.append(p)
    return out


def check_int(value, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"`{what}` must be {kind}. Received: {what}={value!r}")
    return int(value)


def check_seed(seed) -> int | None:
    if seed is None:
        return None
    return check_int(seed, "seed", 0)


def _one_column(key, names: list[str], what: str, source: str) -> int:
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        if not -len(names) <= key < len(names):
            raise ValueError(f"`{what}` column index {key} is out of range: {source} has "
                             f"{len(names)} columns")
        return int(key) % len(names)
    if isinstance(key, str):
        if key in names:
            return names.index(key)
        close = difflib.get_close_matches(key, names, n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"`{what}`: {source} has no column {key!r}.{hint} Its columns are: "
                         f"{', '.join(names)}")
    raise TypeError(f"`{what}` must name columns by name or index. Received: {key!r}")


def select_columns(names: list[str], target, features, source: str) -> tuple[list[int], list[int]]:
    """Indices of the feature columns and of the target columns.

    ``target`` is a column (name or index) or a list of them; ``features`` the same, or
    ``None`` for every other column.
    """
    if target is None:
        raise ValueError(f"`target` is required: the column to predict. {source} has columns: "
                         f"{', '.join(names)}")
    targets = target if isinstance(target, Sequence) and not isinstance(target, str) else [target]
    y_idx = [_one_column(t, names, "target", source) for t in targets]
    if not y_idx:
        raise ValueError("`target` must name at least one column")
    if features is None:
        x_idx = [i for i in range(len(names)) if i not in y_idx]
    else:
        cols = features if isinstance(features, Sequence) and not isinstance(features, str) \
            else [features]
        x_idx = [_one_column(f, names, "features", source) for f in cols]
        both = sorted(set(x_idx) & set(y_idx))
        if both:
            raise ValueError(f"Column(s) {[names[i] for i in both]} are both features and target")
    if not x_idx:
        raise ValueError(f"{source} has no feature columns besides the target")
    return x_idx, y_idx


def check_finite(chunk: np.ndarray, columns: list[str], source: str, first_row: int) -> None:
    """Raises ``DataError`` naming the first row and column holding NaN or infinity.

    ``first_row`` is the data-row number (from 1, header not counted) of ``chunk[0]``.
    """
    bad = ~np.isfinite(chunk)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        value = chunk[row, col]
        what = "is empty or NaN" if np.isnan(value) else f"is {value} (too large for float32?)"
        raise DataError(f"{source}, data row {first_row + int(row)}: column {columns[col]!r} "
                        f"{what}. Fill or drop missing values before training.")


def to_float32(chunk: np.ndarray, columns: list[str], source: str, first_row: int) -> np.ndarray:
    """``chunk`` (float64, as read) as float32, after :func:`check_finite` and a check that
    every value fits float32: ``1e308`` is named with its row and column, not turned into
    infinity with NumPy's ``RuntimeWarning`` first."""
    check_finite(chunk, columns, source, first_row)
    if chunk.dtype != np.float32:
        with np.errstate(over="ignore"):
            small = chunk.astype(np.float32)
        too_large = np.isinf(small)
        if too_large.any():
            row, col = np.argwhere(too_large)[0]
            raise DataError(f"{source}, data row {first_row + int(row)}: column "
                            f"{columns[col]!r} holds {float(chunk[row, col])!r}, too large for "
                            "float32 (the largest is about 3.4e38); rescale or drop it")
        chunk = small
    return chunk
