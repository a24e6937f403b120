"""The compiled loops of ``glassnet[fast]`` (``glassnet._compiled``): switched as documented,
used when on, and training to the NumPy path's numbers in float32.

``tests/test_conv_pool.py`` runs every case of the fused convolution and pooling with and
without the loops, in float64; this file checks the switch and a whole training run.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import glassnet as keras
from glassnet import _compiled, layers
from glassnet.engine.conv_pool import ConvPool
from glassnet.engine.row_chunks import RowChunkRun

pytest.importorskip("numba", reason="the compiled loops need numba (glassnet[fast])")


@pytest.fixture(autouse=True)
def restore_switch(monkeypatch):
    monkeypatch.setattr(_compiled, "_enabled", _compiled._enabled)


def _convnet(seed: int = 3):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=(16, 16, 1)),
        layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(5, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _images(rows: int = 96):
    rng = np.random.default_rng(7)
    x = np.where(rng.random((rows, 16, 16, 1)) < 0.3, rng.random((rows, 16, 16, 1)), 0)
    return x.astype("float32"), rng.integers(0, 5, rows)


def _trained(loops: bool):
    keras.config.set_compiled_kernels(loops)
    model = _convnet()
    x, y = _images()
    history = model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    return model, history.history, model.predict(x, verbose=0)


def test_two_epochs_with_the_loops_equal_numpy_s_in_float32():
    """Sums added in another order differ in the last bits; after two epochs of Adam the
    weights, losses and predictions agree to float32 rounding."""
    with_loops, history, predicted = _trained(True)
    numpy_only, history_ref, predicted_ref = _trained(False)
    for got, want in zip(with_loops.get_weights(), numpy_only.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(history["loss"], history_ref["loss"], rtol=1e-5)
    np.testing.assert_allclose(predicted, predicted_ref, rtol=1e-4, atol=1e-6)


def _pair_records(model, x) -> list:
    """The records the pairs of ``model``'s chunked run keep for a pass over ``x``."""
    model.compute_gradients(x, np.zeros(len(x), int))
    pairs = [unit for step in model.plan.steps if isinstance(step, RowChunkRun)
             for unit in step.units if isinstance(unit, ConvPool)]
    assert len(pairs) == 2
    x = x.astype("float32")
    first, record = pairs[0].forward(x, training=True)
    second, record2 = pairs[1].forward(first, training=True)
    return [record, record2]


def test_the_loops_run_when_on_and_not_when_off():
    """On: the first pair (3×3×1 patches) is convolved in the loop (it keeps the padded
    input and no patch rows), the second through its product with the loop's pooling
    (winners kept). Off: neither keeps winners."""
    model = _convnet()
    x, _ = _images(8)
    keras.config.set_compiled_kernels(True)
    assert keras.config.compiled_kernels()
    direct, product = _pair_records(model, x)
    assert direct.xp is not None and direct.cols is None and direct.winners is not None
    assert product.xp is None and product.cols is not None and product.winners is not None
    keras.config.set_compiled_kernels(False)
    assert not keras.config.compiled_kernels()
    for record in _pair_records(model, x):
        assert record.winners is None and record.cols is not None


def test_the_environment_turns_the_loops_off():
    code = "import glassnet; print(glassnet.config.compiled_kernels())"
    for value, expected in (("0", "False"), ("1", "True")):
        env = {**os.environ, "GLASSNET_COMPILED": value}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, check=True)
        assert done.stdout.strip() == expected


def test_turning_them_on_without_numba_names_the_extra(monkeypatch):
    monkeypatch.setattr(_compiled, "available", lambda: False)
    with pytest.raises(ImportError, match=r'pip install "\.\[fast\]"'):
        keras.config.set_compiled_kernels(True)
    keras.config.set_compiled_kernels(False)  # off always works
    assert not keras.config.compiled_kernels()


def test_a_shape_token_s_type_carries_the_sizes():
    loops = _compiled.load()
    token = loops.shape_token(3, 2, 4)
    assert (len(token), len(token[0]), len(token[0][0])) == (3, 2, 4)
    assert loops.shape_token(2, 2) == ((0, 0), (0, 0))


@pytest.mark.parametrize("strides, dilation, channels", [
    ((1, 1), (1, 1), 4), ((2, 1), (1, 1), 8), ((2, 3), (1, 2), 5), ((1, 1), (2, 2), 16),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_patch_slopes_added_back_equal_numpy_s(strides, dilation, channels, dtype):
    """``add_patches`` (every convolution's input slope, a transposed convolution's output,
    overlapping pooling windows' slopes) by the loop and by NumPy's strided adds."""
    from glassnet.layers import _patches as P

    rng = np.random.default_rng(channels)
    rows, oh, ow, kh, kw = 3, 5, 4, 3, 2
    height = (oh - 1) * strides[0] + (kh - 1) * dilation[0] + 1
    width = (ow - 1) * strides[1] + (kw - 1) * dilation[1] + 1
    patches = rng.standard_normal((rows, oh, ow, kh, kw, channels)).astype(dtype)
    start = rng.standard_normal((rows, height, width, channels)).astype(dtype)
    sums = {}
    for loops in (True, False):
        keras.config.set_compiled_kernels(loops)
        sums[loops] = start.copy()
        P.add_patches(sums[loops], patches, strides, dilation)
    np.testing.assert_allclose(sums[True], sums[False], rtol=1e-6 if dtype == "float32"
                               else 1e-14, atol=1e-6 if dtype == "float32" else 1e-14)
    assert not np.array_equal(sums[True], start)


def test_a_one_channel_input_s_slope_is_added_by_numpy(monkeypatch):
    """Below ``MIN_ADD_CHANNELS`` NumPy's adds are faster; the loop is not called."""
    from glassnet.layers import _patches as P

    calls = []
    monkeypatch.setattr(_compiled.load(), "add_patch_slopes", lambda *a: calls.append(a))
    keras.config.set_compiled_kernels(True)
    grad_xp = np.zeros((1, 4, 4, 1), "float32")
    P.add_patches(grad_xp, np.ones((1, 2, 2, 3, 3, 1), "float32"), (1, 1), (1, 1))
    assert not calls and grad_xp[0, 1, 1, 0] == 4


def test_a_numba_that_fails_to_import_leaves_numpy_with_a_warning(monkeypatch):
    """Numba built for another NumPy raises at import; glassnet then runs on NumPy and
    says why, instead of failing in the middle of a forward pass."""

    def broken():
        raise ImportError("Numba needs NumPy 2.3 or less")

    monkeypatch.setattr(_compiled, "load", broken)
    monkeypatch.setattr(_compiled, "_enabled", None)
    monkeypatch.delenv("GLASSNET_COMPILED", raising=False)
    with pytest.warns(RuntimeWarning, match="Numba is installed but failed to import.*2.3"):
        assert not keras.config.compiled_kernels()
    model = _convnet()
    x, y = _images(8)
    model.fit(x, y, epochs=1, verbose=0)  # runs on NumPy
    with pytest.raises(ImportError, match="2.3"):
        keras.config.set_compiled_kernels(True)
