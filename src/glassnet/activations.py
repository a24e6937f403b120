"""Activation functions with their slopes, looked up by Keras's names.

Each activation is an object with three methods, in the chain-rule vocabulary used all
through glassnet (``z`` is a node's input, ``a = activation(z)`` its output, ``grad_a`` the
slope of the loss at the node's output):

* ``activation(z)`` returns ``a``;
* ``activation.slope(z, a)`` returns ``da/dz`` element by element (the course's "slope of the
  activation function at the node"); softmax has no element-wise slope and returns ``None``;
* ``activation.backward(z, a, grad_a)`` returns ``grad_z = grad_a * da/dz`` (for softmax, the
  Jacobian-vector product).

Definitions follow Keras 3 (``keras/src/activations/activations.py``). Where Keras 2
differed, Keras 3 wins: ``hard_sigmoid`` is ``relu6(x + 3) / 6``, not ``0.2 x + 0.5``;
``leaky_relu`` has ``negative_slope=0.2``.

Example:
    >>> import numpy as np
    >>> from glassnet import activations
    >>> activations.get("relu")(np.array([-1.0, 2.0]))
    array([0., 2.])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from glassnet._registry import Registry
from glassnet._rowwise import row_max, row_sum

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

_registry = Registry("activation")


class ActivationFunction:
    """Base class: an element-wise function and its slope.

    Subclasses define ``__call__`` and ``slope``; ``backward`` multiplies the slope by the
    slope arriving from above, which is the chain rule at one node.
    """

    name = "activation"

    def __call__(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray | None:
        """``da/dz`` at each node, given its input ``z`` and output ``a``."""
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        """``grad_z = grad_a * da/dz``: the slope of the loss at the node's input."""
        return grad_a * self.slope(z, a)

    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


class Linear(ActivationFunction):
    """``a = z`` (the course's identity function)."""

    name = "linear"

    def __call__(self, z):
        return z

    def slope(self, z, a):
        return np.ones_like(z)

    def backward(self, z, a, grad_a):
        return grad_a


class ReLU(ActivationFunction):
    """``a = max(0, z)``.

    Its slope is 1 where ``z > 0`` and 0 elsewhere. At exactly ``z = 0`` the function has no
    derivative; like TensorFlow and PyTorch we use 0 there, so a unit whose input is 0 for
    every row gets no gradient (it is "dead" for that data).
    """

    name = "relu"

    def __call__(self, z):
        return np.maximum(z, 0)

    def slope(self, z, a):
        return (z > 0).astype(z.dtype)

    def backward(self, z, a, grad_a):
        return grad_a * (z > 0)


class LeakyReLU(ActivationFunction):
    """``a = z`` for ``z > 0``, ``negative_slope * z`` otherwise (Keras 3 default 0.2)."""

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.2) -> None:
        self.negative_slope = float(negative_slope)

    def __call__(self, z):
        return np.where(z > 0, z, z * self.negative_slope)

    def slope(self, z, a):
        return np.where(z > 0, 1.0, self.negative_slope).astype(z.dtype)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class ReLU6(ActivationFunction):
    """``a = min(max(0, z), 6)``."""

    name = "relu6"

    def __call__(self, z):
        return np.clip(z, 0, 6)

    def slope(self, z, a):
        return ((z > 0) & (z < 6)).astype(z.dtype)


class Tanh(ActivationFunction):
    """``a = tanh(z)``; slope ``1 - a**2``."""

    name = "tanh"

    def __call__(self, z):
        return np.tanh(z)

    def slope(self, z, a):
        return 1 - a * a


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(z / 2)) equals 1 / (1 + exp(-z)) and never overflows.
    return 0.5 + 0.5 * np.tanh(0.5 * z)


class Sigmoid(ActivationFunction):
    """``a = 1 / (1 + exp(-z))``; slope ``a * (1 - a)``."""

    name = "sigmoid"

    def __call__(self, z):
        return _sigmoid(z)

    def slope(self, z, a):
        return a * (1 - a)


