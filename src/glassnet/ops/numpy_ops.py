"""``keras.ops`` of the NumPy family that are differentiable on the tape.

Each op computes with NumPy on plain arrays, returns a ``Tensor`` and, while a tape is
active, leaves one node whose op returns the slopes at its inputs (summed back over
broadcasting). Semantics follow Keras 3 (``keras/src/ops/numpy.py`` and its NumPy backend
``keras/src/backend/numpy/numpy.py``); ops built of other ops (``std``, ``var``, N-D
``dot``) record the nodes of their parts.
"""

from __future__ import annotations

import builtins
import string

import numpy as np

from glassnet._scatter import add_rows_at
from glassnet.ops._convert import arg, float_type, result_type, to_array
from glassnet.ops._errors import named
from glassnet.ops.tensor import (
    REDUCE_MAX,
    REDUCE_MIN,
    REDUCE_SUM,
    UFUNC_SLOPES,
    Op,
    emit,
    forward_only,
    plain,
    source,
    unbroadcast,
)


def _binary_ufunc(ufunc, x1, x2, dtype=None):
    dtype = result_type(x1, x2) if dtype is None else dtype
    s1, a = arg(x1, dtype)
    s2, b = arg(x2, dtype)
    y = ufunc(a, b)
    return emit(UFUNC_SLOPES[ufunc], (s1, s2), y, (a, b, y))


def _unary_ufunc(ufunc, x, to_float=True):
    s, a = arg(x)
    if to_float and a.dtype.kind not in "fc":
        a = a.astype(float_type(a.dtype))
    y = ufunc(a)
    return emit(UFUNC_SLOPES[ufunc], (s,), y, (a, y))


@named("add")
def add(x1, x2):
    """``x1 + x2``, broadcast."""
    return _binary_ufunc(np.add, x1, x2)


@named("subtract")
def subtract(x1, x2):
    """``x1 - x2``, broadcast."""
    return _binary_ufunc(np.subtract, x1, x2)


@named("multiply")
def multiply(x1, x2):
    """``x1 * x2``, broadcast."""
    return _binary_ufunc(np.multiply, x1, x2)


@named("divide")
def divide(x1, x2):
    """``x1 / x2`` (integers divide as floats, as in Keras)."""
    return _binary_ufunc(np.true_divide, x1, x2, float_type(result_type(x1, x2)))


true_divide = divide


@named("power")
def power(x1, x2):
    """``x1 ** x2``."""
    return _binary_ufunc(np.power, x1, x2)


@named("maximum")
def maximum(x1, x2):
    """Elementwise maximum (a tie sends the slope to ``x1``, as TensorFlow does)."""
    return _binary_ufunc(np.maximum, x1, x2)


@named("minimum")
def minimum(x1, x2):
    """Elementwise minimum (a tie sends the slope to ``x1``)."""
    return _binary_ufunc(np.minimum, x1, x2)


@named("negative")
def negative(x):
    return _unary_ufunc(np.negative, x, to_float=False)


@named("abs")
def absolute(x):
    return _unary_ufunc(np.absolute, x, to_float=False)


abs = absolute  # noqa: A001 - Keras's name


@named("square")
def square(x):
    return _unary_ufunc(np.square, x, to_float=False)


@named("sqrt")
def sqrt(x):
    return _unary_ufunc(np.sqrt, x)


@named("exp")
def exp(x):
    return _unary_ufunc(np.exp, x)


@named("log")
def log(x):
    return _unary_ufunc(np.log, x)


@named("log1p")
def log1p(x):
    return _unary_ufunc(np.log1p, x)


@named("tanh")
def tanh(x):
    return _unary_ufunc(np.tanh, x)


# --- products ----------------------------------------------------------------------------


