"""``Tensor``: the type of every eager result, an ``ndarray`` that answers ``.numpy()`` and
records the NumPy arithmetic done on it while a tape is active.

TensorFlow's tutorials call ``.numpy()`` on nearly every result (``model(x).numpy()``,
``loss_fn(y, p).numpy()``). A ``Tensor`` is an ``np.ndarray`` subclass, so indexing,
``np.asarray`` and arithmetic keep working and nothing is copied: ``.numpy()`` and
``as_tensor`` are views.

When a tape is active (``glassnet.ops.recording()``) a ufunc applied to a ``Tensor``
(``a * b``, ``np.exp(t)``, ``t.sum()``, ...) and indexing (``t[i]``) leave one ``Node`` on
it, whose ``inputs`` are the original input objects (identity is how the tape links nodes)
and whose ``op.backward`` returns one slope per input (``None`` for a constant or an
integer input). With no tape active nothing is recorded and the only cost is the wrapping.
In-place ufuncs (``out=``, ``t += 1``) are never recorded: a value changed in place has no
slope the tape could follow.

Variables: any object with ``_glassnet_variable = True`` stands for its ``.value`` (a plain
array that is the same object on every access); ops compute on ``.value`` and record it as
the input, so the tape keys the variable's slope by ``id(variable.value)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.ops.tape import _local, active_tape


class Tensor(np.ndarray):
    """An eager result: an ``ndarray`` with ``.numpy()``, differentiable on the tape."""

    def numpy(self) -> np.ndarray:
        """The values as a plain ``np.ndarray`` (a view: no copy)."""
        return self.view(np.ndarray)

    def __hash__(self) -> int:
        # A single value hashes as that value (so ``set(np.unique(t))`` works, as on the
        # NumPy arrays Keras's eager tensors turn into); an array of values is unhashable.
        if self.ndim == 0:
            return hash(self.item())
        raise TypeError(f"unhashable type: 'Tensor' of shape {self.shape}")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if not _stack() and "out" not in kwargs:
            # The common case, kept short: no tape, no ``out=``.
            args = [_fast_plain(x) for x in inputs]
            try:
                result = getattr(ufunc, method)(*args, **kwargs)
            except ValueError:
                return apply_ufunc(ufunc, method, inputs, kwargs)  # names the shapes
            if type(result) is np.ndarray:
                return result.view(Tensor)
            return _wrap(result)
        return apply_ufunc(ufunc, method, inputs, kwargs)

    def __getitem__(self, key):
        plain = self.view(np.ndarray)
        if not _stack():
            return _wrap(plain[_plain_key(key)])
        from glassnet.ops.numpy_ops import get_item

        return get_item(self, key)

    def __array_function__(self, func, types, args, kwargs):
        if not _stack():
            result = super().__array_function__(func, types, args, kwargs)
            return result.view(Tensor) if type(result) is np.ndarray else result
        from glassnet.ops._routes import route

        return route(func, types, args, kwargs)

    # Methods that NumPy does not route through a ufunc, or routes through an in-place one
    # (``mean`` divides in place), go through the ops so that they record.
    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        if out is not None or dtype is not None or kwargs or not _stack():
            return _wrap(self.view(np.ndarray).mean(axis, dtype, out, keepdims, **kwargs))
        from glassnet.ops.numpy_ops import mean

        return mean(self, axis=axis, keepdims=keepdims)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        if not _stack():
            return _wrap(self.view(np.ndarray).sum(axis, dtype, out, keepdims, **kwargs))
        return np.ndarray.sum(self, axis, dtype, out, keepdims, **kwargs)  # records add.reduce

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
        if out is not None or dtype is not None or ddof or kwargs or not _stack():
            return _wrap(self.view(np.ndarray).std(axis, dtype, out, ddof, keepdims, **kwargs))
        from glassnet.ops.numpy_ops import std

        return std(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
        if out is not None or dtype is not None or ddof or kwargs or not _stack():
            return _wrap(self.view(np.ndarray).var(axis, dtype, out, ddof, keepdims, **kwargs))
        from glassnet.ops.numpy_ops import var

        return var(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape, **kwargs):
        if kwargs or not _stack():
            return np.ndarray.reshape(self, *shape, **kwargs)
        from glassnet.ops.numpy_ops import reshape

        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes):
        if not _stack():
            return np.ndarray.transpose(self, *axes)
        from glassnet.ops.numpy_ops import transpose

        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], (int, np.integer))):
            axes = axes[0]
        return transpose(self, axes or None)

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return self.transpose()

    def __repr__(self) -> str:
        return (
            "Tensor("
            + np.array2string(self.view(np.ndarray), separator=", ", prefix="Tensor(")
            + (f", dtype={self.dtype})")
        )

    def __str__(self) -> str:
        return str(self.view(np.ndarray))

    def __reduce__(self):  # pickles as a plain array, loads as one
        return self.view(np.ndarray).__reduce__()


def _stack():
    return getattr(_local, "stack", None)


def _fast_plain(x):
    kind = type(x)
    if kind is Tensor:
        return x.view(np.ndarray)
    if kind is np.ndarray or kind is float or kind is int:
        return x
    return plain(x)


def as_tensor(array: Any) -> Tensor:
    """``array`` as a ``Tensor``: a view of an ``ndarray`` (no copy), a new 0-d array for a
    NumPy scalar; a ``Tensor`` is returned as it is."""
    if type(array) is Tensor:
        return array
    if isinstance(array, np.ndarray):
        return array.view(Tensor)
    return np.asarray(array).view(Tensor)


def is_variable(x: Any) -> bool:
    """Whether ``x`` follows the variable contract (``_glassnet_variable = True``)."""
    return getattr(x, "_glassnet_variable", False) is True


def source(x: Any) -> Any:
    """The object the tape knows ``x`` by: a variable's ``.value``, anything else itself."""
    return x.value if is_variable(x) else x