class HardSigmoid(ActivationFunction):
    """Keras 3's ``hard_sigmoid``: ``relu6(z + 3) / 6``, slope 1/6 on (-3, 3)."""

    name = "hard_sigmoid"

    def __call__(self, z):
        return np.clip(z + 3, 0, 6) / 6

    def slope(self, z, a):
        return np.where((z > -3) & (z < 3), 1 / 6, 0).astype(z.dtype)


class HardSilu(ActivationFunction):
    """``a = z * hard_sigmoid(z)`` (Keras's ``hard_silu``/``hard_swish``)."""

    name = "hard_silu"

    def __call__(self, z):
        return z * np.clip(z + 3, 0, 6) / 6

    def slope(self, z, a):
        inside = (z > -3) & (z < 3)
        return np.where(inside, (2 * z + 3) / 6, (z >= 3).astype(z.dtype)).astype(z.dtype)


class Softmax(ActivationFunction):
    """``a_i = exp(z_i) / sum_j exp(z_j)`` over the last axis.

    Softmax mixes the nodes of a layer, so it has no element-wise slope; ``backward`` is the
    Jacobian-vector product ``a * (grad_a - sum(grad_a * a))``.
    """

    name = "softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def __call__(self, z):
        if self.axis in (-1, z.ndim - 1):  # one distribution per row: the fast reductions
            e = z - row_max(z)
            np.exp(e, out=e)
            e /= row_sum(e)
            return e
        e = np.exp(z - z.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def slope(self, z, a):
        return None

    def backward(self, z, a, grad_a):
        return a * (grad_a - (grad_a * a).sum(axis=self.axis, keepdims=True))

    def get_config(self):
        return {"axis": self.axis}


class Elu(ActivationFunction):
    """``a = z`` for ``z > 0``, ``alpha * (exp(z) - 1)`` otherwise."""

    name = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)

    def __call__(self, z):
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))

    def slope(self, z, a):
        return np.where(z > 0, 1, self.alpha * np.exp(np.minimum(z, 0))).astype(z.dtype)

    def get_config(self):
        return {"alpha": self.alpha}


class Selu(ActivationFunction):
    """``a = scale * elu(z, alpha)`` with Klambauer et al.'s constants."""

    name = "selu"

    def __call__(self, z):
        neg = _SELU_ALPHA * np.expm1(np.minimum(z, 0))
        return (_SELU_SCALE * np.where(z > 0, z, neg)).astype(z.dtype, copy=False)

    def slope(self, z, a):
        neg = _SELU_ALPHA * np.exp(np.minimum(z, 0))
        return (_SELU_SCALE * np.where(z > 0, 1, neg)).astype(z.dtype)


class Softplus(ActivationFunction):
    """``a = log(1 + exp(z))``; slope ``sigmoid(z)``."""

    name = "softplus"

    def __call__(self, z):
        return np.logaddexp(0, z).astype(z.dtype, copy=False)

    def slope(self, z, a):
        return _sigmoid(z)


class Softsign(ActivationFunction):
    """``a = z / (1 + |z|)``; slope ``1 / (1 + |z|)**2``."""

    name = "softsign"

    def __call__(self, z):
        return z / (1 + np.abs(z))

    def slope(self, z, a):
        return 1 / (1 + np.abs(z)) ** 2


