"""``keras.ops.nn``: activations, ``one_hot`` and the crossentropies, differentiable on the tape.

Formulas follow Keras 3's NumPy backend (``keras/src/backend/numpy/nn.py``); each
elementwise activation has its own node whose slope is written from its output where that
is cheaper (``sigmoid``: ``y (1 - y)``). The crossentropies are built of recorded ops, as
Keras writes them, so their slopes come from their parts.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import config
from glassnet.ops import numpy_ops as nops
from glassnet.ops._convert import arg, float_type, to_array
from glassnet.ops._errors import named
from glassnet.ops.tensor import Op, emit, forward_only

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_arg(x):
    s, a = arg(x)
    if a.dtype.kind not in "fc":
        a = a.astype(float_type(a.dtype))
    return s, a


def _elementwise(name: str, forward, slope, keep_int: bool = False):
    """An op ``y = forward(x, **kw)`` whose slope is ``g * slope(x, y, **kw)``."""

    def slopes(payload, g, needs):
        a, y, kwargs = payload
        return (g * slope(a, y, **kwargs),)

    op = Op(name, slopes)

    @named(name)
    def fn(x, **kwargs):
        s, a = arg(x) if keep_int else _float_arg(x)
        y = np.asarray(forward(a, **kwargs), dtype=a.dtype)
        return emit(op, (s,), y, (a, y, kwargs))

    fn.__name__ = name
    return fn


def _sigmoid(a):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def _erf(a):
    erf = np.frompyfunc(math.erf, 1, 1)
    return erf(a).astype(a.dtype)


_relu = _elementwise("relu", lambda a: np.maximum(a, 0), lambda a, y: a > 0, keep_int=True)
_relu6 = _elementwise(
    "relu6", lambda a: np.clip(a, 0, 6), lambda a, y: (a > 0) & (a < 6), keep_int=True
)
_sigmoid_op = _elementwise("sigmoid", _sigmoid, lambda a, y: y * (1 - y))
_softplus = _elementwise("softplus", lambda a: np.logaddexp(a, 0), lambda a, y: _sigmoid(a))
_softsign = _elementwise(
    "softsign", lambda a: a / (1 + np.abs(a)), lambda a, y: 1 / (1 + np.abs(a)) ** 2
)
_silu = _elementwise(
    "silu",
    lambda a: a * _sigmoid(a),
    lambda a, y: _sigmoid(a) * (1 + a * (1 - _sigmoid(a))),
)
_log_sigmoid = _elementwise(
    "log_sigmoid", lambda a: -np.logaddexp(-a, 0), lambda a, y: 1 - _sigmoid(a)
)
_elu = _elementwise(
    "elu",
    lambda a, alpha: np.where(a >= 0, a, alpha * np.expm1(a)),
    lambda a, y, alpha: np.where(a >= 0, 1, y + alpha),
)
_selu = _elementwise(
    "selu",
    lambda a: _SELU_SCALE * np.where(a >= 0, a, _SELU_ALPHA * np.expm1(a)),
    lambda a, y: _SELU_SCALE * np.where(a >= 0, 1, _SELU_ALPHA * np.exp(a)),
)
_celu = _elementwise(
    "celu",
    lambda a, alpha: np.maximum(a, 0) + alpha * np.expm1(np.minimum(a, 0) / alpha),
    lambda a, y, alpha: np.where(a > 0, 1, np.exp(np.minimum(a, 0) / alpha)),
)
_leaky_relu = _elementwise(
    "leaky_relu",
    lambda a, negative_slope: np.maximum(a, negative_slope * a),
    lambda a, y, negative_slope: np.where(a > negative_slope * a, 1, negative_slope),
)


def _gelu_tanh(a):
    inner = _SQRT_2_OVER_PI * (a + 0.044715 * a**3)
    return 0.5 * a * (1 + np.tanh(inner))


def _gelu_tanh_slope(a, y):
    inner = _SQRT_2_OVER_PI * (a + 0.044715 * a**3)
    t = np.tanh(inner)
    return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)


_gelu_approx = _elementwise("gelu", _gelu_tanh, _gelu_tanh_slope)
_gelu_exact = _elementwise(
    "gelu",
    lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2))),
    lambda a, y: (
        0.5 * (1 + _erf(a / math.sqrt(2))) + a * np.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)
    ),
)
_hard_sigmoid = _elementwise(
    "hard_sigmoid",
    lambda a: np.clip(a / 6 + 0.5, 0, 1),
    lambda a, y: ((a > -3) & (a < 3)) / 6,
)
_hard_silu = _elementwise(
    "hard_silu",
    lambda a: a * np.clip(a / 6 + 0.5, 0, 1),
    lambda a, y: np.where(a <= -3, 0, np.where(a >= 3, 1, a / 3 + 0.5)),
)
_hard_tanh = _elementwise("hard_tanh", lambda a: np.clip(a, -1, 1), lambda a, y: (a > -1) & (a < 1))
_tanh_shrink = _elementwise("tanh_shrink", lambda a: a - np.tanh(a), lambda a, y: np.tanh(a) ** 2)
_squareplus = _elementwise(
    "squareplus",
    lambda a, b: (a + np.sqrt(a * a + b)) / 2,
    lambda a, y, b: (1 + a / np.sqrt(a * a + b)) / 2,
)
_soft_shrink = _elementwise(
    "soft_shrink",
    lambda a, threshold: np.where(
        a > threshold, a - threshold, np.where(a < -threshold, a + threshold, 0)
    ),
    lambda a, y, threshold: np.abs(a) > threshold,
)
_hard_shrink = _elementwise(
    "hard_shrink",
    lambda a, threshold: np.where(np.abs(a) > threshold, a, 0),
    lambda a, y, threshold: np.abs(a) > threshold,
)
_sparse_plus = _elementwise(
    "sparse_plus",
    lambda a: np.where(a <= -1, 0, np.where(a >= 1, a, (a + 1) ** 2 / 4)),
    lambda a, y: np.where(a <= -1, 0, np.where(a >= 1, 1, (a + 1) / 2)),
)
_sparse_sigmoid = _elementwise(
    "sparse_sigmoid",
    lambda a: np.where(a <= -1, 0, np.where(a >= 1, 1, 0.5 * (a + 1))),
    lambda a, y: ((a > -1) & (a < 1)) * 0.5,
)
_threshold = _elementwise(
    "threshold",
    lambda a, threshold, default_value: np.where(a > threshold, a, default_value),
    lambda a, y, threshold, default_value: a > threshold,
)


def relu(x):
    """``max(x, 0)``; slope 0 at 0, as in TensorFlow."""
    return _relu(x)


def relu6(x):
    return _relu6(x)


def sigmoid(x):
    return _sigmoid_op(x)


def softplus(x):
    return _softplus(x)


def softsign(x):
    return _softsign(x)


def silu(x):
    """``x * sigmoid(x)`` (also ``swish``)."""
    return _silu(x)


swish = silu


def log_sigmoid(x):
    return _log_sigmoid(x)


def leaky_relu(x, negative_slope=0.2):
    return _leaky_relu(x, negative_slope=float(negative_slope))


def elu(x, alpha=1.0):
    return _elu(x, alpha=float(alpha))


def selu(x):
    return _selu(x)


def celu(x, alpha=1.0):
    return _celu(x, alpha=float(alpha))


def gelu(x, approximate=True):
    """Gaussian error linear unit; the tanh approximation by default, as in Keras."""
    return _gelu_approx(x) if approximate else _gelu_exact(x)


def hard_sigmoid(x):
    return _hard_sigmoid(x)


def hard_silu(x):
    return _hard_silu(x)


hard_swish = hard_silu


def hard_tanh(x):
    return _hard_tanh(x)


def tanh_shrink(x):
    return _tanh_shrink(x)


def squareplus(x, b=4):
    return _squareplus(x, b=float(b))


def soft_shrink(x, threshold=0.5):
    return _soft_shrink(x, threshold=float(threshold))


def hard_shrink(x, threshold=0.5):
    return _hard_shrink(x, threshold=float(threshold))


def sparse_plus(x):
    return _sparse_plus(x)


def sparse_sigmoid(x):
    return _sparse_sigmoid(x)


def threshold(x, threshold, default_value):
    return _threshold(x, threshold=float(threshold), default_value=float(default_value))


def _softmax_slopes(payload, g, needs):
    y, axis = payload
    return (y * (g - np.sum(g * y, axis=axis, keepdims=True)),)


def _log_softmax_slopes(payload, g, needs):
    y, axis = payload
    return (g - np.exp(y) * np.sum(g, axis=axis, keepdims=True),)


_SOFTMAX = Op("softmax", _softmax_slopes)
_LOG_SOFTMAX = Op("log_softmax", _log_softmax_slopes)


def _softmax_axis(a, axis):
    return tuple(axis) if isinstance(axis, (tuple, list)) else axis


@named("softmax")
def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, computed shifted by the maximum."""
    s, a = _float_arg(x)
    axis = _softmax_axis(a, axis)
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    y = e / np.sum(e, axis=axis, keepdims=True)
    return emit(_SOFTMAX, (s,), y, (y, axis))


