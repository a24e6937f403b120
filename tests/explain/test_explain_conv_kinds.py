"""The glass box on DepthwiseConv2D, SeparableConv2D and Conv2DTranspose: every kernel weight's
slope broken down place by place (weight sharing), as for Conv2D.

Each breakdown must sum to the slope training applies (plain SGD at rate 1: old - new
weights), row by row and place by place, agree with the definition computed one position at
a time in plain loops, and read the joined records of a pass run on chunks of rows."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import glassnet as keras
from glassnet import layers
from glassnet.engine import row_chunks
from glassnet.engine.row_chunks import RowChunkRun
from glassnet.explain import ConvLayerSlopes, slopes
from glassnet.optimizers import SGD


def convnet(input_shape, conv, rng):
    """``conv`` on ``input_shape``, then a Dense output; random weights, SGD at rate 1."""
    model = keras.Sequential([keras.Input(shape=input_shape), conv, layers.Flatten(),
                              layers.Dense(2, activation="tanh", name="out")])
    model.compile(optimizer=SGD(learning_rate=1.0), loss="mse")
    model.build()
    model.set_weights([rng.normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    return model


def trained_slopes(model, x, y) -> dict[str, np.ndarray]:
    """The slopes one training step applied, by weight path: with plain SGD at rate 1,
    old - new weights (the weights are put back afterwards)."""
    before = [w.copy() for w in model.trainable_weights]
    model.train_on_batch(x, y)
    after = [w.copy() for w in model.trainable_weights]
    for target, value in zip(model.trainable_weights, before, strict=True):
        target[...] = value
    names = [f"{layer.name}/{spec.name}" for layer in model.layers for spec in layer.specs
             if spec.trainable and layer.trainable]
    return {name: b - a for name, b, a in zip(names, before, after, strict=True)}


def channels_last(ls: ConvLayerSlopes):
    """The layer's input and slope at z as channels-last images."""
    x, grad_z = ls.x, ls.grad_z
    if ls.data_format == "channels_first":
        x, grad_z = np.moveaxis(x, 1, -1), np.moveaxis(grad_z, 1, -1)
    return x, grad_z


# --- the definitions, one position at a time ----------------------------------------------


def depthwise_by_definition(x, slope_at_node, kernel_shape, window) -> np.ndarray:
    """``kernel[i, j, c, m]``'s slope: the sum over rows and output positions of the input
    of channel c the weight touched (0 in the padding) × the slope at output channel
    c·M + m there."""
    xp = np.pad(x, ((0, 0), *window.pads, (0, 0)))
    (sh, sw), (dh, dw) = window.strides, window.dilation
    rows, oh, ow, _ = slope_at_node.shape
    multiplier = kernel_shape[-1]
    slope = np.zeros(kernel_shape)
    for i, j, c, m in np.ndindex(kernel_shape):
        for r, p, q in np.ndindex(rows, oh, ow):
            touched = xp[r, p * sh + i * dh, q * sw + j * dw, c]
            slope[i, j, c, m] += touched * slope_at_node[r, p, q, c * multiplier + m]
    return slope


def depthwise_stage(x, kernel, window, out_hw) -> np.ndarray:
    """A SeparableConv2D's depthwise stage, one output value at a time."""
    xp = np.pad(x, ((0, 0), *window.pads, (0, 0)))
    (sh, sw), (dh, dw) = window.strides, window.dilation
    kh, kw, channels, multiplier = kernel.shape
    mid = np.zeros((len(x), *out_hw, channels * multiplier))
    for r, p, q, c, m in np.ndindex(len(x), *out_hw, channels, multiplier):
        for i, j in np.ndindex(kh, kw):
            mid[r, p, q, c * multiplier + m] += (xp[r, p * sh + i * dh, q * sw + j * dw, c]
                                                 * kernel[i, j, c, m])
    return mid


