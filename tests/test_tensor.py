"""``glassnet.ops.Tensor``, the type of every eager result: an ``ndarray`` that answers
``.numpy()`` without copying and works with ``np.asarray``, indexing and arithmetic."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from glassnet import ops
from glassnet.ops import Tensor, as_tensor, recording


def test_numpy_is_a_plain_view_not_a_copy():
    base = np.arange(6.0).reshape(2, 3)
    t = as_tensor(base)
    plain = t.numpy()
    assert type(t) is Tensor and type(plain) is np.ndarray
    assert np.shares_memory(plain, base) and np.shares_memory(t, base)
    plain[0, 0] = 7.0
    assert base[0, 0] == 7.0
    assert type(np.asarray(t)) is np.ndarray and np.shares_memory(np.asarray(t), base)


def test_as_tensor_returns_a_tensor_as_it_is_and_wraps_scalars():
    t = as_tensor(np.ones(2))
    assert as_tensor(t) is t
    s = as_tensor(np.float32(2.5))
    assert type(s) is Tensor and s.shape == () and s.dtype == np.float32
    assert float(s) == 2.5


def test_results_of_ops_indexing_and_arithmetic_are_tensors():
    t = ops.convert_to_tensor(np.arange(6.0).reshape(2, 3))
    for value in (
        t + 1,
        t * t,
        -t,
        np.exp(t),
        t[0],
        t[:, 1:],
        t.sum(),
        t.mean(axis=0),
        t.T,
        t.reshape(3, 2),
        ops.relu(t),
        ops.sum(t),
    ):
        assert type(value) is Tensor
        assert type(value.numpy()) is np.ndarray
    np.testing.assert_array_equal((t * 2 + 1).numpy(), np.arange(6.0).reshape(2, 3) * 2 + 1)
    assert t.sum().numpy() == 15.0 and t.sum().shape == ()
    assert float(t[1, 2]) == 5.0 and t[1, 2].numpy() == 5.0


def test_a_tensor_prints_its_values():
    t = ops.convert_to_tensor(np.array([1.5, 2.0], dtype=np.float32))
    assert repr(t) == "Tensor([1.5, 2. ], dtype=float32)"
    assert str(t) == "[1.5 2. ]"


def test_a_tensor_pickles_as_a_plain_array():
    t = as_tensor(np.arange(3.0))
    loaded = pickle.loads(pickle.dumps(t))
    assert type(loaded) is np.ndarray
    np.testing.assert_array_equal(loaded, [0.0, 1.0, 2.0])


def test_comparisons_and_truth_values_work():
    t = as_tensor(np.array([1.0, -2.0]))
    assert (t > 0).tolist() == [True, False]
    assert bool(t.sum() < 0)
    assert np.allclose(t, [1.0, -2.0])


def test_recording_a_tensor_does_not_change_its_numbers():
    x = np.random.default_rng(0).normal(size=(3, 4))
    plain = np.exp(x) * 2 - x[1] + (x @ x.T).sum(axis=1, keepdims=True) / 3
    with recording() as tape:
        t = ops.convert_to_tensor(x)
        recorded = np.exp(t) * 2 - t[1] + (t @ t.T).sum(axis=1, keepdims=True) / 3
    assert len(tape) > 5
    np.testing.assert_array_equal(recorded.numpy(), plain)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_dtypes_are_kept(dtype):
    t = as_tensor(np.ones(3, dtype=dtype))
    assert (t + t).dtype == dtype and t.numpy().dtype == dtype


def test_numpy_functions_of_tensors_give_tensors():
    t = as_tensor(np.arange(4.0))
    for value in (
        np.concatenate([t, t]),
        np.stack([t, t]),
        np.where(t > 1, t, 0),
        np.clip(t, 1, 2),
    ):
        assert type(value) is Tensor
