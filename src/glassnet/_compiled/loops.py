"""The compiled loops themselves (see ``glassnet._compiled`` for what they are for).

Imported on first use only, since importing Numba takes a while; every function is
compiled with ``nogil`` (the chunks of a batch run side by side in threads) and ``cache``
(compiled once per machine and kept on disk).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}  # no "nnan"/"ninf": NaNs must show


def _compile(function):
    return njit(nogil=True, cache=True, fastmath=_FLAGS)(function)


# Every loop indexes single numbers (a view per pixel would cost more than its sum) and
# keeps its innermost loop over filters or channels free of branches, so that it runs on
# whole vector registers.


@_compile
def pool_phases(phases, relu, pooled, winners):
    """Max pooling over window positions: ``phases`` (positions, windows, filters) holds
    each window position's sums as one block; writes ``pooled`` (windows, filters), after
    the ReLU when ``relu``, and each window's winning position into ``winners``."""
    count, windows, filters = phases.shape
    best = np.empty(filters, phases.dtype)
    won = np.empty(filters, np.int32)
    nan = np.empty(filters, np.bool_)
    for n in range(windows):
        for f in range(filters):
            v = phases[0, n, f]
            best[f] = v
            won[f] = 0
            nan[f] = v != v
        for phase in range(1, count):
            for f in range(filters):
                v = phases[phase, n, f]
                better = v > best[f]
                best[f] = v if better else best[f]
                won[f] = phase if better else won[f]
                nan[f] = nan[f] or v != v
        for f in range(filters):
            v = best[f]
            v = 0.0 if relu and v < 0.0 else v
            pooled[n, f] = np.nan if nan[f] else v
            winners[n, f] = count - 1 if nan[f] else won[f]


@_compile
def route(grad, pooled, winners, relu, grad_phases):
    """The sums' slope: each window's slope ``grad`` (windows, filters) goes to the window
    position that won it, zero to the others (and zero everywhere where the ReLU cut the
    pooled value to zero or below). ``grad_phases`` is (positions, windows, filters)."""
    count, windows, filters = grad_phases.shape
    for phase in range(count):
        for n in range(windows):
            for f in range(filters):
                keep = winners[n, f] == phase and (not relu or pooled[n, f] > 0.0)
                grad_phases[phase, n, f] = grad[n, f] if keep else 0.0


@_compile
def add_patch_slopes(grad_xp, patches, i, j, strides, dilation, window):
    """Adds window position ``(i, j)``'s patch slopes ``patches`` (rows, qh, qw, kh, kw,
    c) back into the padded input's slope ``grad_xp`` (rows, h, w, c), where each patch was
    read from (the adjoint of the patch gathering)."""
    rows, qh, qw, kh, kw, c = patches.shape
    (th, tw), (dh, dw), (ph, pw) = strides, dilation, window
    for r in range(rows):
        for p in range(qh):
            y0 = (p * ph + i) * th
            for q in range(qw):
                x0 = (q * pw + j) * tw
                for a in range(kh):
                    for b in range(kw):
                        y, x = y0 + a * dh, x0 + b * dw
                        for m in range(c):
                            grad_xp[r, y, x, m] += patches[r, p, q, a, b, m]


def shape_token(*sizes: int) -> tuple:
    """Nested tuples of zeros, ``sizes[0]`` × ``sizes[1]`` × …, whose *type* tells Numba
    the sizes: a loop given one compiles once per patch or window shape, with its loops'
    lengths known, which lets the compiler unroll them and work on whole vector registers
    (three times faster for Keras's 3×3 kernels on grey images)."""
    token: tuple = ()
    for size in reversed(sizes):
        token = (token,) * size if token != () else (0,) * size
    return token


@_compile
def _gather_patch(xp, r, y0, x0, patch, dilation, out, row):
    """Copies the patch whose top-left corner is ``(y0, x0)`` in image ``r`` of ``xp`` into
    row ``row`` of ``out`` (kh·kw·c numbers, in the kernel's order; a row index rather than
    a row, since making a view per patch costs more than copying the patch)."""
    kh, kw, c = len(patch), len(patch[0]), len(patch[0][0])
    dh, dw = dilation
    for a in range(kh):
        for b in range(kw):
            for m in range(c):
                out[row, (a * kw + b) * c + m] = xp[r, y0 + a * dh, x0 + b * dw, m]


