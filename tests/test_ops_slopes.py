"""Every differentiable ``glassnet.ops`` op against central finite differences, in float64,
through the tape: record ``sum(w * op(inputs))`` for a random ``w``, run ``Tape.backward``,
and compare the slope at each input with the numerical one. Broadcast inputs must get
slopes of their own shape (summed back over broadcasting)."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, away_from, numerical_gradient

from glassnet import ops
from glassnet.ops import Tape, recording
from glassnet.ops.tensor import apply_ufunc


def _leaves(out):
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in _leaves(item)]
    return [out]


def check_slopes(fn, *inputs, seed=0):
    """The tape's slopes of ``sum(w * fn(*inputs))`` at each float input equal central
    differences; returns the tape's slopes."""
    rng = np.random.default_rng(seed)
    with recording() as tape:
        outputs = _leaves(fn(*inputs))
    weights = [rng.normal(size=np.shape(o)) for o in outputs]

    def objective():
        return float(
            sum(
                np.sum(w * np.asarray(o))
                for w, o in zip(weights, _leaves(fn(*inputs)), strict=True)
            )
        )

    slopes = {}
    for output, weight in zip(outputs, weights, strict=True):
        for key, value in tape.backward(output, weight).items():
            slopes[key] = slopes.get(key, 0) + value
    terms = np.concatenate(
        [np.ravel(w * np.asarray(o)) for w, o in zip(weights, outputs, strict=True)]
    )
    checked = []
    for x in inputs:
        if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
            continue
        analytic = slopes.get(id(x), np.zeros_like(x))
        assert np.shape(analytic) == x.shape, (np.shape(analytic), x.shape)
        assert_gradient_close(analytic, numerical_gradient(objective, x), objective_terms=terms)
        checked.append(analytic)
    assert checked, "no float64 input was checked"
    return checked


rng = np.random.default_rng(7)


