"""``keras.ops.linalg`` on NumPy: ``norm`` differentiable on the tape (vector 2-norm and
Frobenius norm, the default), the rest forward only (``keras/src/backend/numpy/linalg.py``)."""

from __future__ import annotations

import numpy as np

from glassnet import config
from glassnet.ops import numpy_ops as nops
from glassnet.ops._convert import to_array
from glassnet.ops._errors import named
from glassnet.ops.numpy_extra import det, inv, solve
from glassnet.ops.tensor import _wrap, forward_only


def _float(x):
    a = to_array(x)
    return a if a.dtype.kind in "fc" else a.astype(config.floatx())


@named("norm")
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - Keras's name
    """The vector or matrix norm; ``ord=None`` (2-norm of vectors, Frobenius norm of
    matrices) and ``ord="fro"`` record their slopes, other orders are forward only."""
    a = _float(x)
    if ord in (None, "fro") or (
        ord == 2 and (axis is None and a.ndim == 1 or np.ndim(axis) == 0 and axis is not None)
    ):
        if a.dtype != to_array(x).dtype:
            x = a
        squared = nops.sum(nops.square(x), axis=axis, keepdims=keepdims)
        return nops.sqrt(squared)
    result = np.asarray(np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims))
    return forward_only("norm", None, [x], _wrap(result.astype(a.dtype)))


def _cholesky(a, upper=False):
    lower = np.linalg.cholesky(_float(a))
    return _wrap(np.swapaxes(lower, -1, -2).conj() if upper else lower)


def _cholesky_inverse(a, upper=False):
    factor = _float(a)
    lower = np.swapaxes(factor, -1, -2).conj() if upper else factor
    inverse = np.linalg.inv(lower)
    return _wrap(np.swapaxes(inverse, -1, -2).conj() @ inverse)


def _lu_factor(a):
    a = _float(a).copy()
    n = a.shape[-1]
    pivots = np.zeros(a.shape[:-1], dtype=np.int32)
    flat = a.reshape(-1, n, n)
    flat_pivots = pivots.reshape(-1, n)
    for m, piv in zip(flat, flat_pivots, strict=True):
        for k in range(n):
            p = k + int(np.argmax(np.abs(m[k:, k])))
            piv[k] = p
            if p != k:
                m[[k, p]] = m[[p, k]]
            if m[k, k] != 0:
                m[k + 1 :, k] /= m[k, k]
                m[k + 1 :, k + 1 :] -= np.outer(m[k + 1 :, k], m[k, k + 1 :])
    return _wrap(a), _wrap(pivots)


def _solve_triangular(a, b, lower=False):
    a = _float(a)
    b = _float(b)
    vector = b.ndim == a.ndim - 1
    if vector:
        b = b[..., None]
    tri = np.tril(a) if lower else np.triu(a)
    out = np.linalg.solve(tri, b)
    return _wrap(out[..., 0] if vector else out)


def _lstsq(a, b, rcond=None):
    a = _float(a)
    b = _float(b)
    return _wrap(np.linalg.lstsq(a, b, rcond=rcond)[0])


def _matrix_rank(x, tol=None):
    return _wrap(np.asarray(np.linalg.matrix_rank(_float(x), tol=tol)).astype(np.int32))


def _qr(x, mode="reduced"):
    if mode not in ("reduced", "complete"):
        raise ValueError(f"ops.qr: mode must be 'reduced' or 'complete'. Received: mode={mode!r}")
    q, r = np.linalg.qr(_float(x), mode=mode)
    return _wrap(q), _wrap(r)


def _svd(x, full_matrices=True, compute_uv=True):
    out = np.linalg.svd(_float(x), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(_wrap(o) for o in out) if compute_uv else _wrap(out)


def _eig(a):
    w, v = np.linalg.eig(_float(a))
    return _wrap(w), _wrap(v)


def _eigh(a):
    w, v = np.linalg.eigh(_float(a))
    return _wrap(w), _wrap(v)


_FUNCTIONS = {
    "cholesky": _cholesky,
    "cholesky_inverse": _cholesky_inverse,
    "eig": _eig,
    "eigh": _eigh,
    "lu_factor": _lu_factor,
    "qr": _qr,
    "solve_triangular": _solve_triangular,
    "svd": _svd,
    "lstsq": _lstsq,
    "matrix_rank": _matrix_rank,
    "pinv": lambda x, rcond=None: _wrap(
        np.linalg.pinv(_float(x), **({} if rcond is None else {"rcond": rcond}))
    ),
}

__all__ = ["det", "inv", "norm", "solve"]


def _loud(name, fn):
    def op(*args, **kwargs):
        return forward_only(name, fn, [*args, *kwargs.values()], fn(*args, **kwargs))

    return op


for _name, _fn in _FUNCTIONS.items():
    _fn = named(_name)(_loud(_name, _fn))
    _fn.__name__ = _name
    _fn.__doc__ = f"Keras's ``ops.{_name}`` on NumPy (forward only)."
    globals()[_name] = _fn
    __all__.append(_name)
del _name, _fn