@named("log_softmax")
def log_softmax(x, axis=-1):
    s, a = _float_arg(x)
    axis = _softmax_axis(a, axis)
    shifted = a - np.max(a, axis=axis, keepdims=True)
    y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return emit(_LOG_SOFTMAX, (s,), y, (y, axis))


@named("one_hot")
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Rows of zeros with a one at each integer of ``x``; a negative integer gives a row of
    zeros, as in Keras."""
    if sparse:
        raise ValueError("ops.one_hot: sparse=True is not supported by glassnet (NumPy).")
    a = to_array(x)
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "f" and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        else:
            raise TypeError(f"ops.one_hot: x must hold integers. Received: dtype={a.dtype}")
    num_classes = int(num_classes)
    if a.size and a.max() >= num_classes:
        raise ValueError(
            f"ops.one_hot: a class index {int(a.max())} is not below num_classes={num_classes}"
        )
    flat = a.reshape(-1)
    out = np.zeros((flat.size, num_classes), dtype=dtype or config.floatx())
    valid = flat >= 0
    out[np.arange(flat.size)[valid], flat[valid]] = 1
    out = out.reshape(a.shape + (num_classes,))
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return emit(_NO_SLOPE, (), out, None)


_NO_SLOPE = Op("no_slope", lambda payload, g, needs: ())


@named("multi_hot")
def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    a = to_array(inputs).astype(np.int32)
    hot = to_array(one_hot(a, num_classes, axis=axis, dtype=dtype))
    return emit(_NO_SLOPE, (), np.max(hot, axis=1 if a.ndim > 1 else 0), None)


def _same_shape(name, target, output):
    t = to_array(target)
    o = to_array(output)
    if t.shape != o.shape:
        raise ValueError(
            f"ops.{name}: arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={t.shape}, output.shape={o.shape}"
        )
    return t, o


def _log_prob(output, from_logits, axis):
    if from_logits:
        return log_softmax(output, axis=axis)
    eps = config.epsilon()
    output = nops.divide(output, nops.sum(output, axis=axis, keepdims=True))
    return nops.log(nops.clip(output, eps, 1.0 - eps))


@named("categorical_crossentropy")
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-sum(target * log(output))`` along ``axis`` (output rescaled to sum to 1 and clipped
    to ``[epsilon, 1 - epsilon]``, or ``log_softmax`` of logits)."""
    _, o = _same_shape("categorical_crossentropy", target, output)
    if o.ndim < 1:
        raise ValueError(
            f"ops.categorical_crossentropy: target and output must be at least rank 1. "
            f"Received: output.shape={o.shape}"
        )
    log_prob = _log_prob(output, from_logits, axis)
    return nops.negative(nops.sum(nops.multiply(target, log_prob), axis=axis))


