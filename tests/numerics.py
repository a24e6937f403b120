"""How far apart two float32 runs of one network may be when they sum in different orders.

The rule the tests follow (CONTRIBUTING.md, "Numerical tests"): results are compared bit
for bit only when the same code makes the same BLAS calls on the same shapes (a saved and
loaded model, a resumed run, a copy, threads with the same batch split). Anything else (two
batch sizes, ``predict`` against ``forward``, the fused Dense chain against the layers one
by one, glassnet against a NumPy formula) is compared with ``assert_float32_close``, whose
tolerance ``float32_tolerance`` derives below.
"""

from __future__ import annotations

import math

import numpy as np

#: float32's machine epsilon, 2**-23: the distance from 1.0 to the next float32.
EPS = float(np.finfo(np.float32).eps)
#: Room over the expected size of the difference (the measurements are in the docstring).
SAFETY = 4


def float32_tolerance(depth: int, fan_in: int) -> float:
    """The largest difference two float32 evaluations of a network may show, relative to
    the largest value compared: ``SAFETY * depth * sqrt(fan_in) * EPS``.

    Why: a Dense layer's output is a sum of ``fan_in + 1`` float32 products. BLAS adds them
    in an order that depends on the CPU's kernel and on how many rows it multiplies at once,
    and folding the bias into the product moves one more term; each addition rounds by at
    most half a unit in the last place, and these roundings have no preferred sign, so two
    orders typically differ by about ``sqrt(fan_in)`` units of the sum's size (Higham's
    worst case, ``fan_in`` units, is never approached; tests/reliability/test_determinism.py
    checks that one). A difference in a layer's input reaches its output at about the same
    size (initial weights keep the scale, activations have slopes of at most 1), where the
    layer's own rounding adds to it: over ``depth`` layers the differences add up.

    Measured (1 to 6 Dense layers, fan-in 4 to 512, batch sizes 1, 7, 16 and 130 against
    ``forward``, OpenBLAS's Haswell, SkylakeX and Prescott kernels): at most 0.61 of
    ``depth * sqrt(fan_in) * EPS``; ``SAFETY`` = 4 leaves room for other CPUs and BLAS
    libraries. For the small networks of the tests this is about 1e-6 to 1e-5, far below
    what a real mistake moves (a wrong weight or activation, another thread's rows: 1e-3
    and more).

    Args:
        depth: the number of Dense layers the values went through.
        fan_in: the largest fan-in among them (inputs of the first layer, or widest layer).
    """
    return SAFETY * depth * math.sqrt(fan_in) * EPS


def assert_float32_close(actual, desired, depth: int, fan_in: int, err_msg: str = "") -> None:
    """``actual`` equals ``desired`` within ``float32_tolerance(depth, fan_in)`` times the
    largest magnitude in ``desired`` (a value near zero that came out of a sum of large terms
    carries their rounding, not its own)."""
    desired = np.asarray(desired)
    tolerance = float32_tolerance(depth, fan_in)
    scale = float(np.abs(desired).max()) if desired.size else 0.0
    np.testing.assert_allclose(
        actual, desired, rtol=tolerance, atol=tolerance * scale, err_msg=err_msg
    )