class Silu(ActivationFunction):
    """``a = z * sigmoid(z)`` (also called swish)."""

    name = "silu"

    def __call__(self, z):
        return z * _sigmoid(z)

    def slope(self, z, a):
        s = _sigmoid(z)
        return s * (1 + z * (1 - s))


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function, element-wise (SciPy's when installed, else the standard library's)."""
    try:
        from scipy.special import erf
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn in most installs
        return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)
    return erf(x).astype(x.dtype, copy=False)


class Gelu(ActivationFunction):
    """Gaussian error linear unit.

    Exact form (Keras 3's default, ``approximate=False``): ``z * Phi(z)`` with ``Phi`` the
    standard normal distribution function. Approximate form:
    ``0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z**3)))``.
    """

    name = "gelu"
    _C = math.sqrt(2 / math.pi)

    def __init__(self, approximate: bool = False) -> None:
        self.approximate = bool(approximate)

    def __call__(self, z):
        if self.approximate:
            return 0.5 * z * (1 + np.tanh(self._C * (z + 0.044715 * z**3)))
        return 0.5 * z * (1 + _erf(z / math.sqrt(2)))

    def slope(self, z, a):
        if self.approximate:
            inner = self._C * (z + 0.044715 * z**3)
            t = np.tanh(inner)
            dinner = self._C * (1 + 3 * 0.044715 * z**2)
            return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * dinner
        cdf = 0.5 * (1 + _erf(z / math.sqrt(2)))
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return (cdf + z * pdf).astype(z.dtype, copy=False)

    def get_config(self):
        return {"approximate": self.approximate}


class Exponential(ActivationFunction):
    """``a = exp(z)``; its slope is itself."""

    name = "exponential"

    def __call__(self, z):
        return np.exp(z)

    def slope(self, z, a):
        return a


class Mish(ActivationFunction):
    """``a = z * tanh(softplus(z))``."""

    name = "mish"

    def __call__(self, z):
        return z * np.tanh(np.logaddexp(0, z)).astype(z.dtype, copy=False)

    def slope(self, z, a):
        t = np.tanh(np.logaddexp(0, z))
        return (t + z * (1 - t * t) * _sigmoid(z)).astype(z.dtype, copy=False)


class _WithArguments(ActivationFunction):
    """An activation whose Keras function takes arguments after ``x``
    (``celu(x, alpha=1.0)``): the object holds them, and a call may give others, which
    then hold for that call only."""

    _arguments: tuple[str, ...] = ()

    def __call__(self, z, *args, **kwargs):
        if args or kwargs:
            return self._with(*args, **kwargs)(z)
        return self._forward(np.asarray(z))

    def _with(self, *args, **kwargs) -> _WithArguments:
        if len(args) > len(self._arguments):
            raise TypeError(
                f"{self.name}() takes the arguments {('x', *self._arguments)}; "
                f"received {1 + len(args)} positional ones"
            )
        unknown = set(kwargs) - set(self._arguments)
        if unknown:
            raise TypeError(f"{self.name}() got unexpected arguments {sorted(unknown)}")
        given = dict(zip(self._arguments[: len(args)], args, strict=True))
        merged = {**self.get_config(), **given, **kwargs}
        return type(self)(**merged)

    def _forward(self, z):
        raise NotImplementedError

    def get_config(self):
        return {name: getattr(self, name) for name in self._arguments}


class Celu(_WithArguments):
    """``max(z, 0) + alpha * expm1(min(z, 0) / alpha)``; slope 1, or ``exp(z / alpha)``
    below 0."""

    name = "celu"
    _arguments = ("alpha",)

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)

    def _forward(self, z):
        neg = np.minimum(z, 0)
        return (np.maximum(z, 0) + self.alpha * np.expm1(neg / self.alpha)).astype(z.dtype)

    def slope(self, z, a):
        return np.where(z > 0, 1, np.exp(np.minimum(z, 0) / self.alpha)).astype(z.dtype)


class Glu(_WithArguments):
    """Gated linear unit: ``z`` split in two halves along ``axis``, ``first *
    sigmoid(second)``; the output has half as many entries along ``axis``."""

    name = "glu"
    _arguments = ("axis",)

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)

    def _halves(self, z):
        if z.shape[self.axis] % 2 != 0:
            raise ValueError(
                "axis size must be divisible by 2. "
                f"Received: x.shape={z.shape} with axis={self.axis}"
            )
        return np.split(z, 2, self.axis)

    def _forward(self, z):
        first, second = self._halves(z)
        return (first * _sigmoid(second)).astype(z.dtype)

    def slope(self, z, a):
        return None

    def backward(self, z, a, grad_a):
        first, second = self._halves(z)
        gate = _sigmoid(second)
        return np.concatenate(
            [grad_a * gate, grad_a * first * gate * (1 - gate)], axis=self.axis
        ).astype(z.dtype)


class HardShrink(_WithArguments):
    """``z`` where ``|z| > threshold``, else 0."""

    name = "hard_shrink"
    _arguments = ("threshold",)

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = float(threshold)

    def _forward(self, z):
        return np.where(np.abs(z) > self.threshold, z, 0).astype(z.dtype)

    def slope(self, z, a):
        return (np.abs(z) > self.threshold).astype(z.dtype)


class SoftShrink(_WithArguments):
    """``z - threshold`` above ``threshold``, ``z + threshold`` below ``-threshold``, else 0."""

    name = "soft_shrink"
    _arguments = ("threshold",)

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = float(threshold)

    def _forward(self, z):
        t = self.threshold
        return np.where(z > t, z - t, np.where(z < -t, z + t, 0)).astype(z.dtype)

    def slope(self, z, a):
        return (np.abs(z) > self.threshold).astype(z.dtype)


class Squareplus(_WithArguments):
    """``(z + sqrt(z**2 + b)) / 2``, a smooth ReLU; slope ``(1 + z / sqrt(z**2 + b)) / 2``."""

    name = "squareplus"
    _arguments = ("b",)

    def __init__(self, b: float = 4) -> None:
        self.b = b

    def _forward(self, z):
        return ((z + np.sqrt(z * z + self.b)) / 2).astype(z.dtype)

    def slope(self, z, a):
        return ((1 + z / np.sqrt(z * z + self.b)) / 2).astype(z.dtype)


class Threshold(_WithArguments):
    """``z`` where ``z > threshold``, else ``default_value`` (both required, as in Keras)."""

    name = "threshold"
    _arguments = ("threshold", "default_value")

    def __init__(self, threshold: float | None = None, default_value: float | None = None):
        self.threshold = threshold
        self.default_value = default_value

    def _forward(self, z):
        if self.threshold is None or self.default_value is None:
            raise TypeError(
                "threshold() needs the arguments `threshold` and `default_value`, as "
                "keras.activations.threshold(x, threshold, default_value)"
            )
        return np.where(z > self.threshold, z, self.default_value).astype(z.dtype)

    def slope(self, z, a):
        return (z > self.threshold).astype(z.dtype)


class LogSoftmax(_WithArguments):
    """``z - log(sum(exp(z)))`` along ``axis``; backward
    ``grad - softmax(z) * sum(grad)``."""

    name = "log_softmax"
    _arguments = ("axis",)

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)

    def _forward(self, z):
        shifted = z - z.max(axis=self.axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))

    def slope(self, z, a):
        return None

    def backward(self, z, a, grad_a):
        return grad_a - np.exp(a) * grad_a.sum(axis=self.axis, keepdims=True)


class Sparsemax(_WithArguments):
    """The Euclidean projection of ``z`` onto the probability simplex along ``axis``
    (Martins & Astudillo, 2016): ``max(z - tau, 0)``, the outputs summing to 1. Keras 3.15's
    backends compute ``tau`` from the sum of the running sums instead, which differs
    whenever more than one output is positive; glassnet follows the paper, as
    ``glassnet.ops.sparsemax`` does. Backward: on the support (where the output is
    positive) the incoming slope minus its mean over the support, 0 elsewhere."""

    name = "sparsemax"
    _arguments = ("axis",)

    def __init__(self, axis: int = -1) -> None:
        self.axis = int(axis)

    def _forward(self, z):
        axis = self.axis
        ordered = -np.sort(-z, axis=axis)
        cumulative = np.cumsum(ordered, axis=axis)
        shape = [1] * z.ndim
        shape[axis] = -1
        r = np.arange(1, z.shape[axis] + 1).reshape(shape)
        k = np.sum(1 + r * ordered > cumulative, axis=axis, keepdims=True)
        tau = (np.take_along_axis(cumulative, k - 1, axis=axis) - 1) / k
        return np.maximum(z - tau, 0).astype(z.dtype)

    def slope(self, z, a):
        return None

    def backward(self, z, a, grad_a):
        support = a > 0
        count = support.sum(axis=self.axis, keepdims=True)
        mean = np.where(support, grad_a, 0).sum(axis=self.axis, keepdims=True) / count
        return np.where(support, grad_a - mean, 0).astype(z.dtype)


class HardTanh(ActivationFunction):
    """``clip(z, -1, 1)``; slope 1 inside (-1, 1)."""

    name = "hard_tanh"

    def __call__(self, z):
        return np.clip(z, -1, 1)

    def slope(self, z, a):
        return ((z > -1) & (z < 1)).astype(z.dtype)


class LogSigmoid(ActivationFunction):
    """``log(sigmoid(z)) = -softplus(-z)``; slope ``sigmoid(-z)``."""

    name = "log_sigmoid"

    def __call__(self, z):
        return -np.logaddexp(np.zeros((), z.dtype), -z)

    def slope(self, z, a):
        return _sigmoid(-z)


class SparsePlus(ActivationFunction):
    """0 below -1, ``(z + 1)**2 / 4`` on [-1, 1), ``z`` from 1; slope ``(z + 1) / 2``
    between."""

    name = "sparse_plus"

    def __call__(self, z):
        return np.where(z <= -1, 0, np.where(z < 1, (z + 1) ** 2 / 4, z)).astype(z.dtype)

    def slope(self, z, a):
        return np.where(z <= -1, 0, np.where(z < 1, (z + 1) / 2, 1)).astype(z.dtype)


class SparseSigmoid(ActivationFunction):
    """0 below -1, ``(z + 1) / 2`` between, 1 from 1; slope 1/2 on (-1, 1)."""

    name = "sparse_sigmoid"

    def __call__(self, z):
        return np.where(z <= -1, 0, np.where(z >= 1, 1, 0.5 * (z + 1))).astype(z.dtype)

    def slope(self, z, a):
        return np.where((z > -1) & (z < 1), 0.5, 0).astype(z.dtype)


class TanhShrink(ActivationFunction):
    """``z - tanh(z)``; slope ``tanh(z)**2``."""

    name = "tanh_shrink"

    def __call__(self, z):
        return z - np.tanh(z)

    def slope(self, z, a):
        return np.tanh(z) ** 2


class FunctionActivation(ActivationFunction):
    """Wraps a user's plain function ``f(z) -> a``; its slope is taken by central differences.

    This keeps course-style code working (``Dense(3, activation=my_function)``), but a
    numerical slope is slow and approximate; prefer a subclass of ``ActivationFunction``
    with an exact ``slope`` for real training.
    """

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", "custom")

    def __call__(self, z):
        return np.asarray(self.fn(z), dtype=z.dtype)

    def slope(self, z, a):
        h = np.sqrt(np.finfo(z.dtype).eps) * np.maximum(1, np.abs(z))
        return (np.asarray(self.fn(z + h)) - np.asarray(self.fn(z - h))) / (2 * h)


for _cls, _names in [
    (Linear, ("linear", "identity")),
    (ReLU, ("relu",)),
    (LeakyReLU, ("leaky_relu",)),
    (ReLU6, ("relu6",)),
    (Tanh, ("tanh",)),
    (Sigmoid, ("sigmoid",)),
    (HardSigmoid, ("hard_sigmoid",)),
    (HardSilu, ("hard_silu", "hard_swish")),
    (Softmax, ("softmax",)),
    (Elu, ("elu",)),
    (Selu, ("selu",)),
    (Softplus, ("softplus",)),
    (Softsign, ("softsign",)),
    (Silu, ("silu", "swish")),
    (Gelu, ("gelu",)),
    (Exponential, ("exponential",)),
    (Mish, ("mish",)),
    (Celu, ("celu",)),
    (Glu, ("glu",)),
    (HardShrink, ("hard_shrink",)),
    (HardTanh, ("hard_tanh",)),
    (LogSigmoid, ("log_sigmoid",)),
    (LogSoftmax, ("log_softmax",)),
    (SoftShrink, ("soft_shrink",)),
    (SparsePlus, ("sparse_plus",)),
    (SparseSigmoid, ("sparse_sigmoid",)),
    (Sparsemax, ("sparsemax",)),
    (Squareplus, ("squareplus",)),
    (TanhShrink, ("tanh_shrink",)),
    (Threshold, ("threshold",)),
]:
    _registry.register(_cls, *_names)


def get(identifier: str | Callable | ActivationFunction | None) -> ActivationFunction:
    """Resolves an activation from a Keras name, an ``ActivationFunction``, or a callable.

    Args:
        identifier: ``None`` (linear), a name such as ``"relu"``, an ``ActivationFunction``
            instance or class, a glassnet activation function such as
            ``glassnet.activations.relu``, or any function of one array.

    Returns:
        An ``ActivationFunction``.

    Raises:
        ValueError: for an unknown name, listing the valid names.
    """
    if identifier is None:
        return _SHARED[Linear]
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, ActivationFunction):
        return identifier()
    if isinstance(identifier, str):
        cls = _registry.lookup(identifier)
        return _SHARED.get(cls) or cls()  # the very function: get("relu") is relu
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return FunctionActivation(identifier)
    raise TypeError(
        "`activation` must be a name, an ActivationFunction or a callable. "
        f"Received: activation={identifier!r} of type {type(identifier).__name__}"
    )


def serialize(activation: ActivationFunction) -> str:
    """The Keras name of an activation, as written into model configs."""
    return activation.name


def deserialize(config: str | dict) -> ActivationFunction:
    """An activation from its Keras name or ``{"class_name": ..., "config": ...}``."""
    if isinstance(config, dict):
        cls = _registry.lookup(str(config.get("class_name") or config.get("config", "")))
        return cls(**{k: v for k, v in dict(config.get("config") or {}).items() if k != "name"})
    return get(config)


def names() -> list[str]:
    """Every activation name glassnet knows, aliases included."""
    return _registry.names()


#: Activations that cannot be a layer's ``activation=`` by name on any width: ``glu`` halves
#: the last axis (it needs an even one), ``threshold`` needs its two arguments.
NOT_LAYER_ACTIVATIONS = frozenset({"glu", "threshold"})


def layer_names() -> list[str]:
    """The names a layer's ``activation=`` takes on rows of any width (``names()`` less
    ``NOT_LAYER_ACTIVATIONS``)."""
    return [name for name in names() if name not in NOT_LAYER_ACTIVATIONS]


# Plain functions under Keras's names, so ``activation=glassnet.activations.relu`` works
# and code such as ``activations.relu(x)`` returns an array.
linear = Linear()
relu = ReLU()
leaky_relu = LeakyReLU()
relu6 = ReLU6()
tanh = Tanh()
sigmoid = Sigmoid()
hard_sigmoid = HardSigmoid()
hard_silu = hard_swish = HardSilu()
softmax = Softmax()
elu = Elu()
selu = Selu()
softplus = Softplus()
softsign = Softsign()
silu = swish = Silu()
gelu = Gelu()
exponential = Exponential()
mish = Mish()
celu = Celu()
glu = Glu()
hard_shrink = HardShrink()
hard_tanh = HardTanh()
log_sigmoid = LogSigmoid()
log_softmax = LogSoftmax()
soft_shrink = SoftShrink()
sparse_plus = SparsePlus()
sparse_sigmoid = SparseSigmoid()
sparsemax = Sparsemax()
squareplus = Squareplus()
tanh_shrink = TanhShrink()
threshold = Threshold()

#: The module's functions by class: ``get`` returns these very objects for a name (or
#: ``None``), as Keras's ``activations.get("relu")`` is ``activations.relu``.
_SHARED = {
    type(fn): fn
    for fn in (
        linear,
        relu,
        leaky_relu,
        relu6,
        tanh,
        sigmoid,
        hard_sigmoid,
        hard_silu,
        softmax,
        elu,
        selu,
        softplus,
        softsign,
        silu,
        gelu,
        exponential,
        mish,
        celu,
        glu,
        hard_shrink,
        hard_tanh,
        log_sigmoid,
        log_softmax,
        soft_shrink,
        sparse_plus,
        sparse_sigmoid,
        sparsemax,
        squareplus,
        tanh_shrink,
        threshold,
    )
}
