"""Round trips with real Keras 3, both directions (skipped when keras is not installed).

Keras loads glassnet's ``.keras``, ``.h5`` and weights files with its default safe mode and
predicts glassnet's numbers; Keras continuing from glassnet's optimizer state takes the
same steps as glassnet; and a model Keras saved loads in glassnet, trains further, and is
saved again for Keras to load.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from glassnet import optimizers  # noqa: E402
from glassnet.layers import (  # noqa: E402
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Input,
    Normalization,
    Reshape,
)
from glassnet.models import Sequential, load_model, model_from_json  # noqa: E402
from glassnet.utils import set_random_seed  # noqa: E402

pytestmark = [pytest.mark.keras, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
TOL = {"atol": 1e-6, "rtol": 1e-5}


def _data(rows=64, columns=6, outputs=3, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(rows, columns)) * 2 + 0.5).astype(np.float32)
    y = np.eye(outputs, dtype=np.float32)[rng.integers(0, outputs, rows)]
    return x, y


def _glassnet_model(optimizer="adam", dropout=True):
    x, _ = _data()
    norm = Normalization()
    norm.adapt(x)
    model = Sequential([
        Input(shape=(6,)), norm, Dense(8, activation="gelu", kernel_regularizer="l2"),
        BatchNormalization(momentum=0.7), *([Dropout(0.2)] if dropout else []),
        Dense(4, activation="selu", use_bias=False), Activation("softplus"), Reshape((2, 2)),
        Flatten(), Normalization(mean=[0.0, 1.0, 0.0, 1.0], variance=[1.0, 4.0, 1.0, 4.0]),
        Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                  metrics=["accuracy", "mae"])
    return model


@pytest.fixture(scope="module")
def trained():
    set_random_seed(5)
    model = _glassnet_model()
    model.fit(*_data(), epochs=2, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_keras_loads_glassnet_files(tmp_path, trained, fmt):
    path = str(tmp_path / f"g.{fmt}")
    trained.save(path)
    loaded = keras.models.load_model(path)  # default safe_mode=True
    x, _ = _data(seed=3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), trained.predict(x, verbose=0), **TOL)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in trained.layers]
    assert loaded.optimizer.__class__.__name__ == "Adam"
    assert getattr(loaded.loss, "__name__", loaded.loss) == "categorical_crossentropy"
    if fmt == "keras":  # Keras restores all optimizer variables from .keras files
        assert int(loaded.optimizer.iterations.numpy()) == trained.optimizer.iterations
        glassnet_velocity = trained.optimizer.slot_views("velocity")[0]
        keras_velocity = loaded.optimizer.variables[3].numpy().reshape(-1)
        np.testing.assert_array_equal(keras_velocity, glassnet_velocity)


@pytest.mark.parametrize("name", ["adam", "sgd_momentum", "rmsprop", "adagrad", "adamw"])
def test_keras_continues_from_glassnet_optimizer_state(tmp_path, name):
    make = {
        "adam": lambda: optimizers.Adam(learning_rate=0.01),
        "sgd_momentum": lambda: optimizers.SGD(momentum=0.9, nesterov=True),
        "rmsprop": lambda: optimizers.RMSprop(momentum=0.5, centered=True),
        "adagrad": lambda: optimizers.Adagrad(learning_rate=0.05),
        "adamw": lambda: optimizers.AdamW(amsgrad=True),
    }[name]
    set_random_seed(8)
    model = _glassnet_model(make(), dropout=False)
    x, y = _data()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "g.keras")
    theirs = keras.models.load_model(str(tmp_path / "g.keras"))
    more_x, more_y = _data(seed=9)
    theirs.fit(more_x, more_y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    model.fit(more_x, more_y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=5e-6, rtol=1e-5)


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_weighted_metrics_and_loss_weights_travel_both_ways(tmp_path, fmt):
    """``get_compile_config``'s weighted metrics and loss weight, read by Keras's
    ``compile_from_config`` (and written by it, read by glassnet's)."""
    x, y = _data()
    w = np.linspace(0, 1, len(x)).astype(np.float32)
    ours = Sequential([Input(shape=(6,)), Dense(3, activation="softmax")])
    ours.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["mae"],
                 weighted_metrics=["accuracy"], loss_weights=0.5)
    ours.save(tmp_path / f"g.{fmt}")
    theirs = keras.models.load_model(str(tmp_path / f"g.{fmt}"))
    expected = ours.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)

    def results(model):  # Keras names "mae" mean_absolute_error when read from an .h5
        found = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
        return {"mae" if k == "mean_absolute_error" else k: v for k, v in found.items()}

    found = results(theirs)
    assert set(found) == set(expected) == {"loss", "mae", "accuracy"}
    for name in expected:
        assert found[name] == pytest.approx(expected[name], rel=1e-5, abs=1e-6), name
    theirs.save(str(tmp_path / f"k.{fmt}"))
    again = load_model(tmp_path / f"k.{fmt}")
    assert again.get_compile_config()["loss_weights"] == 0.5
    assert results(again) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def _keras_model():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([
        keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu"),
        keras.layers.BatchNormalization(), keras.layers.Dropout(0.3),
        keras.layers.Dense(4, activation="tanh"), keras.layers.Activation("swish"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.RMSprop(momentum=0.9), loss="mse", metrics=["mae"])
    model.fit(*_data(), epochs=2, batch_size=16, verbose=0)
    return model


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_keras_saves_glassnet_trains_keras_loads(tmp_path, fmt):
    theirs = _keras_model()
    path = str(tmp_path / f"k.{fmt}")
    theirs.save(path)
    x, y = _data(seed=4)
    ours = load_model(path)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), **TOL)
    assert ours.compiled and ours.optimizer.iterations == 8
    ours.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert ours.optimizer.iterations == 16
    for out in ("again.keras", "again.h5"):
        ours.save(tmp_path / out)
        back = keras.models.load_model(str(tmp_path / out))
        np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0), **TOL)
    assert int(back.optimizer.iterations.numpy()) == 0  # Keras ignores .h5 optimizer state
    back.fit(x, y, epochs=1, verbose=0)  # ... and can still train (see docs/model-files.md)