@named("matmul")
def matmul(x1, x2):
    """Matrix product with NumPy's ``matmul`` rules (batched over leading axes)."""
    dtype = result_type(x1, x2)
    s1, a = arg(x1, dtype)
    s2, b = arg(x2, dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"ops.matmul: both inputs must have at least one dimension. "
            f"Received: x1.shape={a.shape}, x2.shape={b.shape}"
        )
    k1 = a.shape[-1]
    k2 = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k1 != k2:
        raise ValueError(
            f"ops.matmul: the last axis of x1 must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} axis of x2. "
            f"Received: x1.shape={a.shape}, x2.shape={b.shape}"
        )
    y = np.matmul(a, b)
    return emit(UFUNC_SLOPES[np.matmul], (s1, s2), y, (a, b, y))


@named("dot")
def dot(x1, x2):
    """NumPy's ``dot``: a product for scalars, ``matmul`` up to 2-D, and over the last axis of
    ``x1`` and the second-to-last of ``x2`` beyond."""
    a = to_array(x1)
    b = to_array(x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(x1, x2)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(x1, x2)
    k = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k != kb:
        raise ValueError(
            f"ops.dot: the last axis of x1 must equal the second-to-last axis of x2. "
            f"Received: x1.shape={a.shape}, x2.shape={b.shape}"
        )
    if b.ndim == 1:
        return reshape(matmul(reshape(x1, (-1, k)), x2), a.shape[:-1])
    moved = moveaxis(x2, -2, 0)
    flat_b = reshape(moved, (k, -1))
    out = matmul(reshape(x1, (-1, k)), flat_b)
    return reshape(out, a.shape[:-1] + b.shape[:-2] + b.shape[-1:])


# --- shapes ------------------------------------------------------------------------------


def _reshape_slopes(payload, g, needs):
    return (np.reshape(g, payload),)


_RESHAPE = Op("reshape", _reshape_slopes)


def _as_shape(newshape):
    if isinstance(newshape, (int, np.integer)):
        return (int(newshape),)
    return tuple(-1 if d is None else int(d) for d in newshape)


@named("reshape")
def reshape(x, newshape):
    """``x`` with a new shape (one ``-1`` or ``None`` inferred)."""
    s, a = arg(x)
    shape = _as_shape(newshape)
    if shape.count(-1) > 1:
        raise ValueError(f"ops.reshape: at most one dimension may be -1. Received: {shape}")
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    if (-1 in shape and (known == 0 or a.size % known)) or (-1 not in shape and known != a.size):
        raise ValueError(
            f"ops.reshape: cannot reshape an array of shape {a.shape} ({a.size} values) "
            f"into shape {shape}"
        )
    return emit(_RESHAPE, (s,), a.reshape(shape), a.shape)


def _transpose_slopes(payload, g, needs):
    return (np.transpose(g, np.argsort(payload)),)


_TRANSPOSE = Op("transpose", _transpose_slopes)


@named("transpose")
def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed by default)."""
    s, a = arg(x)
    axes = tuple(range(a.ndim))[::-1] if axes is None else tuple(int(i) % a.ndim for i in axes)
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(
            f"ops.transpose: axes must be a permutation of the {a.ndim} axes of an array of "
            f"shape {a.shape}. Received: axes={axes}"
        )
    return emit(_TRANSPOSE, (s,), np.transpose(a, axes), axes)


@named("moveaxis")
def moveaxis(x, source, destination):
    """``x`` with axes moved to new positions (the others keep their order)."""
    a = to_array(x)
    src = [int(i) % a.ndim for i in np.atleast_1d(source)]
    dst = [int(i) % a.ndim for i in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError(
            f"ops.moveaxis: source and destination must name as many axes. "
            f"Received: source={source}, destination={destination}"
        )
    order: list = [None] * a.ndim
    for s_axis, d_axis in zip(src, dst, strict=True):
        order[d_axis] = s_axis
    rest = iter(i for i in range(a.ndim) if i not in src)
    return transpose(x, [next(rest) if o is None else o for o in order])


@named("swapaxes")
def swapaxes(x, axis1, axis2):
    a = to_array(x)
    axes = list(range(a.ndim))
    i, j = int(axis1) % a.ndim, int(axis2) % a.ndim
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(x, axes)


@named("expand_dims")
def expand_dims(x, axis):
    a = to_array(x)
    return reshape(x, np.expand_dims(a, axis).shape)


@named("squeeze")
def squeeze(x, axis=None):
    a = to_array(x)
    if axis is not None:
        for i in np.atleast_1d(axis):
            if a.shape[int(i)] != 1:
                raise ValueError(
                    f"ops.squeeze: cannot squeeze axis {int(i)} of an array of shape "
                    f"{a.shape}: its size is {a.shape[int(i)]}, not 1"
                )
        axis = tuple(int(i) for i in np.atleast_1d(axis))
    return reshape(x, np.squeeze(a, axis).shape)


@named("ravel")
def ravel(x):
    return reshape(x, (-1,))


flatten = ravel


def _broadcast_slopes(payload, g, needs):
    return (unbroadcast(g, payload),)


_BROADCAST = Op("broadcast_to", _broadcast_slopes)


@named("broadcast_to")
def broadcast_to(x, shape):
    s, a = arg(x)
    return emit(_BROADCAST, (s,), np.broadcast_to(a, tuple(shape)), a.shape)


def _concat_slopes(payload, g, needs):
    sizes, axis = payload
    cuts = np.cumsum(sizes)[:-1]
    return tuple(np.split(g, cuts, axis=axis))


_CONCATENATE = Op("concatenate", _concat_slopes)


@named("concatenate")
def concatenate(xs, axis=0):
    """Joins arrays along an existing axis (``axis=None`` joins them flattened)."""
    xs = list(xs)
    if axis is None:
        return concatenate([ravel(x) for x in xs], axis=0)
    dtype = result_type(*xs)
    pairs = [arg(x, dtype) for x in xs]
    arrays = [p[1] for p in pairs]
    first = arrays[0]
    for i, other in enumerate(arrays[1:], start=1):
        if other.ndim != first.ndim or any(
            d1 != d2
            for k, (d1, d2) in enumerate(zip(first.shape, other.shape, strict=True))
            if k != axis % first.ndim
        ):
            raise ValueError(
                f"ops.concatenate: every input must have the shape of the first except along "
                f"axis {axis}. Received: shapes {[a.shape for a in arrays]} "
                f"(input {i} does not fit)"
            )
    axis = int(axis) % first.ndim
    y = np.concatenate(arrays, axis=axis)
    return emit(
        _CONCATENATE, tuple(p[0] for p in pairs), y, ([a.shape[axis] for a in arrays], axis)
    )


def _stack_slopes(payload, g, needs):
    count, axis = payload
    return tuple(np.take(g, i, axis=axis) for i in range(count))


_STACK = Op("stack", _stack_slopes)


@named("stack")
def stack(x, axis=0):
    """Joins arrays of one shape along a new axis."""
    xs = list(x)
    dtype = result_type(*xs)
    pairs = [arg(v, dtype) for v in xs]
    shapes = {a.shape for _, a in pairs}
    if len(shapes) > 1:
        raise ValueError(
            f"ops.stack: every input must have the same shape. "
            f"Received: shapes {[a.shape for _, a in pairs]}"
        )
    y = np.stack([a for _, a in pairs], axis=axis)
    return emit(_STACK, tuple(p[0] for p in pairs), y, (len(pairs), int(axis) % y.ndim))


@named("split")
def split(x, indices_or_sections, axis=0):
    """Splits ``x`` into pieces along ``axis``: each piece is a recorded slice of ``x``."""
    a = to_array(x)
    axis = int(axis) % a.ndim
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if n % int(indices_or_sections):
            raise ValueError(
                f"ops.split: an axis of size {n} does not split into "
                f"{int(indices_or_sections)} equal sections (shape {a.shape}, axis {axis})"
            )
        step = n // int(indices_or_sections)
        cuts = list(range(step, n, step))
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = [0, *cuts, n]
    lead = (slice(None),) * axis
    return [
        get_item(x, (*lead, slice(lo, hi))) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _tile_slopes(payload, g, needs):
    shape, reps, original = payload
    pairs = []
    for r, n in zip(reps, shape, strict=True):
        pairs += [r, n]
    g = g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2)))
    return (g.reshape(original),)


_TILE = Op("tile", _tile_slopes)


@named("tile")
def tile(x, repeats):
    s, a = arg(x)
    reps = tuple(int(r) for r in np.atleast_1d(repeats))
    ndim = builtins.max(a.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - a.ndim) + a.shape
    y = np.tile(a, reps)
    return emit(_TILE, (s,), y, (shape, reps, a.shape))


def _repeat_slopes(payload, g, needs):
    shape, repeats, axis = payload
    n = shape[axis]
    index = np.repeat(np.arange(n), repeats)
    moved = np.moveaxis(g, axis, 0)
    total = np.zeros((n,) + moved.shape[1:], dtype=g.dtype)
    np.add.at(total, index, moved)
    return (np.moveaxis(total, 0, axis),)


_REPEAT = Op("repeat", _repeat_slopes)


@named("repeat")
def repeat(x, repeats, axis=None):
    if axis is None:
        return repeat(ravel(x), repeats, axis=0)
    s, a = arg(x)
    axis = int(axis) % a.ndim
    reps = np.asarray(plain(repeats))
    y = np.repeat(a, reps, axis=axis)
    return emit(_REPEAT, (s,), y, (a.shape, reps, axis))


def _pad_slopes(payload, g, needs):
    widths = payload
    index = tuple(slice(lo, g.shape[i] - hi) for i, (lo, hi) in enumerate(widths))
    return (g[index],)


_PAD = Op("pad", _pad_slopes)


@named("pad")
def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads ``x``; differentiable in ``"constant"`` mode, forward only in the others."""
    s, a = arg(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (a.ndim, 2))
    if mode == "constant":
        value = 0 if constant_values is None else constant_values
        y = np.pad(a, widths, mode="constant", constant_values=value)
        return emit(_PAD, (s,), y, [tuple(int(v) for v in w) for w in widths])
    if constant_values is not None:
        raise ValueError(
            f"ops.pad: constant_values is only used with mode='constant'. Received: mode={mode!r}"
        )
    return forward_only("pad", None, [x], emit(_PAD, (), np.pad(a, widths, mode=mode), None))