def plain(x: Any) -> Any:
    """``x`` with any ``Tensor`` or variable replaced by a plain ``ndarray`` (no copy)."""
    if isinstance(x, np.ndarray):
        return x if type(x) is np.ndarray else x.view(np.ndarray)
    if is_variable(x):
        return plain(x.value)
    return x


def _plain_key(key):
    if isinstance(key, tuple):
        return tuple(plain(k) for k in key)
    return plain(key)


def _wrap(result):
    if isinstance(result, np.ndarray):
        return result if type(result) is Tensor else result.view(Tensor)
    if isinstance(result, np.generic):
        return np.asarray(result).view(Tensor)
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    return result


def wants_slope(x: Any) -> np.dtype | None:
    """The dtype of ``x`` if the tape should carry a slope to it (an array of floats, or a
    variable's), else ``None``."""
    x = source(x)
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
        return x.dtype
    return None


def _as_dtype(slope, dtype):
    slope = np.asarray(slope)
    return slope if slope.dtype == dtype else slope.astype(dtype)


class Op:
    """What a recorded node calls on backward: ``backward(records, grad_out, need)`` returns
    one slope per input, ``None`` for an input that gets none.

    ``records`` is ``(needs, payload)``: ``needs[i]`` is the dtype of input ``i`` when it is an
    array of floats the tape follows (its slope comes back in that dtype), else ``None``;
    ``payload`` is what the op's slope function reads.
    """

    __slots__ = ("name", "_slopes")

    def __init__(self, name: str, slopes: Callable) -> None:
        self.name = name
        self._slopes = slopes

    def backward(self, records, grad_out, need_grad_input: bool = True):
        needs, payload = records
        if all(n is None for n in needs):
            return None
        slopes = self._slopes(payload, plain(grad_out), needs)
        return tuple(
            _as_dtype(s, need) if need is not None and s is not None else None
            for s, need in zip(slopes, needs, strict=True)
        )

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def emit(op: Op, inputs: tuple, output: Any, payload: Any) -> Any:
    """``output`` as a ``Tensor``, with a node for ``op`` on the active tape (if any).

    ``inputs`` are the original input objects (variables already replaced by their
    ``.value``); ``payload`` is what ``op``'s slope function needs.
    """
    result = _wrap(output)
    tape = active_tape()
    if tape is not None:
        needs = tuple(wants_slope(x) for x in inputs)
        if any(n is not None for n in needs):
            tape.record(op, inputs, result, (needs, payload))
    return result


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """``grad`` summed over the axes that broadcasting added or stretched to reach ``shape``."""
    grad = np.asarray(grad)
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _shape(x) -> tuple:
    return np.shape(x)


