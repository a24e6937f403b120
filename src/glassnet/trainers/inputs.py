"""Turning what a user passes to ``fit``, ``evaluate`` and ``predict`` into the arrays a pass
takes: inputs of the model's row shape, targets that fit its output and the loss, weights
per row (or per row and step), each refused with an error that names what is wrong.
"""

from __future__ import annotations

import numpy as np

from glassnet import config as config_module
from glassnet import losses as losses_module
from glassnet._arrays import to_array
from glassnet.errors import DataError
from glassnet.trainers.batches import is_batch_stream, make_stream, unpack_batch
from glassnet.trainers.multi_output import ArrayGroup, structure_for


def as_verbosity(verbose) -> int:
    """``verbose`` as 0, 1 or 2 (``"auto"`` is 1)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool):
        return int(verbose)
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def positive_int(value, what: str) -> int:
    """``value`` as a positive ``int``, or a ``ValueError`` naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"`{what}` must be a positive integer. Received: {what}={value!r}")
    return int(value)


def _reshape_hint(what: str, got: tuple, want: tuple) -> str:
    """Shows the reshape when the rows hold the right number of values in another shape
    (flat pixels given to a convolutional model)."""
    if len(want) < 2 or int(np.prod(got)) != int(np.prod(want)):
        return ""
    return f". Reshape the data first: {what}.reshape(-1, {', '.join(map(str, want))})"


