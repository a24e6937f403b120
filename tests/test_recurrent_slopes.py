"""Slopes of the recurrent layers (``SimpleRNN``, ``LSTM``, ``GRU``, ``Bidirectional``) against
central differences in float64: the input and every weight, with ``return_sequences`` both
ways, ``go_backwards``, without bias, GRU's two ``reset_after`` conventions, and with
dropout masks (drawn once per pass; the check reuses one pass's masks).
"""

from __future__ import annotations

import pytest
from gradcheck import check_layer_slopes

from glassnet.layers import GRU, LSTM, Bidirectional, SimpleRNN

CASES = [
    (SimpleRNN, {}),
    (SimpleRNN, {"return_sequences": True, "go_backwards": True}),
    (SimpleRNN, {"activation": "relu", "use_bias": False, "return_sequences": True}),
    (LSTM, {}),
    (LSTM, {"return_sequences": True}),
    (LSTM, {"go_backwards": True}),
    (LSTM, {"go_backwards": True, "return_sequences": True, "use_bias": False}),
    (LSTM, {"recurrent_activation": "tanh", "activation": "sigmoid"}),
    (GRU, {}),
    (GRU, {"return_sequences": True, "go_backwards": True}),
    (GRU, {"reset_after": False}),
    (GRU, {"reset_after": False, "return_sequences": True, "use_bias": False}),
]


def _random_weights(layer, rng):
    layer.set_weights([rng.normal(scale=0.6, size=w.shape) for w in layer.get_weights()])


@pytest.mark.parametrize(("cls", "kwargs"), CASES,
                         ids=[f"{c.__name__}-{sorted(k.items())}" for c, k in CASES])
def test_recurrent_slopes_match_finite_differences(cls, kwargs, rng, float64):
    layer = cls(3, **kwargs)
    x = rng.normal(size=(2, 4, 3))
    layer.build(x.shape)
    _random_weights(layer, rng)
    checked = check_layer_slopes(layer, x, rng)
    expected = ["kernel", "recurrent_kernel"] + (["bias"] if layer.use_bias else [])
    assert checked == sorted(expected)


@pytest.mark.parametrize("cls", [SimpleRNN, LSTM, GRU])
@pytest.mark.parametrize("implementation", [1, 2])
def test_slopes_with_dropout_masks_held_fixed(cls, implementation, rng, float64):
    layer = cls(3, dropout=0.3, recurrent_dropout=0.4 if implementation == 1 else 0.0,
                implementation=implementation, return_sequences=True, seed=3)
    x = rng.normal(size=(3, 5, 2))
    layer.build(x.shape)
    _random_weights(layer, rng)
    _, record = layer.forward(x, training=True)
    masks = (record.in_masks, record.rec_masks)
    assert masks[0] is not None
    assert (masks[1] is not None) == (implementation == 1)
    draw = layer._masks
    layer._masks = lambda *args: masks  # the same masks for every evaluation
    try:
        check_layer_slopes(layer, x, rng, training=True)
    finally:
        layer._masks = draw


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_slopes_match_finite_differences(merge_mode, return_sequences, rng,
                                                       float64):
    layer = Bidirectional(GRU(2, return_sequences=return_sequences), merge_mode=merge_mode)
    x = rng.normal(size=(2, 4, 3))
    layer.build(x.shape)
    _random_weights(layer, rng)
    checked = check_layer_slopes(layer, x, rng)
    assert len(checked) == 6