@named("sparse_categorical_crossentropy")
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """The categorical crossentropy of integer labels."""
    t = to_array(target).astype(np.int32)
    o = to_array(output)
    if t.ndim == o.ndim and t.shape[-1] == 1:
        t = np.squeeze(t, axis=-1)
    if o.ndim < 1:
        raise ValueError(
            f"ops.sparse_categorical_crossentropy: output must be at least rank 1. "
            f"Received: output.shape={o.shape}"
        )
    if t.shape != o.shape[:-1]:
        raise ValueError(
            "ops.sparse_categorical_crossentropy: target must have the shape of output "
            f"without its last axis. Received: target.shape={t.shape}, output.shape={o.shape}"
        )
    log_prob = _log_prob(output, from_logits, axis)
    hot = one_hot(t, o.shape[axis], axis=axis, dtype=log_prob.dtype)
    return nops.negative(nops.sum(nops.multiply(hot, log_prob), axis=axis))


@named("binary_crossentropy")
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise ``-(t log p + (1 - t) log(1 - p))``, ``p`` clipped to
    ``[epsilon, 1 - epsilon]`` (``sigmoid`` of logits first)."""
    _same_shape("binary_crossentropy", target, output)
    if from_logits:
        output = sigmoid(output)
    eps = config.epsilon()
    p = nops.clip(output, eps, 1.0 - eps)
    t = target
    first = nops.multiply(t, nops.log(p))
    second = nops.multiply(nops.subtract(1.0, t), nops.log(nops.subtract(1.0, p)))
    return nops.negative(nops.add(first, second))


@named("moments")
def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` over ``axes``."""
    if synchronized:
        raise NotImplementedError("ops.moments: synchronized=True is not supported by glassnet.")
    axes = tuple(axes) if isinstance(axes, list) else axes
    mean = nops.mean(x, axis=axes, keepdims=True)
    variance = nops.mean(nops.square(nops.subtract(x, mean)), axis=axes, keepdims=True)
    if not keepdims:
        mean = nops.squeeze(mean, axis=axes)
        variance = nops.squeeze(variance, axis=axes)
    return mean, variance


