"""Memory (issue 9): ``predict`` and ``evaluate`` work batch by batch, so the memory they add
is the output plus about one batch of activations, not rows x hidden units.

Measured with ``tracemalloc``, which sees every NumPy array. What they may allocate
besides the output: the input check's mask of non-finite values (one byte per input
value) and a few arrays the size of one batch of the widest layer. A forward pass over all
rows at once would need rows x 256 x 4 bytes (195 MiB) per hidden layer here.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from glassnet.layers import Dense, Input
from glassnet.models import Sequential

ROWS, COLUMNS, WIDTH = 200_000, 20, 256
MIB = 2**20


@pytest.fixture(scope="module")
def model_and_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, COLUMNS)).astype(np.float32)
    y = rng.normal(size=(ROWS, 1)).astype(np.float32)
    model = Sequential([Input(shape=(COLUMNS,)), Dense(WIDTH, activation="relu"),
                        Dense(WIDTH, activation="relu"), Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.predict(x[:64], verbose=0)  # first calls allocate once-only state
    model.evaluate(x[:64], y[:64], verbose=0)
    return model, x, y


def _peak(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _allowed(batch_size: int, output_bytes: int, checked_values: int) -> int:
    """Output + one byte per checked input value + 8 batch-sized arrays + 1 MiB slack."""
    return output_bytes + checked_values + 8 * batch_size * WIDTH * 4 + MIB


@pytest.mark.parametrize("batch_size", [256, 2048])
def test_predict_adds_the_output_and_a_batch(model_and_data, batch_size):
    model, x, _ = model_and_data
    peak = _peak(lambda: model.predict(x, batch_size=batch_size, verbose=0))
    assert peak <= _allowed(batch_size, ROWS * 4, x.size)
    assert peak < ROWS * WIDTH * 4 / 10


@pytest.mark.parametrize("batch_size", [256, 2048])
def test_evaluate_adds_about_a_batch(model_and_data, batch_size):
    model, x, y = model_and_data
    peak = _peak(lambda: model.evaluate(x, y, batch_size=batch_size, verbose=0))
    assert peak <= _allowed(batch_size, 0, x.size + y.size)
    assert peak < ROWS * WIDTH * 4 / 10


def test_the_measurement_sees_a_pass_over_all_rows(model_and_data):
    """The same measurement on one forward pass over all rows exceeds the allowance, so
    the tests above would catch a predict that did not work in batches."""
    model, x, _ = model_and_data
    peak = _peak(lambda: model.forward(x, training=False))
    assert peak > _allowed(1024, ROWS * 4, x.size)
    assert peak >= ROWS * WIDTH * 4
