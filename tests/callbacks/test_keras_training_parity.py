"""Ten epochs of plain SGD in glassnet and in real Keras 3, from identical weights.

With shuffle=False there is no randomness left, so the per-epoch training losses, the
validation losses (validation_split=0.25 holds out the same last rows) and the final
weights must agree up to float32 rounding. Tolerance: 1e-4 relative on losses.
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from glassnet.layers import Dense  # noqa: E402
from glassnet.models import Sequential  # noqa: E402
from glassnet.optimizers import SGD  # noqa: E402


def data(rows=96, cols=5, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, cols)).astype("float32")
    y = (np.sin(x[:, 0]) + x[:, 1] * x[:, 2] - 0.5 * x[:, 3]).astype("float32")
    return x, y


@pytest.mark.keras
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_ten_epochs_of_sgd_match_keras(activation):
    x, y = data()
    keras.utils.set_random_seed(0)
    reference = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(16, activation=activation),
            keras.layers.Dense(8, activation=activation),
            keras.layers.Dense(1),
        ]
    )
    reference.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    model = Sequential(
        [
            Dense(16, activation=activation, input_shape=(5,)),
            Dense(8, activation=activation),
            Dense(1),
        ]
    )
    model.compile(optimizer=SGD(learning_rate=0.05), loss="mse")
    model.set_weights(reference.get_weights())

    settings = dict(epochs=10, batch_size=16, validation_split=0.25, shuffle=False, verbose=0)
    expected = reference.fit(x, y, **settings).history
    got = model.fit(x, y, **settings).history

    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-4)
    np.testing.assert_allclose(got["val_loss"], expected["val_loss"], rtol=1e-4)
    for ours, theirs in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
