"""Bad arguments to ``glassnet.ops`` raise a ``ValueError``/``TypeError`` that names the op,
what came and what was expected, instead of a traceback from deep inside NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import ops


@pytest.mark.parametrize(
    ("call", "kind", "words"),
    [
        (
            lambda: ops.matmul(np.ones((2, 3)), np.ones((4, 5))),
            ValueError,
            ["ops.matmul", "(2, 3)", "(4, 5)", "last axis of x1"],
        ),
        (lambda: ops.matmul(np.ones(3), 2.0), ValueError, ["ops.matmul", "at least one dimension"]),
        (
            lambda: ops.dot(np.ones((2, 2, 3)), np.ones((4, 5, 6))),
            ValueError,
            ["ops.dot", "(2, 2, 3)", "(4, 5, 6)"],
        ),
        (
            lambda: ops.add(np.ones((2, 3)), np.ones(4)),
            ValueError,
            ["ops.add", "(2, 3)", "(4,)", "broadcast"],
        ),
        (lambda: ops.reshape(np.ones(6), (4, -1)), ValueError, ["ops.reshape", "(6,)", "(4, -1)"]),
        (lambda: ops.reshape(np.ones(6), (-1, -1)), ValueError, ["ops.reshape", "-1"]),
        (lambda: ops.transpose(np.ones((2, 3)), (0, 0)), ValueError, ["ops.transpose", "(2, 3)"]),
        (
            lambda: ops.squeeze(np.ones((2, 3)), axis=1),
            ValueError,
            ["ops.squeeze", "(2, 3)", "3, not 1"],
        ),
        (
            lambda: ops.concatenate([np.ones((2, 3)), np.ones((3, 2))], axis=1),
            ValueError,
            ["ops.concatenate", "(2, 3)", "(3, 2)"],
        ),
        (lambda: ops.stack([np.ones(2), np.ones(3)]), ValueError, ["ops.stack", "(2,)", "(3,)"]),
        (lambda: ops.split(np.ones(5), 2), ValueError, ["ops.split", "size 5", "2 equal"]),
        (lambda: ops.sum(np.ones(3), axis=2), ValueError, ["ops.sum", "axis 2", "(3,)"]),
        (lambda: ops.max(np.ones((0,))), ValueError, ["ops.max", "empty"]),
        (lambda: ops.take(np.ones(3), np.array([5])), ValueError, ["ops.take", "size 3", "5"]),
        (lambda: ops.take(np.ones(3), np.array([0.5])), TypeError, ["ops.take", "integers"]),
        (lambda: ops.one_hot(np.array([0.5]), 3), TypeError, ["ops.one_hot", "integers"]),
        (lambda: ops.one_hot(np.array([3]), 3), ValueError, ["ops.one_hot", "num_classes=3"]),
        (lambda: ops.where(np.array([True]), np.ones(1)), ValueError, ["ops.where", "x1 and x2"]),
        (
            lambda: ops.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4))),
            ValueError,
            ["ops.categorical_crossentropy", "(2, 3)", "(2, 4)"],
        ),
        (
            lambda: ops.sparse_categorical_crossentropy(np.array([0, 1, 2]), np.ones((2, 4))),
            ValueError,
            ["ops.sparse_categorical_crossentropy", "(3,)", "(2, 4)"],
        ),
        (
            lambda: ops.binary_crossentropy(np.ones(3), np.ones(2)),
            ValueError,
            ["ops.binary_crossentropy", "(3,)", "(2,)"],
        ),
        (lambda: ops.glu(np.ones((2, 3))), ValueError, ["ops.glu", "divisible by 2", "(2, 3)"]),
        (lambda: ops.cast(np.ones(2), "floot32"), ValueError, ["ops.cast", "floot32"]),
        (
            lambda: ops.as_tensor(np.ones((2, 3))) @ np.ones((2, 2)),
            ValueError,
            ["matmul", "(2, 3)", "(2, 2)"],
        ),
        (
            lambda: ops.as_tensor(np.ones((2, 3))) + np.ones(4),
            ValueError,
            ["add", "(2, 3)", "(4,)"],
        ),
        (lambda: ops.scan("f", 0.0, np.ones(2)), TypeError, ["ops.scan", "callable"]),
    ],
)
def test_bad_input_names_the_op_and_the_shapes(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, (word, message)
