"""More differentiable ops of the NumPy family, mostly built of recorded ops (``sort`` is a
``take_along_axis`` by the sorting order, ``flip`` a slice, ``tril`` a ``where``), and
``cumsum``/``prod`` with slopes of their own; ``math.erf``, ``linalg.inv`` and
``linalg.det`` too. Semantics after ``keras/src/backend/numpy/numpy.py``."""

from __future__ import annotations

import builtins
import math

import numpy as np

from glassnet.ops import numpy_ops as nops
from glassnet.ops._convert import arg, float_type, to_array
from glassnet.ops._errors import named
from glassnet.ops.tensor import Op, emit


def _sum_type(dtype):
    if dtype == np.dtype(bool) or (dtype.kind == "i" and dtype.itemsize < 4):
        return np.dtype(np.int32)
    if dtype.kind == "u" and dtype.itemsize < 4:
        return np.dtype(np.uint32)
    return dtype


@named("sort")
def sort(x, axis=-1):
    """``x`` sorted along ``axis``; each value's slope goes back to where it came from."""
    a = to_array(x)
    if axis is None:
        return sort(nops.ravel(x), axis=0)
    order = np.argsort(a, axis=axis, kind="stable")
    return nops.take_along_axis(x, order, axis=axis)


@named("flip")
def flip(x, axis=None):
    a = to_array(x)
    axes = range(a.ndim) if axis is None else [int(i) % a.ndim for i in np.atleast_1d(axis)]
    key = [slice(None)] * a.ndim
    for i in axes:
        key[i] = slice(None, None, -1)
    return nops.get_item(x, tuple(key))


def fliplr(x):
    return flip(x, axis=1)


def flipud(x):
    return flip(x, axis=0)


@named("roll")
def roll(x, shift, axis=None):
    a = to_array(x)
    if axis is None:
        return nops.reshape(roll(nops.ravel(x), shift, axis=0), a.shape)
    shifts = np.broadcast_to(np.atleast_1d(shift), (len(np.atleast_1d(axis)),))
    out = x
    for s, ax in zip(shifts, np.atleast_1d(axis), strict=True):
        n = a.shape[int(ax)]
        out = nops.take(out, (np.arange(n) - int(s)) % n, axis=int(ax))
    return out


def _triangle(x, k, lower):
    a = to_array(x)
    rows, cols = a.shape[-2:]
    mask = np.tri(rows, cols, k, dtype=bool)
    if not lower:
        mask = ~np.tri(rows, cols, k - 1, dtype=bool)
    return nops.where(mask, x, np.zeros((), dtype=a.dtype))


@named("tril")
def tril(x, k=0):
    return _triangle(x, int(k), lower=True)


@named("triu")
def triu(x, k=0):
    return _triangle(x, int(k), lower=False)


