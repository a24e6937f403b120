"""The glass box on convnets: a kernel weight's slope is the sum, over every row and every
position where the weight was used, of value feeding in × slope at its filter's input z
(weight sharing), and it is the gradient training hands the optimizer; ``diagnose`` finds
dead filters."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import glassnet as keras
from glassnet import layers, regularizers
from glassnet.callbacks import Diagnostics
from glassnet.explain import ConvLayerSlopes, diagnose, last_pass, slopes
from glassnet.optimizers import SGD

# --- slopes ------------------------------------------------------------------------------


def convnet(input_shape, conv, rng, activation="relu", loss="mse"):
    """``conv`` (a Conv1D or Conv2D) on ``input_shape``, then a Dense output; random weights."""
    model = keras.Sequential([keras.Input(shape=input_shape), conv, layers.Flatten(),
                              layers.Dense(2, activation=activation, name="out")])
    model.compile(optimizer=SGD(learning_rate=1.0), loss=loss)
    model.build()
    model.set_weights([rng.normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    return model


def brute_force_kernel_slope(ls: ConvLayerSlopes, kernel_shape) -> np.ndarray:
    """Every kernel weight's slope by the definition, one position at a time: the sum over
    rows and output positions (p, q) of the input the weight touched there × grad_z."""
    x, grad_z = ls.x, ls.grad_z
    if ls.data_format == "channels_first":
        x, grad_z = np.moveaxis(x, 1, -1), np.moveaxis(grad_z, 1, -1)
    window = ls.window
    if window.rank == 1:
        x, grad_z = x[:, None], grad_z[:, None]
    xp = np.pad(x, ((0, 0), *window.pads, (0, 0)))
    (sh, sw), (dh, dw), groups = window.strides, window.dilation, window.groups
    kh, kw = window.kernel_size
    cin, filters = kernel_shape[-2:]
    rows, oh, ow, _ = grad_z.shape
    slope = np.zeros((kh, kw, cin, filters))
    for i, j, c, f in np.ndindex(kh, kw, cin, filters):
        channel = f // (filters // groups) * cin + c
        for r, p, q in np.ndindex(rows, oh, ow):
            touched = xp[r, p * sh + i * dh, q * sw + j * dw, channel]
            slope[i, j, c, f] += touched * grad_z[r, p, q, f]
    return slope.reshape(kernel_shape)


def trained_slopes(model, x, y) -> list[np.ndarray]:
    """The slopes one training step applied: with plain SGD at rate 1, old - new weights."""
    before = [w.copy() for w in model.trainable_weights]
    model.train_on_batch(x, y)
    after = [w.copy() for w in model.trainable_weights]
    for target, value in zip(model.trainable_weights, before, strict=True):
        target[...] = value
    return [b - a for b, a in zip(before, after, strict=True)]


GEOMETRIES = {
    "valid": dict(kernel_size=3),
    "same, strides 2": dict(kernel_size=3, strides=2, padding="same"),
    "same, dilation 2": dict(kernel_size=(2, 3), dilation_rate=2, padding="same"),
    "groups 2, channels_first": dict(kernel_size=2, groups=2, data_format="channels_first"),
}


@pytest.mark.parametrize("geometry", sorted(GEOMETRIES))
def test_conv2d_kernel_slope_is_the_sum_over_every_position_of_input_times_slope_at_z(
        float64, rng, geometry):
    options = GEOMETRIES[geometry]
    shape = (4, 7, 6) if "data_format" in options else (7, 6, 4)
    model = convnet(shape, layers.Conv2D(4, activation="tanh", name="conv", **options), rng)
    x, y = rng.normal(size=(3, *shape)), rng.normal(size=(3, 2))
    s = slopes(model, x, y)
    ls = s.layer("conv")
    kernel, bias = ls.weights["kernel"], ls.weights["bias"]
    assert isinstance(ls, ConvLayerSlopes) and ls.breakdown
    applied = trained_slopes(model, x, y)
    np.testing.assert_allclose(kernel.slope, applied[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bias.slope, applied[1], rtol=1e-10, atol=1e-12)
    by_definition = brute_force_kernel_slope(ls, kernel.value.shape)
    np.testing.assert_allclose(kernel.slope, by_definition, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(kernel.products.sum(axis=0), kernel.slope, rtol=1e-12, atol=1e-13)
    grad_z_axes = (2, 3) if ls.data_format == "channels_first" else (1, 2)
    np.testing.assert_allclose(bias.products, ls.grad_z.sum(axis=grad_z_axes), rtol=1e-12)
    np.testing.assert_allclose(bias.products.sum(axis=0), bias.slope, rtol=1e-12, atol=1e-13)
    for index in np.ndindex(kernel.value.shape):
        weight = ls.kernel_weight(*index)
        np.testing.assert_allclose(weight.products_sum, weight.slope, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(weight.row_slopes, kernel.products[(slice(None), *index)],
                                   rtol=1e-12, atol=1e-13)
    # the finite-difference slope of the loss, for every kernel weight at once
    numeric = numerical_gradient(lambda: model.compute_gradients(x, y)[0],
                                 model.trainable_weights[0])
    from_breakdown = np.array([ls.kernel_weight(*i).products_sum
                               for i in np.ndindex(kernel.value.shape)])
    assert_gradient_close(from_breakdown.reshape(kernel.value.shape), numeric, rtol=1e-5,
                          atol=1e-8)


@pytest.mark.parametrize("options", [dict(padding="causal", dilation_rate=2),
                                     dict(strides=2, padding="same", groups=2),
                                     dict(data_format="channels_first")],
                         ids=["causal-dilated", "strided-grouped", "channels_first"])
def test_conv1d_kernel_slopes_and_finite_differences(float64, rng, options):
    shape = (4, 9) if "data_format" in options else (9, 4)
    model = convnet(shape, layers.Conv1D(4, 3, activation="tanh", name="conv", **options), rng)
    x, y = rng.normal(size=(3, *shape)), rng.normal(size=(3, 2))
    ls = slopes(model, x, y).layer("conv")
    kernel = ls.weights["kernel"]
    np.testing.assert_allclose(kernel.slope, brute_force_kernel_slope(ls, kernel.value.shape),
                               rtol=1e-12, atol=1e-13)
    weight = ls.kernel_weight(2, 1, 3)
    assert weight.inputs.shape == weight.grad_z.shape == (3, *ls.positions)
    numeric = numerical_gradient(lambda: model.compute_gradients(x, y)[0],
                                 model.trainable_weights[0])
    assert_gradient_close(weight.products_sum, numeric[2, 1, 3], rtol=1e-5, atol=1e-8)


def test_one_weight_position_by_position_reads_the_patches_the_layer_multiplied(rng):
    model = convnet((5, 5, 2), layers.Conv2D(3, 3, padding="same", strides=2, name="conv"),
                    rng)
    x, y = rng.normal(size=(2, 5, 5, 2)).astype("float32"), rng.normal(size=(2, 2))
    s = slopes(model, x, y)
    ls = s.layer("conv")
    weight = ls.kernel_weight(0, 2, 1, 2)
    patches = last_pass(model).of(model.layers[0]).record.patches  # (positions, 3·3·2)
    column = np.ravel_multi_index((0, 2, 1), (3, 3, 2))
    np.testing.assert_array_equal(weight.inputs.reshape(-1), patches[:, column])
    np.testing.assert_array_equal(weight.grad_z, ls.grad_z[..., 2])
    np.testing.assert_array_equal(weight.products, weight.inputs * weight.grad_z)
    np.testing.assert_array_equal(weight.grad_a * weight.activation_slope, weight.grad_z)
    # float32: the sum in another order than the layer's matrix product, to rounding
    np.testing.assert_allclose(weight.products_sum, s["conv/kernel"][0, 2, 1, 2], rtol=1e-5,
                               atol=1e-6)
    assert weight.slope == float(s["conv/kernel"][0, 2, 1, 2])
    # "same" pads one pixel all round: position (0, 0) reads input row -1, (2, 2) column 5,
    # both in the padding, whose value is 0; (1, 1) reads pixel (1, 3)
    np.testing.assert_array_equal(weight.input_positions[0, 0], [-1, 1])
    np.testing.assert_array_equal(weight.input_positions[2, 2], [3, 5])
    np.testing.assert_array_equal(weight.input_positions[1, 1], [1, 3])
    assert not weight.inputs[:, 0, 0].any() and not weight.inputs[:, 2, 2].any()
    np.testing.assert_array_equal(weight.inputs[:, 1, 1], x[:, 1, 3, 1])
    text = str(weight)
    assert "kernel weight conv/kernel[0, 2, 1, 2]" in text
    assert ("the same weight is used at every one of the 9 output positions (3 x 3) of each of "
            "the 2 rows, so its slope adds up the contributions from all 18 positions") in text
    assert "padding" in text and "sum of the 18 products" in text
    assert "slope the optimizer receives" in text


def test_functional_convnet_with_a_penalty_and_a_relu_layer(float64, rng):
    inputs = keras.Input(shape=(6, 6, 1))
    conv = layers.Conv2D(2, 2, name="conv", kernel_regularizer=regularizers.l2(0.1))(inputs)
    hidden = layers.Activation("relu")(conv)
    pooled = layers.GlobalAveragePooling2D()(hidden)
    model = keras.Model(inputs, layers.Dense(1, name="out")(pooled))
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.normal(size=(4, 6, 6, 1)), rng.normal(size=(4, 1))
    s = slopes(model, x, y)
    loss, grads = model.compute_gradients(x, y)
    for mine, theirs in zip(s.gradients, grads, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    kernel = s.layer("conv").weights["kernel"]
    assert kernel.penalty_slope is not None
    np.testing.assert_allclose(kernel.products.sum(axis=0) + kernel.penalty_slope, kernel.slope,
                               rtol=1e-12, atol=1e-13)
    weight = s.layer("conv").kernel_weight(1, 0, 0, 1)
    assert weight.penalty_slope == pytest.approx(kernel.penalty_slope[1, 0, 0, 1])
    assert weight.products_sum + weight.penalty_slope == pytest.approx(weight.slope, rel=1e-12)
    assert "+ the penalty's slope" in str(weight)
    # the Dense layer after it is read as before
    assert s.layer("out").weights["kernel"].products.shape == (4, 2, 1)


def test_printed_slopes_say_weight_sharing_and_records_sum_to_the_slope(rng):
    model = convnet((5, 5, 1), layers.Conv2D(2, 2, name="conv"), rng)
    x, y = rng.normal(size=(3, 5, 5, 1)), rng.normal(size=(3, 2))
    s = slopes(model, x, y)
    text = str(s)
    assert ("weight sharing: each weight is used at every one of the 16 output positions "
            "(4 x 4) of each of the 3 rows, so its slope adds up the contributions from all "
            "48 positions") in text
    assert "layer('conv').kernel_weight(i, j, c, f) lists them" in text
    assert "kernel[0, 1, 0, 0] (filter 0)" in text and "bias[0] (filter 0)" in text
    assert "= slope (3 rows x 16 positions)" in text
    frame = s.to_frame()
    conv = frame[(frame.layer == "conv") & (frame.weight == "kernel")]
    assert len(conv) == 3 * 8
    shares = conv.groupby(["from", "to"]).agg(total=("product", "sum"), slope=("slope", "first"))
    np.testing.assert_allclose(shares.total, shares.slope, rtol=1e-5, atol=1e-6)
    assert set(conv["to"]) == {"filter 0", "filter 1"}
    assert "channel 0 at offset (1, 0)" in set(conv["from"])
    assert s.to_dict()["layers"][0]["kind"] == "Conv2D"


def test_a_weight_index_out_of_range_names_the_valid_range(rng):
    model = convnet((5, 5, 2), layers.Conv2D(3, 3, name="conv"), rng)
    ls = slopes(model, rng.normal(size=(1, 5, 5, 2)), rng.normal(size=(1, 2))).layer("conv")
    with pytest.raises(ValueError, match=r"index c \(input channel\) must be an integer from "
                                         r"0 to 1 \(the kernel has shape \(3, 3, 2, 3\)\)"):
        ls.kernel_weight(0, 0, 2, 0)
    with pytest.raises(ValueError, match=r"f \(filter\) must be an integer from 0 to 2"):
        ls.kernel_weight(0, 0, 0, -1)
    with pytest.raises(ValueError, match=r"a kernel weight has 4 indices, i, j, c, f"):
        ls.kernel_weight(0, 0, 0)
    with pytest.raises(ValueError, match="must be an integer"):
        ls.kernel_weight(0, 0, 0.0, 0)
    assert ls.kernel_weight((2, 2, 1, 2)).index == (2, 2, 1, 2)


@pytest.mark.parametrize("layer", [layers.DepthwiseConv2D(2, name="other"),
                                   layers.SeparableConv2D(2, 2, name="other"),
                                   layers.Conv2DTranspose(2, 2, name="other")],
                         ids=lambda layer: type(layer).__name__)
def test_other_convolutions_are_broken_down_too(float64, rng, layer):
    """tests/explain/test_explain_conv_kinds.py checks their breakdowns in detail."""
    model = convnet((5, 5, 2), layer, rng)
    s = slopes(model, rng.normal(size=(2, 5, 5, 2)), rng.normal(size=(2, 2)))
    ls = s.layer("other")
    assert ls.breakdown and not ls.note
    bias = ls.weights["bias"]
    np.testing.assert_allclose(bias.products.sum(axis=0), bias.slope, rtol=1e-12, atol=1e-13)
    for ws in ls.weights.values():
        np.testing.assert_allclose(ws.products.sum(axis=0), ws.slope, rtol=1e-12, atol=1e-13)
    assert "weight sharing: each weight is used at every one of" in str(s)
    assert ".kernel_weight(" in ls.sharing_sentence()


# --- diagnose: dead filters ----------------------------------------------------------------


def convnet_with_dead_filters(dead, data_format="channels_last", relu_layer=False):
    """A Conv2D with 4 ReLU filters (or a linear one and a ReLU layer after a batch
    normalisation or a dropout), whose filters ``dead`` get a bias of -100: never positive
    anywhere."""
    shape = (1, 8, 8) if data_format == "channels_first" else (8, 8, 1)
    conv = layers.Conv2D(4, 3, activation=None if relu_layer else "relu", name="conv",
                         data_format=data_format)
    stack = [keras.Input(shape=shape), conv]
    if relu_layer:  # glassnet's batch normalisation takes channels-last images only
        between = (layers.Dropout(0.2) if data_format == "channels_first"
                   else layers.BatchNormalization())
        stack += [between, layers.ReLU(name="relu")]
    model = keras.Sequential([*stack, layers.Flatten(), layers.Dense(1, name="out")])
    model.compile(optimizer="adam", loss="mse")
    model.build()
    conv.bias[list(dead)] = -100.0
    return model


@pytest.fixture
def images(rng):
    x = rng.normal(size=(32, 8, 8, 1))
    return x, x.mean(axis=(1, 2, 3))[:, None]


def test_diagnose_names_exactly_the_filters_killed(images):
    report = diagnose(convnet_with_dead_filters([1, 3]), *images)
    health = report.layer("conv")
    assert health.unit_word == "filters" and health.units == 4
    assert health.dead_units == [1, 3] and health.dead_share == 0.5
    (finding,) = report.findings
    assert finding.kind == "dead" and finding.layer == "conv"
    assert finding.message.startswith(
        "Layer 'conv': 2 of its 4 ReLU filters (50%) are dead (filters 1, 3): their output was "
        "never positive at any position of any row seen")
    assert "4 filters" in report.format()
    assert report.layer("out").unit_word == "units"


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_a_relu_layer_after_a_convolution_counts_its_filters(images, data_format):
    x, y = images
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    model = convnet_with_dead_filters([2], data_format, relu_layer=True)
    report = diagnose(model, x, y, dead_share=0.2)
    health = report.layer("relu")
    assert (health.units, health.dead_units, health.filters_of) == (4, [2], "conv")
    (finding,) = report.findings
    assert finding.layer == "relu"
    assert "1 of the 4 filters of 'conv' (25%) is dead after this ReLU (filter 2): its output" \
        in finding.message


def test_a_filter_positive_at_one_position_of_one_row_is_alive():
    model = keras.Sequential([keras.Input(shape=(4, 4, 1)),
                              layers.Conv2D(2, 1, activation="relu", name="conv")])
    model.compile(optimizer="sgd", loss="mse")
    model.build()
    model.set_weights([np.array([[[[1.0, -1.0]]]]), np.array([-0.5, -0.5])])
    x = np.zeros((3, 4, 4, 1))
    x[2, 1, 3, 0] = 1.0  # filter 0 is positive there only; filter 1 never
    health = diagnose(model, x, np.zeros((3, 4, 4, 2))).layer("conv")
    assert health.dead_units == [1] and health.dead_share == 0.5


def test_healthy_convnet_has_no_dead_filters(images):
    report = diagnose(convnet_with_dead_filters([]), *images)
    assert report.layer("conv").dead_units == [] and report.ok, str(report)


def test_callback_finds_dead_filters_while_training(images):
    messages = []
    watch = Diagnostics(print_fn=messages.append)
    model = convnet_with_dead_filters([0, 1, 3])
    model.fit(*images, epochs=2, batch_size=8, verbose=0, callbacks=[watch])
    assert watch.last.rows == 32
    assert watch.last.layer("conv").dead_units == [0, 1, 3]
    assert len(messages) == 1
    assert messages[0].startswith("Epoch 1: [dead] Layer 'conv': 3 of its 4 ReLU filters (75%)")
    assert watch.history("dead_share")["conv"] == [0.75, 0.75]


def test_functional_convnet_dead_filters(images):
    inputs = keras.Input(shape=(8, 8, 1))
    conv = layers.Conv2D(4, 3, name="conv")
    relu = layers.ReLU(name="relu")
    flat = layers.Flatten()(relu(conv(inputs)))
    model = keras.Model(inputs, layers.Dense(1)(flat))
    model.compile(optimizer="sgd", loss="mse")
    model.build()
    conv.bias[[0, 1]] = -100.0
    report = diagnose(model, *images)
    assert report.layer("relu").dead_units == [0, 1]
    assert report.layer("relu").filters_of == "conv"
    assert [f.layer for f in report.findings if f.kind == "dead"] == ["relu"]