def transpose_by_definition(x, grad_z, kernel_shape, window) -> np.ndarray:
    """``kernel[i, j, f, c]``'s slope: the sum over rows and input positions (a, b) of the
    input value × the slope at filter f's input z at the output position it feeds,
    (a·sh + i·dh - top, b·sw + j·dw - left), where that lies inside the output."""
    (top, _), (left, _) = window.pads
    (sh, sw), (dh, dw) = window.strides, window.dilation
    rows, h, w, _ = x.shape
    oh, ow = grad_z.shape[1:3]
    slope = np.zeros(kernel_shape)
    for i, j, f, c in np.ndindex(kernel_shape):
        for r, a, b in np.ndindex(rows, h, w):
            p, q = a * sh + i * dh - top, b * sw + j * dw - left
            if 0 <= p < oh and 0 <= q < ow:
                slope[i, j, f, c] += x[r, a, b, c] * grad_z[r, p, q, f]
    return slope


def check_breakdown(ls: ConvLayerSlopes, short: str, applied: np.ndarray, by_definition,
                    kernel: str | None = None) -> None:
    """The slope is what training applied and what the definition gives; the rows' shares
    and every weight's products add up to it."""
    ws = ls.weights[short]
    np.testing.assert_allclose(ws.slope, applied, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ws.slope, by_definition, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ws.products.sum(axis=0), ws.slope, rtol=1e-10, atol=1e-12)
    named = {} if kernel is None else {"kernel": kernel}
    for index in np.ndindex(ws.value.shape):
        weight = ls.kernel_weight(*index, **named)
        np.testing.assert_allclose(weight.products_sum, applied[index], rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(weight.row_slopes, ws.products[(slice(None), *index)],
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(weight.row_slopes.sum(), weight.slope, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_array_equal(weight.products, weight.inputs * weight.grad_z)


# --- DepthwiseConv2D ----------------------------------------------------------------------

DEPTHWISE = {
    "valid, multiplier 2": dict(kernel_size=3, depth_multiplier=2),
    "same, strides 2": dict(kernel_size=3, strides=2, padding="same"),
    "dilation 2, channels_first": dict(kernel_size=2, dilation_rate=2, padding="same",
                                       depth_multiplier=2, data_format="channels_first"),
}


@pytest.mark.parametrize("geometry", sorted(DEPTHWISE))
def test_depthwise_kernel_slope_is_the_sum_over_every_position(float64, rng, geometry):
    options = DEPTHWISE[geometry]
    shape = (3, 7, 6) if "data_format" in options else (7, 6, 3)
    model = convnet(shape, layers.DepthwiseConv2D(activation="tanh", name="dw", **options),
                    rng)
    x, y = rng.normal(size=(3, *shape)), rng.normal(size=(3, 2))
    ls = slopes(model, x, y).layer("dw")
    assert ls.breakdown and ls.family == "depthwise"
    applied = trained_slopes(model, x, y)
    images, grad_z = channels_last(ls)
    kernel = ls.weights["kernel"]
    check_breakdown(ls, "kernel", applied["dw/kernel"],
                    depthwise_by_definition(images, grad_z, kernel.value.shape, ls.window))
    bias = ls.weights["bias"]
    np.testing.assert_allclose(bias.products.sum(axis=0), applied["dw/bias"], rtol=1e-10,
                               atol=1e-12)
    # one weight position by position, against a loop over the positions
    multiplier = kernel.value.shape[-1]
    weight = ls.kernel_weight(1, 0, 2, multiplier - 1)
    assert (weight.channel, weight.filter, weight.multiplier) == (2, 3 * multiplier - 1,
                                                                   multiplier - 1)
    xp = np.pad(images, ((0, 0), *ls.window.pads, (0, 0)))
    (sh, sw), (dh, dw) = ls.window.strides, ls.window.dilation
    for r, p, q in np.ndindex(weight.products.shape):
        touched = xp[r, p * sh + 1 * dh, q * sw + 0 * dw, 2]
        assert weight.inputs[r, p, q] == touched
        assert weight.grad_z[r, p, q] == grad_z[r, p, q, weight.filter]
        assert weight.products[r, p, q] == pytest.approx(touched * grad_z[r, p, q,
                                                                          weight.filter])
    np.testing.assert_allclose(weight.grad_a * weight.activation_slope, weight.grad_z,
                               rtol=1e-12)


def test_depthwise_weight_in_the_course_s_words(float64, rng):
    model = convnet((4, 4, 2), layers.DepthwiseConv2D(2, depth_multiplier=2, name="dw"), rng)
    s = slopes(model, rng.normal(size=(2, 4, 4, 2)), rng.normal(size=(2, 2)))
    text = str(s.layer("dw").kernel_weight(0, 1, 1, 0))
    assert "kernel weight dw/kernel[0, 1, 1, 0] = " in text
    assert ": input channel 1 -> output channel 2 (multiplier 0)" in text
    assert ("the same weight is used at every one of the 9 output positions (3 x 3) of each "
            "of the 2 rows, so its slope adds up the contributions from all 18 positions: "
            "value feeding in x slope at output channel 2's input z there") in text
    assert "sum of the 18 products" in text and "slope the optimizer receives" in text
    printed = str(s)
    assert ("weight sharing: each weight is used at every one of the 9 output positions "
            "(3 x 3) of each of the 2 rows") in printed
    assert "layer('dw').kernel_weight(i, j, c, m) lists them" in printed
    assert "kernel[0, 0, 1, 0] (output channel 2)" in printed
    frame = s.to_frame()
    rows = frame[(frame.layer == "dw") & (frame.weight == "kernel")]
    assert "channel 1 at offset (0, 1)" in set(rows["from"])
    assert "output channel 2" in set(rows["to"])
    shares = rows.groupby(["from", "to"]).agg(total=("product", "sum"), slope=("slope", "first"))
    np.testing.assert_allclose(shares.total, shares.slope, rtol=1e-10, atol=1e-12)


# --- SeparableConv2D ----------------------------------------------------------------------

SEPARABLE = {
    "valid, multiplier 2": dict(filters=3, kernel_size=2, depth_multiplier=2),
    "same, strides 2": dict(filters=2, kernel_size=3, strides=2, padding="same"),
    "channels_first": dict(filters=3, kernel_size=(2, 3), data_format="channels_first"),
}


@pytest.mark.parametrize("geometry", sorted(SEPARABLE))
def test_separable_kernels_slopes_are_sums_over_every_position(float64, rng, geometry):
    options = SEPARABLE[geometry]
    shape = (2, 6, 5) if "data_format" in options else (6, 5, 2)
    model = convnet(shape, layers.SeparableConv2D(activation="tanh", name="sep", **options),
                    rng)
    x, y = rng.normal(size=(3, *shape)), rng.normal(size=(3, 2))
    ls = slopes(model, x, y).layer("sep")
    assert ls.breakdown and ls.family == "separable"
    applied = trained_slopes(model, x, y)
    images, grad_z = channels_last(ls)
    depthwise = ls.weights["depthwise_kernel"].value
    pointwise = ls.weights["pointwise_kernel"].value
    # the depthwise stage and the slope at it, by their definitions
    mid = depthwise_stage(images, depthwise, ls.window, grad_z.shape[1:3])
    np.testing.assert_allclose(ls.mid, mid, rtol=1e-12, atol=1e-13)
    grad_mid = np.zeros_like(mid)
    for r, p, q, k, f in np.ndindex(*mid.shape, pointwise.shape[-1]):
        grad_mid[r, p, q, k] += pointwise[0, 0, k, f] * grad_z[r, p, q, f]
    np.testing.assert_allclose(ls.grad_mid, grad_mid, rtol=1e-12, atol=1e-13)
    check_breakdown(ls, "depthwise_kernel", applied["sep/depthwise_kernel"],
                    depthwise_by_definition(images, grad_mid, depthwise.shape, ls.window),
                    kernel="depthwise_kernel")
    pointwise_slope = np.zeros(pointwise.shape)
    for r, p, q, k, f in np.ndindex(*mid.shape, pointwise.shape[-1]):
        pointwise_slope[0, 0, k, f] += mid[r, p, q, k] * grad_z[r, p, q, f]
    check_breakdown(ls, "pointwise_kernel", applied["sep/pointwise_kernel"], pointwise_slope,
                    kernel="pointwise_kernel")
    weight = ls.kernel_weight(0, 0, 1, 1, kernel="pointwise_kernel")
    np.testing.assert_array_equal(weight.inputs, ls.mid[..., 1])
    np.testing.assert_array_equal(weight.grad_z, grad_z[..., 1])
    # the depthwise stage has no activation: the slope at the node fed is grad_mid itself
    weight = ls.kernel_weight(1, 1, 1, 0, kernel="depthwise_kernel")
    assert weight.grad_a is None and weight.activation_slope is None
    np.testing.assert_array_equal(weight.grad_z, ls.grad_mid[..., weight.filter])


def test_separable_weights_in_the_course_s_words_and_naming_the_kernel(float64, rng):
    model = convnet((4, 4, 2), layers.SeparableConv2D(3, 2, depth_multiplier=2, name="sep"),
                    rng)
    s = slopes(model, rng.normal(size=(2, 4, 4, 2)), rng.normal(size=(2, 2)))
    ls = s.layer("sep")
    text = str(ls.kernel_weight(1, 0, 1, 1, kernel="depthwise_kernel"))
    assert ": input channel 1 -> depthwise channel 3 (multiplier 1)" in text
    assert ("value feeding in x slope at depthwise channel 3 there (the pointwise weights "
            "times the slopes at the filters' inputs z)") in text
    assert "x slope there" in text
    text = str(ls.kernel_weight(0, 0, 3, 2, kernel="pointwise_kernel"))
    assert "kernel weight sep/pointwise_kernel[0, 0, 3, 2]" in text
    assert ": depthwise channel 3 -> filter 2" in text
    assert "value feeding in x slope at filter 2's input z there" in text
    assert "depthwise output at" in text
    printed = str(s)
    assert ("layer('sep').kernel_weight(i, j, c, m, kernel='depthwise_kernel') and "
            "layer('sep').kernel_weight(0, 0, k, f, kernel='pointwise_kernel') list them"
            ) in printed
    with pytest.raises(ValueError, match=r"SeparableConv2D 'sep': the layer has 2 kernels; "
                                         r"say which with kernel='depthwise_kernel' or "
                                         r"kernel='pointwise_kernel'"):
        ls.kernel_weight(0, 0, 0, 0)
    with pytest.raises(ValueError, match=r"no kernel 'kernel'"):
        ls.kernel_weight(0, 0, 0, 0, kernel="kernel")
    frame = s.to_frame()
    rows = frame[(frame.layer == "sep") & (frame.weight == "pointwise_kernel")]
    assert "depthwise channel 3" in set(rows["from"]) and "filter 2" in set(rows["to"])
    shares = rows.groupby(["from", "to"]).agg(total=("product", "sum"), slope=("slope", "first"))
    np.testing.assert_allclose(shares.total, shares.slope, rtol=1e-10, atol=1e-12)


# --- Conv2DTranspose ----------------------------------------------------------------------

TRANSPOSE = {
    "valid": dict(kernel_size=3),
    "same, strides 2, cropped": dict(kernel_size=4, strides=2, padding="same"),
    "valid, strides 3": dict(kernel_size=2, strides=3),
    "dilation 2, channels_first": dict(kernel_size=2, dilation_rate=2, padding="same",
                                       data_format="channels_first"),
}


@pytest.mark.parametrize("geometry", sorted(TRANSPOSE))
def test_transpose_kernel_slope_is_the_sum_over_every_input_position(float64, rng, geometry):
    options = TRANSPOSE[geometry]
    shape = (2, 3, 4) if "data_format" in options else (3, 4, 2)
    model = convnet(shape, layers.Conv2DTranspose(3, activation="tanh", name="up", **options),
                    rng)
    x, y = rng.normal(size=(3, *shape)), rng.normal(size=(3, 2))
    ls = slopes(model, x, y).layer("up")
    assert ls.breakdown and ls.family == "transpose"
    assert ls.positions == (3, 4)  # the places are the input positions
    applied = trained_slopes(model, x, y)
    images, grad_z = channels_last(ls)
    kernel = ls.weights["kernel"]
    check_breakdown(ls, "kernel", applied["up/kernel"],
                    transpose_by_definition(images, grad_z, kernel.value.shape, ls.window))
    weight = ls.kernel_weight(1, 1, 2, 1)
    (top, _), (left, _) = ls.window.pads
    (sh, sw), (dh, dw) = ls.window.strides, ls.window.dilation
    for r, a, b in np.ndindex(weight.products.shape):
        p, q = a * sh + dh - top, b * sw + dw - left
        np.testing.assert_array_equal(weight.fed_positions[a, b], [p, q])
        assert weight.inputs[r, a, b] == images[r, a, b, 1]
        inside = 0 <= p < grad_z.shape[1] and 0 <= q < grad_z.shape[2]
        assert weight.grad_z[r, a, b] == (grad_z[r, p, q, 2] if inside else 0)


def test_transpose_weight_in_the_course_s_words_and_its_cropped_positions(float64, rng):
    # kernel 4, strides 2, "same" on 3 x 3: the spread input covers 8 x 8, the output is its
    # middle 6 x 6, one row and one column cropped off on each side
    model = convnet((3, 3, 2), layers.Conv2DTranspose(2, 4, strides=2, padding="same",
                                                      name="up"), rng)
    x, y = rng.normal(size=(2, 3, 3, 2)), rng.normal(size=(2, 2))
    s = slopes(model, x, y)
    ls = s.layer("up")
    assert ls.window.pads == ((1, 1), (1, 1))
    weight = ls.kernel_weight(0, 1, 1, 0)
    np.testing.assert_array_equal(weight.fed_positions[0, 0], [-1, 0])  # cropped off
    assert not weight.grad_z[:, 0].any() and not weight.products[:, 0].any()
    text = str(weight)
    assert "kernel weight up/kernel[0, 1, 1, 0] = " in text
    assert ": input channel 0 -> filter 1" in text
    assert ("the same weight is used at every one of the 9 input positions (3 x 3) of each of "
            "the 2 rows (each input value is spread into the output through every weight), "
            "so its slope adds up the contributions from all 18 positions: input value x "
            "slope at filter 1's input z at the output position it feeds") in text
    assert "feeds output at" in text and "cropped" in text and "(1, 2)" in text
    printed = str(s)
    assert "layer('up').kernel_weight(i, j, f, c) lists them" in printed
    assert "= slope (2 rows x 9 positions)" in printed
    frame = s.to_frame()
    rows = frame[(frame.layer == "up") & (frame.weight == "kernel")]
    assert "filter 1 at offset (0, 1)" in set(rows["to"])
    # finite differences of the loss for this weight
    numeric = numerical_gradient(lambda: model.compute_gradients(x, y)[0],
                                 model.trainable_weights[0])
    assert_gradient_close(weight.products_sum, numeric[0, 1, 1, 0], rtol=1e-5, atol=1e-8)


# --- all three ----------------------------------------------------------------------------

KINDS = {
    "DepthwiseConv2D": lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                                      activation="relu", name="conv"),
    "SeparableConv2D": lambda: layers.SeparableConv2D(4, 3, depth_multiplier=2,
                                                      activation="relu", name="conv"),
    "Conv2DTranspose": lambda: layers.Conv2DTranspose(2, 3, strides=2, padding="same",
                                                      activation="relu", name="conv"),
}
KERNELS = {"DepthwiseConv2D": ["kernel"], "Conv2DTranspose": ["kernel"],
           "SeparableConv2D": ["depthwise_kernel", "pointwise_kernel"]}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_breakdowns_read_the_joined_records_of_a_chunked_run(float64, rng, monkeypatch, kind):
    monkeypatch.setattr(row_chunks, "CHUNK_BYTES", 2_000)
    model = convnet((8, 8, 3), KINDS[kind](), rng)
    x, y = rng.normal(size=(7, 8, 8, 3)), rng.normal(size=(7, 2))
    runs = [step for step in model.plan.steps if isinstance(step, RowChunkRun)]
    assert runs and len(runs[0].chunks(len(x))) > 1  # the batch runs in several chunks
    ls = slopes(model, x, y).layer("conv")
    applied = trained_slopes(model, x, y)
    images, grad_z = channels_last(ls)
    for short in KERNELS[kind]:
        ws = ls.weights[short]
        assert ws.products.shape == (7, *ws.value.shape)
        named = {"kernel": short} if kind == "SeparableConv2D" else {}
        if short == "pointwise_kernel":
            by_definition = np.einsum("rpqk,rpqf->kf", ls.mid, grad_z)[None, None]
        elif kind == "SeparableConv2D":
            mid = depthwise_stage(images, ws.value, ls.window, grad_z.shape[1:3])
            np.testing.assert_allclose(ls.mid, mid, rtol=1e-12, atol=1e-13)
            by_definition = depthwise_by_definition(images, ls.grad_mid, ws.value.shape,
                                                    ls.window)
        elif kind == "DepthwiseConv2D":
            by_definition = depthwise_by_definition(images, grad_z, ws.value.shape, ls.window)
        else:
            by_definition = transpose_by_definition(images, grad_z, ws.value.shape, ls.window)
        check_breakdown(ls, short, applied[f"conv/{short}"], by_definition, **named)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_weight_index_out_of_range_names_the_layer_the_index_and_the_shape(rng, kind):
    model = convnet((5, 5, 2), KINDS[kind](), rng)
    ls = slopes(model, rng.normal(size=(1, 5, 5, 2)), rng.normal(size=(1, 2))).layer("conv")
    short = KERNELS[kind][0]
    named = {"kernel": short} if kind == "SeparableConv2D" else {}
    shape = ls.weights[short].value.shape
    what = "kernel" if short == "kernel" else short
    bad = (0, 0, 0, shape[-1])
    last = {"DepthwiseConv2D": r"m \(multiplier\)", "SeparableConv2D": r"m \(multiplier\)",
            "Conv2DTranspose": r"c \(input channel\)"}[kind]
    with pytest.raises(ValueError, match=(
            rf"{kind} 'conv': index {last} must be an integer from 0 to {shape[-1] - 1} "
            rf"\(the {what} has shape \({', '.join(map(str, shape))}\)\). Received: "
            rf"{shape[-1]} in the index \(0, 0, 0, {shape[-1]}\)")):
        ls.kernel_weight(*bad, **named)
    with pytest.raises(ValueError, match=rf"{kind} 'conv': a {what} weight has 4 indices"):
        ls.kernel_weight(0, 0, 0, **named)
    with pytest.raises(ValueError, match="must be an integer"):
        ls.kernel_weight(0, 0, -1, 0, **named)
    assert ls.kernel_weight((0, 0, 0, 0), **named).index == (0, 0, 0, 0)
    if kind == "SeparableConv2D":
        with pytest.raises(ValueError, match=r"index i \(kernel row, 0: the kernel is 1 x 1\) "
                                             r"must be an integer from 0 to 0 \(the "
                                             r"pointwise_kernel has shape \(1, 1, 4, 4\)\)"):
            ls.kernel_weight(1, 0, 0, 0, kernel="pointwise_kernel")

