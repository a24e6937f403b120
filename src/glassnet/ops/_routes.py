"""NumPy functions called on ``Tensor``s while a tape records (``np.concatenate([a, b])``,
``np.where(c, a, b)``, ...): those with a ``glassnet.ops`` counterpart run it, so they
record their slopes; any other that makes floats from float ``Tensor``s leaves a node that
refuses to carry a slope, so that no slope is silently lost."""

from __future__ import annotations

import numpy as np

from glassnet.ops import linalg_ops, numpy_ops
from glassnet.ops.tensor import _record_unknown, _wrap, active_tape, plain

# NumPy function -> (glassnet op, the keyword arguments it takes, renamed where NumPy's
# name differs).
_ROUTES = {
    np.concatenate: (numpy_ops.concatenate, {"axis": "axis"}),
    np.stack: (numpy_ops.stack, {"axis": "axis"}),
    np.where: (numpy_ops.where, {}),
    np.clip: (numpy_ops.clip, {}),
    np.reshape: (numpy_ops.reshape, {"newshape": "newshape", "shape": "newshape"}),
    np.transpose: (numpy_ops.transpose, {"axes": "axes"}),
    np.expand_dims: (numpy_ops.expand_dims, {"axis": "axis"}),
    np.squeeze: (numpy_ops.squeeze, {"axis": "axis"}),
    np.dot: (numpy_ops.dot, {}),
    np.tile: (numpy_ops.tile, {"reps": "repeats"}),
    np.repeat: (numpy_ops.repeat, {"axis": "axis"}),
    np.pad: (numpy_ops.pad, {"mode": "mode", "constant_values": "constant_values"}),
    np.take: (numpy_ops.take, {"axis": "axis"}),
    np.take_along_axis: (numpy_ops.take_along_axis, {"axis": "axis"}),
    np.einsum: (numpy_ops.einsum, {}),
    np.split: (numpy_ops.split, {"axis": "axis"}),
    np.moveaxis: (numpy_ops.moveaxis, {}),
    np.swapaxes: (numpy_ops.swapaxes, {}),
    np.broadcast_to: (numpy_ops.broadcast_to, {"shape": "shape"}),
    np.ravel: (numpy_ops.ravel, {}),
    np.sum: (numpy_ops.sum, {"axis": "axis", "keepdims": "keepdims"}),
    np.mean: (numpy_ops.mean, {"axis": "axis", "keepdims": "keepdims"}),
    np.max: (numpy_ops.max, {"axis": "axis", "keepdims": "keepdims"}),
    np.amax: (numpy_ops.max, {"axis": "axis", "keepdims": "keepdims"}),
    np.min: (numpy_ops.min, {"axis": "axis", "keepdims": "keepdims"}),
    np.amin: (numpy_ops.min, {"axis": "axis", "keepdims": "keepdims"}),
    np.std: (numpy_ops.std, {"axis": "axis", "keepdims": "keepdims"}),
    np.var: (numpy_ops.var, {"axis": "axis", "keepdims": "keepdims"}),
    np.linalg.norm: (linalg_ops.norm, {"ord": "ord", "axis": "axis", "keepdims": "keepdims"}),
    np.copy: (lambda a: numpy_ops.multiply(a, 1), {}),
}

# Functions whose result carries no slope by nature (shapes, indices, comparisons...).
_NO_SLOPE = {
    np.shape,
    np.ndim,
    np.size,
    np.argmax,
    np.argmin,
    np.argsort,
    np.nonzero,
    np.allclose,
    np.isclose,
    np.array_equal,
    np.count_nonzero,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.full_like,
    np.result_type,
    np.can_cast,
    np.iscomplexobj,
    np.isrealobj,
    np.searchsorted,
    np.digitize,
    np.unique,
    np.any,
    np.all,
    np.array_repr,
    np.array_str,
    np.array2string,
    np.round,
    np.around,
    np.sign,
}


def route(func, types, args, kwargs):
    """Runs ``func`` on the arrays behind ``args``, through its glassnet op when it has one."""
    entry = _ROUTES.get(func)
    if entry is not None:
        op, names = entry
        if all(key in names for key in kwargs):
            return op(*args, **{names[key]: value for key, value in kwargs.items()})
    result = func(*_plain_tree(args), **{k: _plain_tree(v) for k, v in kwargs.items()})
    if isinstance(result, list):
        result = [_wrap(r) for r in result]
    elif isinstance(result, (np.ndarray, np.generic, tuple)):
        result = _wrap(result)
    if func not in _NO_SLOPE:
        name = f"np.{getattr(func, '__name__', 'function')}"
        outputs = tuple(result) if isinstance(result, (list, tuple)) else result
        _record_unknown(active_tape(), name, [*args, *kwargs.values()], outputs)
    return result


def _plain_tree(value):
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_tree(v) for v in value)
    return plain(value)
