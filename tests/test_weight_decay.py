"""``weight_decay`` on SGD, Adam, RMSprop and Adagrad (and AdamW), as Keras 3 applies it.

Keras 3 (``keras/src/optimizers/base_optimizer.py``, ``_apply_weight_decay``), after
clipping the gradients and before the optimizer's own step, shrinks every trainable
variable, kernels and biases alike::

    variable.assign(variable - variable * weight_decay * learning_rate)

Numbers worked by hand first, then one step (and three) against real Keras with the same
weights and gradients, then one training step of a model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from ci_tools import require_tool

from glassnet import optimizers
from glassnet.layers import Dense, Input
from glassnet.models import Sequential

LR, WD = 0.1, 0.5
W0 = [1.0, -2.0, 0.5]
G = [0.5, -1.0, 2.0]
DECAYED = [0.95, -1.9, 0.475]  # W0 * (1 - WD * LR): the decay alone

# Each optimizer's own first step for G (subtracted from DECAYED), worked by hand:
FIRST_STEP = {
    # learning_rate * g
    "SGD": [0.05, -0.1, 0.2],
    # m = 0.1 g, v = 0.001 g², alpha = lr * √(1 - 0.999) / (1 - 0.9): alpha m / (√v + ε) is
    # lr * sign(g), less a hair for ε = 1e-7
    "Adam": [0.1, -0.1, 0.1],
    # velocity = (1 - rho) g² = 0.1 g²: lr g / √(0.1 g² + ε) is lr / √0.1 * sign(g)
    "RMSprop": [0.1 / math.sqrt(0.1), -0.1 / math.sqrt(0.1), 0.1 / math.sqrt(0.1)],
    # accumulator = 0.1 (its initial value) + g²: lr g / √(0.1 + g² + ε)
    "Adagrad": [0.05 / math.sqrt(0.35), -0.1 / math.sqrt(1.1), 0.2 / math.sqrt(4.1)],
}
AFTER_ONE_STEP = {  # DECAYED - FIRST_STEP, to 6 decimals
    "SGD": [0.9, -1.8, 0.275],
    "Adam": [0.85, -1.8, 0.375],
    "RMSprop": [0.633772, -1.583772, 0.158772],
    "Adagrad": [0.865485, -1.804654, 0.376227],
}
NAMES = list(FIRST_STEP)


def one_step(name, weight_decay, weights=W0, grads=G, dtype=np.float64, steps=1, **kwargs):
    optimizer = getattr(optimizers, name)(learning_rate=LR, weight_decay=weight_decay, **kwargs)
    params = np.array(weights, dtype=dtype)
    for _ in range(steps):
        optimizer.apply(params, np.array(grads, dtype=dtype))
    return params


@pytest.mark.parametrize("name", NAMES)
def test_one_step_worked_by_hand(name):
    got = one_step(name, WD)
    np.testing.assert_allclose(got, AFTER_ONE_STEP[name], atol=1e-6)
    expected = np.array(DECAYED) - np.array(FIRST_STEP[name])
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_the_decay_is_weight_times_decay_times_learning_rate(name):
    # The optimizer's own step does not depend on the weights, so the decayed run differs
    # from the undecayed one by exactly W0 * WD * LR.
    difference = one_step(name, None) - one_step(name, WD)
    np.testing.assert_allclose(difference, np.array(W0) * WD * LR, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_no_decay_by_default_or_with_zero(name):
    plain = getattr(optimizers, name)(learning_rate=LR)
    assert plain.weight_decay is None
    np.testing.assert_array_equal(one_step(name, None), one_step(name, 0.0))
    np.testing.assert_allclose(
        one_step(name, None), np.array(W0) - np.array(FIRST_STEP[name]), atol=1e-6
    )


def test_a_weight_with_no_gradient_still_decays():
    # A zero gradient: SGD leaves the weight alone, except for the decay.
    np.testing.assert_allclose(one_step("SGD", WD, grads=[0.0, 0.0, 0.0]), DECAYED)
    np.testing.assert_allclose(
        one_step("SGD", WD, grads=[0.0, 0.0, 0.0], steps=3), np.array(W0) * 0.95**3
    )


def test_the_decay_follows_the_current_learning_rate():
    sgd = optimizers.SGD(learning_rate=LR, weight_decay=WD)
    params = np.array(W0)
    sgd.apply(params, np.zeros(3))
    sgd.learning_rate = 0.02  # as ReduceLROnPlateau or a scheduler would set it
    sgd.apply(params, np.zeros(3))
    np.testing.assert_allclose(params, np.array(W0) * 0.95 * (1 - WD * 0.02))


def test_weight_decay_must_not_be_negative():
    for name in NAMES:
        with pytest.raises(ValueError, match="weight_decay"):
            getattr(optimizers, name)(weight_decay=-0.1)


def test_weight_decay_is_saved_in_the_config():
    sgd = optimizers.SGD(learning_rate=LR, weight_decay=WD)
    assert sgd.get_config()["weight_decay"] == WD
    assert optimizers.SGD.from_config(sgd.get_config()).weight_decay == WD


# --- against real Keras ---------------------------------------------------------------

# Keras computes Adam's bias correction in float32, where 1 - 0.999 is 0.00099998713: its
# step of 0.1 comes out ~6e-7 larger than the exact one that glassnet takes (in float64).
KERAS_ATOL = {"Adam": 5e-6, "AdamW": 5e-6}


def keras_steps(keras, name, weights, grads, steps=1, **kwargs):
    """``steps`` updates of Keras's optimizer on variables holding ``weights``."""
    optimizer = getattr(keras.optimizers, name)(learning_rate=LR, **kwargs)
    variables = [keras.Variable(np.array(w, dtype=np.float32)) for w in weights]
    for _ in range(steps):
        tensors = [keras.ops.convert_to_tensor(np.array(g, dtype=np.float32)) for g in grads]
        optimizer.apply_gradients(zip(tensors, variables, strict=True))
    return [np.asarray(v.numpy()) for v in variables]


