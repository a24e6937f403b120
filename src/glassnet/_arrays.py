"""Turning what users pass to ``fit``/``predict`` into checked float arrays.

Everything a user can get wrong about their data is caught here, at the public boundary,
with an error that names the argument and the offending column or row: text or ``None`` in
numeric data, NaN or infinity, values too large for float32, datetime columns, a wrong
number of columns, mismatched lengths.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.errors import DataError


def _column_label(columns, index: int) -> str:
    if columns is not None:
        return repr(columns[index])
    return str(index)


def _describe_position(arr: np.ndarray, mask: np.ndarray, columns, first_row: int = 0) -> str:
    where = np.argwhere(mask)[0]
    row = first_row + int(where[0])
    if arr.ndim == 1:
        return f"row {row}"
    return f"row {row}, column {_column_label(columns, int(where[1]))}"


def _from_pandas(data, what: str):
    """Returns (ndarray, column names or None) from a DataFrame or Series, checking dtypes."""
    kind = type(data).__name__
    if kind == "DataFrame":
        bad = [
            f"{col!r} ({dtype})" for col, dtype in data.dtypes.items() if dtype.kind not in "biuf"
        ]
        if bad:
            raise DataError(
                f"`{what}` must be numeric, but column(s) {', '.join(bad)} are not. Encode text "
                "categories as numbers first (for example with pandas.get_dummies) and convert "
                "dates to numbers."
            )
        return data.to_numpy(dtype=np.float64), list(data.columns)
    if data.dtype.kind not in "biuf":
        raise DataError(
            f"`{what}` must be numeric, but the Series {data.name!r} has dtype {data.dtype}"
        )
    return data.to_numpy(), None


def _is_pandas(data) -> bool:
    return type(data).__module__.startswith("pandas") and hasattr(data, "to_numpy")


def check_finite(arr: np.ndarray, what: str, first_row: int = 0, columns=None) -> None:
    """Raises ``DataError`` naming the first NaN or infinity in ``arr``, if there is one.

    The sum of finite values is finite unless it overflows, so one sum (no mask to
    allocate) clears almost all data; only a non-finite sum looks for the culprit.
    ``first_row``: the row number of ``arr[0]`` in the user's data, for the message.
    """
    if arr.dtype.kind != "f" or math.isfinite(float(np.add.reduce(arr, axis=None))):
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        value = arr[bad].flat[0]
        # The same check guards fit, evaluate and predict: the advice names no one of them.
        name, advice = (("NaN", "fill or drop the missing values first") if math.isnan(value)
                        else ("infinity", "replace it with a finite value or drop the row"))
        raise DataError(
            f"`{what}` contains {name} at {_describe_position(arr, bad, columns, first_row)}; "
            f"{advice}"
        )


def to_array(
    data, what: str, dtype, integer_ok: bool = False, check_batches_later: bool = False
) -> tuple[np.ndarray, list | None]:
    """Converts ``data`` to a finite array of ``dtype`` (or integers when ``integer_ok``).

    Args:
        data: NumPy array, nested lists, pandas DataFrame or Series.
        what: the argument's name for error messages (``"x"``, ``"y"``, ...).
        dtype: the float dtype to convert to.
        integer_ok: keep integer data as integers (class labels for sparse losses).
        check_batches_later: the caller runs ``check_finite`` on each batch just before
            using it (while the batch is in the CPU's cache, which costs a fraction of a
            separate pass over a large array); an array that needs no conversion is then
            returned unchecked.

    Returns:
        The array and the column names, if the data had any.

    Raises:
        DataError: for text, ``None``, dates, NaN, infinity, or values beyond ``dtype``'s range.
        TypeError: when ``data`` is not array-like at all.
    """
    if type(data) is np.ndarray and data.dtype == dtype and data.size and data.flags.c_contiguous:
        if not check_batches_later:
            check_finite(data, what)
        return data, None  # already what is needed: the common case
    if data is None:
        raise TypeError(f"`{what}` is required; received None")
    columns = None
    if _is_pandas(data):
        arr, columns = _from_pandas(data, what)
    else:
        try:
            arr = np.asarray(data)
        except ValueError as error:  # ragged nested lists
            raise DataError(
                f"`{what}` must be rectangular; rows have different lengths ({error})"
            ) from None
    if arr.ndim == 0:
        raise DataError(
            f"`{what}` must be an array of rows; received a single {type(data).__name__} value "
            f"{data!r}. To train from a CSV file, read it first (pandas.read_csv, or "
            "glassnet.data.read_csv to stream it)"
        )
    if arr.dtype.kind == "c":
        raise DataError(f"`{what}` holds complex numbers ({arr.dtype}); glassnet needs real values")
    if arr.dtype.kind in "mM":
        raise DataError(
            f"`{what}` holds dates or times ({arr.dtype}); convert them to numbers first"
        )
    if arr.dtype.kind not in "biuf":
        arr = _coerce_objects(arr, what, columns)
    if arr.size == 0:
        raise DataError(f"`{what}` is empty (shape {arr.shape}); there is nothing to learn from")
    if integer_ok and arr.dtype.kind in "biu":
        return arr, columns
    check_finite(arr, what, columns=columns)
    if arr.dtype.kind in "fiu" and arr.dtype.itemsize > np.dtype(dtype).itemsize:
        too_big = np.abs(arr) > np.finfo(dtype).max
        if too_big.any():
            raise DataError(
                f"`{what}` has a value too large for {np.dtype(dtype).name} at "
                f"{_describe_position(arr, too_big, columns)}: {arr[too_big].flat[0]!r}; "
                "scale the data first"
            )
    return np.ascontiguousarray(arr, dtype=dtype), columns


def _coerce_objects(arr: np.ndarray, what: str, columns) -> np.ndarray:
    """Object or string arrays: numbers stored as objects convert; anything else is named."""
    flat = arr.reshape(-1)
    out = np.empty(flat.shape, dtype=np.float64)
    for i, value in enumerate(flat):
        if value is None or isinstance(value, (str, bytes)) and not _is_number_text(value):
            position = np.unravel_index(i, arr.shape)
            where = f"row {position[0]}" + (
                f", column {_column_label(columns, position[1])}" if arr.ndim > 1 else ""
            )
            # NumPy hands back np.str_ from mixed lists; show the text, not its NumPy repr.
            shown = repr(value.item() if isinstance(value, np.generic) else value)
            raise DataError(f"`{what}` must be numeric, but holds {shown} at {where}")
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            raise DataError(
                f"`{what}` must be numeric, but holds {value!r} of type {type(value).__name__}"
            ) from None
    return out.reshape(arr.shape)


def _is_number_text(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def check_validation_split(validation_split) -> None:
    """Raises unless ``validation_split`` is a number in [0, 1)."""
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, (int, float))
        or not 0 <= validation_split < 1
    ):
        raise ValueError(
            "`validation_split` must be a number in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )


def validation_split_index(rows: int, validation_split: float) -> int:
    """Row index where training data ends and validation data begins.

    Keras takes the *last* fraction of the rows, before any shuffling
    (``keras/src/trainers/data_adapters/data_adapter_utils.py``,
    ``train_validation_split``): ``split_at = floor(rows * (1 - validation_split))``.
    """
    check_validation_split(validation_split)
    split_at = int(math.floor(rows * (1.0 - validation_split)))
    if validation_split and (split_at == 0 or split_at == rows):
        raise ValueError(
            f"Training data contains {rows} rows, which is not enough to split into training and "
            f"validation sets with validation_split={validation_split}. Provide more data or a "
            "different validation_split."
        )
    return split_at
