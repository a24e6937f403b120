"""``keras.ops.math`` on NumPy: ``logsumexp`` and ``rsqrt`` differentiable on the tape, the
others forward only (``keras/src/backend/numpy/math.py``)."""

from __future__ import annotations

import functools
import math as _math

import numpy as np

from glassnet import config
from glassnet.ops import numpy_ops as nops
from glassnet.ops._convert import float_type, to_array
from glassnet.ops._errors import named
from glassnet.ops.core_ops import cast, stop_gradient
from glassnet.ops.numpy_extra import erf
from glassnet.ops.tensor import Op, emit, forward_only

_NO_SLOPE = Op("no_slope", lambda payload, g, needs: ())


def _out(y):
    return emit(_NO_SLOPE, (), y, None)


@named("logsumexp")
def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, shifted by the (constant) maximum for stability."""
    a = to_array(x)
    if a.dtype.kind not in "fc":
        x = cast(x, config.floatx())
    shift = stop_gradient(nops.max(x, axis=axis, keepdims=True))
    shift = nops.where(np.isfinite(to_array(shift)), shift, 0.0)
    total = nops.sum(nops.exp(nops.subtract(x, shift)), axis=axis, keepdims=True)
    out = nops.add(nops.log(total), shift)
    if not keepdims:
        out = nops.squeeze(out, axis=axis) if axis is not None else nops.reshape(out, ())
    return out


@named("rsqrt")
def rsqrt(x):
    """``1 / sqrt(x)``."""
    return nops.divide(1.0, nops.sqrt(x))


def _float(x):
    a = to_array(x)
    return a if a.dtype.kind in "fc" else a.astype(float_type(a.dtype))


_erfc = np.frompyfunc(_math.erfc, 1, 1)


@named("erfc")
def erfc(x):
    a = _float(x)
    return _out(_erfc(a).astype(a.dtype))


def _erfinv_scalar(y: float) -> float:
    if y <= -1:
        return -_math.inf if y == -1 else _math.nan
    if y >= 1:
        return _math.inf if y == 1 else _math.nan
    # Giles's single-precision start, then Newton steps on erf(x) = y.
    w = -_math.log((1 - y) * (1 + y))
    if w < 5:
        w -= 2.5
        p = 2.81022636e-08
        for c in (
            3.43273939e-07,
            -3.5233877e-06,
            -4.39150654e-06,
            0.00021858087,
            -0.00125372503,
            -0.00417768164,
            0.246640727,
            1.50140941,
        ):
            p = c + p * w
    else:
        w = _math.sqrt(w) - 3
        p = -0.000200214257
        for c in (
            0.000100950558,
            0.00134934322,
            -0.00367342844,
            0.00573950773,
            -0.0076224613,
            0.00943887047,
            1.00167406,
            2.83297682,
        ):
            p = c + p * w
    x = p * y
    for _ in range(3):
        x -= (_math.erf(x) - y) / (2 / _math.sqrt(_math.pi) * _math.exp(-x * x))
    return x


_erfinv = np.frompyfunc(_erfinv_scalar, 1, 1)


@named("erfinv")
def erfinv(x):
    a = _float(x)
    return _out(_erfinv(a).astype(a.dtype))


@named("top_k")
def top_k(x, k, sorted=True):  # noqa: A002 - Keras's name
    """``(values, indices)`` of the ``k`` largest entries along the last axis; the values are
    a recorded ``take_along_axis`` of ``x``, so they carry slopes."""
    a = to_array(x)
    if sorted:
        indices = np.argsort(-a, axis=-1, kind="stable")[..., :k]
    else:
        indices = np.argpartition(a, -k, axis=-1)[..., -k:]
    indices = indices.astype(np.int32)
    return nops.take_along_axis(x, indices, axis=-1), _out(indices)


@named("in_top_k")
def in_top_k(targets, predictions, k):
    t = to_array(targets)
    p = to_array(predictions)
    kth = np.sort(p, axis=-1)[..., -k][:, None] if k <= p.shape[-1] else -np.inf
    values = np.take_along_axis(p, t[:, None].astype(np.int64), axis=-1)
    return _out(np.any(values >= kth, axis=-1))


def _segment(reduce, name, data, segment_ids, num_segments, fill):
    a = to_array(data)
    ids = to_array(segment_ids).astype(np.int64)
    if ids.shape != a.shape[: ids.ndim] or ids.ndim != 1:
        raise ValueError(
            f"ops.{name}: segment_ids must be 1-D with one id per row of data. "
            f"Received: data.shape={a.shape}, segment_ids.shape={ids.shape}"
        )
    n = int(num_segments) if num_segments is not None else (int(ids.max()) + 1 if ids.size else 0)
    out = np.full((n,) + a.shape[1:], fill, dtype=a.dtype)
    keep = (ids >= 0) & (ids < n)
    reduce.at(out, ids[keep], a[keep])
    return _out(out)


@named("segment_sum")
def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment(np.add, "segment_sum", data, segment_ids, num_segments, 0)


@named("segment_max")
def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    a = to_array(data)
    low = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    return _segment(np.maximum, "segment_max", data, segment_ids, num_segments, low)


@named("segment_min")
def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    a = to_array(data)
    high = np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).max
    return _segment(np.minimum, "segment_min", data, segment_ids, num_segments, high)


@named("segment_prod")
def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    return _segment(np.multiply, "segment_prod", data, segment_ids, num_segments, 1)


@named("logdet")
def logdet(x):
    return _out(np.linalg.slogdet(_float(x))[1])


@named("cdist")
def cdist(x1, x2, p=2.0):
    a = to_array(x1)
    b = to_array(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"ops.cdist: inputs must have rank >= 2 and the same last axis. "
            f"Received: x1.shape={a.shape}, x2.shape={b.shape}"
        )
    diff = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 2:
        return _out(np.sqrt(np.sum(diff * diff, axis=-1)))
    return _out(np.sum(diff**p, axis=-1) ** (1.0 / p))


@named("extract_sequences")
def extract_sequences(x, sequence_length, sequence_stride):
    a = to_array(x)
    count = (a.shape[-1] - sequence_length) // sequence_stride + 1
    starts = np.arange(count) * sequence_stride
    index = starts[:, None] + np.arange(sequence_length)[None, :]
    return _out(a[..., index])


@named("fft")
def fft(x):
    real, imag = x
    y = np.fft.fft(to_array(real) + 1j * to_array(imag))
    dtype = to_array(real).dtype
    return _out(y.real.astype(dtype)), _out(y.imag.astype(dtype))


@named("fft2")
def fft2(x):
    real, imag = x
    y = np.fft.fft2(to_array(real) + 1j * to_array(imag))
    dtype = to_array(real).dtype
    return _out(y.real.astype(dtype)), _out(y.imag.astype(dtype))


@named("ifft2")
def ifft2(x):
    real, imag = x
    y = np.fft.ifft2(to_array(real) + 1j * to_array(imag))
    dtype = to_array(real).dtype
    return _out(y.real.astype(dtype)), _out(y.imag.astype(dtype))


@named("rfft")
def rfft(x, fft_length=None):
    a = to_array(x)
    y = np.fft.rfft(a, n=fft_length, axis=-1)
    return _out(y.real.astype(a.dtype)), _out(y.imag.astype(a.dtype))


@named("irfft")
def irfft(x, fft_length=None):
    real, imag = x
    a = to_array(real)
    y = np.fft.irfft(a + 1j * to_array(imag), n=fft_length, axis=-1)
    return _out(y.astype(a.dtype))


@named("view_as_complex")
def view_as_complex(x):
    a = to_array(x)
    if a.shape[-1] != 2:
        raise ValueError(
            f"ops.view_as_complex: the last axis must have size 2. Received: {a.shape}"
        )
    return _out(a[..., 0] + 1j * a[..., 1])


@named("view_as_real")
def view_as_real(x):
    a = to_array(x)
    return _out(np.stack([a.real, a.imag], axis=-1))


def _loud(name, fn):
    @functools.wraps(fn)
    def op(*args, **kwargs):
        return forward_only(name, fn, [*args, *kwargs.values()], fn(*args, **kwargs))

    return op


# Forward only: a slope that would flow through their results fails loudly.
for _name in (
    "erfc",
    "erfinv",
    "segment_sum",
    "segment_max",
    "segment_min",
    "segment_prod",
    "logdet",
    "cdist",
    "extract_sequences",
    "fft",
    "fft2",
    "ifft2",
    "rfft",
    "irfft",
    "view_as_complex",
    "view_as_real",
):
    globals()[_name] = _loud(_name, globals()[_name])
del _name

from glassnet.ops._public import public_names  # noqa: E402

__all__ = sorted({*public_names(globals(), __name__), erf.__name__})
