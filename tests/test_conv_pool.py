"""A ``Conv2D`` and the ``MaxPooling2D`` after it run as one unit of a chunked run
(``glassnet.engine.conv_pool``), computing what the two layers compute apart.

The reference is ``Plan(..., chains=False)``: every layer's own ``forward`` and
``backward`` on the whole batch. The pair lays the patch rows out window position by
window position and applies the ReLU after the pooling; outputs, input slopes and every
record the glass box reads are the same numbers (to the last bits: BLAS may sum a product's
rows with other kernels in another layout), and the weight slopes are the same sum over
rows in another order (equal to float64 rounding).

Every test runs three ways (``ways``): with NumPy alone, with the compiled loops of
``glassnet._compiled`` (short patches convolved in the loop), and with the loops but every
convolution through its matrix product (the loops then pool, route and add back).
"""

from __future__ import annotations

import numpy as np
import pytest
from plan_reference import check_against_layer_by_layer

import glassnet as keras
from glassnet import _compiled, layers
from glassnet.engine import row_chunks
from glassnet.engine.conv_pool import ConvPool
from glassnet.engine.row_chunks import RowChunkRun
from glassnet.explain import last_pass

RECORD_FIELDS = ("x", "z", "a", "grad_a", "grad_z", "patches")


@pytest.fixture(autouse=True, params=["numpy", "loops", "loops, products"])
def ways(request, monkeypatch):
    """Which path the pair takes: NumPy alone, or the compiled loops (with short patches
    convolved directly, or every convolution through its product)."""
    if request.param == "numpy":
        monkeypatch.setattr(_compiled, "_enabled", False)
        return request.param
    pytest.importorskip("numba", reason="the compiled loops need numba (glassnet[fast])")
    monkeypatch.setattr(_compiled, "_enabled", True)
    if request.param == "loops, products":
        monkeypatch.setattr(_compiled, "DIRECT_WIDTH", 0)
    return request.param


@pytest.fixture(params=[2_000, 10**8], ids=["chunks", "one-chunk"])
def chunk_bytes(request, monkeypatch, float64):
    monkeypatch.setattr(row_chunks, "CHUNK_BYTES", request.param)


def _model(stack, input_shape):
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input(shape=input_shape), *stack])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def _pairs(model) -> list:
    return [unit for step in model.plan.steps if isinstance(step, RowChunkRun)
            for unit in step.units if isinstance(unit, ConvPool)]


def _check_against_layers(model, x, y) -> None:
    check_against_layer_by_layer(model, x, y, RECORD_FIELDS)


CASES = {
    "relu, even output": ([layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2)],
                          (10, 10, 2)),
    "odd output: uncovered last row and column": (
        [layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2)], (11, 10, 2)),
    "no activation, no bias, same padding, strides": (
        [layers.Conv2D(3, 3, strides=2, padding="same", use_bias=False),
         layers.MaxPooling2D(2)], (11, 11, 3)),
    "dilation, 3x2 windows": (
        [layers.Conv2D(2, 3, dilation_rate=2, activation="relu"),
         layers.MaxPooling2D((3, 2))], (13, 12, 1)),
    "rectangular kernel, pool 3": (
        [layers.Conv2D(5, (2, 3), activation="relu"), layers.MaxPooling2D(3)], (10, 11, 2)),
    "windows of more positions than a byte counts (17x17)": (
        [layers.Conv2D(2, 2, activation="relu"), layers.MaxPooling2D(17)], (18, 36, 1)),
    "sequences: Conv1D, MaxPooling1D": (
        [layers.Conv1D(4, 5, activation="relu"), layers.MaxPooling1D(2)], (17, 3)),
    "sequences: odd output, same padding, strides, no bias": (
        [layers.Conv1D(3, 3, strides=2, padding="same", use_bias=False),
         layers.MaxPooling1D(3)], (20, 2)),
    "sequences: dilation, causal padding": (
        [layers.Conv1D(2, 3, dilation_rate=2, padding="causal", activation="relu"),
         layers.MaxPooling1D(2)], (15, 2)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_pair_computes_what_the_two_layers_compute(chunk_bytes, case):
    """A Dense layer in front makes backward pass the slope through the pair's input."""
    pair, shape = CASES[case]
    width = int(np.prod(shape))
    model = _model([layers.Dense(width, activation="tanh"), layers.Reshape(shape), *pair,
                    layers.Flatten(), layers.Dense(3, activation="softmax")], (6,))
    assert len(_pairs(model)) == 1
    rng = np.random.default_rng(len(case))
    x, y = rng.standard_normal((9, 6)), rng.integers(0, 3, 9)
    _check_against_layers(model, x, y)


def test_ties_go_to_the_first_position_of_a_window(chunk_bytes):
    """Flat images give every position of a window the same value (and a ReLU cuts
    negative maxima to zero): the slope goes to the first position in reading order."""
    model = _model([layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2),
                    layers.Conv2D(2, 2, activation="relu"), layers.MaxPooling2D(2),
                    layers.Flatten(), layers.Dense(3, activation="softmax")], (12, 12, 1))
    assert len(_pairs(model)) == 2
    x = np.zeros((6, 12, 12, 1))
    x[:3, 2:9, 3:10] = 1.0
    x[3:] = -1.0
    _check_against_layers(model, x, np.arange(6) % 3)


