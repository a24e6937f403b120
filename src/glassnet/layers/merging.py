"""Merging layers: several inputs in, one output (``keras/src/layers/merging/``).

``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum`` and ``Minimum`` work element by
element; ``Concatenate`` joins along an axis and ``Dot`` takes the dot product of two inputs
row by row. Each has Keras 3's shape rules, and the function forms (``add([a, b])``...) make
the layer and call it.

A merge layer takes its inputs as a list or tuple: ``build`` and ``plan`` take one shape per
input, ``forward(inputs, training)`` a tuple of batches, and ``backward`` returns a tuple of
slopes in the inputs' order (the tape adds each to the value it belongs to).

Element-wise merges broadcast as Keras does: an input of lower rank gets axes of size 1
inserted after the batch axis until the ranks agree, and then dimensions of size 1 stretch;
the slope of a stretched input is summed back over the axes it was stretched along.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import config as config_module
from glassnet.layers._l2 import l2_normalize, l2_normalize_backward
from glassnet.layers.base import Layer, normalize_shape
from glassnet.layers.config_keys import key
from glassnet.layers.storage import WeightStorage


def _is_axis(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class Merge(Layer):
    """Base class of the merging layers: one shape per input, a tuple of batches in, the
    slopes of every input out. Subclasses define ``_merge_shapes``, ``merge`` and
    ``merge_backward``."""

    #: The number of inputs the layer takes exactly (``None``: two or more... any).
    exact_inputs: int | None = None
    takes_input_list = True

    def _row_shapes(self, shapes, strip_batch: bool) -> list[tuple[int, ...]]:
        name = type(self).__name__
        if (
            not isinstance(shapes, (list, tuple))
            or not shapes
            or not all(isinstance(s, (list, tuple)) for s in shapes)
        ):
            raise ValueError(
                f"A `{name}` layer should be called on a list of inputs. "
                f"Received: input_shape={shapes!r} (not a list of shapes)"
            )
        if self.exact_inputs is not None and len(shapes) != self.exact_inputs:
            raise ValueError(
                f"A `{name}` layer should be called on exactly {self.exact_inputs} inputs. "
                f"Received: input_shape={list(shapes)!r}"
            )
        rows = []
        for shape in shapes:
            shape = tuple(shape)
            if strip_batch and shape and shape[0] is None:
                shape = shape[1:]
            rows.append(normalize_shape(shape))
        return rows

    def build(self, input_shape) -> None:
        """Builds the layer for inputs of these shapes (one per input, each with or without
        a leading ``None`` batch axis)."""
        self.plan(self._row_shapes(input_shape, strip_batch=True))
        WeightStorage([self], config_module.floatx())

    def plan(self, input_shape):
        rows = self._row_shapes(input_shape, strip_batch=False)
        self.input_shape = rows
        self.specs = []
        self.output_shape = tuple(self.compute_output_shape(rows))
        return self.output_shape

    def compute_output_shape(self, input_shape):
        """The shape of one output row for the inputs' row shapes (a list)."""
        return self._merge_shapes(self._row_shapes(input_shape, strip_batch=False))

    def _merge_shapes(self, rows: list[tuple[int, ...]]) -> tuple[int, ...]:
        raise NotImplementedError

    def _check_inputs(self, inputs) -> tuple[np.ndarray, ...]:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer should be called on a list of inputs. "
                f"Received: inputs of type {type(inputs).__name__} (not a list of arrays)"
            )
        arrays = tuple(np.asarray(x) for x in inputs)
        if self.exact_inputs is not None and len(arrays) != self.exact_inputs:
            raise ValueError(
                f"A `{type(self).__name__}` layer should be called on exactly "
                f"{self.exact_inputs} inputs. Received: {len(arrays)} inputs"
            )
        if not arrays or len({len(x) for x in arrays}) > 1 or any(x.ndim < 1 for x in arrays):
            raise ValueError(
                "Cannot merge tensors with different batch sizes. Received tensors with shapes "
                f"{[x.shape for x in arrays]}"
            )
        return arrays

    def forward(self, inputs, training: bool = False) -> tuple[np.ndarray, Any]:
        """The merged output of a tuple of batches, and the records ``backward`` needs."""
        return self.merge(self._check_inputs(inputs))

    def backward(self, records, grad_out, need_grad_input=True) -> tuple[np.ndarray, ...]:
        """The slope at each input, in the inputs' order."""
        return self.merge_backward(records, grad_out)

    def merge(self, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def merge_backward(self, records, grad_out) -> tuple[np.ndarray, ...]:
        raise NotImplementedError


# --- element-wise merges ------------------------------------------------------------------


def _broadcast_rows(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Keras's element-wise shape rule (``base_merge.py``,
    ``_compute_elemwise_op_output_shape``): right-aligned, a 1 stretches."""
    if len(a) < len(b):
        a, b = b, a
    out = list(a[: len(a) - len(b)])
    for i, j in zip(a[len(a) - len(b) :], b, strict=True):
        if i != j and 1 not in (i, j):
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {a} and {b}")
        out.append(j if i == 1 else i)
    return tuple(out)


def _expand(x: np.ndarray, ndim: int) -> np.ndarray:
    """``x`` with axes of size 1 inserted after the batch axis up to ``ndim`` axes."""
    return x.reshape(x.shape[:1] + (1,) * (ndim - x.ndim) + x.shape[1:])


def _reduce_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The slope of a value of ``shape`` that was expanded and stretched to ``grad``'s shape."""
    expanded = shape[:1] + (1,) * (grad.ndim - len(shape)) + shape[1:]
    axes = tuple(i for i, (n, m) in enumerate(zip(expanded, grad.shape, strict=True)) if n != m)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class _ElementwiseMerge(Merge):
    def _merge_shapes(self, rows):
        out = rows[0]
        for shape in rows[1:]:
            out = _broadcast_rows(out, shape)
        return out

    def merge(self, inputs):
        self._merge_shapes([x.shape[1:] for x in inputs])  # checks that they fit
        ndim = max(x.ndim for x in inputs)
        expanded = [_expand(x, ndim) for x in inputs]
        out, extra = self.combine(expanded)
        return out, ([x.shape for x in inputs], expanded, extra)

    def merge_backward(self, records, grad_out):
        shapes, expanded, extra = records
        slopes = self.combine_backward(expanded, extra, grad_out)
        return tuple(_reduce_to(g, s) for g, s in zip(slopes, shapes, strict=True))

    def combine(self, xs: list[np.ndarray]) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def combine_backward(self, xs, extra, grad) -> list[np.ndarray]:
        raise NotImplementedError


class Add(_ElementwiseMerge):
    """The sum of its inputs (``keras/src/layers/merging/add.py``).

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Add
        >>> Add().forward((np.ones((1, 2)), np.full((1, 2), 2.0)))[0]
        array([[3., 3.]])
    """

    config_keys = ()  # declared: no keys of its own

    def combine(self, xs):
        out = xs[0] + xs[1] if len(xs) > 1 else xs[0].copy()
        for x in xs[2:]:
            out = out + x
        return out, None

    def combine_backward(self, xs, extra, grad):
        return [grad] * len(xs)


class Subtract(_ElementwiseMerge):
    """The first input minus the second (``keras/src/layers/merging/subtract.py``)."""

    config_keys = ()  # declared: no keys of its own

    exact_inputs = 2

    def combine(self, xs):
        return xs[0] - xs[1], None

    def combine_backward(self, xs, extra, grad):
        return [grad, -grad]


class Multiply(_ElementwiseMerge):
    """The product of its inputs (``keras/src/layers/merging/multiply.py``)."""

    config_keys = ()  # declared: no keys of its own

    def combine(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out, None

    def combine_backward(self, xs, extra, grad):
        slopes = []
        for i in range(len(xs)):
            g = grad
            for j, x in enumerate(xs):
                if j != i:
                    g = g * x
            slopes.append(g)
        return slopes


class Average(_ElementwiseMerge):
    """The mean of its inputs (``keras/src/layers/merging/average.py``)."""

    config_keys = ()  # declared: no keys of its own

    def combine(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs), None

    def combine_backward(self, xs, extra, grad):
        return [grad / len(xs)] * len(xs)


class _Extremum(_ElementwiseMerge):
    """The element-wise largest (or smallest) input. The slope goes to the input that gave
    the output, the first of equal ones (as Keras's chain of ``ops.maximum`` on
    TensorFlow, whose slope favours its first operand on ties)."""

    pick = staticmethod(np.argmax)

    def combine(self, xs):
        shape = np.broadcast_shapes(*(x.shape for x in xs))
        stacked = np.stack([np.broadcast_to(x, shape) for x in xs])
        winner = self.pick(stacked, axis=0)
        return np.take_along_axis(stacked, winner[None], axis=0)[0], winner

    def combine_backward(self, xs, winner, grad):
        return [np.where(winner == i, grad, 0) for i in range(len(xs))]


class Maximum(_Extremum):
    """The element-wise maximum of its inputs (``keras/src/layers/merging/maximum.py``)."""

    config_keys = ()  # declared: no keys of its own

    pick = staticmethod(np.argmax)


class Minimum(_Extremum):
    """The element-wise minimum of its inputs (``keras/src/layers/merging/minimum.py``)."""

    config_keys = ()  # declared: no keys of its own

    pick = staticmethod(np.argmin)


# --- Concatenate --------------------------------------------------------------------------


class Concatenate(Merge):
    """Joins its inputs along ``axis`` (``keras/src/layers/merging/concatenate.py``).

    Args:
        axis: the axis to join along, counted with the batch axis (``-1``: the last). The
            inputs must agree on every other axis.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Concatenate
        >>> Concatenate().compute_output_shape([(3,), (2,)])
        (5,)
    """

    config_keys = (key("axis", "int", -1, minimum=-32),)

    def __init__(self, axis: int = -1, **kwargs) -> None:
        super().__init__(**kwargs)
        if not _is_axis(axis):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        if axis == 0:
            raise ValueError("Concatenate cannot join along axis 0, the batch axis")
        self.axis = int(axis)

    def _row_axis(self, rank: int) -> int:
        """The axis within a row (the full tensor has ``rank + 1`` axes)."""
        full = self.axis if self.axis >= 0 else self.axis + rank + 1
        if not 1 <= full <= rank:
            raise ValueError(
                f"Concatenate {self.name!r}: axis={self.axis} is out of range for inputs of "
                f"rank {rank + 1}"
            )
        return full - 1

    def _merge_shapes(self, rows):
        ranks = {len(s) for s in rows}
        message = (
            "A `Concatenate` layer requires inputs with matching shapes except for the "
            f"concatenation axis. Received: input_shape={[(None, *s) for s in rows]}"
        )
        if len(ranks) != 1:
            raise ValueError(message)
        axis = self._row_axis(rows[0].__len__())
        others = {s[:axis] + s[axis + 1 :] for s in rows}
        if len(others) != 1:
            raise ValueError(message)
        out = list(rows[0])
        out[axis] = sum(s[axis] for s in rows)
        return tuple(out)

    def merge(self, inputs):
        rows = tuple(x.shape[1:] for x in inputs)
        layout = self._layouts.get(rows) if hasattr(self, "_layouts") else None
        if layout is None:  # checked once per set of row shapes (every pass of a model)
            self._merge_shapes(list(rows))
            axis = self._row_axis(inputs[0].ndim - 1) + 1
            ends = np.cumsum([x.shape[axis] for x in inputs]).tolist()
            pieces = [
                (slice(None),) * axis + (slice(start, end),)
                for start, end in zip([0, *ends[:-1]], ends, strict=True)
            ]
            layout = (axis, pieces)
            self.__dict__.setdefault("_layouts", {})[rows] = layout
        return np.concatenate(inputs, axis=layout[0]), layout

    def merge_backward(self, records, grad_out):
        _, pieces = records
        return tuple(grad_out[piece] for piece in pieces)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# --- Dot ----------------------------------------------------------------------------------


class Dot(Merge):
    """The dot product of two inputs row by row, along ``axes``
    (``keras/src/layers/merging/dot.py``, ``batch_dot``).

    Args:
        axes: an axis, or one axis per input, counted with the batch axis (which cannot be
            one of them); negative axes count from the end.
        normalize: L2-normalise each input along its axis first, so that the output is
            the cosine similarity (``x / max(|x|, epsilon)``, Keras's ``ops.normalize``).

    The output row has the first input's other axes followed by the second's; a single
    number per row becomes a row of shape ``(1,)``.

    Example:
        >>> import numpy as np
        >>> from glassnet.layers import Dot
        >>> Dot(axes=1).forward((np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])))[0]
        array([[11.]])
    """

    exact_inputs = 2
    config_keys = (key("axes", "ints", -1, minimum=-32), key("normalize", "bool", False))

    def __init__(self, axes, normalize: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, tuple) and len(axes) == 1:  # one integer, as a file gives it
            axes = axes[0]
        if not _is_axis(axes):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    "Invalid type for argument `axes`: it should be a list or an int. "
                    f"Received: axes={axes!r}"
                )
            if len(axes) != 2:
                raise ValueError(
                    "Invalid format for argument `axes`: it should contain two elements. "
                    f"Received: axes={axes!r}"
                )
            if not all(_is_axis(a) for a in axes):
                raise ValueError(
                    "Invalid format for argument `axes`: list elements should be integers. "
                    f"Received: axes={axes!r}"
                )
            axes = [int(a) for a in axes]
        else:
            axes = int(axes)
        if not isinstance(normalize, (bool, np.bool_)):
            raise ValueError(f"`normalize` must be True or False. Received: {normalize!r}")
        self.axes = axes
        self.normalize = bool(normalize)

    def _full_axes(self, rank1: int, rank2: int) -> tuple[int, int]:
        """The two axes of the full tensors (ranks with the batch axis)."""
        if isinstance(self.axes, int):
            pair = (self.axes % rank1, self.axes % rank2) if self.axes < 0 else (self.axes,) * 2
        else:
            ranks = (rank1, rank2)
            pair = tuple(a % r if a < 0 else a for a, r in zip(self.axes, ranks, strict=True))
        if 0 in pair:
            raise ValueError(
                "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a "
                "dummy batch dimension to your inputs using keras.ops.expand_dims(x, 0)"
            )
        if pair[0] >= rank1 or pair[1] >= rank2:
            raise ValueError(
                f"Dot {self.name!r}: axes={self.axes} is out of range for inputs of ranks "
                f"{rank1} and {rank2}"
            )
        return pair

    def _merge_shapes(self, rows):
        shape1, shape2 = (None, *rows[0]), (None, *rows[1])
        a1, a2 = self._full_axes(len(shape1), len(shape2))
        if shape1[a1] != shape2[a2]:
            raise ValueError(
                f"Incompatible input shapes: axis values {shape1[a1]} (at axis {a1}) != "
                f"{shape2[a2]} (at axis {a2}). Full input shapes: {shape1}, {shape2}"
            )
        out = [d for i, d in enumerate(shape1) if i != a1][1:]
        out += [d for i, d in enumerate(shape2) if i not in (0, a2)]
        return tuple(out) if out else (1,)

    def merge(self, inputs):
        x1, x2 = inputs
        self._merge_shapes([x1.shape[1:], x2.shape[1:]])
        a1, a2 = self._full_axes(x1.ndim, x2.ndim)
        norms = [None, None]
        if self.normalize:
            x1, norms[0] = l2_normalize(x1, a1, config_module.epsilon())
            x2, norms[1] = l2_normalize(x2, a2, config_module.epsilon())
        m = np.moveaxis(x1, a1, -1)  # (rows, ..., k)
        n = np.moveaxis(x2, a2, 1)  # (rows, k, ...)
        rows, k = len(m), m.shape[-1]
        left, right = m.shape[1:-1], n.shape[2:]
        product = np.matmul(m.reshape(rows, -1, k), n.reshape(rows, k, -1))
        out = product.reshape((rows, *left, *right) if left or right else (rows, 1))
        return out, (m, n, left, right, (a1, a2), norms, (x1, x2))

    def merge_backward(self, records, grad_out):
        m, n, left, right, (a1, a2), norms, normalized = records
        rows, k = len(m), m.shape[-1]
        g = grad_out.reshape(rows, int(np.prod(left)), int(np.prod(right)))
        n2 = n.reshape(rows, k, -1)
        m2 = m.reshape(rows, -1, k)
        grad_m = np.matmul(g, n2.transpose(0, 2, 1)).reshape(m.shape)
        grad_n = np.matmul(m2.transpose(0, 2, 1), g).reshape(n.shape)
        grads = [np.moveaxis(grad_m, -1, a1), np.moveaxis(grad_n, 1, a2)]
        if self.normalize:
            for i, axis in enumerate((a1, a2)):
                grads[i] = l2_normalize_backward(normalized[i], norms[i], grads[i], axis)
        return tuple(grads)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# --- function forms -----------------------------------------------------------------------


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)`` (``keras.layers.add``)."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)`` (``keras.layers.subtract``)."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)`` (``keras.layers.multiply``)."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)`` (``keras.layers.average``)."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)`` (``keras.layers.maximum``)."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)`` (``keras.layers.minimum``)."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)`` (``keras.layers.concatenate``)."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize: bool = False, **kwargs):
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)`` (``keras.layers.dot``)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