# --- reductions --------------------------------------------------------------------------


def _axis_tuple(axis, ndim):
    if axis is None:
        return None
    axes = np.atleast_1d(axis)
    for i in axes:
        if not -builtins.max(ndim, 1) <= int(i) < builtins.max(ndim, 1):
            raise ValueError(f"axis {int(i)} is out of bounds for an array of {ndim} dimension(s)")
    return tuple(int(i) % ndim for i in axes) if ndim else ()


@named("sum")
def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """The sum over ``axis`` (all axes by default)."""
    s, a = arg(x)
    axes = _axis_tuple(axis, a.ndim)
    if a.dtype == bool or (a.dtype.kind in "iu" and a.dtype.itemsize < 4):
        a = a.astype(np.int32 if a.dtype.kind in "bi" else np.uint32)
    y = np.sum(a, axis=axes, keepdims=keepdims, dtype=a.dtype if a.dtype.kind in "iu" else None)
    return emit(REDUCE_SUM, (s,), y, (a.shape, axes, bool(keepdims)))


@named("mean")
def mean(x, axis=None, keepdims=False):
    """The mean over ``axis`` (integers average as ``floatx``, as in Keras)."""
    s, a = arg(x)
    if a.dtype.kind not in "fc":
        a = a.astype(float_type(a.dtype))
    axes = _axis_tuple(axis, a.ndim)
    total = sum(_pass(s, a), axis=axes, keepdims=keepdims)
    count = a.size if axes is None else int(np.prod([a.shape[i] for i in axes]))
    return divide(total, np.asarray(count, dtype=a.dtype))