@named("normalize")
def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``)."""
    eps = config.epsilon() if epsilon is None else epsilon
    s, a = _float_arg(x)
    if order == 2:
        norm = nops.sqrt(
            nops.maximum(nops.sum(nops.square(x), axis=axis, keepdims=True), eps * eps)
        )
        return nops.divide(x, norm)
    norm = np.linalg.norm(a, ord=order, axis=axis, keepdims=True)
    return forward_only(
        "normalize", None, [x], emit(_NO_SLOPE, (), a / np.maximum(norm, eps), None)
    )


@named("batch_normalization")
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics along
    ``axis`` of ``x``."""
    a = to_array(x)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]

    def along(v):
        return nops.reshape(v, shape)

    out = nops.divide(
        nops.subtract(x, along(mean)), nops.sqrt(nops.add(along(variance), float(epsilon)))
    )
    if scale is not None:
        out = nops.multiply(out, along(scale))
    if offset is not None:
        out = nops.add(out, along(offset))
    return out


@named("glu")
def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves ``a``, ``b`` of ``x`` along
    ``axis``."""
    a = to_array(x)
    if a.shape[axis] % 2:
        raise ValueError(
            f"ops.glu: the axis size must be divisible by 2. Received: x.shape={a.shape} "
            f"with axis={axis}"
        )
    first, second = nops.split(x, 2, axis=axis)
    return nops.multiply(first, sigmoid(second))


@named("sparsemax")
def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``:
    ``max(x - tau, 0)`` with ``tau = (sum of the k largest - 1) / k`` for the largest ``k``
    whose ``k``-th value exceeds it. Keras 3.15's backends sum the running sums instead
    (``tau = (sum of cumsum over the support - 1) / k``), which differs whenever the support
    has more than one entry and gives outputs that do not sum to 1; glassnet computes the
    projection the paper defines (Martins and Astudillo, 2016). The slope is that of
    ``x - tau`` on the support, ``tau`` moving with the support's values."""
    s, a = _float_arg(x)
    axis = int(axis) % a.ndim
    ordered = -np.sort(-a, axis=axis)
    cumsum = np.cumsum(ordered, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = -1
    r = np.arange(1, a.shape[axis] + 1).reshape(shape)
    k = np.sum(1 + r * ordered > cumsum, axis=axis, keepdims=True)
    tau_value = (np.take_along_axis(cumsum, k - 1, axis=axis) - 1) / k
    support = (a > tau_value).astype(a.dtype)
    tau = nops.divide(
        nops.subtract(nops.sum(nops.multiply(x, support), axis=axis, keepdims=True), 1.0),
        k.astype(a.dtype),
    )
    return nops.maximum(nops.subtract(x, tau), np.zeros((), dtype=a.dtype))


def _norm_axes(axis, ndim):
    axes = [axis] if isinstance(axis, int) else list(axis)
    return sorted(int(i) % ndim for i in axes)


@named("layer_normalization")
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``(x - mean) / sqrt(variance + epsilon) * gamma + beta`` over ``axis``, as Keras
    computes it (``inv = rsqrt(var + eps) * gamma``, ``x * inv + (beta - mean * inv)``)."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"ops.layer_normalization got unexpected arguments: {sorted(kwargs)}")
    eps = config.epsilon() if epsilon is None else epsilon
    a = to_array(x)
    axes = _norm_axes(axis, a.ndim)
    shape = [1] * a.ndim
    for d in axes:
        shape[d] = a.shape[d]

    def broadcast(v):
        if v is None:
            return None
        if to_array(v).ndim != a.ndim and axes != [a.ndim - 1]:
            return nops.reshape(v, shape)
        return v

    gamma, beta = broadcast(gamma), broadcast(beta)
    if rms_scaling:
        variance = nops.var(x, axis=tuple(axes), keepdims=True)
        out = nops.multiply(x, nops.divide(1.0, nops.sqrt(nops.add(variance, eps))))
        return out if gamma is None else nops.multiply(out, gamma)
    mean, variance = moments(x, axes=axes, keepdims=True)
    inv = nops.divide(1.0, nops.sqrt(nops.add(variance, eps)))
    if gamma is not None:
        inv = nops.multiply(inv, gamma)
    res = nops.negative(nops.multiply(mean, inv))
    if beta is not None:
        res = nops.add(res, beta)
    return nops.add(nops.multiply(x, inv), res)


@named("rms_normalization")
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis``."""
    eps = config.epsilon() if epsilon is None else epsilon
    if to_array(x).ndim == 0:
        x = nops.expand_dims(x, 0)
    axis = tuple(sorted(axis)) if isinstance(axis, (tuple, list)) else axis
    mean_square = nops.mean(nops.square(x), axis=axis, keepdims=True)
    out = nops.multiply(x, nops.divide(1.0, nops.sqrt(nops.add(mean_square, eps))))
    return out if scale is None else nops.multiply(out, scale)


@named("polar")
def polar(abs_, angle):
    """The complex number of modulus ``abs_`` and argument ``angle`` (forward only)."""
    r = to_array(abs_)
    theta = to_array(angle)
    return emit(_NO_SLOPE, (), r * np.cos(theta) + 1j * r * np.sin(theta), None)


from glassnet.ops._public import public_names  # noqa: E402

__all__ = public_names(globals(), __name__)