def glassnet_steps(name, weights, grads, steps=1, **kwargs):
    """The same on glassnet's flat array: the variables one after another."""
    optimizer = getattr(optimizers, name)(learning_rate=LR, **kwargs)
    params = np.concatenate([np.ravel(w) for w in weights]).astype(np.float32)
    flat_grads = np.concatenate([np.ravel(g) for g in grads]).astype(np.float32)
    for _ in range(steps):
        optimizer.apply(params, flat_grads.copy())
    out, start = [], 0
    for w in weights:
        size = np.size(w)
        out.append(params[start : start + size].reshape(np.shape(w)))
        start += size
    return out


@pytest.mark.keras
@pytest.mark.parametrize("name", [*NAMES, "AdamW"])
@pytest.mark.parametrize("steps", [1, 3])
def test_matches_keras_with_the_same_weights_and_gradients(rng, name, steps):
    keras = require_tool("keras", "compares with Keras's optimizers: pip install keras")
    kernel = rng.normal(size=(4, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    grads = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]
    expected = keras_steps(keras, name, [kernel, bias], grads, steps, weight_decay=WD)
    got = glassnet_steps(name, [kernel, bias], grads, steps, weight_decay=WD)
    no_decay = 0.0 if name == "AdamW" else None  # AdamW refuses None, as Keras's
    undecayed = glassnet_steps(name, [kernel, bias], grads, steps, weight_decay=no_decay)
    for a, b, c in zip(got, expected, undecayed, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=KERAS_ATOL.get(name, 1e-6))
        assert np.max(np.abs(a - c)) > 1e-3  # the decay did something, biases included


@pytest.mark.keras
@pytest.mark.parametrize("name", NAMES)
def test_the_hand_worked_step_is_keras(name):
    keras = require_tool("keras", "compares with Keras's optimizers: pip install keras")
    (expected,) = keras_steps(keras, name, [W0], [G], weight_decay=WD)
    np.testing.assert_allclose(expected, AFTER_ONE_STEP[name], atol=KERAS_ATOL.get(name, 1e-6))


@pytest.mark.keras
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_a_training_step_of_a_model_matches_keras(rng, name):
    keras = require_tool("keras", "compares with Keras's training step: pip install keras")
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.normal(size=(16, 1)).astype(np.float32)
    kernel = rng.normal(size=(3, 1)).astype(np.float32)
    bias = np.array([0.7], np.float32)  # a bias far from zero, to see it decay too
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    reference.compile(
        optimizer=getattr(keras.optimizers, name)(learning_rate=LR, weight_decay=WD), loss="mse"
    )
    reference.set_weights([kernel, bias])
    reference.train_on_batch(x, y)
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(
        optimizer=getattr(optimizers, name)(learning_rate=LR, weight_decay=WD), loss="mse"
    )
    model.set_weights([kernel, bias])
    model.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=KERAS_ATOL.get(name, 1e-6))