def test_weights_files_both_ways(tmp_path, trained):
    theirs = keras.models.load_model(_saved(tmp_path, trained))
    x, _ = _data(seed=6)
    for name in ("g.weights.h5", "g_legacy.h5"):
        trained.save_weights(tmp_path / name)
        theirs.load_weights(str(tmp_path / name))
        np.testing.assert_allclose(theirs.predict(x, verbose=0), trained.predict(x, verbose=0),
                                   **TOL)
    keras_model = _keras_model()
    keras_model.save_weights(str(tmp_path / "k.weights.h5"))
    ours = load_model(_saved_keras(tmp_path, keras_model))
    ours.set_weights([np.zeros_like(w) for w in ours.get_weights()])
    ours.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                               **TOL)


def _saved(tmp_path, model) -> str:
    model.save(tmp_path / "for_keras.keras")
    return str(tmp_path / "for_keras.keras")


def _saved_keras(tmp_path, model) -> str:
    model.save(str(tmp_path / "from_keras.keras"))
    return str(tmp_path / "from_keras.keras")


def test_json_both_ways(trained):
    theirs = keras.models.model_from_json(trained.to_json())
    assert [layer.name for layer in theirs.layers] == [layer.name for layer in trained.layers]
    theirs.set_weights([w for layer in trained.layers for w in _keras_weights(layer)])
    for layer in theirs.layers:  # Keras's Normalization caches its statistics at load time
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()
    x, _ = _data(seed=7)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), trained.predict(x, verbose=0), **TOL)
    keras_model = _keras_model()
    ours = model_from_json(keras_model.to_json())
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in keras_model.layers]
    assert ours.count_params() == keras_model.count_params()


def _keras_weights(layer) -> list:
    if isinstance(layer, Normalization):  # Keras adds a `count` to adapted statistics
        return [] if layer.init_mean is not None else [*layer.get_weights(), np.int64(0)]
    return layer.get_weights()


def test_keras_reads_compile_settings_glassnet_writes(tmp_path):
    from glassnet import losses

    model = Sequential([Input(shape=(3,)), Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.5, clipnorm=1.0),
                  loss=losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["mae", "categorical_accuracy"])
    for fmt in ("keras", "h5"):
        model.save(tmp_path / f"c.{fmt}")
        theirs = keras.models.load_model(str(tmp_path / f"c.{fmt}"))
        config = theirs.optimizer.get_config()
        assert config["momentum"] == 0.5 and config["clipnorm"] == 1.0
        assert abs(config["learning_rate"] - 0.05) < 1e-8
        assert theirs.loss.get_config()["label_smoothing"] == 0.1
        x, y = _data(rows=8, columns=3, outputs=2)
        theirs.evaluate(x, y, verbose=0)  # the metrics resolve in Keras