def test_a_frozen_convolution_writes_no_slope_and_passes_one_back(chunk_bytes):
    model = _model([layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2),
                    layers.Conv2D(2, 3, activation="relu", trainable=False),
                    layers.MaxPooling2D(2), layers.Flatten(),
                    layers.Dense(3, activation="softmax")], (12, 12, 2))
    assert len(_pairs(model)) == 2
    rng = np.random.default_rng(1)
    _check_against_layers(model, rng.standard_normal((7, 12, 12, 2)), rng.integers(0, 3, 7))


@pytest.mark.parametrize(
    "stack",
    [
        [layers.Conv2D(3, 3, activation="tanh"), layers.MaxPooling2D(2)],
        [layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2, strides=1)],
        [layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2, padding="same")],
        [layers.Conv2D(4, 3, activation="relu", groups=2), layers.MaxPooling2D(2)],
        [layers.Conv2D(3, 3, activation="relu"), layers.AveragePooling2D(2)],
    ],
    ids=["tanh", "overlapping windows", "padded windows", "groups", "average pooling"],
)
def test_pairs_it_cannot_fuse_run_as_two_layers(chunk_bytes, stack):
    model = _model([*stack, layers.Flatten(), layers.Dense(3, activation="softmax")],
                   (11, 11, 2))
    assert _pairs(model) == []
    rng = np.random.default_rng(2)
    _check_against_layers(model, rng.standard_normal((5, 11, 11, 2)), rng.integers(0, 3, 5))


def test_a_nan_in_a_window_gives_what_the_layers_give(chunk_bytes):
    model = _model([layers.Conv2D(2, 1, activation="relu"), layers.MaxPooling2D(2),
                    layers.Flatten(), layers.Dense(3, activation="softmax")], (4, 4, 1))
    x = np.ones((2, 4, 4, 1))
    x[0, 1, 1, 0] = np.nan
    pair = _pairs(model)[0]
    out, record = pair.forward(x)
    want = model.layers[1].forward(model.layers[0].forward(x)[0])[0]
    np.testing.assert_array_equal(out, want)
    grad = np.ones_like(out)
    conv, pool = model.layers[:2]
    a_record = conv.forward(x)[1]
    pool_record = pool.forward(a_record.a)[1]
    want_grad = conv.backward(a_record, pool.backward(pool_record, grad), True)
    np.testing.assert_array_equal(pair.backward(record, grad, True), want_grad)


def test_the_glass_box_reads_the_pass_s_values_after_the_weights_changed(float64):
    """Positions no window covers are left out of the pass; the glass box computes their
    values when asked, with the weights of the pass, not those of a later update."""
    model = _model([layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2),
                    layers.Flatten(), layers.Dense(3, activation="softmax")], (10, 9, 2))
    assert len(_pairs(model)) == 1
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((4, 10, 9, 2)), rng.integers(0, 3, 4)
    weights = model.get_weights()
    model.compute_gradients(x, y)
    model.set_weights([w + 1.0 for w in weights])  # as an optimizer step would
    conv = last_pass(model).layers[0]
    want = np.tensordot(
        np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2)),
        weights[0], axes=([3, 4, 5], [2, 0, 1])) + weights[1]
    assert conv.record.z.shape == (4, 8, 7, 3)  # the last column: no window covers it
    np.testing.assert_allclose(conv.record.z, want, rtol=1e-12)


@pytest.mark.parametrize("shape", [(10, 10, 2), (11, 9, 2)], ids=["even", "uncovered"])
def test_an_inference_pass_gives_the_same_output_records_and_slopes(float64, shape):
    """Without training the pair keeps no sums (it pools one window position at a time);
    the glass box and a backward pass after it compute them from the patch rows."""
    model = _model([layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2),
                    layers.Flatten(), layers.Dense(3, activation="softmax")], shape)
    rng = np.random.default_rng(3)
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])  # a bias
    pair = _pairs(model)[0]
    x = rng.standard_normal((5, *shape))
    out_train, record_train = pair.forward(x, training=True)
    out, record = pair.forward(x, training=False)
    assert record.z is None
    np.testing.assert_allclose(out, out_train, rtol=1e-14)
    grad = np.random.default_rng(4).standard_normal(out.shape)
    np.testing.assert_allclose(pair.backward(record, grad), pair.backward(record_train, grad),
                               rtol=1e-12)
    for (layer, *got), (_, *want) in zip(pair.layer_passes(x, out, record),
                                         pair.layer_passes(x, out_train, record_train),
                                         strict=True):
        for got_array, want_array in zip(got[:2], want[:2], strict=True):
            np.testing.assert_allclose(got_array, want_array, rtol=1e-12)
        if layer is pair.conv:
            for field in RECORD_FIELDS:
                np.testing.assert_allclose(getattr(got[2], field), getattr(want[2], field),
                                           rtol=1e-12, err_msg=field)
