"""``glassnet.utils.normalize``, Keras's ``keras.utils.normalize``: numbers worked by hand, then
the same numbers from real Keras."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet.utils import normalize

# Rows: a 3-4-5 triangle, a row of zeros (stays zero, no division by zero), a mixed row.
X = [[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]]
R2 = 1 / math.sqrt(2)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (2, [[0.6, 0.8], [0.0, 0.0], [R2, -R2]]),  # 3/5, 4/5; 1/√2
        (1, [[3 / 7, 4 / 7], [0.0, 0.0], [0.5, -0.5]]),  # |3| + |4| = 7
        (np.inf, [[0.75, 1.0], [0.0, 0.0], [1.0, -1.0]]),  # max |x| = 4
    ],
)
def test_rows_are_scaled_to_unit_norm(order, expected):
    out = normalize(X, order=order)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)
    norms = np.linalg.norm(out, ord=order, axis=-1)
    np.testing.assert_allclose(norms, [1.0, 0.0, 1.0], rtol=1e-6)


def test_the_default_is_the_l2_norm_of_the_last_axis():
    np.testing.assert_array_equal(normalize(X), normalize(X, axis=-1, order=2))
    np.testing.assert_array_equal(normalize(X), normalize(X, axis=1))


def test_axis_0_scales_the_columns():
    # Column norms √(9 + 0 + 1) = √10 and √(16 + 0 + 1) = √17.
    expected = [[0.9486833, 0.9701425], [0.0, 0.0], [0.31622777, -0.24253563]]
    np.testing.assert_allclose(normalize(X, axis=0), expected, rtol=1e-6)


def test_a_vector_and_a_3d_array():
    np.testing.assert_allclose(normalize([0.0, 3.0, -4.0]), [0.0, 0.6, -0.8], rtol=1e-6)
    cube = np.arange(8, dtype=float).reshape(2, 2, 2)  # last-axis pairs (0,1) (2,3) (4,5) (6,7)
    out = normalize(cube)
    assert out.shape == (2, 2, 2)
    np.testing.assert_allclose(out[1, 1], np.array([6.0, 7.0]) / math.sqrt(85), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.ones((2, 2)), rtol=1e-6)


def test_the_input_is_not_changed_and_the_result_is_float32():
    x = np.array(X)
    before = x.copy()
    out = normalize(x)
    np.testing.assert_array_equal(x, before)
    assert out.dtype == np.float32  # glassnet's float type (Keras keeps a NumPy input's dtype)
    assert normalize([[1, 1]]).dtype == np.float32  # whole numbers too


@pytest.mark.keras
@pytest.mark.parametrize("order", [1, 2, np.inf])
@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_matches_keras(rng, order, axis):
    keras = require_tool("keras", "compares with keras.utils.normalize: pip install keras")
    x = rng.normal(size=(4, 5, 3)).astype(np.float32)
    x[1, 2] = 0.0  # a row of zeros (for axis -1/2), a column with a zero in it (axis 1)
    expected = keras.utils.normalize(x, axis=axis, order=order)
    assert expected.shape == x.shape
    np.testing.assert_allclose(normalize(x, axis=axis, order=order), expected, rtol=1e-6)


@pytest.mark.keras
def test_matches_keras_on_the_hand_worked_rows():
    keras = require_tool("keras", "compares with keras.utils.normalize: pip install keras")
    x = np.array(X, dtype=np.float32)
    for order in (1, 2, np.inf):
        np.testing.assert_allclose(
            normalize(x, order=order), keras.utils.normalize(x, order=order), rtol=1e-6
        )
    # Not compared, because Keras 3.15's NumPy branch gets them wrong: it re-inserts the
    # norm's axis with `axis = axis or -1`, so axis=0 divides row i by the norm of column i
    # (a broadcasting error unless the array is square), and a 1-D input comes back 2-D.
    # glassnet divides each column by its own norm (test_axis_0_scales_the_columns) and
    # keeps a vector a vector (test_a_vector_and_a_3d_array).