def _pass(src, array):
    """``array`` standing for ``src`` in a composed op: ``src`` itself when no cast was needed,
    so the parts' nodes link to the caller's value; else a recorded cast of it."""
    if getattr(src, "dtype", None) == array.dtype:
        return src
    if not isinstance(src, np.ndarray):
        return array
    return _cast_view(src, array)


def _cast_slopes(payload, g, needs):
    return (g.astype(payload, copy=False),)


_CAST = Op("cast", _cast_slopes)


def _cast_view(src, array):
    dtype = getattr(source(src), "dtype", None)
    return emit(_CAST, (source(src),), array, dtype if dtype is not None else array.dtype)


def _extreme(op, fn, x, axis, keepdims, initial):
    s, a = arg(x)
    axes = _axis_tuple(axis, a.ndim)
    if a.size == 0 and initial is None:
        raise ValueError(
            f"ops.{op.name}: cannot reduce an empty array of shape {a.shape} without `initial`"
        )
    kwargs = {} if initial is None else {"initial": initial}
    y = fn(a, axis=axes, keepdims=keepdims, **kwargs)
    return emit(op, (s,), y, (a, np.asarray(y), axes, bool(keepdims)))


@named("max")
def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras's name
    """The largest value over ``axis``; tied maxima share the slope equally."""
    return _extreme(REDUCE_MAX, np.max, x, axis, keepdims, initial)