@named("diagonal")
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of the matrices on ``axis1``/``axis2``, as the last axis."""
    a = to_array(x)
    moved = nops.moveaxis(x, (axis1, axis2), (-2, -1))
    n1, n2 = a.shape[axis1], a.shape[axis2]
    start1, start2 = builtins.max(-offset, 0), builtins.max(offset, 0)
    length = builtins.max(0, builtins.min(n1 - start1, n2 - start2))
    steps = np.arange(length)
    return nops.get_item(moved, (Ellipsis, steps + start1, steps + start2))


@named("trace")
def trace(x, offset=0, axis1=0, axis2=1):
    return nops.sum(diagonal(x, offset, axis1, axis2), axis=-1)


def _cumsum_slopes(payload, g, needs):
    axis, shape = payload
    return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis).reshape(shape),)


_CUMSUM = Op("cumsum", _cumsum_slopes)


@named("cumsum")
def cumsum(x, axis=None, dtype=None):
    """Running sums along ``axis`` (of the flattened ``x`` when ``None``)."""
    s, a = arg(x)
    dtype = np.dtype(dtype) if dtype is not None else _sum_type(a.dtype)
    flat = a.reshape(-1) if axis is None else a
    ax = 0 if axis is None else int(axis) % a.ndim
    y = np.cumsum(flat, axis=ax, dtype=dtype)
    return emit(_CUMSUM, (s,), y, (ax, a.shape))


def _prod_slopes(payload, g, needs):
    a, axis, keepdims = payload
    moved = np.moveaxis(a, axis, -1)
    ones = np.ones(moved.shape[:-1] + (1,), dtype=moved.dtype)
    left = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
    right = np.flip(
        np.cumprod(np.concatenate([ones, np.flip(moved, -1)[..., :-1]], axis=-1), axis=-1), -1
    )
    others = np.moveaxis(left * right, -1, axis)  # the product of all the others: exact at 0
    if not keepdims:
        g = np.expand_dims(g, axis)
    return (g * others,)


_PROD = Op("prod", _prod_slopes)


@named("prod")
def prod(x, axis=None, keepdims=False, dtype=None):
    """The product over ``axis``; its slope at each value is the product of the others."""
    s, a = arg(x)
    if axis is None:
        out = prod(nops.ravel(x), axis=0, dtype=dtype)
        return nops.reshape(out, (1,) * a.ndim) if keepdims else out
    if isinstance(axis, (tuple, list)):
        axes = sorted((int(i) % a.ndim for i in axis), reverse=True)
        out = x
        for ax in axes:
            out = prod(out, axis=ax, keepdims=keepdims, dtype=dtype)
        return out
    ax = int(axis) % a.ndim
    dtype = np.dtype(dtype) if dtype is not None else _sum_type(a.dtype)
    y = np.prod(a, axis=ax, keepdims=keepdims, dtype=dtype)
    return emit(_PROD, (s,), y, (a, ax, bool(keepdims)))


def _at_least(x, ndim, where):
    a = to_array(x)
    if a.ndim >= ndim:
        return x
    if ndim == 2:
        return nops.reshape(x, (1,) * (2 - a.ndim) + a.shape)
    shape = {0: (1, 1, 1), 1: (1, a.size, 1), 2: a.shape + (1,)}[a.ndim]
    return nops.reshape(x, shape)


@named("vstack")
def vstack(xs):
    return nops.concatenate([_at_least(x, 2, 0) for x in xs], axis=0)


@named("hstack")
def hstack(xs):
    xs = list(xs)
    return nops.concatenate(xs, axis=0 if to_array(xs[0]).ndim == 1 else 1)


@named("dstack")
def dstack(xs):
    return nops.concatenate([_at_least(x, 3, 0) for x in xs], axis=2)


@named("append")
def append(x1, x2, axis=None):
    if axis is None:
        return nops.concatenate([nops.ravel(x1), nops.ravel(x2)], axis=0)
    return nops.concatenate([x1, x2], axis=axis)


def _erf_slopes(payload, g, needs):
    (a,) = payload
    return (g * 2 / math.sqrt(math.pi) * np.exp(-a * a),)


_ERF = Op("erf", _erf_slopes)
_erf_scalar = np.frompyfunc(math.erf, 1, 1)


@named("erf")
def erf(x):
    """The error function; its slope is ``2 / sqrt(pi) * exp(-x**2)``."""
    s, a = arg(x)
    a = a if a.dtype.kind in "fc" else a.astype(float_type(a.dtype))
    return emit(_ERF, (s,), _erf_scalar(a).astype(a.dtype), (a,))


def _inv_slopes(payload, g, needs):
    (y,) = payload
    yt = np.swapaxes(y, -1, -2)
    return (-(yt @ g @ yt),)


_INV = Op("inv", _inv_slopes)


@named("inv")
def inv(a):
    """The inverse of the (batched) square matrices ``a``."""
    s, m = arg(a)
    m = m if m.dtype.kind in "fc" else m.astype(float_type(m.dtype))
    y = np.linalg.inv(m)
    return emit(_INV, (s,), y, (y,))


def _det_slopes(payload, g, needs):
    m, y = payload
    return (np.asarray(g * y)[..., None, None] * np.swapaxes(np.linalg.inv(m), -1, -2),)


_DET = Op("det", _det_slopes)


@named("det")
def det(a):
    """The determinant of the (batched) square matrices ``a``."""
    s, m = arg(a)
    m = m if m.dtype.kind in "fc" else m.astype(float_type(m.dtype))
    y = np.linalg.det(m)
    return emit(_DET, (s,), y, (m, y))


def _solve_slopes(payload, g, needs):
    m, y, vector = payload
    g2 = g[..., None] if vector else g
    y2 = y[..., None] if vector else y
    grad_b = np.linalg.solve(np.swapaxes(m, -1, -2), g2)
    grad_a = -grad_b @ np.swapaxes(y2, -1, -2)
    return grad_a, grad_b[..., 0] if vector else grad_b


_SOLVE = Op("solve", _solve_slopes)


@named("solve")
def solve(a, b):
    """``x`` with ``a @ x = b``; slopes ``a^-T g`` at ``b`` and ``-(a^-T g) x^T`` at ``a``."""
    sa, m = arg(a)
    sb, v = arg(b)
    dtype = np.result_type(float_type(m.dtype), float_type(v.dtype))
    m, v = m.astype(dtype, copy=False), v.astype(dtype, copy=False)
    vector = v.ndim == m.ndim - 1
    y = np.linalg.solve(m, v[..., None])[..., 0] if vector else np.linalg.solve(m, v)
    return emit(_SOLVE, (sa, sb), y, (m, y, vector))


__all__ = [
    "append", "cumsum", "diagonal", "dstack", "flip", "fliplr", "flipud", "hstack", "prod",
    "roll", "sort", "trace", "tril", "triu", "vstack",
]  # fmt: skip
