"""Where W4's step and W5's predict batch spend their time, part by part.

    python bench/step_parts.py

Times (best of 5, timeit) each matrix product of the W4 training step and of a W5
1,024-row predict batch against the float32 matrix-multiply peak, and the element-wise
passes around them (ReLU, its mask, softmax, the input's NaN check, Adam). What the
products cannot explain is NumPy's single-threaded element-wise work: the profile behind
the W4 and W5 lines of the README's benchmark section.
"""

from __future__ import annotations

import timeit

import numpy as np

from glassnet import _rowwise
from glassnet.optimizers import Adam

RNG = np.random.default_rng(0)


def best_ms(call, number: int = 10) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e3


def matrix(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def product(label: str, m: int, k: int, n: int, peak: float) -> None:
    a, b, out = matrix(m, k), matrix(k, n), np.empty((m, n), np.float32)
    ms = best_ms(lambda: np.dot(a, b, out=out))
    gflops = 2 * m * k * n / ms / 1e6
    print(f"  {label:<34} {ms:7.3f} ms  {gflops:5.0f} GFLOP/s ({gflops / peak:4.0%} of peak)")


def part(label: str, call) -> None:
    print(f"  {label:<34} {best_ms(call):7.3f} ms")


def main() -> None:
    big = matrix(4096, 4096)
    peak = 2 * 4096**3 / (min(timeit.repeat(lambda: big @ big, number=2, repeat=3)) / 2) / 1e9
    print(f"float32 matrix-multiply peak: {peak:.0f} GFLOP/s")
    print("W4 step (batch 1024; 512 -> 1024 -> 1024 -> 10):")
    for label, shape in [
        ("forward 1: x @ W1", (1024, 512, 1024)),
        ("forward 2: [a1, 1] @ [W2; b2]", (1024, 1025, 1024)),
        ("forward 3: [a2, 1] @ [W3; b3]", (1024, 1025, 10)),
        ("slope W3: [a2, 1].T @ g3", (1025, 1024, 10)),
        ("slope a2: g3 @ W3.T", (1024, 10, 1024)),
        ("slope W2: [a1, 1].T @ g2", (1025, 1024, 1024)),
        ("slope a1: g2 @ W2.T", (1024, 1024, 1024)),
        ("slope W1: x.T @ g1", (512, 1024, 1024)),
    ]:
        product(label, *shape, peak)
    z, mask = matrix(1024, 1024), np.empty((1024, 1024), bool)
    part("ReLU np.maximum, 1024 x 1024", lambda: np.maximum(z, 0, out=z))
    part("ReLU mask (a > 0) and product", lambda: np.multiply(z, np.greater(z, 0, out=mask)))
    weights = 512 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10
    params, grads = matrix(weights), matrix(weights) * 1e-3
    adam = Adam()
    adam.build(params, [("", "", 0, weights)])
    part(f"Adam, {weights:,} weights", lambda: adam.apply(params, grads))
    print("W5 predict batch (1024 rows; 784 -> 100 -> 100 -> 10):")
    for label, shape in [
        ("layer 1: x @ W1", (1024, 784, 100)),
        ("layer 2: [a1, 1] @ [W2; b2]", (1024, 101, 100)),
        ("layer 3: [a2, 1] @ [W3; b3]", (1024, 101, 10)),
    ]:
        product(label, *shape, peak)
    x, h = matrix(1024, 784), np.ones((1024, 101), np.float32)
    z1, logits = matrix(1024, 100), matrix(1024, 10)
    part("NaN check of the batch (one sum)", lambda: np.add.reduce(x, axis=None))
    part("ReLU into the ones-column buffer", lambda: np.maximum(z1, 0, out=h[:, :-1]))
    part("ReLU in place", lambda: np.maximum(z1, 0, out=z1))
    part("softmax via glassnet._rowwise", lambda: np.exp(logits - _rowwise.row_max(logits)))
    part("row max, plain NumPy reduction", lambda: logits.max(axis=1, keepdims=True))


if __name__ == "__main__":
    main()