@named("min")
def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - Keras's name
    """The smallest value over ``axis``; tied minima share the slope equally."""
    return _extreme(REDUCE_MIN, np.min, x, axis, keepdims, initial)


amax = max
amin = min


@named("var")
def var(x, axis=None, keepdims=False):
    """The (population) variance over ``axis``."""
    s, a = arg(x)
    if a.dtype.kind not in "fc":
        a = a.astype(float_type(a.dtype))
    x = _pass(s, a)
    centered = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centered), axis=axis, keepdims=keepdims)


@named("std")
def std(x, axis=None, keepdims=False):
    """The (population) standard deviation over ``axis``."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


@named("argmax")
def argmax(x, axis=None, keepdims=False):
    """Index of the largest value (``int32``); no slope."""
    a = to_array(x)
    return emit(_NO_SLOPE, (), np.argmax(a, axis=axis, keepdims=keepdims).astype(np.int32), None)


@named("argmin")
def argmin(x, axis=None, keepdims=False):
    """Index of the smallest value (``int32``); no slope."""
    a = to_array(x)
    return emit(_NO_SLOPE, (), np.argmin(a, axis=axis, keepdims=keepdims).astype(np.int32), None)


_NO_SLOPE = Op("no_slope", lambda payload, g, needs: ())


# --- selection ---------------------------------------------------------------------------


def _where_slopes(payload, g, needs):
    cond, shape1, shape2 = payload
    g1 = unbroadcast(np.where(cond, g, 0), shape1) if needs[1] is not None else None
    g2 = unbroadcast(np.where(cond, 0, g), shape2) if needs[2] is not None else None
    return None, g1, g2


_WHERE = Op("where", _where_slopes)


@named("where")
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; with neither, the indices where it holds."""
    cond = to_array(condition)
    if x1 is None and x2 is None:
        return tuple(emit(_NO_SLOPE, (), i, None) for i in np.nonzero(cond))
    if x1 is None or x2 is None:
        raise ValueError("ops.where: x1 and x2 must be given together (or neither).")
    dtype = result_type(x1, x2)
    s1, a = arg(x1, dtype)
    s2, b = arg(x2, dtype)
    cond = cond.astype(bool, copy=False)
    y = np.where(cond, a, b)
    return emit(_WHERE, (source(condition), s1, s2), y, (cond, a.shape, b.shape))


def _clip_slopes(payload, g, needs):
    inside = payload
    return (g * inside,)


_CLIP = Op("clip", _clip_slopes)


