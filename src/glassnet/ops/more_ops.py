"""The rest of ``keras.ops``'s NumPy family, forward only: thin calls of NumPy with Keras's
dtype rules (``keras/src/backend/numpy/numpy.py``), each result a ``Tensor``. Their results
carry no slope on the tape (the differentiable ops are in ``numpy_ops``)."""

from __future__ import annotations

import builtins
import functools

import numpy as np

from glassnet import config
from glassnet.ops._convert import result_type, to_array
from glassnet.ops._errors import named
from glassnet.ops.tensor import _wrap, forward_only, plain

__all__: list[str] = []


# Results whose slope is zero wherever it exists: nothing to record.
_ZERO_SLOPE = {
    "zeros_like",
    "ones_like",
    "empty_like",
    "full_like",
    "sign",
    "ceil",
    "floor",
    "round",
    "trunc",
    "isclose",
    "allclose",
    "heaviside",
    "floor_divide",
}


def _export(name, fn):
    if name not in _ZERO_SLOPE:
        fn = _loud(name, fn)
    fn = named(name)(fn)
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = fn.__doc__ or f"Keras's ``ops.{name}`` on NumPy (forward only)."
    globals()[name] = fn
    __all__.append(name)
    return fn


def _loud(name, fn):
    @functools.wraps(fn)
    def op(*args, **kwargs):
        return forward_only(name, fn, [*args, *kwargs.values()], fn(*args, **kwargs))

    return op


def _floatx():
    return np.dtype(config.floatx())


def _to_float(a):
    return a if a.dtype.kind in "fc" else a.astype(_floatx())


# Unary functions whose result is a float (integers become floatx, as in Keras).
for _name, _fn in {
    "arccos": np.arccos,
    "arccosh": np.arccosh,
    "arcsin": np.arcsin,
    "arcsinh": np.arcsinh,
    "arctan": np.arctan,
    "arctanh": np.arctanh,
    "cos": np.cos,
    "cosh": np.cosh,
    "sin": np.sin,
    "sinh": np.sinh,
    "tan": np.tan,
    "exp2": np.exp2,
    "expm1": np.expm1,
    "log2": np.log2,
    "log10": np.log10,
    "cbrt": np.cbrt,
    "deg2rad": np.deg2rad,
    "rad2deg": np.rad2deg,
    "reciprocal": np.reciprocal,
    "ceil": np.ceil,
    "floor": np.floor,
    "i0": np.i0,
    "sinc": np.sinc,
    "fabs": np.fabs,
}.items():
    _export(_name, (lambda f: lambda x: _wrap(f(_to_float(to_array(x)))))(_fn))

# Unary functions that keep the dtype (or give booleans).
for _name, _fn in {
    "sign": np.sign,
    "conj": np.conj,
    "conjugate": np.conjugate,
    "real": np.real,
    "imag": np.imag,
    "isnan": np.isnan,
    "isinf": np.isinf,
    "isfinite": np.isfinite,
    "isneginf": np.isneginf,
    "isposinf": np.isposinf,
    "signbit": np.signbit,
    "logical_not": np.logical_not,
    "bitwise_invert": np.invert,
    "bitwise_not": np.invert,
    "trunc": np.trunc,
    "angle": np.angle,
    "isreal": np.isreal,
}.items():
    _export(_name, (lambda f: lambda x: _wrap(f(to_array(x))))(_fn))


def _binary(f, to_float=False):
    def op(x1, x2):
        dtype = result_type(x1, x2)
        if to_float and dtype.kind not in "fc":
            dtype = _floatx()
        return _wrap(f(to_array(x1, dtype), to_array(x2, dtype)))

    return op