@_compile
def direct_forward(xp, kernel, bias, patch, strides, dilation, window, relu, pooled,
                   winners):
    """Convolution and max pooling in one loop, for short patches: ``xp`` (rows, h, w, c)
    the padded input, ``kernel`` (kh·kw·c, filters), ``bias`` (filters), ``patch`` and
    ``window`` the shapes as ``shape_token(kh, kw, c)`` and ``shape_token(ph, pw)``;
    writes ``pooled`` (rows, qh, qw, filters) and ``winners`` as ``pool_phases`` does."""
    kh, kw, c = len(patch), len(patch[0]), len(patch[0][0])
    ph, pw = len(window), len(window[0])
    width, count = kh * kw * c, ph * pw
    rows, qh, qw, filters = pooled.shape
    th, tw = strides
    patches = np.empty((count, width), xp.dtype)
    z = np.empty((count, filters), xp.dtype)
    for r in range(rows):
        for p in range(qh):
            for q in range(qw):
                for phase in range(count):
                    y0, x0 = (p * ph + phase // pw) * th, (q * pw + phase % pw) * tw
                    _gather_patch(xp, r, y0, x0, patch, dilation, patches, phase)
                for phase in range(count):
                    for f in range(filters):
                        v = bias[f]
                        for k in range(width):
                            v += patches[phase, k] * kernel[k, f]
                        z[phase, f] = v
                for f in range(filters):
                    best, won = z[0, f], 0
                    nan = best != best
                    for phase in range(1, count):
                        v = z[phase, f]
                        if v > best:
                            best, won = v, phase
                        nan = nan or v != v
                    best = 0.0 if relu and best < 0.0 else best
                    pooled[r, p, q, f] = np.nan if nan else best
                    winners[r, p, q, f] = count - 1 if nan else won


@_compile
def direct_backward(xp, grad, pooled, winners, kernel, patch, strides, dilation, window,
                    relu, grad_kernel, grad_bias, grad_xp):
    """Slopes of ``direct_forward``: the kernel's into ``grad_kernel`` (kh·kw·c, filters)
    and the bias's into ``grad_bias`` (both overwritten), and the padded input's added
    into ``grad_xp`` unless it is empty. Each window's slope goes to its winner alone."""
    kh, kw, c = len(patch), len(patch[0]), len(patch[0][0])
    ph, pw = len(window), len(window[0])
    width, count = kh * kw * c, ph * pw
    rows, qh, qw, filters = pooled.shape
    (th, tw), (dh, dw) = strides, dilation
    with_input = grad_xp.size > 0
    patches = np.empty((count, width), xp.dtype)
    routed = np.empty((count, filters), grad.dtype)  # the sums' slopes, by window position
    kernel_sums = np.zeros((width, filters), grad.dtype)
    bias_sums = np.zeros(filters, grad.dtype)
    for r in range(rows):
        for p in range(qh):
            for q in range(qw):
                for f in range(filters):
                    g = grad[r, p, q, f]
                    g = 0.0 if relu and not pooled[r, p, q, f] > 0.0 else g
                    bias_sums[f] += g
                    won = winners[r, p, q, f]
                    for phase in range(count):
                        routed[phase, f] = g if won == phase else 0.0
                for phase in range(count):
                    y0, x0 = (p * ph + phase // pw) * th, (q * pw + phase % pw) * tw
                    _gather_patch(xp, r, y0, x0, patch, dilation, patches, phase)
                    for k in range(width):
                        v = patches[phase, k]
                        for f in range(filters):
                            kernel_sums[k, f] += v * routed[phase, f]
                    if not with_input:
                        continue
                    for a in range(kh):
                        for b in range(kw):
                            for m in range(c):
                                k = (a * kw + b) * c + m
                                total = 0.0
                                for f in range(filters):
                                    total += routed[phase, f] * kernel[k, f]
                                grad_xp[r, y0 + a * dh, x0 + b * dw, m] += total
    grad_kernel[:] = kernel_sums
    grad_bias[:] = bias_sums
