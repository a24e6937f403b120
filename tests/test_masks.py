"""Masks in glassnet (``glassnet.layers.masks``): the ``Masking`` layer, recurrent layers
skipping masked steps (slopes against central differences in float64), how masks travel
through models, and the models glassnet refuses where Keras would use a mask elsewhere.

Keras's numbers themselves are checked in ``tests/test_masks_keras.py``.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from gradcheck import assert_gradient_close, check_layer_slopes, numerical_gradient

import glassnet
from glassnet import layers
from glassnet.layers import masks

# steps that count, (batch, timesteps): first steps masked, last steps masked, a hole, a row
# of only padding, a full row
MASK = np.array([
    [False, False, True, True, True],
    [True, True, True, False, False],
    [True, False, True, False, True],
    [False, False, False, False, False],
    [True, True, True, True, True],
])


# --- Masking --------------------------------------------------------------------------------


def test_masking_zeroes_padding_steps_and_makes_their_mask():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]], [[0.0, 0.0], [5.0, 0.0], [0.0, 0.0]]])
    layer = layers.Masking()
    assert layer.compute_mask(x).tolist() == [[True, False, True], [False, True, False]]
    out = np.asarray(layer(x))
    np.testing.assert_array_equal(out, x)  # padding steps already hold 0
    shifted = layers.Masking(mask_value=2.0)
    y = np.array([[[2.0, 2.0], [2.0, 1.0]]])
    assert shifted.compute_mask(y).tolist() == [[False, True]]
    np.testing.assert_array_equal(np.asarray(shifted(y)), [[[0.0, 0.0], [2.0, 1.0]]])
    assert shifted.get_config()["mask_value"] == 2.0
    assert layers.Masking.from_config(shifted.get_config()).mask_value == 2.0


def test_masking_slopes_match_finite_differences(rng, float64):
    """Kept steps: central differences. A masked step sits on the jump (moving any feature
    off ``mask_value`` keeps the step), so its slope is checked to be Keras's: 0
    (``ops.where`` in masking.py passes no slope to the branch not taken)."""
    layer = layers.Masking(mask_value=0.5)
    x = rng.normal(size=(3, 4, 2))
    x[0, 1] = 0.5
    x[2, 3] = 0.5
    grad_out = rng.normal(size=x.shape)
    out, records = layer.forward(x)
    grad_x = layer.backward(records, grad_out)
    numeric = numerical_gradient(lambda: float(np.sum(grad_out * layer.forward(x)[0])), x)
    kept = layer.compute_mask(x)
    assert_gradient_close(grad_x[kept], numeric[kept])
    np.testing.assert_array_equal(grad_x[~kept], 0.0)
    np.testing.assert_array_equal(out[~kept], 0.0)


def test_masking_refuses_a_value_that_is_not_a_number():
    with pytest.raises(ValueError, match="mask_value"):
        layers.Masking(mask_value="zero")


# --- recurrent layers skip masked steps ----------------------------------------------------

CASES = [
    (layers.SimpleRNN, {}),
    (layers.SimpleRNN, {"return_sequences": True, "go_backwards": True}),
    (layers.LSTM, {}),
    (layers.LSTM, {"return_sequences": True}),
    (layers.LSTM, {"go_backwards": True, "zero_output_for_mask": True}),
    (layers.LSTM, {"return_sequences": True, "zero_output_for_mask": True}),
    (layers.GRU, {}),
    (layers.GRU, {"return_sequences": True, "go_backwards": True}),
    (layers.GRU, {"reset_after": False, "return_sequences": True}),
]


def _random_weights(layer, rng):
    layer.set_weights([rng.normal(scale=0.6, size=w.shape) for w in layer.get_weights()])


@pytest.mark.parametrize(("cls", "kwargs"), CASES,
                         ids=[f"{c.__name__}-{sorted(k.items())}" for c, k in CASES])
def test_masked_slopes_match_finite_differences(cls, kwargs, rng, float64):
    layer = cls(3, **kwargs)
    x = rng.normal(size=(*MASK.shape, 2))
    layer.build(x.shape)
    _random_weights(layer, rng)
    checked = check_layer_slopes(layer, x, rng, forward=lambda: layer.forward(x, mask=MASK))
    assert "recurrent_kernel" in checked


@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_masked_slopes_match_finite_differences(return_sequences, rng, float64):
    layer = layers.Bidirectional(layers.LSTM(2, return_sequences=return_sequences))
    x = rng.normal(size=(*MASK.shape, 3))
    layer.build(x.shape)
    _random_weights(layer, rng)
    checked = check_layer_slopes(layer, x, rng, forward=lambda: layer.forward(x, mask=MASK))
    assert len(checked) == 6


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_masked_steps_carry_the_state_and_padding_changes_nothing(cls, rng):
    layer = cls(3, return_sequences=True)
    x = rng.normal(size=(*MASK.shape, 2))
    out = np.asarray(layer(x, mask=MASK))
    other = x.copy()
    other[~MASK] = rng.normal(size=other[~MASK].shape)  # what padding holds does not count
    np.testing.assert_array_equal(np.asarray(layer(other, mask=MASK)), out)
    np.testing.assert_array_equal(out[3], 0.0)  # a row of only padding stays at the zero state
    np.testing.assert_array_equal(out[0, :2], 0.0)  # masked first steps: the zero state
    np.testing.assert_array_equal(out[1, 3], out[1, 2])  # masked later steps: the step before
    np.testing.assert_array_equal(out[2, 1], out[2, 0])
    # a row's numbers are those of its unmasked steps alone
    alone = layer.forward(x[2:3, [0, 2, 4]])[0]
    np.testing.assert_allclose(out[2, [0, 2, 4]], alone[0], rtol=1e-6, atol=1e-7)
    assert not np.allclose(np.asarray(layer(x)), out)  # and the mask mattered


def test_the_mask_is_in_the_glass_box(rng):
    model = glassnet.Sequential([layers.Input(shape=(5,)), layers.Embedding(10, 3, mask_zero=True),
                                 layers.LSTM(2), layers.Dense(1)])
    ids = np.where(MASK, 4, 0)
    model.predict(ids, verbose=0)
    record = model.plan.tape.nodes[1].records
    np.testing.assert_array_equal(record.step_mask[..., 0].T, MASK.astype(float))


def test_a_mask_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\)"):
        layers.LSTM(2)(np.zeros((2, 3, 1)), mask=np.ones((2, 4), bool))


# --- how masks travel, what is refused ----------------------------------------------------


def _sequential(*stack, ids=True):
    front = [layers.Input(shape=(5,)), layers.Embedding(10, 3, mask_zero=True, name="emb")] if (
        ids) else [layers.Input(shape=(5, 3)), layers.Masking(name="emb")]
    return glassnet.Sequential([*front, *stack])


REFUSED = [
    ("Softmax before pooling", lambda: [layers.Dropout(0.1), layers.Softmax(name="soft"),
                                        layers.GlobalAveragePooling1D()], "soft"),
    ("Softmax", lambda: [layers.Softmax(name="soft"), layers.LSTM(2)], "soft"),
    ("BatchNormalization", lambda: [layers.BatchNormalization(name="bn"), layers.GRU(2)], "bn"),
    ("output", lambda: [layers.LSTM(2, return_sequences=True), layers.Dense(1, name="out")],
     "out"),
    ("Dropout output", lambda: [layers.Dropout(0.2, name="drop")], "drop"),
]


@pytest.mark.parametrize("ids", [True, False], ids=["mask_zero", "Masking"])
@pytest.mark.parametrize(("what", "stack", "named"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_mask_glassnet_cannot_follow_is_refused_at_build(what, stack, named, ids):
    with pytest.raises(ValueError, match=rf"'{named}'.*'emb'"):
        _sequential(*stack(), ids=ids).build()
    inputs = layers.Input(shape=(5,) if ids else (5, 3))
    x = (layers.Embedding(10, 3, mask_zero=True, name="emb") if ids else
         layers.Masking(name="emb"))(inputs)
    with pytest.raises(ValueError, match=rf"'{named}'.*'emb'"):
        for layer in stack():
            x = layer(x)
        glassnet.Model(inputs, x)


def test_merging_masked_tensors_and_nested_models_are_refused():
    inputs = layers.Input(shape=(5,))
    x = layers.Embedding(10, 3, mask_zero=True, name="emb")(inputs)
    with pytest.raises(ValueError, match=r"'add'.*'emb'"):
        layers.Add(name="add")([x, x])
    sequence = layers.Input(shape=(5, 3))
    inner = glassnet.Model(sequence, layers.LSTM(2)(sequence), name="inner")
    with pytest.raises(ValueError, match=r"'inner'.*'emb'"):
        inner(x)
    with pytest.raises(ValueError, match=r"'inner'.*'emb'"):
        _sequential(inner).build()


def test_a_nested_sequential_is_opened_up_and_reads_the_mask(rng):
    inner = glassnet.Sequential([layers.LSTM(2, return_sequences=True), layers.GRU(2)])
    nested = _sequential(inner, layers.Dense(1))
    flat = _sequential(layers.LSTM(2, return_sequences=True), layers.GRU(2), layers.Dense(1))
    nested.build()
    flat.build()
    flat.set_weights(nested.get_weights())
    ids = np.where(MASK, rng.integers(1, 10, size=MASK.shape), 0)
    np.testing.assert_array_equal(nested.predict(ids, verbose=0), flat.predict(ids, verbose=0))



@pytest.mark.parametrize("end", [
    lambda: [layers.Flatten()], lambda: [layers.GlobalMaxPooling1D()],
    lambda: [layers.Conv1D(2, 2), layers.Flatten()],
    lambda: [layers.LSTM(2, return_sequences=True), layers.LSTM(2)],
])
def test_layers_that_end_the_mask_build(end):
    model = _sequential(*end(), layers.Dense(1))
    model.build()
    assert model.predict(np.where(MASK, 3, 0), verbose=0).shape == (5, 1)


def test_a_mask_reaches_each_recurrent_layer_once_per_pass(rng):
    model = _sequential(layers.Dropout(0.5), layers.LSTM(2, return_sequences=True),
                        layers.GRU(2), layers.Dense(1))
    model.build()
    assert model.plan.mask_routes == {2: 0, 3: 0}
    ids = np.where(MASK, rng.integers(1, 10, size=MASK.shape), 0)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(ids, np.ones((5, 1)), epochs=1, verbose=0)  # training with dropout runs


# --- the rules against Keras's own layers -------------------------------------------------

KERAS_ARGS = {
    "Dense": (2,), "Activation": ("relu",), "Dropout": (0.5,), "SpatialDropout2D": (0.5,),
    "GaussianNoise": (0.1,), "GaussianDropout": (0.1,), "AlphaDropout": (0.1,),
    "Rescaling": (2.0,), "Dot": (1,), "Conv1D": (2, 2), "Conv2D": (2, 2),
    "Conv2DTranspose": (2, 2), "DepthwiseConv2D": (2,), "SeparableConv2D": (2, 2),
    "Conv1DTranspose": (2, 2), "SpatialDropout1D": (0.5,),
    "DepthwiseConv1D": (2,), "SeparableConv1D": (2, 2),
    "Permute": ((1,),), "Reshape": ((2,),), "RepeatVector": (2,), "Resizing": (2, 2),
    "CenterCrop": (2, 2), "RandomCrop": (2, 2), "RandomRotation": (0.1,),
    "RandomTranslation": (0.1, 0.1), "RandomZoom": (0.1,), "RandomBrightness": (0.1,),
    "RandomContrast": (0.1,), "CategoryEncoding": (3,), "Lambda": (lambda x: x,),
    "AveragePooling1D": (2,), "AveragePooling2D": (2,), "MaxPooling1D": (2,),
    "MaxPooling2D": (2,),
}
NOT_IN_TABLE = {"InputLayer", "Embedding", "Masking", "SimpleRNN", "LSTM", "GRU",
                "Bidirectional"}
#: Layers whose Keras counterpart uses the mask and glassnet does too (``masks.READS``).
READ_BY_GLASSNET = {"GlobalAveragePooling1D"}


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(set(layers.LAYER_CLASSES) - NOT_IN_TABLE))
def test_each_layers_rule_is_what_keras_does_with_a_mask(name):
    keras = pytest.importorskip("keras")
    reference = getattr(keras.layers, name)(*KERAS_ARGS.get(name, ()))
    uses = ("mask" in inspect.signature(type(reference).call).parameters
            or type(reference).compute_mask is not keras.layers.Layer.compute_mask)
    if uses and reference.supports_masking:
        keras_rule = masks.USES
    elif reference.supports_masking:
        keras_rule = masks.PASSES
    else:
        keras_rule = masks.ENDS  # Keras drops the mask (with a warning)
    ours = layers.LAYER_CLASSES[name].__new__(layers.LAYER_CLASSES[name])
    if name in READ_BY_GLASSNET:
        assert keras_rule == masks.USES
        assert masks.mask_rule(ours) == masks.READS
        assert type(reference).compute_mask(reference, None, np.ones((1, 2), bool)) is None
    else:
        assert masks.mask_rule(ours) == keras_rule


# --- GlobalAveragePooling1D averages the steps that count ---------------------------------


@pytest.mark.parametrize(("data_format", "keepdims"),
                         [("channels_last", False), ("channels_first", True)])
def test_masked_average_is_the_mean_of_the_steps_that_count(rng, data_format, keepdims):
    layer = layers.GlobalAveragePooling1D(data_format=data_format, keepdims=keepdims)
    x = rng.normal(size=(*MASK.shape, 3))
    given = np.moveaxis(x, 1, 2) if data_format == "channels_first" else x
    out = np.asarray(layer(given, mask=MASK))
    assert out.shape == ((5, 3, 1) if keepdims else (5, 3))
    out = out.reshape(5, 3)
    for row, kept in enumerate(MASK):
        if kept.any():
            np.testing.assert_allclose(out[row], x[row, kept].mean(axis=0), atol=1e-6)
    assert np.isnan(out[3]).all()  # no step counts: 0 / 0, as Keras
    np.testing.assert_allclose(np.asarray(layer(given)).reshape(5, 3), x.mean(axis=1),
                               atol=1e-6)  # without a mask, every step


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_masked_average_slopes_match_finite_differences(rng, float64, data_format):
    """Rows with steps that count: central differences (``check_layer_slopes``). The row
    with none gives NaN and passes back a slope of 0, as TensorFlow's ``where`` in Keras's
    ``call`` does (checked against Keras in tests/test_masks_keras.py)."""
    layer = layers.GlobalAveragePooling1D(data_format=data_format)
    counted = MASK.any(axis=1)
    mask = MASK[counted]
    x = rng.normal(size=(*mask.shape, 2))
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, 1, 2))
    layer.build(x.shape[1:])
    check_layer_slopes(layer, x, rng, forward=lambda: layer.forward(x, mask=mask))
    full = rng.normal(size=(*MASK.shape, 2))
    if data_format == "channels_first":
        full = np.ascontiguousarray(np.moveaxis(full, 1, 2))
    out, records = layer.forward(full, mask=MASK)
    grad = layer.backward(records, np.ones_like(out))
    assert np.isnan(out[~counted]).all() and np.isfinite(out[counted]).all()
    np.testing.assert_array_equal(grad[~counted], 0.0)
    np.testing.assert_array_equal(np.asarray(records.mask), MASK)  # in the glass box


def test_masked_average_refuses_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, steps\)"):
        layers.GlobalAveragePooling1D()(np.zeros((2, 3, 1)), mask=np.ones((2, 4), bool))


@pytest.mark.parametrize("ids", [True, False], ids=["mask_zero", "Masking"])
def test_the_mask_reaches_global_average_pooling_through_pass_through_layers(rng, ids):
    stack = [layers.Dropout(0.5), layers.Activation("tanh"), layers.GlobalAveragePooling1D(),
             layers.Dense(1)]
    model = _sequential(*stack, ids=ids)
    model.build()
    assert model.plan.mask_routes == {3: 0}
    inputs = layers.Input(shape=(5,) if ids else (5, 3))
    x = (layers.Embedding(10, 3, mask_zero=True) if ids else layers.Masking())(inputs)
    for layer in [layers.Dropout(0.5), layers.Activation("tanh"),
                  layers.GlobalAveragePooling1D()]:
        x = layer(x)
    functional = glassnet.Model(inputs, layers.Dense(1)(x))
    functional.set_weights(model.get_weights())
    data = (np.where(MASK, rng.integers(1, 10, size=MASK.shape), 0) if ids
            else np.where(MASK[..., None], rng.normal(size=(*MASK.shape, 3)), 0.0))
    got = model.predict(data, verbose=0)
    np.testing.assert_array_equal(functional.predict(data, verbose=0), got)
    assert np.isnan(got[3]).all() and np.isfinite(np.delete(got, 3, axis=0)).all()
    counted = MASK.any(axis=1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(data[counted], np.ones((4, 1)), epochs=1, verbose=0)  # training with dropout
    assert all(np.isfinite(w).all() for w in model.get_weights())
