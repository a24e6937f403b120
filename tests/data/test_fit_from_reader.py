"""`model.fit` trains straight from a streaming reader, one pass of the file per epoch."""

import numpy as np
import pytest

from glassnet.data import read_csv
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import Adam
from glassnet.utils import set_random_seed


def test_fit_accepts_a_csv_reader_and_learns(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 3))
    y = 2 * x[:, 0] - x[:, 1]
    lines = ["a,b,c,t"] + [f"{a},{b},{c},{t}" for (a, b, c), t in zip(x, y, strict=True)]
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")

    batches = read_csv(path, target="t", batch_size=32, shuffle_buffer=100, seed=0)
    set_random_seed(0)
    model = Sequential([Dense(16, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer=Adam(learning_rate=0.01), loss="mse")
    history = model.fit(batches, epochs=4, verbose=0)

    assert len(history.history["loss"]) == 4
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert model.evaluate(x.astype("float32"), y, verbose=0) == pytest.approx(
        model.evaluate(read_csv(path, target="t", batch_size=600), verbose=0), rel=1e-5
    )