def normal(*shape):
    return rng.normal(size=shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def unit(*shape):  # inside (0, 1), away from both ends
    return rng.uniform(0.1, 0.9, size=shape)


def distinct(*shape):  # no ties, no values near 0 (kinks of relu, abs, ...)
    values = rng.permutation(np.arange(1, int(np.prod(shape)) + 1)).reshape(shape) * 0.37
    return away_from(values - values.mean(), [0.0], margin=0.05)


TARGETS = unit(3, 2)

CASES = {
    # binary, with broadcasting
    "add": (ops.add, normal(3, 4), normal(4)),
    "add-column": (ops.add, normal(3, 1), normal(1, 4)),
    "subtract": (ops.subtract, normal(2, 3), normal(2, 1)),
    "multiply": (ops.multiply, normal(2, 3), normal(3)),
    "divide": (ops.divide, normal(2, 3), positive(2, 3)),
    "true_divide": (ops.true_divide, normal(3), positive(2, 3)),
    "power": (ops.power, positive(2, 3), normal(2, 3)),
    "power-constant": (lambda x: ops.power(x, 3), normal(4)),
    "maximum": (ops.maximum, distinct(2, 3), distinct(2, 3) + 0.1),
    "minimum": (ops.minimum, distinct(2, 3), distinct(3) + 0.1),
    "matmul": (ops.matmul, normal(3, 4), normal(4, 2)),
    "matmul-batched": (ops.matmul, normal(2, 3, 4), normal(4, 5)),
    "matmul-vector": (ops.matmul, normal(4), normal(4, 2)),
    "matmul-matrix-vector": (ops.matmul, normal(2, 3, 4), normal(4)),
    "dot": (ops.dot, normal(3, 4), normal(4, 2)),
    "dot-nd": (ops.dot, normal(2, 3, 4), normal(5, 4, 2)),
    "dot-scalar": (ops.dot, normal(3), np.float64(2.5)),
    "einsum": (lambda a, b: ops.einsum("ij,jk->ik", a, b), normal(2, 3), normal(3, 4)),
    "einsum-summed": (lambda a, b: ops.einsum("ij,kj->k", a, b), normal(2, 3), normal(4, 3)),
    # elementwise
    "negative": (ops.negative, normal(2, 3)),
    "abs": (ops.abs, distinct(2, 3)),
    "absolute": (ops.absolute, distinct(5)),
    "square": (ops.square, normal(2, 3)),
    "sqrt": (ops.sqrt, positive(2, 3)),
    "exp": (ops.exp, normal(2, 3)),
    "log": (ops.log, positive(2, 3)),
    "log1p": (ops.log1p, positive(2, 3)),
    "tanh": (ops.tanh, normal(2, 3)),
    "clip": (lambda x: ops.clip(x, -0.5, 0.5), distinct(3, 4) * 0.5),
    "where": (lambda a, b: ops.where(a > b, a, b), normal(2, 3), normal(3)),
    "cast": (lambda x: ops.cast(x, "float64"), normal(3)),
    "convert_to_tensor": (ops.convert_to_tensor, normal(3)),
    # nn
    "sigmoid": (ops.sigmoid, normal(2, 3)),
    "relu": (ops.relu, distinct(2, 3)),
    "relu6": (ops.relu6, distinct(2, 6) * 2),
    "softmax": (ops.softmax, normal(3, 4)),
    "softmax-axis0": (lambda x: ops.softmax(x, axis=0), normal(3, 4)),
    "log_softmax": (ops.log_softmax, normal(3, 4)),
    "softplus": (ops.softplus, normal(2, 3)),
    "softsign": (ops.softsign, distinct(2, 3)),
    "silu": (ops.silu, normal(2, 3)),
    "swish": (ops.swish, normal(4)),
    "gelu": (ops.gelu, normal(2, 3)),
    "gelu-exact": (lambda x: ops.gelu(x, approximate=False), normal(2, 3)),
    "elu": (ops.elu, distinct(2, 3)),
    "selu": (ops.selu, distinct(2, 3)),
    "celu": (ops.celu, distinct(2, 3)),
    "leaky_relu": (ops.leaky_relu, distinct(2, 3)),
    "log_sigmoid": (ops.log_sigmoid, normal(2, 3)),
    "hard_sigmoid": (ops.hard_sigmoid, distinct(2, 4) * 3),
    "hard_silu": (ops.hard_silu, distinct(2, 4) * 3),
    "glu": (ops.glu, normal(3, 4)),
    "sparsemax": (ops.sparsemax, distinct(3, 4) * 0.3),
    "layer_normalization": (
        lambda x, g, b: ops.layer_normalization(x, g, b),
        normal(3, 4),
        normal(4),
        normal(4),
    ),
    "layer_normalization-axes": (
        lambda x: ops.layer_normalization(x, axis=(1, 2)),
        normal(2, 3, 4),
    ),
    "rms_normalization": (lambda x, s: ops.rms_normalization(x, s), normal(3, 4), normal(4)),
    "rearrange": (lambda x: ops.rearrange(x, "b (h w) c -> (b h) c w", h=2), normal(2, 6, 3)),
    "sort": (lambda x: ops.sort(x, axis=0), distinct(3, 4)),
    "sort-flat": (lambda x: ops.sort(x, axis=None), distinct(2, 3)),
    "flip": (lambda x: ops.flip(x, axis=1), normal(2, 3)),
    "fliplr": (ops.fliplr, normal(2, 3)),
    "roll": (lambda x: ops.roll(x, 2, axis=1), normal(2, 3)),
    "roll-flat": (lambda x: ops.roll(x, -1), normal(2, 3)),
    "tril": (lambda x: ops.tril(x, k=-1), normal(2, 3, 3)),
    "triu": (ops.triu, normal(3, 4)),
    "diagonal": (lambda x: ops.diagonal(x, offset=1), normal(3, 4)),
    "trace": (ops.trace, normal(3, 3)),
    "cumsum": (lambda x: ops.cumsum(x, axis=1), normal(2, 3)),
    "cumsum-flat": (ops.cumsum, normal(2, 3)),
    "prod": (lambda x: ops.prod(x, axis=1), normal(2, 4)),
    "prod-with-a-zero": (
        lambda x: ops.prod(x, axis=0),
        np.array([[0.0, 1.5], [2.0, -0.5], [3.0, 0.7]]),
    ),
    "prod-all": (ops.prod, positive(2, 3)),
    "prod-axes-keepdims": (lambda x: ops.prod(x, axis=(0, 2), keepdims=True), positive(2, 3, 2)),
    "hstack": (lambda a, b: ops.hstack([a, b]), normal(2, 3), normal(2, 1)),
    "vstack": (lambda a, b: ops.vstack([a, b]), normal(3), normal(2, 3)),
    "dstack": (lambda a, b: ops.dstack([a, b]), normal(2, 3), normal(2, 3)),
    "append": (ops.append, normal(2, 3), normal(4)),
    "erf": (ops.erf, normal(2, 3)),
    "solve": (ops.linalg.solve, normal(3, 3) + 3 * np.eye(3), normal(3, 2)),
    "solve-vector": (ops.linalg.solve, normal(2, 3, 3) + 3 * np.eye(3), normal(2, 3)),
    "einsum-ellipsis": (
        lambda a, b: ops.einsum("...ij,jk->...ik", a, b),
        normal(2, 2, 3),
        normal(3, 4),
    ),
    "einsum-implicit": (lambda a, b: ops.einsum("ij,jk", a, b), normal(2, 3), normal(3, 4)),
    "tensordot": (
        lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])),
        normal(2, 3, 4),
        normal(3, 4, 2),
    ),
    "tensordot-int": (lambda a, b: ops.tensordot(a, b, axes=1), normal(2, 3), normal(3, 4)),
    "inner": (ops.inner, normal(2, 3), normal(4, 3)),
    "outer": (ops.outer, normal(3), normal(2, 2)),
    "vdot": (ops.vdot, normal(2, 3), normal(6)),
    "inv": (ops.linalg.inv, normal(3, 3) + 3 * np.eye(3)),
    "det": (ops.linalg.det, normal(2, 3, 3)),
    "logsumexp": (ops.logsumexp, normal(3, 4)),
    "logsumexp-axis": (lambda x: ops.logsumexp(x, axis=1, keepdims=True), normal(3, 4)),
    "rsqrt": (ops.rsqrt, positive(3)),
    "normalize": (ops.normalize, normal(3, 4)),
    "moments": (lambda x: ops.moments(x, axes=[0]), normal(4, 3)),
    "batch_normalization": (
        lambda x, m, v, o, s: ops.batch_normalization(x, m, v, axis=-1, offset=o, scale=s),
        normal(4, 3),
        normal(3),
        positive(3),
        normal(3),
        normal(3),
    ),
    "binary_crossentropy": (lambda p: ops.binary_crossentropy(TARGETS, p), unit(3, 2)),
    "binary_crossentropy-logits": (
        lambda z: ops.binary_crossentropy(TARGETS, z, from_logits=True),
        normal(3, 2),
    ),
    "categorical_crossentropy": (
        lambda p: ops.categorical_crossentropy(np.eye(3)[[0, 2, 1, 1]], p),
        unit(4, 3),
    ),
    "categorical_crossentropy-logits": (
        lambda z: ops.categorical_crossentropy(np.eye(3)[[0, 2, 1, 1]], z, from_logits=True),
        normal(4, 3),
    ),
    "sparse_categorical_crossentropy": (
        lambda z: ops.sparse_categorical_crossentropy(np.array([0, 2, 1]), z, from_logits=True),
        normal(3, 3),
    ),
    "sparse_categorical_crossentropy-probs": (
        lambda p: ops.sparse_categorical_crossentropy(np.array([[0], [2]]), p),
        unit(2, 3),
    ),
    # reductions
    "sum": (ops.sum, normal(2, 3)),
    "sum-axis": (lambda x: ops.sum(x, axis=1), normal(2, 3, 2)),
    "sum-axes-keepdims": (lambda x: ops.sum(x, axis=(0, 2), keepdims=True), normal(2, 3, 2)),
    "mean": (ops.mean, normal(2, 3)),
    "mean-axis": (lambda x: ops.mean(x, axis=-1), normal(2, 3)),
    "max": (ops.max, distinct(2, 3)),
    "max-axis": (lambda x: ops.max(x, axis=0), distinct(2, 3)),
    "min": (lambda x: ops.min(x, axis=1, keepdims=True), distinct(2, 3)),
    "amax": (ops.amax, distinct(4)),
    "std": (lambda x: ops.std(x, axis=0), normal(4, 3)),
    "var": (ops.var, normal(4, 3)),
    "norm": (ops.norm, normal(4, 3)),
    "norm-axis": (lambda x: ops.norm(x, axis=-1), normal(4, 3)),
    # shapes and selection
    "transpose": (ops.transpose, normal(2, 3)),
    "transpose-axes": (lambda x: ops.transpose(x, (1, 2, 0)), normal(2, 3, 4)),
    "reshape": (lambda x: ops.reshape(x, (3, -1)), normal(2, 3)),
    "expand_dims": (lambda x: ops.expand_dims(x, 1), normal(2, 3)),
    "squeeze": (lambda x: ops.squeeze(x, axis=1), normal(2, 1, 3)),
    "ravel": (ops.ravel, normal(2, 3)),
    "flatten": (ops.flatten, normal(2, 3)),
    "moveaxis": (lambda x: ops.moveaxis(x, 0, -1), normal(2, 3, 4)),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, 2), normal(2, 3, 4)),
    "broadcast_to": (lambda x: ops.broadcast_to(x, (4, 2, 3)), normal(2, 1)),
    "concatenate": (lambda a, b: ops.concatenate([a, b], axis=1), normal(2, 3), normal(2, 2)),
    "stack": (lambda a, b: ops.stack([a, b], axis=1), normal(2, 3), normal(2, 3)),
    "split": (lambda x: ops.split(x, 2, axis=1), normal(3, 4)),
    "split-indices": (lambda x: ops.split(x, [1, 3]), normal(5, 2)),
    "unstack": (lambda x: ops.unstack(x, axis=1), normal(3, 2)),
    "tile": (lambda x: ops.tile(x, (2, 3)), normal(2, 3)),
    "tile-rank-up": (lambda x: ops.tile(x, (2, 1, 2)), normal(3)),
    "repeat": (lambda x: ops.repeat(x, 2, axis=0), normal(2, 3)),
    "repeat-counts": (lambda x: ops.repeat(x, [1, 0, 3], axis=1), normal(2, 3)),
    "repeat-flat": (lambda x: ops.repeat(x, 2), normal(2, 2)),
    "pad": (lambda x: ops.pad(x, [(1, 0), (2, 1)]), normal(2, 3)),
    "take": (lambda x: ops.take(x, np.array([0, 2, 0]), axis=1), normal(2, 3)),
    "take-flat": (lambda x: ops.take(x, np.array([[5, 0], [5, 1]])), normal(2, 3)),
    "take-rows": (lambda x: ops.take(x, np.array([[3, 0, -1], [1, 3, 3]]), axis=0),
                  normal(4, 3)),
    "take_along_axis": (
        lambda x: ops.take_along_axis(x, np.array([[0, 2], [1, 1]]), axis=1),
        normal(2, 3),
    ),
    "get_item-slice": (lambda x: ops.get_item(x, (slice(None), slice(1, 3))), normal(2, 4)),
    "get_item-repeated": (lambda x: ops.get_item(x, np.array([0, 1, 0])), normal(2, 3)),
    "slice": (lambda x: ops.slice(x, (0, 1), (2, 2)), normal(3, 4)),
    "top_k": (lambda x: ops.top_k(x, 2)[0], distinct(3, 4)),
    "scan": (
        lambda x: ops.scan(lambda c, r: (ops.add(c, r), ops.multiply(c, r)), np.zeros(3), x)[1],
        normal(4, 3),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_slope_matches_finite_differences(name):
    fn, *inputs = CASES[name]
    check_slopes(fn, *inputs)


@pytest.mark.parametrize(
    "expression",
    [
        lambda a, b: a * b + a / b - b**2,
        lambda a, b: np.exp(a) * np.sqrt(b) - np.log(b) + np.tanh(a) ** 3,
        lambda a, b: (a @ np.ones((3, 2))).sum() + abs(a).mean() + np.maximum(a, 0.1).sum(),
        lambda a, b: np.square(-a).sum(axis=0) + np.log1p(b).sum(axis=0, keepdims=True).T,
        lambda a, b: a[0] * b[:, 1].sum() + a[[1, 1]].sum(),
        lambda a, b: a.max(axis=1) + np.min(b) + a.reshape(3, 2).T.sum(axis=1),
        lambda a, b: a.mean() + np.power(b, a) - np.minimum(a, b),
        lambda a, b: np.concatenate([a, b * 2], axis=1).sum(axis=0) * np.stack([a, b]).mean(),
        lambda a, b: np.where(a > 1, a, b) * np.std(a, axis=0) + np.var(b),
        lambda a, b: np.sin(a) * np.cos(b) + np.arctan(a) - np.expm1(b) / np.log2(a + 1),
        lambda a, b: np.linalg.norm(a) + np.einsum("ij,kj->ik", a, b).sum() + np.dot(a, b.T),
        lambda a, b: (
            np.reshape(a, (3, 2)).T + np.transpose(b[:, ::-1].T) + np.clip(a, 0.8, 1.5)[0, 0]
        ),
        lambda a, b: np.tile(a, (1, 2)).sum() + np.pad(b, 1).sum() + np.take(a, [0, 2], axis=1)[0],
    ],
    ids=[
        "arith",
        "unary",
        "matmul-reduce",
        "square-log1p",
        "index",
        "max-reshape",
        "mean-power",
        "np-concatenate-stack",
        "np-where-std-var",
        "np-trigonometry",
        "np-norm-einsum-dot",
        "np-reshape-transpose-clip",
        "np-tile-pad-take",
    ],
)
def test_numpy_arithmetic_on_tensors_records_its_slopes(expression):
    """NumPy operators and ufuncs applied to ``Tensor``s record nodes as the ops do."""
    a = rng.uniform(0.5, 2.0, size=(2, 3))
    b = rng.uniform(0.5, 2.0, size=(2, 3))
    check_slopes(lambda a, b: expression(ops.convert_to_tensor(a), ops.convert_to_tensor(b)), a, b)


def test_ops_compose_and_a_value_used_twice_adds_its_slopes():
    x = normal(4, 3)
    w = normal(3, 2)

    def model(x, w):
        h = ops.relu(ops.matmul(x, w))
        return ops.mean(ops.square(h)) + ops.sum(ops.multiply(w, w))

    check_slopes(model, x, w)


def test_slopes_of_a_tied_max_are_shared_equally():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    with recording() as tape:
        y = ops.max(x)
    np.testing.assert_array_equal(tape.backward(y, np.ones(()))[id(x)], [0, 0.5, 0.5, 0])


def test_stop_gradient_blocks_the_slope():
    x = normal(3)
    with recording() as tape:
        y = ops.sum(ops.multiply(ops.stop_gradient(x), x))
    slope = tape.backward(y, np.ones(()))[id(x)]
    np.testing.assert_allclose(slope, x)  # d/dx (c * x) with c = x held constant


def test_integer_inputs_get_no_slope():
    x = normal(2, 3)
    idx = np.array([2, 0])
    with recording() as tape:
        y = ops.sum(ops.take(x, idx, axis=1)) + ops.sum(ops.one_hot(idx, 3))
    slopes = tape.backward(y, np.ones(()))
    assert id(idx) not in slopes
    np.testing.assert_array_equal(slopes[id(x)], [[1, 0, 1], [1, 0, 1]])


def test_constant_inputs_get_no_slope():
    x = normal(3)
    with recording() as tape:
        y = ops.sum(ops.add(ops.multiply(x, 2.0), [1.0, 2.0, 3.0]))
    slopes = tape.backward(y, np.ones(()))
    assert list(slopes) == [id(x)]


class StandInVariable:
    """The variables contract: ``_glassnet_variable`` and a ``.value`` that stays one object."""

    _glassnet_variable = True

    def __init__(self, value):
        self._value = np.asarray(value, dtype=np.float64)

    @property
    def value(self):
        return self._value


def test_a_variable_is_recorded_as_its_value():
    v = StandInVariable(normal(3, 2))
    x = normal(4, 3)
    with recording() as tape:
        squares = ops.sum(ops.square(ops.matmul(x, v)))
        loss = squares + (ops.convert_to_tensor(x) @ v).sum()  # a Tensor's arithmetic too
    slopes = tape.backward(loss, np.ones(()))
    expected = 2 * x.T @ (x @ v.value) + x.T @ np.ones((4, 2))
    np.testing.assert_allclose(slopes[id(v.value)], expected)


def test_nothing_is_recorded_without_a_tape():
    x = ops.convert_to_tensor(normal(3))
    tape = Tape()
    y = ops.exp(x) * 2 + x[0]
    assert len(tape) == 0 and isinstance(y, ops.Tensor)


def test_in_place_arithmetic_is_not_recorded():
    with recording() as tape:
        t = ops.ones((2,))
        t += 1
    assert len(tape) == 0
    np.testing.assert_array_equal(t, [2, 2])


def test_sparsemax_is_the_simplex_projection():
    """Hand-computed: sorted (0.9, 0.85, 0.3, -0.2) keeps k = 2 (1 + 2 * 0.85 > 1.75, but
    1 + 3 * 0.3 < 2.05), so tau = (1.75 - 1) / 2 = 0.375."""
    out = ops.sparsemax(np.array([[0.3, -0.2, 0.9, 0.85]]))
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.525, 0.475]])
    assert float(out.sum()) == pytest.approx(1.0)


