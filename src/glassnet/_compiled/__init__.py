"""Compiled loops for a convolution and its max pooling (``ConvPool``), when Numba is there.

glassnet needs NumPy alone. NumPy runs one operation at a time over whole arrays, so the
element-wise work around a convolution's matrix products (pooling, routing the slope to
each window's winner, adding patch slopes back into the image) passes over memory once
per operation, and Python runs between those passes holding the interpreter lock. With
the optional extra ``pip install ".[fast]"`` (Numba), ``ConvPool`` runs those parts, and
every convolution with four or more input channels its patch-slope adds, as the loops
below instead: one pass each, with the lock released, so that the chunks of a
batch run side by side on every core. The matrix products stay with BLAS, except for
convolutions whose patches are so short (``kh·kw·channels`` of at most ``DIRECT_WIDTH``
numbers: a first layer on grey or colour images) that a product would spend its time
copying patches; those are computed directly in the loop, window by window.

The loops compute the same numbers as the NumPy path: the same sums (added in another
order, so they may differ in the last bits), the same winners (the first largest in
reading order, TensorFlow's rule; a window holding a NaN passes the NaN on and routes its
slope to its last position, as the NumPy path does), zero slope at positions no window
covers. ``tests/test_conv_pool.py`` runs every case of the pair with and without the
loops, and ``tests/test_compiled_loops.py`` checks the switch, the patch-slope adds of
every convolution (``add_patches``) and a whole training run against the NumPy path.

Turn the loops off with ``glassnet.config.set_compiled_kernels(False)`` or the environment
variable ``GLASSNET_COMPILED=0``; without Numba they are off and nothing else changes.
Numba compiles each loop on first use (a few seconds) and keeps the result on disk; the
loops live in ``glassnet._compiled.loops``, imported only then.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from types import ModuleType

import numpy as np

#: Patches at most this long are convolved in a loop rather than by a matrix product.
DIRECT_WIDTH = 32

#: Patch slopes with fewer channels than this are added back by NumPy: with one channel a
#: loop over single numbers is slower than NumPy's strided adds.
MIN_ADD_CHANNELS = 4

#: The float types the loops are compiled for.
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

_enabled: bool | None = None  # decided on first ask: Numba installed and not turned off


def available() -> bool:
    """Whether Numba is installed, so that the loops can run."""
    return importlib.util.find_spec("numba") is not None


def enabled() -> bool:
    """Whether ``ConvPool`` runs the compiled loops now. Decided on the first ask (the
    first convolution): on when Numba is installed and imports, unless the environment
    sets ``GLASSNET_COMPILED=0``. A Numba that fails to import (say, built for another
    NumPy) leaves the loops off with a warning that says why."""
    global _enabled
    if _enabled is None:
        _enabled = False
        if os.environ.get("GLASSNET_COMPILED", "1") != "0" and available():
            try:
                load()
            except Exception as error:  # whatever stops the import, NumPy runs everything
                warnings.warn(
                    f"glassnet's compiled loops are off: Numba is installed but failed to "
                    f"import ({type(error).__name__}: {error}); glassnet runs on NumPy alone. "
                    "Set GLASSNET_COMPILED=0 to silence this.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            else:
                _enabled = True
    return _enabled


def set_enabled(value: bool) -> None:
    """Turns the loops on or off; on needs Numba (``ImportError`` without it)."""
    global _enabled
    if value:
        if not available():
            raise ImportError(
                'compiled kernels need Numba, which is not installed: pip install ".[fast]"'
            )
        load()
    _enabled = bool(value)


def add_patches(grad_xp: np.ndarray, grad_patches: np.ndarray, strides: tuple,
                dilation: tuple, window: tuple = (1, 1), at: tuple = (0, 0)) -> bool:
    """Adds patch slopes ``grad_patches`` (rows, oh, ow, kh, kw, c) back into ``grad_xp``
    by the compiled loop, when the loops are on and suit the arrays; returns whether it
    did (else the caller adds them with NumPy). ``window`` and ``at``: the patches are
    those of window position ``at`` of windows of ``window`` positions (``ConvPool``)."""
    suits = (grad_patches.dtype in FLOATS and grad_xp.dtype == grad_patches.dtype
             and grad_patches.shape[-1] >= MIN_ADD_CHANNELS)
    if not (suits and enabled()):
        return False
    load().add_patch_slopes(grad_xp, grad_patches, *at, sizes(strides), sizes(dilation),
                            sizes(window))
    return True


def sizes(values) -> tuple:
    """Sizes (strides, a kernel's or a window's shape) as a tuple of Python ints: one
    compiled signature whatever kind of ints they came as."""
    return tuple(int(v) for v in values)


def winner_dtype(positions: int) -> np.dtype:
    """The integer type that holds a window position's index, for ``positions`` of them."""
    return np.dtype(np.uint8 if positions <= 256 else np.int32)


def load() -> ModuleType:
    """The module of compiled loops, ``glassnet._compiled.loops`` (importing Numba and
    compiling or reading the loops the first time)."""
    return importlib.import_module("glassnet._compiled.loops")