# --- slopes of the ufuncs NumPy routes through Tensor.__array_ufunc__ -------------------------


def _binary(fa, fb):
    def slopes(payload, g, needs):
        a, b, y = payload
        ga = unbroadcast(fa(a, b, y, g), _shape(a)) if needs[0] is not None else None
        gb = unbroadcast(fb(a, b, y, g), _shape(b)) if needs[1] is not None else None
        return ga, gb

    return slopes


def _unary(f):
    def slopes(payload, g, needs):
        a, y = payload
        return (f(a, y, g),)

    return slopes


def _power_b(a, b, y, g):
    a = np.asarray(a)
    safe = np.where(a > 0, a, 1)
    return g * y * np.log(safe) * (a > 0)


def _matmul_slopes(payload, g, needs):
    a, b, _ = payload
    a = np.asarray(a)
    b = np.asarray(b)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    ga = gb = None
    if needs[0] is not None:
        ga = g2 @ np.swapaxes(b2, -1, -2)
        ga = unbroadcast(ga, a2.shape).reshape(a.shape)
    if needs[1] is not None:
        gb = np.swapaxes(a2, -1, -2) @ g2
        gb = unbroadcast(gb, b2.shape).reshape(b.shape)
    return ga, gb


UFUNC_SLOPES: dict[Any, Op] = {
    np.add: Op("add", _binary(lambda a, b, y, g: g, lambda a, b, y, g: g)),
    np.subtract: Op("subtract", _binary(lambda a, b, y, g: g, lambda a, b, y, g: -g)),
    np.multiply: Op("multiply", _binary(lambda a, b, y, g: g * b, lambda a, b, y, g: g * a)),
    np.true_divide: Op("divide", _binary(lambda a, b, y, g: g / b, lambda a, b, y, g: -g * y / b)),
    np.power: Op(
        "power",
        _binary(lambda a, b, y, g: g * b * np.power(a, np.asarray(b) - 1), _power_b),
    ),
    np.maximum: Op(
        "maximum",
        _binary(lambda a, b, y, g: g * (a >= b), lambda a, b, y, g: g * (a < b)),
    ),
    np.minimum: Op(
        "minimum",
        _binary(lambda a, b, y, g: g * (a <= b), lambda a, b, y, g: g * (a > b)),
    ),
    np.matmul: Op("matmul", _matmul_slopes),
    np.negative: Op("negative", _unary(lambda a, y, g: -g)),
    np.square: Op("square", _unary(lambda a, y, g: 2 * a * g)),
    np.sqrt: Op("sqrt", _unary(lambda a, y, g: g / (2 * y))),
    np.exp: Op("exp", _unary(lambda a, y, g: g * y)),
    np.log: Op("log", _unary(lambda a, y, g: g / a)),
    np.log1p: Op("log1p", _unary(lambda a, y, g: g / (1 + a))),
    np.tanh: Op("tanh", _unary(lambda a, y, g: g * (1 - y * y))),
    np.absolute: Op("abs", _unary(lambda a, y, g: g * np.sign(a))),
    np.positive: Op("positive", _unary(lambda a, y, g: g)),
    np.sin: Op("sin", _unary(lambda a, y, g: g * np.cos(a))),
    np.cos: Op("cos", _unary(lambda a, y, g: -g * np.sin(a))),
    np.tan: Op("tan", _unary(lambda a, y, g: g * (1 + y * y))),
    np.arcsin: Op("arcsin", _unary(lambda a, y, g: g / np.sqrt(1 - a * a))),
    np.arccos: Op("arccos", _unary(lambda a, y, g: -g / np.sqrt(1 - a * a))),
    np.arctan: Op("arctan", _unary(lambda a, y, g: g / (1 + a * a))),
    np.sinh: Op("sinh", _unary(lambda a, y, g: g * np.cosh(a))),
    np.cosh: Op("cosh", _unary(lambda a, y, g: g * np.sinh(a))),
    np.arcsinh: Op("arcsinh", _unary(lambda a, y, g: g / np.sqrt(a * a + 1))),
    np.arctanh: Op("arctanh", _unary(lambda a, y, g: g / (1 - a * a))),
    np.expm1: Op("expm1", _unary(lambda a, y, g: g * (y + 1))),
    np.exp2: Op("exp2", _unary(lambda a, y, g: g * y * np.log(2.0))),
    np.log2: Op("log2", _unary(lambda a, y, g: g / (a * np.log(2.0)))),
    np.log10: Op("log10", _unary(lambda a, y, g: g / (a * np.log(10.0)))),
    np.reciprocal: Op("reciprocal", _unary(lambda a, y, g: -g * y * y)),
    np.cbrt: Op("cbrt", _unary(lambda a, y, g: g / (3 * y * y))),
    np.sign: Op("sign", _unary(lambda a, y, g: np.zeros_like(g))),
    np.floor: Op("floor", _unary(lambda a, y, g: np.zeros_like(g))),
    np.ceil: Op("ceil", _unary(lambda a, y, g: np.zeros_like(g))),
    np.rint: Op("round", _unary(lambda a, y, g: np.zeros_like(g))),
    np.trunc: Op("trunc", _unary(lambda a, y, g: np.zeros_like(g))),
    np.fmax: Op("fmax", _binary(lambda a, b, y, g: g * (a >= b), lambda a, b, y, g: g * (a < b))),
    np.fmin: Op("fmin", _binary(lambda a, b, y, g: g * (a <= b), lambda a, b, y, g: g * (a > b))),
    np.logaddexp: Op(
        "logaddexp",
        _binary(lambda a, b, y, g: g * np.exp(a - y), lambda a, b, y, g: g * np.exp(b - y)),
    ),
}


