"""Recurrent layers without Keras: a hand-computed step, shapes, dropout, bad input, what is
not supported, configs, files in glassnet and the glass box on a model with an LSTM."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.explain import trace
from glassnet.layers import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Embedding,
    Input,
    SimpleRNN,
    deserialize,
    serialize,
)


def test_simple_rnn_two_steps_by_hand():
    layer = SimpleRNN(1, activation=None)
    layer.build((None, 2, 1))
    layer.set_weights([np.array([[2.0]]), np.array([[0.5]]), np.array([1.0])])
    # h1 = 2*1 + 0.5*0 + 1 = 3; h2 = 2*3 + 0.5*3 + 1 = 8.5
    out = layer(np.array([[[1.0], [3.0]]]))
    assert np.allclose(out, [[8.5]])
    backwards = SimpleRNN(1, activation=None, go_backwards=True, return_sequences=True)
    backwards.build((None, 2, 1))
    backwards.set_weights(layer.get_weights())
    # reads 3 then 1: h1 = 7, h2 = 2 + 3.5 + 1 = 6.5, returned in reading order
    assert np.allclose(backwards(np.array([[[1.0], [3.0]]])), [[[7.0], [6.5]]])


def test_lstm_one_step_by_hand():
    layer = LSTM(1, activation=None, recurrent_activation=None)
    layer.build((None, 1, 1))
    # kernel columns i, f, c, o; bias starts with the forget gate's 1 (unit_forget_bias)
    assert np.allclose(layer.get_weights()[2], [0, 1, 0, 0])
    layer.set_weights([np.array([[1.0, 2.0, 3.0, 4.0]]), np.zeros((1, 4)), np.zeros(4)])
    # i = 2, f = 4, g = 6, o = 8 for x = 2; c = f*0 + i*g = 12; h = o*c = 96
    assert np.allclose(layer(np.array([[[2.0]]])), [[96.0]])


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
def test_shapes_weights_and_keras_weight_shapes(cls):
    layer = cls(4, return_sequences=True)
    out = layer(np.zeros((2, 5, 3), dtype=np.float32))
    assert out.shape == (2, 5, 4)
    gates = {SimpleRNN: 1, LSTM: 4, GRU: 3}[cls]
    shapes = [w.shape for w in layer.get_weights()]
    bias = (2, 3 * 4) if cls is GRU else (gates * 4,)
    assert shapes == [(3, gates * 4), (4, gates * 4), bias]
    assert GRU(4, reset_after=False)(np.zeros((1, 2, 3))).shape == (1, 4)


def test_dropout_masks_are_drawn_per_pass_and_only_in_training(rng):
    layer = LSTM(3, dropout=0.5, recurrent_dropout=0.5, seed=0, return_sequences=True)
    x = rng.normal(size=(4, 6, 2)).astype(np.float32)
    layer.build(x.shape)
    inference, _ = layer.forward(x, training=False)
    assert np.array_equal(inference, layer.forward(x, training=False)[0])
    a, record = layer.forward(x, training=True)
    b, _ = layer.forward(x, training=True)
    assert not np.allclose(a, b)
    assert len(record.in_masks) == 4 and len(record.rec_masks) == 4  # one per gate, as Keras
    assert record.in_masks[0].shape == (4, 2) and record.rec_masks[0].shape == (4, 3)
    kept = record.in_masks[0][record.in_masks[0] != 0]
    assert np.allclose(kept, 2.0)  # kept values scaled by 1 / (1 - rate)
    shared = LSTM(3, dropout=0.5)
    shared.build(x.shape)
    assert len(shared.forward(x, training=True)[1].in_masks) == 1  # Keras's fused path


def test_a_two_dimensional_input_is_refused_with_the_shapes():
    with pytest.raises(ValueError, match=r"'lstm_in'.*\(batch, timesteps, features\).*\(None, 8\)"
                       r".*reshape"):
        LSTM(3, name="lstm_in")(np.zeros((4, 8)))
    with pytest.raises(ValueError, match="ndim=3"):
        glassnet.Sequential([Input(shape=(8,)), GRU(2)]).build()


def test_invalid_arguments_are_refused_as_keras_words_them():
    with pytest.raises(ValueError, match="invalid value for argument `units`"):
        LSTM(0)
    with pytest.raises(ValueError, match="Invalid merge mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))
    assert LSTM(2, dropout=1.5).dropout == 1.0  # clamped, as Keras does


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda: LSTM(2, return_state=True), "return_state"),
        (lambda: GRU(2, stateful=True), "stateful"),
        (lambda: Bidirectional(SimpleRNN(2), merge_mode=None), "merge_mode=None"),
        (lambda: Bidirectional(Dense(2)), "SimpleRNN, LSTM or GRU"),
    ],
)
def test_what_glassnet_does_not_support_is_refused_clearly(make, what):
    with pytest.raises(ValueError, match=what):
        make()


def test_initial_state_is_refused():
    with pytest.raises(ValueError, match="initial_state"):
        LSTM(2)(np.zeros((1, 3, 2)), initial_state=[np.zeros((1, 2)), np.zeros((1, 2))])


def test_a_mask_from_an_embedding_reaches_the_recurrent_layer_in_both_apis():
    # (tests/test_masks.py and test_masks_keras.py check what the layers do with it)
    model = glassnet.Sequential(
        [Input(shape=(5,)), Embedding(10, 3, mask_zero=True, name="emb"), LSTM(2)])
    model.build()
    assert model.plan.mask_routes == {1: 0}
    inputs = Input(shape=(5,))
    hidden = Dense(3)(Embedding(10, 3, mask_zero=True, name="emb2")(inputs))
    out = Bidirectional(GRU(2))(hidden)
    assert out.node.mask_from.layer.name == "emb2"


@pytest.mark.parametrize(
    "layer",
    [
        LSTM(3, return_sequences=True, go_backwards=True, unit_forget_bias=False,
             kernel_regularizer="l2", recurrent_constraint="non_neg", dropout=0.1, seed=2),
        GRU(2, reset_after=False, recurrent_activation="hard_sigmoid", use_bias=False),
        SimpleRNN(2, activation="relu", recurrent_dropout=0.2),
        Bidirectional(LSTM(2, return_sequences=True), merge_mode="ave"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trip(layer):
    again = deserialize(serialize(layer))
    assert type(again) is type(layer)
    assert again.get_config() == layer.get_config()


def test_functional_model_and_glassnet_files_round_trip(tmp_path, rng):
    inputs = Input(shape=(6, 3))
    hidden = Bidirectional(LSTM(4, return_sequences=True))(inputs)
    outputs = Dense(2)(GRU(3)(hidden))
    model = glassnet.Model(inputs, outputs)
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    expected = model.predict(x, verbose=0)
    for name in ("m.keras", "m.h5"):
        model.save(str(tmp_path / name))
        loaded = glassnet.models.load_model(str(tmp_path / name))
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6)


def test_training_an_embedding_lstm_model_lowers_the_loss(rng):
    x = rng.integers(1, 10, size=(64, 6))
    y = (x[:, -1] > 5).astype(np.int64)  # the class is in the last step
    model = glassnet.Sequential([
        Input(shape=(6,)), Embedding(10, 4), LSTM(8), Dense(2, activation="softmax")])
    model.compile(optimizer=glassnet.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_trace_shows_a_model_with_an_lstm(rng):
    model = glassnet.Sequential([Input(shape=(4, 2)), LSTM(3), Dense(1)])
    x = rng.normal(size=(2, 4, 2)).astype(np.float32)
    shown = trace(model, x)
    assert [layer.kind for layer in shown.layers] == ["LSTM", "Dense"]
    np.testing.assert_allclose(shown.prediction, model.predict(x, verbose=0))
    np.testing.assert_allclose(shown.layers[0].outputs, model.layers[0](x))
    assert model.layers[0].name in str(shown)


def test_the_record_keeps_every_step(rng):
    layer = GRU(3, return_sequences=True)
    x = rng.normal(size=(2, 5, 4)).astype(np.float32)
    layer.build(x.shape)
    out, record = layer.forward(x)
    assert record.steps.states.shape == (6, 2, 3)  # the initial state and every step's
    assert record.steps.gates.shape == record.steps.z.shape == (5, 2, 9)
    np.testing.assert_allclose(record.steps.states[1:].transpose(1, 0, 2), out)
