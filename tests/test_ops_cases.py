"""Hand-computed cases and the examples of Keras's own docstrings and tests
(``keras/src/ops/*.py``, ``keras/src/ops/*_test.py``), without Keras installed."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import config, ops
from glassnet.ops import recording


def test_glu_example_from_keras():
    out = ops.glu(np.array([-1.0, 0.0, 1.0, 1.0]))
    np.testing.assert_allclose(out, [-0.73105858, 0.0])


def test_layer_normalization_example_from_keras():
    out = ops.layer_normalization(ops.arange(5, dtype="float32"))
    np.testing.assert_allclose(out, [-1.4142135, -0.70710677, 0.0, 0.7071067, 1.4142135], rtol=1e-6)


def test_one_hot_gives_a_row_of_zeros_for_a_negative_label():
    out = ops.one_hot(np.array([1, -1, 0]), 3)
    np.testing.assert_array_equal(out, [[0, 1, 0], [0, 0, 0], [1, 0, 0]])
    assert out.dtype == np.float32


def test_crossentropies_by_hand():
    # -log(0.7) for the right class, Keras's epsilon clipping apart
    p = np.array([[0.2, 0.7, 0.1]])
    np.testing.assert_allclose(
        ops.categorical_crossentropy(np.array([[0.0, 1.0, 0.0]]), p), [-np.log(0.7)]
    )
    np.testing.assert_allclose(
        ops.sparse_categorical_crossentropy(np.array([1]), p), [-np.log(0.7)]
    )
    np.testing.assert_allclose(
        ops.binary_crossentropy(np.array([1.0, 0.0]), np.array([0.9, 0.2])),
        [-np.log(0.9), -np.log(0.8)],
    )
    # clipped to [epsilon, 1 - epsilon]: a certain wrong answer costs -log(1e-7)
    worst = ops.binary_crossentropy(np.array([1.0]), np.array([0.0]))
    np.testing.assert_allclose(worst, [-np.log(config.epsilon())], rtol=1e-6)


def test_keras_dtype_rules():
    f32 = np.ones(2, np.float32)
    i32 = np.ones(2, np.int32)
    assert ops.add(f32, 2).dtype == np.float32  # a Python scalar is weak
    assert ops.add(i32, 2.0).dtype == np.float32  # an int array and a float scalar: floatx
    assert ops.multiply(i32, f32).dtype == np.float32  # NumPy would give float64
    assert ops.divide(i32, i32).dtype == np.float32
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.mean(i32).dtype == np.float32
    assert ops.sum(np.ones(2, bool)).dtype == np.int32
    assert ops.argmax(f32).dtype == np.int32
    assert ops.zeros((2,)).dtype == np.float32


def test_custom_gradient_log1pexp_from_keras_docstring():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad

    x = np.array([0.0, 100.0])
    with recording() as tape:
        y = ops.sum(log1pexp(x))
    slope = tape.backward(y, np.ones(()))[id(x)]
    np.testing.assert_allclose(slope, [0.5, 1.0])  # finite where the plain formula overflows
    assert len(tape) == 2  # the custom node and the sum; the gradient function recorded nothing


def test_control_flow_runs_the_python_it_wraps():
    assert ops.cond(True, lambda: 1, lambda: 2) == 1
    assert ops.switch(5, [lambda x: x, lambda x: -x], 3) == -3
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 0) == 6
    assert ops.while_loop(lambda v: v < 10, lambda v: v * 2, 1) == 16
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), 0.0, np.array([1.0, 2.0, 3.0]))
    assert float(carry) == 6.0
    np.testing.assert_array_equal(ys, [0.0, 2.0, 9.0])
    np.testing.assert_array_equal(ops.map(lambda r: r * 2, np.arange(3.0)), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(
        ops.associative_scan(lambda a, b: a + b, np.array([1.0, 2.0, 3.0])), [1.0, 3.0, 6.0]
    )
    np.testing.assert_array_equal(
        ops.vectorized_map(lambda r: ops.sum(r), np.ones((3, 2))), [2, 2, 2]
    )


def test_slice_update_and_scatter_do_not_change_their_input():
    x = np.zeros((3, 3))
    out = ops.slice_update(x, (1, 1), np.ones((2, 2)))
    assert x.sum() == 0 and float(out.sum()) == 4
    out = ops.scatter_update(x, np.array([[0, 0]]), np.array([5.0]))
    assert x.sum() == 0 and float(out[0, 0]) == 5


@pytest.mark.parametrize("family", ["nn", "linalg", "numpy", "math", "core"])
def test_families_hold_their_ops(family):
    space = getattr(ops, family)
    names = [n for n in vars(space) if not n.startswith("_")]
    assert names and all(getattr(space, n) is getattr(ops, n) for n in names)
