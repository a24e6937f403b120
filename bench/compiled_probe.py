"""What compiled kernels would buy W6: glassnet's NumPy pieces against Numba loops.

    pip install numba        # not a dependency of glassnet: this probe alone needs it
    python bench/compiled_probe.py

W6 (``convnet.py``) trains an epoch in about 1.25–1.5 times Keras's time, and the gap is
in the element-wise passes NumPy makes one operation at a time, not in the matrix products
(see bench/README.md, W6). This probe measures how much of that a compiled kernel recovers
on one 32-image chunk, one thread, for the three pieces where the NumPy passes cost most:

* the first convolution (3×3, one input channel, 32 filters), its bias, the 2×2 max
  pooling and the ReLU, forward: glassnet's ``ConvPool.forward`` (patch copy, product,
  pooling) against one loop that computes each window's four sums and keeps the largest
  (and which one won);
* the same pair's backward (routing the slope to the winners and the kernel's slope):
  ``ConvPool.backward`` against one loop over windows;
* adding the second convolution's patch slopes back into its input's slope (the ``col2im``
  part of ``ConvPool._grad_input``, four window positions): NumPy's strided adds against a
  loop.

It checks each loop's numbers against NumPy's first. It measures; it does not change
glassnet, which needs NumPy alone.
"""

from __future__ import annotations

import time

import numpy as np

try:
    from numba import njit
except ImportError:
    raise SystemExit("this probe needs numba: pip install numba") from None

from threadpoolctl import threadpool_limits

import glassnet as keras
from glassnet import layers
from glassnet.engine.conv_pool import ConvPool
from glassnet.engine.row_chunks import _like_storage

ROWS = 32


@njit(fastmath=True, nogil=True, cache=True)
def first_pair_forward(x, kernel, bias, pooled, winners):
    """x (rows, 28, 28), kernel (9, filters): pooled ReLU output and each window's winner."""
    filters = kernel.shape[1]
    z = np.empty((4, filters), np.float32)
    patch = np.empty((4, 9), np.float32)
    for r in range(x.shape[0]):
        for p in range(pooled.shape[1]):
            for q in range(pooled.shape[2]):
                for phase in range(4):
                    y0, x0 = 2 * p + phase // 2, 2 * q + phase % 2
                    for a in range(3):
                        for b in range(3):
                            patch[phase, a * 3 + b] = x[r, y0 + a, x0 + b]
                for phase in range(4):
                    for f in range(filters):
                        total = bias[f]
                        for k in range(9):
                            total += patch[phase, k] * kernel[k, f]
                        z[phase, f] = total
                for f in range(filters):
                    best, won = z[0, f], 0
                    for phase in range(1, 4):
                        if z[phase, f] > best:
                            best, won = z[phase, f], phase
                    pooled[r, p, q, f] = best if best > 0 else 0.0
                    winners[r, p, q, f] = won


@njit(fastmath=True, nogil=True, cache=True)
def first_pair_backward(x, grad, pooled, winners, grad_kernel, grad_bias):
    for r in range(x.shape[0]):
        for p in range(pooled.shape[1]):
            for q in range(pooled.shape[2]):
                for f in range(pooled.shape[3]):
                    if pooled[r, p, q, f] > 0:
                        g = grad[r, p, q, f]
                        phase = winners[r, p, q, f]
                        y0, x0 = 2 * p + phase // 2, 2 * q + phase % 2
                        grad_bias[f] += g
                        for a in range(3):
                            for b in range(3):
                                grad_kernel[a * 3 + b, f] += g * x[r, y0 + a, x0 + b]


@njit(fastmath=True, nogil=True, cache=True)
def add_patch_slopes(grad_xp, block, i, j):
    """block (rows, qh, qw, 3, 3, c): window position (i, j)'s patch slopes, added back."""
    for r in range(block.shape[0]):
        for p in range(block.shape[1]):
            for q in range(block.shape[2]):
                y0, x0 = 2 * p + i, 2 * q + j
                for a in range(3):
                    for b in range(3):
                        for c in range(block.shape[5]):
                            grad_xp[r, y0 + a, x0 + b, c] += block[r, p, q, a, b, c]


def best_ms(function, calls: int = 20, rounds: int = 15) -> float:
    function()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e3


def main() -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)),
                              layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2)])
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 28, 28, 1), np.float32), np.zeros((4, 5, 5, 64), np.float32),
              verbose=0)
    conv1, pool1, conv2, pool2 = model.layers
    first, second = ConvPool(conv1, pool1), ConvPool(conv2, pool2)
    rng = np.random.default_rng(0)
    x = np.where(rng.random((ROWS, 28, 28, 1)) < 0.2, rng.random((ROWS, 28, 28, 1)) * 5, 0)
    x = x.astype(np.float32)
    model.set_weights([(rng.standard_normal(w.shape) * 0.3).astype(np.float32)
                       for w in model.get_weights()])
    kernel = conv1.kernel.reshape(9, 32).copy()
    bias = conv1.bias.copy()
    with threadpool_limits(1):
        pooled_np, record1 = first.forward(x, True)
        hidden, record2 = second.forward(pooled_np, True)
        grad = rng.standard_normal(pooled_np.shape).astype(np.float32)
        pooled = np.empty((ROWS, 13, 13, 32), np.float32)
        winners = np.empty(pooled.shape, np.uint8)
        first_pair_forward(x[..., 0], kernel, bias, pooled, winners)
        np.testing.assert_allclose(pooled, pooled_np, rtol=1e-5, atol=1e-5)
        grads = _like_storage(conv1.grads)
        first.backward(record1, grad.copy(), False, grads=grads)
        grad_kernel, grad_bias = np.zeros_like(kernel), np.zeros_like(bias)
        first_pair_backward(x[..., 0], grad, pooled, winners, grad_kernel, grad_bias)
        np.testing.assert_allclose(grad_kernel, grads["kernel"].reshape(9, 32), rtol=1e-3,
                                   atol=1e-3)
        rows = [
            ("first pair, forward", best_ms(lambda: first.forward(x, True)),
             best_ms(lambda: first_pair_forward(x[..., 0], kernel, bias, pooled, winners))),
            ("first pair, backward",
             best_ms(lambda: first.backward(record1, grad.copy(), False, grads=grads)),
             best_ms(lambda: first_pair_backward(x[..., 0], grad, pooled, winners,
                                                 grad_kernel, grad_bias))),
        ]
        block = rng.standard_normal((4, ROWS, 5, 5, 3, 3, 32)).astype(np.float32)
        grad_xp = np.zeros((ROWS, 13, 13, 32), np.float32)

        def numpy_adds():
            for phase in range(4):
                second._add_kernel_rows(grad_xp, block[phase], *divmod(phase, 2))

        def loop_adds():
            for phase in range(4):
                add_patch_slopes(grad_xp, block[phase], *divmod(phase, 2))

        want = np.zeros_like(grad_xp)
        grad_xp[...] = 0
        numpy_adds()
        want[...] = grad_xp
        grad_xp[...] = 0
        loop_adds()
        np.testing.assert_allclose(grad_xp, want, rtol=1e-5, atol=1e-5)
        rows.append(("second conv, patch slopes added back", best_ms(numpy_adds),
                     best_ms(loop_adds)))
    print(f"one {ROWS}-image chunk of W6, one thread, fastest of 15 rounds\n")
    print("| piece | glassnet (NumPy) ms | compiled loop ms |\n|---|---|---|")
    for name, ours, loop in rows:
        print(f"| {name} | {ours:.3f} | {loop:.3f} |")


if __name__ == "__main__":
    main()
