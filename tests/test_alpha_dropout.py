"""``AlphaDropout`` (``keras/src/layers/regularization/alpha_dropout.py``): the dropped
values set to SELU's saturation, then ``a * x + b``; mean 0 and variance 1 kept for
standardized inputs; the slope is ``a`` where kept, 0 where dropped."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import numerical_gradient

from glassnet import layers

ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def test_formula_and_slope(float64):
    layer = layers.AlphaDropout(0.25, seed=2)
    x = np.random.default_rng(0).normal(size=(6, 5))
    out, records = layer.forward(x, training=True)
    a = ((1 - 0.25) * (1 + 0.25 * ALPHA_P**2)) ** -0.5
    b = -a * ALPHA_P * 0.25
    kept = records / a
    assert set(np.unique(kept)) <= {0.0, 1.0} and 0 < kept.sum() < kept.size
    np.testing.assert_allclose(out, a * (x * kept + ALPHA_P * (1 - kept)) + b)
    grad = np.random.default_rng(1).normal(size=out.shape)

    def objective():
        return float(np.sum(grad * (a * (x * kept + ALPHA_P * (1 - kept)) + b)))

    np.testing.assert_allclose(
        layer.backward(records, grad), numerical_gradient(objective, x), rtol=1e-6, atol=1e-8
    )


def test_keeps_mean_and_variance_and_passes_through_at_inference():
    x = np.random.default_rng(3).normal(size=(200_000,))
    out, _ = layers.AlphaDropout(0.2, seed=4).forward(x, training=True)
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01
    same, records = layers.AlphaDropout(0.2).forward(x, training=False)
    assert same is x and records is None


def test_noise_shape_broadcasts_one_draw(float64):
    out, _ = layers.AlphaDropout(0.5, noise_shape=[None, 1], seed=0).forward(
        np.ones((50, 4)), training=True
    )
    assert np.all(out == out[:, :1])
    with pytest.raises(ValueError, match="noise_shape"):
        layers.AlphaDropout(0.5, noise_shape="rows")
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.AlphaDropout(1.5)


def test_config_round_trip():
    layer = layers.AlphaDropout(0.3, noise_shape=[None, 1], seed=5)
    again = layers.AlphaDropout.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    assert "AlphaDropout" in layers.LAYER_CLASSES