for _name, (_fn, _float) in {
    "arctan2": (np.arctan2, True),
    "hypot": (np.hypot, True),
    "logaddexp": (np.logaddexp, True),
    "logaddexp2": (np.logaddexp2, True),
    "heaviside": (np.heaviside, True),
    "nextafter": (np.nextafter, True),
    "fmax": (np.fmax, False),
    "fmin": (np.fmin, False),
    "fmod": (np.fmod, False),
    "mod": (np.mod, False),
    "floor_divide": (np.floor_divide, False),
    "equal": (np.equal, False),
    "not_equal": (np.not_equal, False),
    "greater": (np.greater, False),
    "greater_equal": (np.greater_equal, False),
    "less": (np.less, False),
    "less_equal": (np.less_equal, False),
    "logical_and": (np.logical_and, False),
    "logical_or": (np.logical_or, False),
    "logical_xor": (np.logical_xor, False),
    "bitwise_and": (np.bitwise_and, False),
    "bitwise_or": (np.bitwise_or, False),
    "bitwise_xor": (np.bitwise_xor, False),
    "gcd": (np.gcd, False),
    "lcm": (np.lcm, False),
    "kron": (np.kron, False),
}.items():
    _export(_name, _binary(_fn, _float))


def _shift(f):
    def op(x, y):
        a = to_array(x)
        return _wrap(f(a, np.asarray(plain(y), dtype=a.dtype)))

    return op


for _name, _fn in {
    "bitwise_left_shift": np.left_shift,
    "left_shift": np.left_shift,
    "bitwise_right_shift": np.right_shift,
    "right_shift": np.right_shift,
}.items():
    _export(_name, _shift(_fn))


def _ldexp(x1, x2):
    a = _to_float(to_array(x1))
    return _wrap(np.ldexp(a, to_array(x2).astype(np.int32)).astype(a.dtype))


_export("ldexp", _ldexp)


