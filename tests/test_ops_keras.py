"""``glassnet.ops`` against ``keras.ops`` (Keras 3 on TensorFlow) on the same arguments: the
same values (float32 rounding apart: TensorFlow's kernels order sums and evaluate ``exp``,
``tanh`` ... their own way) and the same dtype, for every op outside convolution,
recurrence, attention and image/audio. Runs only where Keras is installed."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import ops

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.keras

rng = np.random.default_rng(3)
X = rng.normal(size=(3, 4)).astype(np.float32)
Y = rng.normal(size=(3, 4)).astype(np.float32)
V = rng.normal(size=(4,)).astype(np.float32)
P = rng.uniform(0.1, 0.9, size=(3, 4)).astype(np.float32)
U = rng.uniform(-0.9, 0.9, size=(3, 4)).astype(np.float32)
POS = rng.uniform(0.5, 2.0, size=(3, 4)).astype(np.float32)
SQ = (rng.normal(size=(3, 3)) + 3 * np.eye(3)).astype(np.float32)
SPD = (SQ @ SQ.T).astype(np.float32)
I32 = rng.integers(0, 5, size=(3, 4)).astype(np.int32)
J32 = rng.integers(1, 5, size=(3, 4)).astype(np.int32)
LABELS = np.array([0, 2, 1], dtype=np.int32)
ONEHOT = np.eye(4, dtype=np.float32)[[0, 2, 1]]
B = rng.normal(size=(2, 3, 4)).astype(np.float32)
WITH_NAN = np.array([[1.0, np.nan, 3.0], [np.inf, -2.0, np.nan]], dtype=np.float32)

# name -> (positional args, keyword args); a name may take several cases ("name#case").
CASES = {
    # elementwise, one argument
    **{
        name: ((X,), {})
        for name in [
            "abs",
            "absolute",
            "negative",
            "square",
            "exp",
            "exp2",
            "expm1",
            "tanh",
            "sin",
            "cos",
            "arctan",
            "sinh",
            "cosh",
            "arcsinh",
            "sign",
            "ceil",
            "floor",
            "round",
            "trunc",
            "isnan",
            "isinf",
            "isfinite",
            "signbit",
            "cbrt",
            "deg2rad",
            "rad2deg",
            "sinc",
            "relu",
            "relu6",
            "sigmoid",
            "softplus",
            "softsign",
            "silu",
            "swish",
            "gelu",
            "elu",
            "selu",
            "celu",
            "leaky_relu",
            "log_sigmoid",
            "hard_sigmoid",
            "hard_silu",
            "hard_swish",
            "hard_tanh",
            "tanh_shrink",
            "squareplus",
            "soft_shrink",
            "hard_shrink",
            "sparse_plus",
            "sparse_sigmoid",
            "softmax",
            "log_softmax",
            "glu",
            "sparsemax",
            "erf",
            "erfc",
            "real",
            "conj",
            "conjugate",
            "fabs",
            "logical_not",
            "copy",
            "ravel",
            "transpose",
            "sort",
            "argsort",
            "flip",
            "fliplr",
            "flipud",
            "rot90",
            "triu",
            "tril",
            "diagonal",
            "diff",
            "cumsum",
            "cumprod",
            "count_nonzero",
            "ptp",
            "trace",
            "std",
            "var",
            "mean",
            "sum",
            "max",
            "min",
            "amax",
            "amin",
            "prod",
            "argmax",
            "argmin",
            "median",
            "all",
            "any",
            "logsumexp",
            "norm",
            "normalize",
            "layer_normalization",
            "rms_normalization",
            "zeros_like",
            "ones_like",
            "isreal",
            "nan_to_num",
            "nonzero",
            "shape",
            "stop_gradient",
            "convert_to_tensor",
            "convert_to_numpy",
            "isneginf",
            "isposinf",
            "corrcoef",
            "i0",
            "imag",
            "angle",
            "nanmean",
            "nansum",
            "nanmax",
            "nanmin",
            "nanstd",
            "nanvar",
            "nanmedian",
            "nanprod",
            "nanargmax",
            "nanargmin",
            "nancumsum",
            "nancumprod",
        ]
    },
    **{
        name: ((POS,), {})
        for name in ["sqrt", "log", "log1p", "log2", "log10", "reciprocal", "rsqrt"]
    },
    **{name: ((U,), {}) for name in ["arcsin", "arccos", "arctanh", "erfinv"]},
    **{name: ((POS + 1,), {}) for name in ["arccosh"]},
    "tan": ((U,), {}),
    **{
        f"{name}#int": ((I32,), {})
        for name in [
            "sum",
            "mean",
            "max",
            "min",
            "prod",
            "cumsum",
            "abs",
            "square",
            "sqrt",
            "exp",
            "log1p",
            "tanh",
            "relu",
            "negative",
            "std",
            "var",
            "argmax",
            "sort",
            "transpose",
        ]
    },
    "clip#int": ((I32, 1, 3), {}),
    "where#int": ((I32 > 2, I32, 0), {}),
    "maximum#int-scalar": ((I32, 2), {}),
    "add#bool-int": ((X > 0, 1), {}),
    "one_hot#dtype": ((LABELS, 4), {"dtype": "int32"}),
    "nanmean#nan": ((WITH_NAN,), {}),
    "nansum#nan": ((WITH_NAN, 1), {}),
    "nan_to_num#nan": ((WITH_NAN,), {"nan": 5.0, "posinf": 9.0}),
    "isnan#nan": ((WITH_NAN,), {}),
    "bitwise_invert": ((I32,), {}),
    "bitwise_not": ((I32,), {}),
    # elementwise, two arguments (with broadcasting and Python scalars)
    **{
        name: ((X, V), {})
        for name in [
            "add",
            "subtract",
            "multiply",
            "divide",
            "true_divide",
            "maximum",
            "minimum",
            "arctan2",
            "hypot",
            "logaddexp",
            "logaddexp2",
            "fmax",
            "fmin",
            "equal",
            "not_equal",
            "greater",
            "greater_equal",
            "less",
            "less_equal",
            "heaviside",
            "nextafter",
            "divide_no_nan",
            "isclose",
            "allclose",
            "append",
        ]
    },
    "add#scalar": ((X, 2), {}),
    "multiply#int-float": ((I32, X), {}),
    "divide#ints": ((I32, J32), {}),
    "power": ((POS, X), {}),
    "power#int": ((I32, 2), {}),
    "mod": ((I32, J32), {}),
    "fmod": ((I32, J32), {}),
    "floor_divide": ((I32, J32), {}),
    "gcd": ((I32, J32), {}),
    "lcm": ((I32, J32), {}),
    "logical_and": ((X > 0, Y > 0), {}),
    "logical_or": ((X > 0, Y > 0), {}),
    "logical_xor": ((X > 0, Y > 0), {}),
    "bitwise_and": ((I32, J32), {}),
    "bitwise_or": ((I32, J32), {}),
    "bitwise_xor": ((I32, J32), {}),
    "left_shift": ((I32, 2), {}),
    "bitwise_left_shift": ((I32, 2), {}),
    "right_shift": ((I32, 1), {}),
    "bitwise_right_shift": ((I32, 1), {}),
    "ldexp": ((X, I32), {}),
    "where": ((X > 0, X, Y), {}),
    "clip": ((X, -0.5, 0.5), {}),
    # products
    "matmul": ((X, X.T), {}),
    "dot": ((B, X.T), {}),
    "einsum": (("ij,kj->ik", X, Y), {}),
    "tensordot": ((X, Y.T), {"axes": 1}),
    "inner": ((X, Y), {}),
    "outer": ((V, V), {}),
    "vdot": ((V, V), {}),
    "kron": ((SQ, SQ), {}),
    "cross": ((X[:, :3], Y[:, :3]), {}),
    "correlate": ((V, V[:2]), {"mode": "full"}),
    "cdist": ((X, Y), {}),
    # reductions and statistics with axes
    "sum#axis": ((X,), {"axis": 1, "keepdims": True}),
    "mean#axes": ((B,), {"axis": (0, 2)}),
    "max#axis": ((X,), {"axis": 0}),
    "std#axis": ((X,), {"axis": -1}),
    "var#keepdims": ((X,), {"axis": 0, "keepdims": True}),
    "argmax#axis": ((X,), {"axis": 1}),
    "logsumexp#axis": ((X,), {"axis": 0}),
    "norm#ord": ((X,), {"ord": 1, "axis": 1}),
    "norm#fro": ((X,), {"ord": "fro"}),
    "quantile": ((X, 0.3), {"axis": 1}),
    "percentile": ((X, 30.0), {}),
    "nanquantile": ((X, 0.3), {}),
    "nanpercentile": ((X, 30.0), {}),
    "average": ((X,), {"axis": 1, "weights": V}),
    "moments": ((B, [0, 1]), {}),
    "cumsum#axis": ((X,), {"axis": 1}),
    "count_nonzero#axis": ((I32,), {"axis": 0}),
    "top_k": ((X, 2), {}),
    "in_top_k": ((LABELS, X, 2), {}),
    # shapes
    "reshape": ((X, (2, -1)), {}),
    "transpose#axes": ((B, (2, 0, 1)), {}),
    "expand_dims": ((X, 1), {}),
    "squeeze": ((X[:, :1], 1), {}),
    "moveaxis": ((B, 0, -1), {}),
    "swapaxes": ((B, 0, 2), {}),
    "broadcast_to": ((V, (3, 4)), {}),
    "concatenate": (([X, Y],), {"axis": 1}),
    "stack": (([X, Y],), {"axis": 1}),
    "hstack": (([X, Y],), {}),
    "vstack": (([X, Y],), {}),
    "dstack": (([X, Y],), {}),
    "split": ((X, 2), {"axis": 1}),
    "array_split": ((X, 3), {"axis": 1}),
    "hsplit": ((X, 2), {}),
    "vsplit": ((X, 3), {}),
    "dsplit": ((B, 2), {}),
    "unstack": ((X,), {"axis": 1}),
    "tile": ((X, (2, 1)), {}),
    "repeat": ((X, 2), {"axis": 0}),
    "pad": ((X, ((1, 0), (0, 2))), {}),
    "pad#reflect": ((X, ((1, 1), (1, 1))), {"mode": "reflect"}),
    "roll": ((X, 1), {"axis": 1}),
    "take": ((X, LABELS), {"axis": 1}),
    "take_along_axis": ((X, I32 % 4), {"axis": 1}),
    "get_item": ((X, 1), {}),
    "slice": ((X, (1, 1), (2, 2)), {}),
    "slice_update": ((X, (1, 1), np.ones((2, 2), np.float32)), {}),
    "scatter": ((np.array([[0, 1], [2, 3]]), np.array([5.0, 6.0], np.float32), (3, 4)), {}),
    "scatter_update": ((X, np.array([[0, 1], [2, 3]]), np.array([5.0, 6.0], np.float32)), {}),
    "diag": ((V,), {}),
    "diagflat": ((V,), {}),
    "rearrange": ((B, "b h w -> b (w h)"), {}),
    # creation
    "zeros": (((2, 3),), {}),
    "ones": (((2, 3),), {}),
    "full": (((2, 3), 7), {}),
    "full_like": ((X, 7), {}),
    "eye": ((3,), {"k": 1}),
    "identity": ((3,), {}),
    "tri": ((3,), {}),
    "arange": ((5,), {}),
    "arange#float": ((0.0, 2.0, 0.5), {}),
    "linspace": ((0.0, 1.0, 5), {}),
    "logspace": ((0.0, 2.0, 3), {}),
    "geomspace": ((1.0, 8.0, 4), {}),
    "array": (([[1.0, 2.0]],), {}),
    "bartlett": ((5,), {}),
    "blackman": ((5,), {}),
    "hamming": ((5,), {}),
    "hanning": ((5,), {}),
    "kaiser": ((5, 0.5), {}),
    "meshgrid": ((V, V[:2]), {}),
    "tri#k": ((3, 4), {"k": -1}),
    "vander": ((V,), {}),
    # integers and sets
    "one_hot": ((LABELS, 4), {}),
    "multi_hot": ((np.array([[0, 2], [1, 1]], np.int32), 4), {}),
    "bincount": ((np.array([0, 1, 1, 3], np.int32),), {}),
    "digitize": ((V, np.array([-1.0, 0.0, 1.0], np.float32)), {}),
    "searchsorted": ((np.sort(V), X[0]), {}),
    "unique": ((np.array([3, 1, 3, 2], np.int32),), {}),
    "isin": ((I32, np.array([1, 2], np.int32)), {}),
    "histogram": ((V,), {"bins": 3}),
    "unravel_index": ((np.array([1, 5], np.int32), (2, 3)), {}),
    "select": (([X > 0.5, X < -0.5], [X, Y]), {}),
    "cast": ((X, "int32"), {}),
    "saturate_cast": ((X * 1000, "int8"), {}),
    "segment_sum": ((X, np.array([0, 0, 1], np.int32)), {}),
    "segment_max": ((X, np.array([0, 0, 1], np.int32)), {}),
    "trapezoid": ((X,), {}),
    # losses and normalization
    "binary_crossentropy": (((P > 0.5).astype(np.float32), P), {}),
    "binary_crossentropy#logits": (((P > 0.5).astype(np.float32), X), {"from_logits": True}),
    "categorical_crossentropy": ((ONEHOT[:, :4], P), {}),
    "categorical_crossentropy#logits": ((ONEHOT, X), {"from_logits": True}),
    "sparse_categorical_crossentropy": ((LABELS, P), {}),
    "sparse_categorical_crossentropy#logits": ((LABELS, X), {"from_logits": True}),
    "batch_normalization": ((X, V, np.abs(V), 1), {"offset": V, "scale": V}),
    "layer_normalization#gamma": ((X, V, V), {}),
    # linear algebra
    "det": ((SQ,), {}),
    "inv": ((SQ,), {}),
    "solve": ((SQ, X[:, :3]), {}),
    "cholesky": ((SPD,), {}),
    "qr": ((X,), {}),
    "pinv": ((X,), {}),
    "matrix_rank": ((X,), {}),
    "slogdet": ((SQ,), {}),
    "logdet": ((SPD,), {}),
    "solve_triangular": ((np.triu(SQ), X[:, :3]), {}),
    "lstsq": ((X, Y), {}),
    "cholesky_inverse": ((np.linalg.cholesky(SPD).astype(np.float32),), {}),
    "svd#values": ((X,), {"compute_uv": False}),
    "view_as_real": ((np.array([1 + 2j, 3 - 1j], np.complex64),), {}),
    "view_as_complex": ((np.array([[1.0, 2.0], [3.0, -1.0]], np.float32),), {}),
    "extract_sequences": ((np.arange(10, dtype=np.float32), 4, 2), {}),
    "rfft": ((np.arange(8, dtype=np.float32),), {}),
    "fft": (((X, Y),), {}),
    "polar": ((POS, X), {}),
    # Keras's own case (keras/src/ops/nn_test.py): a support of one entry, where Keras's
    # formula and the simplex projection agree (see test_sparsemax_is_the_simplex_projection)
    "sparsemax": ((np.array([-0.5, 0, 1, 2, 3], np.float32),), {}),
}


def _parts(value):
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in _parts(item)]
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return [np.asarray(value)]


def _tolerance(dtype):
    return (1e-5, 1e-5) if dtype in (np.float32, np.complex64) else (1e-12, 1e-12)


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_matches_keras(case):
    name = case.split("#")[0]
    args, kwargs = CASES[case]
    expected = _parts(getattr(keras.ops, name)(*args, **kwargs))
    actual = getattr(ops, name)(*args, **kwargs)
    got = _parts(actual)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape, (g.shape, e.shape)
        assert g.dtype == e.dtype, (g.dtype, e.dtype)
        rtol, atol = _tolerance(e.dtype)
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol * 10)
        else:
            np.testing.assert_array_equal(g, e)


def test_argpartition_puts_the_kth_value_in_place():
    """As NumPy and Keras's NumPy backend do (Keras 3.15 on TensorFlow does not always put
    the kth value in place, so it is no oracle here)."""
    got = ops.argpartition(V, 2).numpy()
    assert got.dtype == np.int32
    order = np.argsort(V)
    assert got[2] == order[2] and set(got[:2]) == set(order[:2])


def test_eigh_matches_keras_up_to_the_sign_of_each_eigenvector():
    w, v = (keras.ops.convert_to_numpy(t) for t in keras.ops.eigh(SPD))
    gw, gv = ops.eigh(SPD)
    np.testing.assert_allclose(gw, w, rtol=1e-5)
    np.testing.assert_allclose(np.abs(gv), np.abs(v), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["size", "ndim"])
def test_counts_match_keras(name):
    assert int(getattr(ops, name)(B)) == int(getattr(keras.ops, name)(B))


EXCLUDED = {
    # convolution and pooling
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "separable_conv",
    "average_pool",
    "max_pool",
    "adaptive_average_pool",
    "adaptive_max_pool",
    "fold",
    "unfold",
    # attention
    "dot_product_attention",
    # audio, image and sequence decoding
    "stft",
    "istft",
    "ctc_loss",
    "ctc_decode",
    "depth_to_space",
    "space_to_depth",
    "psnr",
    "image",
    # forward-mode differentiation, which glassnet's reverse-mode tape does not do
    "jvp",
}


def test_every_keras_op_outside_the_excluded_families_exists():
    names = {n for n in dir(keras.ops) if not n.startswith("_") and n not in EXCLUDED}
    modules = {m for m in ("nn", "linalg", "numpy") if hasattr(keras.ops, m)}
    missing = sorted(n for n in names - modules - {"image"} if not hasattr(ops, n))
    assert missing == []
    for module in modules:
        keras_names = {n for n in dir(getattr(keras.ops, module)) if not n.startswith("_")}
        absent = sorted(n for n in keras_names - EXCLUDED if not hasattr(getattr(ops, module), n))
        assert absent == [], module