def _no_slope_known(name: str) -> Op:
    """The op of a float result that glassnet has no slope for (``np.cumsum`` of a Tensor,
    ``ops.sort``, ...): it is recorded so that a slope that would flow through it fails
    loudly instead of being lost."""

    def slopes(payload, g, needs):
        if name.startswith("ops."):
            raise NotImplementedError(
                f"glassnet.{name} computes no slope, and the loss depends on its result "
                f"(docs/ops.md lists the differentiable ops)"
            )
        raise NotImplementedError(
            f"glassnet has no slope for {name} of a Tensor, and the loss depends on its "
            f"result: compute it with glassnet.ops functions that have slopes (docs/ops.md)"
        )

    return Op(name, slopes)


def _reduce_slopes(payload, g, needs):
    shape, axis, keepdims = payload
    if not keepdims and axis is not None:
        g = np.expand_dims(g, axis)
    return (np.broadcast_to(g, shape).copy(),)


def _extreme_slopes(payload, g, needs):
    a, y, axis, keepdims = payload
    if not keepdims and axis is not None:
        g = np.expand_dims(g, axis)
        y = np.expand_dims(y, axis)
    hit = a == y
    # Ties share the slope equally, as TensorFlow's reduce_max does.
    count = hit.sum(axis=axis, keepdims=True)
    return (g * hit / count,)