class Inputs:
    """Checks and converts the data given to the model (mixed into ``Trainer``)."""

    def _prepare_x(self, x, what: str = "x", check_batches_later: bool = False) -> np.ndarray:
        if self._multi_input or (isinstance(x, dict) and hasattr(self, "input_names")):
            return self._prepare_inputs(x, what, check_batches_later)
        arr, columns = to_array(x, what, config_module.floatx(), False, check_batches_later)
        if arr.ndim == 1:
            expected = self.input_shape
            if expected is not None and len(expected) == 1 and expected[0] != 1:
                if arr.shape[0] != expected[0]:
                    raise DataError(
                        f"`{what}` is a single row of {arr.shape[0]} values, but the model "
                        f"expects {expected[0]} features (input_shape={tuple(expected)})"
                    )
                arr = arr.reshape(1, -1)  # a single row
            else:
                arr = arr.reshape(-1, 1)
        if not self.built:
            self.build(arr.shape[1:] if self.input_shape is None else None)
        if arr.shape[1:] != tuple(self.input_shape):
            got = arr.shape[1] if arr.ndim == 2 else arr.shape[1:]
            want = self.input_shape[0] if len(self.input_shape) == 1 else self.input_shape
            unit = "columns" if arr.ndim == 2 and len(self.input_shape) == 1 else "row shape"
            raise DataError(
                f"`{what}` has {got} {unit}, but the model expects {want} "
                f"(input_shape={tuple(self.input_shape)})"
                + (f". Columns received: {columns}" if columns else "")
                + _reshape_hint(what, arr.shape[1:], tuple(self.input_shape))
            )
        return arr

    def _prepare_inputs(self, x, what: str, check_batches_later: bool):
        """The arrays of a model of several inputs (a list, or a dict by input name), each
        checked against its input's row shape; one ``ArrayGroup`` of them."""
        arrays = []
        for tensor, value in zip(self.inputs, self._split_inputs(x), strict=True):
            label = f"{what}[{tensor.name!r}]"
            arr, _ = to_array(value, label, config_module.floatx(), False, check_batches_later)
            if arr.ndim == 1 and len(tensor.row_shape) == 1 and tensor.row_shape[0] == 1:
                arr = arr.reshape(-1, 1)
            if arr.shape[1:] != tensor.row_shape:
                raise DataError(
                    f"{label} has rows of shape {arr.shape[1:]}, but input {tensor.name!r} "
                    f"expects rows of shape {tensor.row_shape}"
                )
            arrays.append(arr)
        rows = {len(arr) for arr in arrays}
        if len(rows) > 1:
            counts = {t.name: len(a) for t, a in zip(self.inputs, arrays, strict=True)}
            raise DataError(f"The inputs have different numbers of rows: {counts}")
        return ArrayGroup(arrays) if len(arrays) > 1 else arrays[0]

    def _prepare_targets(self, y, rows: int, what: str):
        """The targets of a model of several outputs (a list, or a dict by output name)."""
        if isinstance(y, dict):
            unknown = [key for key in y if key not in self.output_names]
            if unknown:
                raise DataError(
                    f"`{what}` names {unknown[0]!r}, which is not an output of the model; its "
                    f"outputs are {self.output_names}"
                )
        per_output = structure_for(self.output_names, y, what) if isinstance(
            y, (list, tuple, dict)
        ) else None
        if per_output is None:
            raise DataError(
                f"The model has {len(self.output_names)} outputs ({self.output_names}); `{what}` "
                "must be a list of arrays in output order or a dict keyed by output name"
            )
        arrays = []
        for name, loss, value in zip(self.output_names, self.loss.losses, per_output,
                                     strict=True):
            if value is None:
                raise DataError(f"`{what}` has no targets for output {name!r}")
            sparse = isinstance(loss, losses_module.SparseCategoricalCrossentropy)
            arr, _ = to_array(value, f"{what}[{name!r}]", config_module.floatx(),
                              integer_ok=sparse)
            if len(arr) != rows:
                raise DataError(
                    f"`x` and `{what}[{name!r}]` must have the same number of rows; x has "
                    f"{rows}, the targets have {len(arr)}"
                )
            if sparse:
                arr = arr.reshape(rows)
            elif arr.ndim == 1:
                arr = arr.reshape(rows, 1)
            arrays.append(arr)
        self._target_shapes = [arr.shape for arr in arrays]
        return ArrayGroup(arrays)

    def _prepare_y(self, y, rows: int, what: str = "y") -> np.ndarray:
        if self._multi_output:
            return self._prepare_targets(y, rows, what)
        sparse = isinstance(self.loss, losses_module.SparseCategoricalCrossentropy)
        arr, _ = to_array(y, what, config_module.floatx(), integer_ok=sparse)
        if len(arr) != rows:
            raise DataError(
                f"`x` and `{what}` must have the same number of rows; "
                f"x has {rows}, {what} has {len(arr)}"
            )
        units = self.output_shape[-1]
        if sparse:
            if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != 1):
                raise DataError(
                    f"sparse_categorical_crossentropy expects one integer class label per row; "
                    f"`{what}` has shape {arr.shape}. For one-hot rows use "
                    "loss='categorical_crossentropy'"
                )
            arr = arr.reshape(rows)
            losses_module.SparseCategoricalCrossentropy._labels(arr, units)
            return arr
        if arr.ndim == 1:
            arr = arr.reshape(rows, 1)
        if arr.shape[1:] != tuple(self.output_shape):
            hint = ""
            if isinstance(self.loss, losses_module.CategoricalCrossentropy) and arr.shape[1:] == (
                1,
            ):
                hint = (
                    ". categorical_crossentropy needs one-hot targets: use "
                    "glassnet.utils.to_categorical(y), or loss='sparse_categorical_crossentropy' "
                    "for integer labels"
                )
            raise DataError(
                f"`{what}` has shape {arr.shape[1:]} per row, but the model's output has shape "
                f"{tuple(self.output_shape)} (the last layer has {units} units){hint}"
            )
        return arr

    def _prepare_weights(self, sample_weight, class_weight, y: np.ndarray) -> np.ndarray | None:
        """One weight per row (``(rows,)``), or per row and step for sequence outputs
        (``(rows, steps)``, as Keras accepts), times the class weights of each row."""
        weights = None
        if sample_weight is not None:
            weights, _ = to_array(sample_weight, "sample_weight", config_module.floatx())
            if weights.size == len(y):
                weights = weights.reshape(-1)
            elif weights.ndim < 2:
                raise DataError(f"`sample_weight` has {weights.size} values for {len(y)} rows")
            elif len(weights) != len(y) or weights.shape[1:] != y.shape[1 : weights.ndim]:
                raise DataError(
                    f"`sample_weight` has shape {weights.shape}; it needs one value per row "
                    f"({len(y)}), or one per row and step (shape {y.shape[:2]})"
                )
            if (weights < 0).any():
                raise DataError("`sample_weight` must not be negative")
        if class_weight:
            if y.ndim == 1:
                labels = y.astype(np.int64)
            elif y.shape[1] == 1:
                labels = np.round(y[:, 0]).astype(np.int64)
            else:
                labels = np.argmax(y, axis=1)
            table = np.ones(
                int(max(labels.max(), max(class_weight))) + 1, dtype=config_module.floatx()
            )
            for cls, w in class_weight.items():
                table[int(cls)] = w
            per_row = table[labels]
            if weights is not None:
                per_row = per_row.reshape(per_row.shape + (1,) * (weights.ndim - 1))
            weights = per_row if weights is None else weights * per_row
        return weights

    def _convert_batch(self, batch) -> tuple:
        xb, yb, wb = unpack_batch(batch)
        xb = self._prepare_x(xb)
        yb = self._prepare_y(yb, len(xb))
        return xb, yb, self._prepare_weights(wb, None, yb)

    def _prepare_validation(self, validation_data, validation_steps=None):
        if is_batch_stream(validation_data):
            return make_stream(validation_data, validation_steps, self._convert_batch)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                f"sample_weight_val). Received: {type(validation_data).__name__}"
                + (
                    f" of length {len(validation_data)}"
                    if hasattr(validation_data, "__len__")
                    else ""
                )
            )
        x_val = self._prepare_x(validation_data[0], "validation_data[0] (x_val)")
        y_val = self._prepare_y(validation_data[1], len(x_val), "validation_data[1] (y_val)")
        sw_val = None
        if len(validation_data) == 3 and validation_data[2] is not None:
            sw_val = self._prepare_weights(validation_data[2], None, y_val)
        return x_val, y_val, sw_val
