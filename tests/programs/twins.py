"""What every program test shares: real Keras as an oracle, weights copied between the two
libraries, and the tolerances of issue 17's "proof that real programs run".

Each program is written once, as ``build(keras)`` (and, where it trains by hand,
``train(keras, ...)``), and run on ``glassnet`` and on Keras 3 (TensorFlow backend) with the
same starting weights:

* predictions agree to 1e-5 relative (of the largest value compared): the two libraries sum
  float32 products in different orders (NumPy's BLAS against oneDNN), which moves the last
  of float32's ~7 digits;
* three epochs of training (``shuffle=False``) agree to 1e-3 relative on per-epoch losses
  and final weights: every step compounds those rounding differences; a wrong formula
  (a missing loss weight, a wrong slope, another optimizer default) moves them by far more.

Weights are copied with the model's own ``get_weights``/``set_weights`` and then checked
layer by layer by name, so a difference in the two libraries' weight order fails the test
instead of training two different networks.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import glassnet

PREDICTION_RTOL = 1e-5
TRAINING_RTOL = 1e-3


def real_keras():
    """Keras 3 on TensorFlow, or a skip where it is not installed (a failure under CI)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def assert_close(actual, desired, rtol: float, err_msg: str = "") -> None:
    """``actual`` equals ``desired`` within ``rtol`` of the largest magnitude in ``desired``
    (a value near zero came out of sums of larger terms, and carries their rounding)."""
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    assert actual.shape == desired.shape, f"{err_msg}: shapes {actual.shape} != {desired.shape}"
    scale = float(np.abs(desired).max()) if desired.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale, err_msg=err_msg)


def assert_all_close(actual, desired, rtol: float, what: str) -> None:
    """Lists (or dicts) of arrays, element by element."""
    if isinstance(desired, dict):
        assert sorted(actual) == sorted(desired), what
        actual, desired = (
            [actual[k] for k in sorted(desired)],
            [desired[k] for k in sorted(desired)],
        )
    if not isinstance(desired, (list, tuple)):
        actual, desired = [actual], [desired]
    assert len(actual) == len(desired), f"{what}: {len(actual)} arrays, expected {len(desired)}"
    for index, (a, d) in enumerate(zip(actual, desired, strict=True)):
        assert_close(a, d, rtol, err_msg=f"{what} [{index}]")


def assert_bitwise_equal(actual, desired, what: str) -> None:
    """The same code on the same shapes (a saved and reloaded model): the same bits."""
    if not isinstance(desired, (list, tuple)):
        actual, desired = [actual], [desired]
    assert len(actual) == len(desired), what
    for a, d in zip(actual, desired, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(d), err_msg=what)


def copy_weights(source, target) -> None:
    """``target.set_weights(source.get_weights())``, then checks that every layer of
    ``target`` holding weights got the weights of ``source``'s layer of the same name (the
    two libraries order a model's weights alike)."""
    target.set_weights(source.get_weights())
    checked = 0
    for layer in target.layers:
        if not layer.weights:
            continue
        theirs = source.get_layer(layer.name).get_weights()
        ours = layer.get_weights()
        assert len(ours) == len(theirs), f"layer {layer.name!r}: weight count differs"
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(
                np.asarray(a),
                np.asarray(b),
                err_msg=f"layer {layer.name!r}: the model-level weight order differs",
            )
        checked += 1
    assert checked, "no layer with weights was compared"


def weights_of(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def predict(model, x):
    """``model.predict`` without progress output, as a list of arrays."""
    out = model.predict(x, verbose=0)
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def save_and_reload(model, tmp_path, name: str, x):
    """Saves ``model`` in ``.keras``, loads it back with glassnet and checks that the reloaded
    model predicts the very same bits; returns the file's path."""
    path = tmp_path / f"{name}.keras"
    model.save(path)
    again = glassnet.models.load_model(path)
    assert_bitwise_equal(predict(again, x), predict(model, x), f"{name}: reloaded predictions")
    return path


def keras_loads(keras, path, x, expected) -> None:
    """Keras 3 loads glassnet's ``.keras`` file in safe mode and predicts glassnet's numbers."""
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert_all_close(predict(loaded, x), expected, PREDICTION_RTOL, f"Keras loading {path.name}")
