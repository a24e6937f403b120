"""``keras.ops`` core: conversion, ``cast``, ``stop_gradient``, ``shape``, slicing and
scattering, and the control-flow functions, which on NumPy are plain Python loops (as in
``keras/src/backend/numpy/core.py``), so the ops inside them record as usual."""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from glassnet.ops import numpy_ops as nops
from glassnet.ops._convert import arg, to_array
from glassnet.ops._errors import named
from glassnet.ops.tape import _local
from glassnet.ops.tensor import Op, Tensor, as_tensor, emit, forward_only, plain, source

_NO_SLOPE = Op("no_slope", lambda payload, g, needs: ())


def _identity_slopes(payload, g, needs):
    return (g if payload is None else g.astype(payload, copy=False),)


_IDENTITY = Op("convert_to_tensor", _identity_slopes)
_CAST = Op("cast", _identity_slopes)


def _dtype(dtype) -> np.dtype | None:
    if dtype is None:
        return None
    name = getattr(dtype, "name", dtype)
    try:
        return np.dtype(name)
    except TypeError:
        raise ValueError(f"Invalid dtype: {dtype!r}") from None


@named("convert_to_tensor")
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a ``Tensor`` (a ``Tensor`` of the right dtype is returned as it is; an array or
    a variable's value is viewed, not copied, and linked to it on the tape)."""
    if sparse:
        raise ValueError("ops.convert_to_tensor: sparse=True is not supported by glassnet.")
    if ragged:
        raise ValueError("ops.convert_to_tensor: ragged=True is not supported by glassnet.")
    dtype = _dtype(dtype)
    if type(x) is Tensor and (dtype is None or x.dtype == dtype):
        return x
    s, a = arg(x, dtype)
    if isinstance(s, np.ndarray):
        return emit(_IDENTITY, (s,), a, s.dtype if a.dtype != s.dtype else None)
    return as_tensor(a)


@named("convert_to_numpy")
def convert_to_numpy(x):
    """``x`` as a plain ``np.ndarray`` (a copy, as Keras's NumPy backend makes)."""
    return np.array(to_array(x))


def is_tensor(x) -> bool:
    """Whether ``x`` is an array (a ``Tensor`` or any ``np.ndarray``/NumPy scalar)."""
    return isinstance(x, (np.ndarray, np.generic))


@named("cast")
def cast(x, dtype):
    """``x`` as ``dtype``; the slope passes between float types."""
    dtype = _dtype(dtype)
    s, a = arg(x)
    y = a.astype(dtype)
    if dtype.kind not in "fc":
        return emit(_NO_SLOPE, (), y, None)
    return emit(_CAST, (s,), y, a.dtype if isinstance(s, np.ndarray) else None)


@named("saturate_cast")
def saturate_cast(x, dtype):
    """``x`` clipped to the range of ``dtype``, then cast."""
    dtype = _dtype(dtype)
    a = to_array(x)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        a = np.clip(a, info.min, info.max)
    elif dtype.kind == "f":
        info = np.finfo(dtype)
        a = np.clip(a, info.min, info.max)
    return emit(_NO_SLOPE, (), a.astype(dtype), None)


def dtype(x) -> str:
    """The dtype of ``x`` as Keras's string (``"float32"``)."""
    return str(to_array(x).dtype)


def shape(x) -> tuple:
    """The shape of ``x`` as a tuple of ints."""
    return tuple(np.shape(plain(x)))


def stop_gradient(variable):
    """``variable``'s values as a new ``Tensor`` that the tape does not link back: no slope
    flows through it."""
    return as_tensor(to_array(variable))


@named("slice")
def slice(inputs, start_indices, shape):  # noqa: A001 - Keras's name
    """The block of ``shape`` starting at ``start_indices`` (recorded, so it has slopes)."""
    start = [int(i) for i in np.ravel(plain(start_indices))]
    size = [int(i) for i in shape]
    if len(start) != len(size):
        raise ValueError(
            f"ops.slice: start_indices and shape must have the same length. "
            f"Received: start_indices={start}, shape={size}"
        )
    key = tuple(builtins.slice(b, b + n) for b, n in zip(start, size, strict=True))
    return nops.get_item(inputs, key)


@named("slice_update")
def slice_update(inputs, start_indices, updates):
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    a = np.array(to_array(inputs))
    u = to_array(updates)
    start = [int(i) for i in np.ravel(plain(start_indices))]
    key = tuple(builtins.slice(b, b + n) for b, n in zip(start, u.shape, strict=True))
    a[key] = u
    return emit(_NO_SLOPE, (), a, None)


@named("scatter")
def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (rows of coordinates)."""
    idx = to_array(indices)
    v = to_array(values)
    out = np.zeros(tuple(shape), dtype=v.dtype)
    depth = idx.shape[-1]
    idx = idx.reshape(-1, depth)
    v = v.reshape((-1,) + tuple(shape)[depth:])
    np.add.at(out, tuple(idx.T), v)
    return emit(_NO_SLOPE, (), out, None)


@named("scatter_update")
def scatter_update(inputs, indices, updates, reduction=None):
    """A copy of ``inputs`` with ``updates`` written at ``indices`` (rows of coordinates)."""
    a = np.array(to_array(inputs))
    idx = tuple(np.transpose(to_array(indices)))
    u = to_array(updates)
    if reduction is None:
        a[idx] = u
    elif reduction in ("add", "max", "min", "mul"):
        ufunc = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}
        ufunc[reduction].at(a, idx, u)
    else:
        raise ValueError(
            f"ops.scatter_update: reduction must be None, 'add', 'max', 'min' or 'mul'. "
            f"Received: reduction={reduction!r}"
        )
    return emit(_NO_SLOPE, (), a, None)


@named("unstack")
def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, each a recorded slice."""
    a = to_array(x)
    axis = int(axis) % a.ndim
    n = a.shape[axis]
    if num is not None and int(num) != n:
        raise ValueError(f"ops.unstack: num={num} does not match axis {axis} of shape {a.shape}")
    lead = (builtins.slice(None),) * axis
    return [nops.get_item(x, (*lead, i)) for i in range(n)]


def cond(pred, true_fn: Callable, false_fn: Callable):
    """``true_fn()`` if ``pred`` else ``false_fn()``."""
    return true_fn() if bool(plain(pred)) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clipped to the branches."""
    i = int(np.clip(int(plain(index)), 0, len(branches) - 1))
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs ``body`` while ``cond`` holds (at most ``maximum_iterations`` times)."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    values = tuple(loop_vars) if is_tuple else (loop_vars,)
    count = 0
    while bool(plain(cond(*values))) and (maximum_iterations is None or count < maximum_iterations):
        values = body(*values)
        values = tuple(values) if isinstance(values, (list, tuple)) else (values,)
        count += 1
    return values if is_tuple else values[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def _flatten(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _flatten(item)]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _flatten(tree[key])]
    return [tree]


def _pack(tree, leaves):
    it = iter(leaves)

    def build(t):
        if isinstance(t, (list, tuple)):
            return type(t)(build(item) for item in t)
        if isinstance(t, dict):
            return {key: build(t[key]) for key in sorted(t)}
        return next(it)

    return build(tree)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``jax.lax.scan`` on NumPy: ``carry, y = f(carry, x)`` over the first axis of ``xs``;
    returns the last carry and the stacked ``y``s."""
    if not callable(f):
        raise TypeError(f"ops.scan: f must be callable. Received: f={f!r}")
    if xs is None and length is None:
        raise ValueError("ops.scan: got no `xs` to scan over and no `length`.")
    leaves = [] if xs is None else _flatten(xs)
    n = int(length) if length is not None else shape(leaves[0])[0]
    carry = init
    ys = []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = None if xs is None else _pack(xs, [nops.get_item(leaf, i) for leaf in leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or ys[0] is None:
        return carry, None
    template = ys[0]
    columns = list(zip(*[_flatten(y) for y in ys], strict=True))
    return carry, _pack(template, [nops.stack(list(c)) for c in columns])


def map(f, xs):  # noqa: A001 - Keras's name
    """``f`` applied to each slice of ``xs`` along the first axis, the results stacked."""
    return scan(lambda _, x: ((), f(x)), (), xs)[1]


def vectorized_map(function, elements):
    """``function`` applied to each row of ``elements`` (or of each array of a list), stacked."""
    if isinstance(elements, (list, tuple)):
        n = shape(elements[0])[0]
        return nops.stack([function([nops.get_item(e, i) for e in elements]) for i in range(n)])
    n = shape(elements)[0]
    return nops.stack([function(nops.get_item(elements, i)) for i in range(n)])


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan of ``f`` along ``axis`` (done in sequence: same result as Keras's
    parallel form for an associative ``f``)."""
    leaves = _flatten(elems)
    n = shape(leaves[0])[axis]
    ax = axis % len(shape(leaves[0]))
    lead = (builtins.slice(None),) * ax
    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    results = []
    acc = None
    for i in order:
        item = _pack(
            elems, [nops.expand_dims(nops.get_item(leaf, (*lead, i)), ax) for leaf in leaves]
        )
        acc = item if acc is None else f(acc, item)
        results.append(acc)
    if reverse:
        results.reverse()
    columns = list(zip(*[_flatten(r) for r in results], strict=True))
    return _pack(elems, [nops.concatenate(list(c), axis=ax) for c in columns])


@contextmanager
def _paused():
    """Nothing is recorded inside (a custom gradient function runs during backward)."""
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(None)
    try:
        yield
    finally:
        stack.pop()


class custom_gradient:  # noqa: N801 - Keras's name
    """Decorator for a function with its own slope, as in Keras on other backends: the
    function returns ``(output, grad_fn)`` and ``grad_fn(upstream)`` returns the slopes at its
    array arguments. On the tape the output's node calls ``grad_fn``."""

    def __init__(self, fun: Callable) -> None:
        self.fun = fun
        self.__name__ = getattr(fun, "__name__", "custom_gradient")

    def __call__(self, *args, **kwargs):
        with _paused():  # the function's own ops are not recorded: its node stands for them
            output, grad_fn = self.fun(*args, **kwargs)
        inputs = tuple(source(a) for a in args if isinstance(source(a), np.ndarray))

        def slopes(payload, g, needs):
            with _paused():
                result = grad_fn(as_tensor(g))
            result = result if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(inputs):
                raise ValueError(
                    f"custom_gradient {self.__name__}: the gradient function returned "
                    f"{len(result)} slope(s) for {len(inputs)} array argument(s)"
                )
            return tuple(None if r is None else to_array(r) for r in result)

        op = Op(self.__name__, slopes)
        return emit(op, inputs, to_array(output), None)


def _loud(name, fn):
    @functools.wraps(fn)
    def op(*args, **kwargs):
        return forward_only(name, fn, [*args, *kwargs.values()], fn(*args, **kwargs))

    return op


# Forward only: a slope that would flow through their results fails loudly.
slice_update = _loud("slice_update", slice_update)
scatter = _loud("scatter", scatter)
scatter_update = _loud("scatter_update", scatter_update)

from glassnet.ops._public import public_names  # noqa: E402

__all__ = public_names(globals(), __name__)
