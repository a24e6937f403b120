"""Smaller pieces of Keras's catalog: ``layers.serialize``/``deserialize``,
``models.save_model``/``clone_model``, ``regularizers.deserialize``, the correlation metrics,
the focal crossentropies as metric functions, ``LambdaCallback``'s named hooks and
``utils.standardize_dtype`` (``keras/src/metrics/correlation_metrics.py``,
``keras/src/models/cloning.py``, ``keras/src/backend/common/variables.py``)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import callbacks, layers, losses, metrics, models, regularizers, utils


def test_layers_serialize_and_deserialize():
    dense = layers.Dense(3, activation="relu", name="d")
    data = layers.serialize(dense)
    assert data["class_name"] == "Dense" and data["module"] == "keras.layers"
    again = layers.deserialize(data)
    assert type(again) is layers.Dense and again.get_config() == dense.get_config()
    with pytest.raises(ValueError, match="Unknown layer"):
        layers.deserialize({"class_name": "os.system", "config": {}})

    class Mine(layers.Dense):
        pass

    assert (
        type(
            layers.deserialize(
                {"class_name": "Mine", "config": {"units": 2}}, custom_objects={"Mine": Mine}
            )
        )
        is Mine
    )


def test_save_model_and_clone_model(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, name="d")])
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "m.keras"
    models.save_model(model, path)
    loaded = models.load_model(path)
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
    with pytest.raises(ValueError, match="zipped"):
        models.save_model(model, tmp_path / "n.keras", zipped=False)
    clone = models.clone_model(model)
    assert clone is not model and [w.shape for w in clone.get_weights()] == [(3, 2), (2,)]
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])  # new weights
    with pytest.raises(NotImplementedError, match="clone_function"):
        models.clone_model(model, clone_function=lambda layer: layer)


def test_regularizers_deserialize():
    reg = regularizers.deserialize(regularizers.serialize(regularizers.L2(0.3)))
    assert type(reg) is regularizers.L2 and reg.get_config()["l2"] == pytest.approx(0.3)
    assert type(regularizers.deserialize("l1")) is regularizers.L1


def test_correlation_metrics_by_hand(float64):
    y_true = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    y_pred = np.array([[2.0, 4.0, 6.0], [3.0, 2.0, 1.0]])
    np.testing.assert_allclose(metrics.pearson_correlation(y_true, y_pred), [1.0, -1.0])
    m = metrics.PearsonCorrelation()
    m.update_state(y_true, y_pred)
    assert float(m.result()) == pytest.approx(0.0)
    same = metrics.concordance_correlation(y_true[:1], y_true[:1])
    assert same[0] == pytest.approx(1.0, abs=1e-6)
    assert metrics.get("pearson_correlation").__class__ is metrics.PearsonCorrelation
    assert metrics.ConcordanceCorrelation(axis=-1).get_config()["axis"] == -1


def test_focal_metric_functions_are_the_losses_values(float64):
    y_true, y_pred = np.array([[1.0, 0.0]]), np.array([[0.7, 0.2]])
    np.testing.assert_allclose(
        metrics.binary_focal_crossentropy(y_true, y_pred, gamma=1.0),
        losses.BinaryFocalCrossentropy(gamma=1.0, reduction=None)(y_true, y_pred),
    )
    np.testing.assert_allclose(
        metrics.categorical_focal_crossentropy(y_true, y_pred),
        losses.categorical_focal_crossentropy(y_true, y_pred),
    )


def test_lambda_callback_named_hooks():
    seen = []
    cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    model = models.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[cb])
    assert seen == [0, 1]
    with pytest.raises(TypeError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_ends=print)


def test_standardize_dtype():
    assert utils.standardize_dtype(None) == "float32"
    assert utils.standardize_dtype(float) == "float32"
    assert utils.standardize_dtype(int) == "int64"
    assert utils.standardize_dtype(np.float64) == "float64"
    assert utils.standardize_dtype(np.dtype("int8")) == "int8"
    assert utils.standardize_dtype("bool") == "bool"
    with pytest.raises(ValueError, match="Invalid dtype"):
        utils.standardize_dtype("float13")


def test_correlations_and_dtypes_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(4)
    y_true = rng.normal(size=(5, 6)).astype("float32")
    y_pred = (y_true + rng.normal(size=(5, 6))).astype("float32")
    for name in ("PearsonCorrelation", "ConcordanceCorrelation"):
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        ours.update_state(y_true, y_pred)
        theirs.update_state(y_true, y_pred)
        assert float(ours.result()) == pytest.approx(float(theirs.result()), rel=1e-5)
    for dtype in (None, float, int, bool, np.float64, "int8", np.dtype("uint16")):
        assert utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)