def test_a_numpy_function_without_a_slope_fails_loudly_on_backward():
    x = normal(2, 3)
    with recording() as tape:
        y = np.cumsum(ops.convert_to_tensor(x)).sum()
    with pytest.raises(NotImplementedError, match="np.cumsum"):
        tape.backward(y, np.ones(()))


def test_a_numpy_function_without_a_slope_is_fine_when_no_slope_flows_through_it():
    x = normal(2, 3)
    with recording() as tape:
        t = ops.convert_to_tensor(x)
        np.cumsum(t)  # computed, not used by the loss
        y = (t * t).sum()
    np.testing.assert_allclose(tape.backward(y, np.ones(()))[id(x)], 2 * x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slopes_come_back_in_the_dtype_of_their_value(dtype):
    x = normal(2, 3).astype(dtype)
    with recording() as tape:
        y = ops.sum(ops.multiply(ops.exp(x), 0.5))
    slope = tape.backward(y, np.ones((), dtype=np.float64))[id(x)]
    assert slope.dtype == dtype


@pytest.mark.parametrize(
    "call",
    [
        lambda x: ops.cumprod(x),
        lambda x: ops.median(x, axis=0),
        lambda x: ops.linalg.pinv(x),
        lambda x: ops.einsum("...i,...i->...", x, x[:1]),
        lambda x: ops.norm(x, ord=1),
        lambda x: ops.erfc(x),
        lambda x: ops.pad(x, 1, mode="reflect"),
        lambda x: ops.einsum("ii->i", x),
    ],
    ids=[
        "cumprod",
        "median",
        "pinv",
        "norm-ord1",
        "erfc",
        "pad-reflect",
        "einsum-diagonal",
        "einsum-broadcast-ellipsis",
    ],
)
def test_a_forward_only_op_fails_loudly_when_a_slope_must_flow_through_it(call):
    x = normal(3, 3) + 3 * np.eye(3)
    with recording() as tape:
        y = ops.sum(call(x))
    with pytest.raises(NotImplementedError, match="computes no slope"):
        tape.backward(y, np.ones(()))


def test_zero_slope_ops_and_copy_need_no_node_that_fails():
    x = normal(2, 3)
    with recording() as tape:
        y = ops.sum(ops.multiply(ops.floor(x), x)) + ops.sum(ops.copy(x))
    np.testing.assert_allclose(tape.backward(y, np.ones(()))[id(x)], np.floor(x) + 1)


@pytest.mark.parametrize("op", [ops.add, ops.subtract, ops.multiply, ops.divide, ops.maximum])
@pytest.mark.parametrize(
    ("shape1", "shape2"),
    [((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((1,), (2, 2)), ((), (3, 2)), ((3, 1, 1), (1, 2, 1))],
)
def test_broadcast_slopes_are_summed_back_to_each_shape(op, shape1, shape2):
    local = np.random.default_rng(len(shape1) * 10 + len(shape2))
    a = local.uniform(0.5, 1.5, size=shape1)
    b = local.uniform(2.0, 3.0, size=shape2)  # apart from a: no ties for maximum
    check_slopes(op, a, b)


class ArithmeticVariable(StandInVariable):
    """A variable whose NumPy arithmetic goes through ``apply_ufunc``, as the real one may."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return apply_ufunc(ufunc, method, inputs, kwargs)

    def __mul__(self, other):
        return np.multiply(self, other)

    def __rmul__(self, other):
        return np.multiply(other, self)


def test_a_variable_with_apply_ufunc_records_its_arithmetic():
    v = ArithmeticVariable(normal(3))
    x = normal(3)
    with recording() as tape:
        y = ops.sum(v * x + np.exp(v) + 2.0 * v)
    slopes = tape.backward(y, np.ones(()))
    np.testing.assert_allclose(slopes[id(v.value)], x + np.exp(v.value) + 2.0)
    assert id(x) in slopes