@named("clip")
def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]``; the slope passes where ``x`` lies inside."""
    s, a = arg(x)
    if a.dtype == bool:
        a = a.astype(np.int32)
    lo = plain(x_min)
    hi = plain(x_max)
    y = np.clip(a, lo, hi)
    return emit(_CLIP, (s,), y, (a >= lo) & (a <= hi))


def _scatter_into(shape, dtype, index, g):
    total = np.zeros(shape, dtype=g.dtype if g.dtype.kind in "fc" else dtype)
    np.add.at(total, index, g)
    return total


def _get_item_slopes(payload, g, needs):
    shape, key, basic = payload
    if basic:
        total = np.zeros(shape, dtype=g.dtype)
        total[key] = g
        return (total,)
    return (_scatter_into(shape, g.dtype, key, g),)


_GET_ITEM = Op("get_item", _get_item_slopes)


def _is_basic(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer)) for k in parts)


@named("get_item")
def get_item(x, key):
    """``x[key]`` for basic and integer-array indexing; repeated indices add their slopes."""
    s, a = arg(x)
    if isinstance(key, list):
        key = np.asarray(key)
    key = tuple(plain(k) for k in key) if isinstance(key, tuple) else plain(key)
    y = a[key]
    return emit(_GET_ITEM, (s,), y, (a.shape, key, _is_basic(key)))


def _take_slopes(payload, g, needs):
    shape, indices, axis = payload
    if axis is None:
        flat = _scatter_into((int(np.prod(shape)),), g.dtype, indices, g)
        return (flat.reshape(shape),)
    if axis == 0 and len(shape) == 2 and g.dtype.kind == "f":  # rows of a table
        total = np.zeros(shape, dtype=g.dtype)
        add_rows_at(total, indices, g)
        return (total,)
    index = (slice(None),) * axis + (indices,)
    return (_scatter_into(shape, g.dtype, index, g),)


_TAKE = Op("take", _take_slopes)


@named("take")
def take(x, indices, axis=None):
    """Values of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when ``None``)."""
    s, a = arg(x)
    idx = to_array(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"ops.take: indices must be integers. Received: dtype={idx.dtype}")
    if axis is not None:
        axis = int(axis) % a.ndim
    n = a.size if axis is None else a.shape[axis]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise ValueError(
            f"ops.take: an index is out of range for an axis of size {n} "
            f"(x.shape={a.shape}, axis={axis}). Received indices in [{idx.min()}, {idx.max()}]"
        )
    y = np.take(a, idx, axis=axis)
    return emit(_TAKE, (s,), y, (a.shape, idx, axis))


def _take_along_slopes(payload, g, needs):
    shape, indices, axis = payload
    index = []
    for d in range(indices.ndim):
        if d == axis:
            index.append(indices)
        else:
            grid_shape = [1] * indices.ndim
            grid_shape[d] = indices.shape[d]
            along = np.arange(indices.shape[d]).reshape(grid_shape)
            index.append(np.zeros_like(along) if shape[d] == 1 else along)
    return (_scatter_into(shape, g.dtype, tuple(index), g),)


_TAKE_ALONG = Op("take_along_axis", _take_along_slopes)


@named("take_along_axis")
def take_along_axis(x, indices, axis=None):
    s, a = arg(x)
    idx = to_array(indices)
    if axis is None:
        return take_along_axis(ravel(x), np.ravel(idx), axis=0)
    axis = int(axis) % a.ndim
    y = np.take_along_axis(a, idx, axis=axis)
    target = tuple(y.shape)
    idx = np.broadcast_to(idx, target[:axis] + (idx.shape[axis],) + target[axis + 1 :])
    return emit(_TAKE_ALONG, (s,), y, (a.shape, idx % a.shape[axis], axis))


# --- einsum ------------------------------------------------------------------------------


def _einsum_slopes(payload, g, needs):
    inputs, output, arrays = payload
    slopes = []
    for i, need in enumerate(needs):
        if need is None:
            slopes.append(None)
            continue
        others = [s for j, s in enumerate(inputs) if j != i]
        other_arrays = [a for j, a in enumerate(arrays) if j != i]
        spec = ",".join([output, *others, inputs[i]]) + "->" + inputs[i]
        ones = np.ones(arrays[i].shape, dtype=g.dtype)
        slopes.append(np.einsum(spec, g, *other_arrays, ones))
    return tuple(slopes)


_EINSUM = Op("einsum", _einsum_slopes)


def _explicit(spec: str, arrays) -> tuple[list[str], str] | None:
    """``spec`` with ``...`` spelled out in unused letters and the output made explicit, or
    ``None`` when a letter names axes of different sizes (broadcast by ``...`` only)."""
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    spare = [c for c in string.ascii_letters if c not in spec]
    width = builtins.max(
        [a.ndim - (len(t) - 3) for t, a in zip(terms, arrays, strict=True) if "..." in t] or [0]
    )
    dots = "".join(spare[:width])
    expanded = []
    for term, a in zip(terms, arrays, strict=True):
        if "..." in term:
            k = a.ndim - (len(term) - 3)
            term = term.replace("...", dots[width - k :])
        expanded.append(term)
    if arrow:
        out = out.replace("...", dots)
    else:
        letters = "".join(expanded)
        out = dots + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in dots)
        )
    sizes: dict[str, int] = {}
    for term, a in zip(expanded, arrays, strict=True):
        if len(set(term)) != len(term):
            return None  # a diagonal
        for c, n in zip(term, a.shape, strict=True):
            if sizes.setdefault(c, n) != n:
                return None
    return expanded, out


@named("einsum")
def einsum(subscripts, *operands):
    """Einstein summation; differentiable unless an operand repeats a letter (a diagonal)
    or ``...`` broadcasts axes of different sizes."""
    dtype = result_type(*operands)
    pairs = [arg(x, dtype) for x in operands]
    arrays = [a for _, a in pairs]
    y = np.einsum(subscripts, *arrays)
    explicit = _explicit(subscripts.replace(" ", ""), arrays)
    if explicit is None:
        return forward_only("einsum", None, list(operands), emit(_NO_SLOPE, (), y, None))
    ins, out = explicit
    return emit(_EINSUM, tuple(p[0] for p in pairs), y, (ins, out, arrays))


@named("tensordot")
def tensordot(x1, x2, axes=2):
    """Sums products over ``axes`` of ``x1`` and ``x2`` (NumPy's ``tensordot``), as an
    ``einsum``, so it carries slopes."""
    a = to_array(x1)
    b = to_array(x2)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        first, second = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        first, second = (list(np.atleast_1d(v)) for v in axes)
    first = [int(i) % a.ndim for i in first]
    second = [int(i) % b.ndim for i in second]
    for i, j in zip(first, second, strict=True):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"ops.tensordot: axis {i} of x1 (size {a.shape[i]}) and axis {j} of x2 "
                f"(size {b.shape[j]}) must have the same size. "
                f"Received: x1.shape={a.shape}, x2.shape={b.shape}"
            )
    letters = iter(string.ascii_letters)
    left = [next(letters) for _ in range(a.ndim)]
    right = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(first, second, strict=True):
        right[j] = left[i]
    out = [c for k, c in enumerate(left) if k not in first]
    out += [c for k, c in enumerate(right) if k not in second]
    return einsum(f"{''.join(left)},{''.join(right)}->{''.join(out)}", x1, x2)


@named("inner")
def inner(x1, x2):
    a, b = to_array(x1), to_array(x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-1]))


@named("outer")
def outer(x1, x2):
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


@named("vdot")
def vdot(x1, x2):
    return sum(multiply(ravel(x1), ravel(x2)))


def _copy_slopes(payload, g, needs):
    return (g,)


_COPY = Op("copy", _copy_slopes)


@named("copy")
def copy(x):
    """A copy of ``x`` (its slope passes through)."""
    s, a = arg(x)
    return emit(_COPY, (s,), np.array(a), None)


from glassnet.ops._public import public_names  # noqa: E402

__all__ = public_names(globals(), __name__)