REDUCE_SUM = Op("sum", _reduce_slopes)
REDUCE_MAX = Op("max", _extreme_slopes)
REDUCE_MIN = Op("min", _extreme_slopes)


def _normalize_axis(axis, ndim: int):
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        return tuple(int(a) % ndim if ndim else int(a) for a in axis)
    return (int(axis) % ndim,) if ndim else (int(axis),)


def apply_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    """Runs ``getattr(ufunc, method)`` on plain arrays and wraps the result as ``Tensor``,
    recording a node when a tape is active and the ufunc has a known slope."""
    plain_inputs = tuple(plain(x) for x in inputs)
    out = kwargs.get("out")
    if out is not None:
        kwargs["out"] = tuple(plain(o) for o in out)
    try:
        result = getattr(ufunc, method)(*plain_inputs, **kwargs)
    except ValueError as error:
        shapes = ", ".join(str(np.shape(x)) for x in plain_inputs)
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        raise ValueError(
            f"{name}: {str(error).strip().rstrip('.')}. Received arrays of shapes {shapes}"
        ) from None
    if out is not None:  # in place: the caller's output objects, never recorded
        return out[0] if len(out) == 1 else out
    tape = active_tape()
    wrapped = _wrap(result)
    if tape is None or kwargs.get("where", True) is not True:
        return wrapped
    if method == "__call__":
        op = UFUNC_SLOPES.get(ufunc)
        if op is None:
            _record_unknown(tape, f"np.{ufunc.__name__}", inputs, wrapped)
            return wrapped
        sources = tuple(source(x) for x in inputs)
        needs = tuple(wants_slope(x) for x in sources)
        if any(n is not None for n in needs):
            tape.record(op, sources, wrapped, (needs, (*plain_inputs, result)))
        return wrapped
    if method == "reduce" and ufunc in (np.add, np.maximum, np.minimum):
        (x,) = inputs
        src = source(x)
        if not wants_slope(src):
            return wrapped
        a = plain_inputs[0]
        axis = _normalize_axis(kwargs.get("axis", 0), a.ndim)
        keepdims = bool(kwargs.get("keepdims", False))
        if ufunc is np.add:
            payload = (a.shape, axis, keepdims)
            tape.record(REDUCE_SUM, (src,), wrapped, ((wants_slope(src),), payload))
        else:
            op = REDUCE_MAX if ufunc is np.maximum else REDUCE_MIN
            tape.record(
                op, (src,), wrapped, ((wants_slope(src),), (a, np.asarray(result), axis, keepdims))
            )
        return wrapped
    _record_unknown(tape, f"np.{ufunc.__name__}.{method}", inputs, wrapped)
    return wrapped


def _record_unknown(tape, name: str, inputs, output) -> None:
    """Records a node that refuses to carry a slope, for a float result of float inputs."""
    outputs = output if isinstance(output, tuple) else (output,)
    sources = tuple(source(x) for x in _flat(inputs))
    needs = tuple(wants_slope(x) for x in sources)
    if all(n is None for n in needs):
        return
    op = _no_slope_known(name)
    for out in outputs:
        if isinstance(out, np.ndarray) and out.dtype.kind in "fc":
            tape.record(op, sources, out, (needs, None))


def forward_only(name: str, fn, inputs, result):
    """After a forward-only op ran: while a tape records, a float result of float inputs
    leaves a node that fails loudly if a slope must flow through it."""
    tape = active_tape()
    if tape is not None:
        outputs = tuple(result) if isinstance(result, (list, tuple)) else result
        _record_unknown(tape, f"ops.{name}", inputs, outputs)
    return result


def _flat(values):
    for value in values:
        if isinstance(value, (list, tuple)):
            yield from _flat(value)
        else:
            yield value