def _divide_no_nan(x1, x2):
    dtype = result_type(x1, x2)
    dtype = dtype if dtype.kind in "fc" else _floatx()
    a = to_array(x1, dtype)
    b = to_array(x2, dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _wrap(np.where(b == 0, np.zeros((), dtype), a / b))


_export("divide_no_nan", _divide_no_nan)


# Array creation: floatx by default, as in Keras.
def _zeros(shape, dtype=None):
    return _wrap(np.zeros(shape, dtype=dtype or config.floatx()))


def _ones(shape, dtype=None):
    return _wrap(np.ones(shape, dtype=dtype or config.floatx()))


def _empty(shape, dtype=None):
    return _wrap(np.empty(shape, dtype=dtype or config.floatx()))


def _full(shape, fill_value, dtype=None):
    return _wrap(np.full(shape, plain(fill_value), dtype=dtype or config.floatx()))


def _like(f):
    def op(x, *args, dtype=None):
        return _wrap(f(to_array(x), *[plain(a) for a in args], dtype=dtype))

    return op


def _eye(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras's names
    return _wrap(np.eye(N, M=M, k=k, dtype=dtype or config.floatx()))


def _identity(n, dtype=None):
    return _wrap(np.identity(n, dtype=dtype or config.floatx()))


def _tri(N, M=None, k=0, dtype=None):  # noqa: N803
    return _wrap(np.tri(N, M=M, k=k, dtype=dtype or config.floatx()))


def _arange(start, stop=None, step=None, dtype=None):
    if dtype is None:
        given = [v for v in (start, stop, step) if v is not None]
        dtype = result_type(*[plain(v) for v in given])
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    return _wrap(np.arange(plain(start), plain(stop), plain(step), dtype=dtype))


def _linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    dtype = dtype or result_type(plain(start), plain(stop), 1.0)
    out = np.linspace(plain(start), plain(stop), num, endpoint, retstep, dtype=dtype, axis=axis)
    return (_wrap(out[0]), out[1]) if retstep else _wrap(out)


def _logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    dtype = dtype or result_type(plain(start), plain(stop), 1.0)
    return _wrap(
        np.logspace(plain(start), plain(stop), num, endpoint, base, dtype=dtype, axis=axis)
    )


def _geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    dtype = dtype or result_type(plain(start), plain(stop), 1.0)
    return _wrap(np.geomspace(plain(start), plain(stop), num, endpoint, dtype=dtype, axis=axis))


def _array(x, dtype=None):
    return _wrap(np.array(to_array(x, dtype)))


def _window(f):
    def op(x, *args):
        return _wrap(f(int(plain(x)), *[plain(a) for a in args]).astype(_floatx()))

    return op


for _name, _fn in {
    "zeros": _zeros,
    "ones": _ones,
    "empty": _empty,
    "full": _full,
    "zeros_like": _like(np.zeros_like),
    "ones_like": _like(np.ones_like),
    "empty_like": _like(np.empty_like),
    "full_like": _like(np.full_like),
    "eye": _eye,
    "identity": _identity,
    "tri": _tri,
    "arange": _arange,
    "linspace": _linspace,
    "logspace": _logspace,
    "geomspace": _geomspace,
    "array": _array,
    "bartlett": _window(np.bartlett),
    "blackman": _window(np.blackman),
    "hamming": _window(np.hamming),
    "hanning": _window(np.hanning),
    "kaiser": _window(np.kaiser),
}.items():
    _export(_name, _fn)


def _first(f, cast=None):
    """``f(x, *rest)`` with ``x`` converted; ``cast`` the result's dtype (``"int32"``...)."""

    def op(x, *args, **kwargs):
        out = f(to_array(x), *[plain(a) for a in args], **{k: plain(v) for k, v in kwargs.items()})
        if cast is not None:
            out = np.asarray(out).astype(cast)
        return _wrap(out)

    return op


def _axis_of(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _sum_type(dtype):
    if dtype == np.dtype(bool) or (dtype.kind == "i" and dtype.itemsize < 4):
        return np.dtype(np.int32)
    if dtype.kind == "u" and dtype.itemsize < 4:
        return np.dtype(np.uint32)
    return dtype


def _prod(x, axis=None, keepdims=False, dtype=None):
    a = to_array(x)
    return _wrap(
        np.prod(a, axis=_axis_of(axis), keepdims=keepdims, dtype=dtype or _sum_type(a.dtype))
    )


def _cumsum(x, axis=None, dtype=None):
    a = to_array(x)
    return _wrap(np.cumsum(a, axis=axis, dtype=dtype or _sum_type(a.dtype)))


def _cumprod(x, axis=None, dtype=None):
    a = to_array(x)
    return _wrap(np.cumprod(a, axis=axis, dtype=dtype or _sum_type(a.dtype)))


def _all(x, axis=None, keepdims=False):
    return _wrap(np.all(to_array(x), axis=_axis_of(axis), keepdims=keepdims))


def _any(x, axis=None, keepdims=False):
    return _wrap(np.any(to_array(x), axis=_axis_of(axis), keepdims=keepdims))


def _float_reduce(f):
    def op(x, axis=None, keepdims=False, **kwargs):
        a = _to_float(to_array(x))
        return _wrap(
            np.asarray(f(a, axis=_axis_of(axis), keepdims=keepdims, **kwargs)).astype(a.dtype)
        )

    return op


def _average(x, axis=None, weights=None):
    a = to_array(x)
    dtype = result_type(a, 1.0) if weights is None else result_type(a, to_array(weights), 1.0)
    w = None if weights is None else to_array(weights, dtype)
    return _wrap(np.asarray(np.average(a.astype(dtype), axis=axis, weights=w)).astype(dtype))


def _quantile_like(f, scale=1.0):
    def op(x, q, axis=None, method="linear", keepdims=False):
        a = _to_float(to_array(x))
        out = f(a, np.asarray(plain(q)), axis=_axis_of(axis), method=method, keepdims=keepdims)
        return _wrap(np.asarray(out).astype(a.dtype))

    return op


def _count_nonzero(x, axis=None):
    return _wrap(np.asarray(np.count_nonzero(to_array(x), axis=_axis_of(axis))).astype(np.int32))


def _nonzero(x):
    return tuple(_wrap(i.astype(np.int32)) for i in np.nonzero(to_array(x)))


def _split_like(f):
    def op(x, indices_or_sections):
        return [_wrap(p) for p in f(to_array(x), plain(indices_or_sections))]

    return op


def _array_split(x, indices_or_sections, axis=0):
    return [_wrap(p) for p in np.array_split(to_array(x), plain(indices_or_sections), axis=axis)]


def _stack_like(f):
    def op(xs):
        arrays = [to_array(x) for x in xs]
        dtype = result_type(*arrays)
        return _wrap(f([a.astype(dtype, copy=False) for a in arrays]))

    return op


def _append(x1, x2, axis=None):
    dtype = result_type(x1, x2)
    return _wrap(np.append(to_array(x1, dtype), to_array(x2, dtype), axis=axis))


def _meshgrid(*x, indexing="xy"):
    return [_wrap(m) for m in np.meshgrid(*[to_array(v) for v in x], indexing=indexing)]


def _select(condlist, choicelist, default=0):
    return _wrap(
        np.select(
            [to_array(c) for c in condlist], [to_array(c) for c in choicelist], plain(default)
        )
    )


def _isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    dtype = result_type(x1, x2)
    return _wrap(np.isclose(to_array(x1, dtype), to_array(x2, dtype), rtol, atol, equal_nan))


def _allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    dtype = result_type(x1, x2)
    return _wrap(np.allclose(to_array(x1, dtype), to_array(x2, dtype), rtol, atol, equal_nan))


def _isin(x1, x2, assume_unique=False, invert=False):
    return _wrap(np.isin(to_array(x1), to_array(x2), assume_unique=assume_unique, invert=invert))


def _round(x, decimals=0):
    return _wrap(np.round(to_array(x), decimals=decimals))


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return _wrap(np.nan_to_num(to_array(x), nan=nan, posinf=posinf, neginf=neginf))


def _unique(
    x,
    sorted=True,
    return_inverse=False,
    return_counts=False,
    axis=None,
    size=None,  # noqa: A002
    fill_value=None,
):
    out = np.unique(
        to_array(x), return_inverse=return_inverse, return_counts=return_counts, axis=axis
    )
    if not isinstance(out, tuple):
        out = (out,)
    out = list(out)
    if size is not None:
        values = out[0]
        fill = values.min() if fill_value is None and values.size else (fill_value or 0)
        padded = np.full((size,) + values.shape[1:], fill, dtype=values.dtype)
        padded[: builtins.min(size, len(values))] = values[:size]
        out[0] = padded
        if return_counts:
            counts = np.zeros(size, dtype=out[-1].dtype)
            counts[: builtins.min(size, len(out[-1]))] = out[-1][:size]
            out[-1] = counts
    out = [_wrap(o) for o in out]
    return out[0] if len(out) == 1 else tuple(out)


def _histogram(x, bins=10, range=None):  # noqa: A002
    a = _to_float(to_array(x))
    counts, edges = np.histogram(a, bins=bins, range=range)
    return _wrap(counts.astype(a.dtype)), _wrap(edges.astype(a.dtype))


def _bincount(x, weights=None, minlength=0, sparse=False):
    a = to_array(x)
    if a.ndim == 2:
        rows = [
            np.bincount(r, None if weights is None else to_array(weights)[i], minlength)
            for i, r in enumerate(a)
        ]
        width = builtins.max([len(r) for r in rows] + [minlength])
        return _wrap(np.stack([np.pad(r, (0, width - len(r))) for r in rows]))
    w = None if weights is None else to_array(weights)
    out = np.bincount(a, w, minlength)
    return _wrap(out if w is not None else out.astype(np.int32))


def _searchsorted(sorted_sequence, values, side="left"):
    return _wrap(
        np.searchsorted(to_array(sorted_sequence), to_array(values), side=side).astype(np.int32)
    )


def _digitize(x, bins):
    return _wrap(np.digitize(to_array(x), to_array(bins)).astype(np.int32))


def _tensordot(x1, x2, axes=2):
    dtype = result_type(x1, x2)
    return _wrap(np.tensordot(to_array(x1, dtype), to_array(x2, dtype), axes=plain(axes)))


def _cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    dtype = result_type(x1, x2)
    return _wrap(np.cross(to_array(x1, dtype), to_array(x2, dtype), axisa, axisb, axisc, axis))


def _correlate(x1, x2, mode="valid"):
    dtype = result_type(x1, x2)
    dtype = dtype if dtype.kind in "fc" else _floatx()
    return _wrap(np.correlate(to_array(x1, dtype), to_array(x2, dtype), mode=mode))


def _trace(x, offset=0, axis1=0, axis2=1):
    a = to_array(x)
    return _wrap(np.trace(a, offset, axis1, axis2, dtype=_sum_type(a.dtype)))


def _corrcoef(x):
    a = _to_float(to_array(x))
    return _wrap(np.corrcoef(a).astype(a.dtype))


def _ptp(x, axis=None, keepdims=False):
    return _wrap(np.ptp(to_array(x), axis=_axis_of(axis), keepdims=keepdims))


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    a = _to_float(to_array(y))
    return _wrap(
        np.asarray(np.trapezoid(a, None if x is None else to_array(x), dx, axis)).astype(a.dtype)
    )


def _vander(x, N=None, increasing=False):  # noqa: N803
    a = to_array(x)
    return _wrap(np.vander(a, N, increasing).astype(a.dtype))


def _unravel_index(indices, shape):
    a = to_array(indices)
    return tuple(_wrap(i.astype(a.dtype)) for i in np.unravel_index(a, tuple(shape)))


def _slogdet(x):
    sign, logdet = np.linalg.slogdet(_to_float(to_array(x)))
    return _wrap(sign), _wrap(logdet)


def _ndim(x):
    return np.ndim(plain(x))


def _size(x):
    return np.size(plain(x))


def _view(x, dtype=None):
    return _wrap(to_array(x).view(dtype))


def _vectorize(pyfunc, *, excluded=None, signature=None):
    vectorized = np.vectorize(pyfunc, excluded=excluded, signature=signature)

    @functools.wraps(pyfunc)
    def call(*args, **kwargs):
        return _wrap(vectorized(*[plain(a) for a in args], **kwargs))

    return call


def _sort(x, axis=-1):
    return _wrap(np.sort(to_array(x), axis=axis))


for _name, _fn in {
    "cumprod": _cumprod,
    "all": _all,
    "any": _any,
    "median": _float_reduce(np.median),
    "nanmean": _float_reduce(np.nanmean),
    "nanmedian": _float_reduce(np.nanmedian),
    "nanstd": _float_reduce(np.nanstd),
    "nanvar": _float_reduce(np.nanvar),
    "nansum": _first(np.nansum),
    "nanprod": _first(np.nanprod),
    "nanmax": _first(np.nanmax),
    "nanmin": _first(np.nanmin),
    "nanargmax": _first(np.nanargmax, "int32"),
    "nanargmin": _first(np.nanargmin, "int32"),
    "nancumsum": _first(np.nancumsum),
    "nancumprod": _first(np.nancumprod),
    "average": _average,
    "quantile": _quantile_like(np.quantile),
    "percentile": _quantile_like(np.percentile),
    "nanquantile": _quantile_like(np.nanquantile),
    "nanpercentile": _quantile_like(np.nanpercentile),
    "count_nonzero": _count_nonzero,
    "nonzero": _nonzero,
    "argsort": _first(lambda a, axis=-1: np.argsort(a, axis=axis, kind="stable"), "int32"),
    "argpartition": _first(np.argpartition, "int32"),
    "rot90": _first(np.rot90),
    "diag": _first(np.diag),
    "diagflat": _first(np.diagflat),
    "diff": _first(np.diff),
    "hsplit": _split_like(np.hsplit),
    "vsplit": _split_like(np.vsplit),
    "dsplit": _split_like(np.dsplit),
    "array_split": _array_split,
    "meshgrid": _meshgrid,
    "select": _select,
    "isclose": _isclose,
    "allclose": _allclose,
    "isin": _isin,
    "round": _round,
    "nan_to_num": _nan_to_num,
    "unique": _unique,
    "histogram": _histogram,
    "bincount": _bincount,
    "searchsorted": _searchsorted,
    "digitize": _digitize,
    "cross": _cross,
    "correlate": _correlate,
    "corrcoef": _corrcoef,
    "ptp": _ptp,
    "trapezoid": _trapezoid,
    "vander": _vander,
    "unravel_index": _unravel_index,
    "slogdet": _slogdet,
    "ndim": _ndim,
    "size": _size,
    "view": _view,
    "vectorize": _vectorize,
}.items():
    _export(_name, _fn)

del _name, _fn
