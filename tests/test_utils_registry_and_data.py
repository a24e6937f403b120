"""``keras.utils``'s registry of the user's objects, its data helpers (``split_dataset``,
``timeseries_dataset_from_array``, ``pack``/``unpack_x_y_sample_weight``), ``Progbar``, and
``keras.config``'s switches (interactive logging, traceback filtering, unsafe
deserialization, ``max_epochs``, dtype policies). Keras's behaviour read from
``keras/src/saving/object_registration.py``, ``keras/src/utils/dataset_utils.py``,
``timeseries_dataset_utils.py``, ``progbar.py`` and ``keras/src/backend/config.py``; real
Keras is the oracle for the data helpers where installed."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

import glassnet
from glassnet import config, layers, utils
from glassnet.models import Sequential

# --- the registry -------------------------------------------------------------------------


class Scale:
    def __init__(self, factor=2.0):
        self.factor = factor

    def get_config(self):
        return {"factor": self.factor}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@pytest.fixture
def registry():
    saved = dict(utils.get_custom_objects())
    yield utils.get_custom_objects()
    utils.get_custom_objects().clear()
    utils.get_custom_objects().update(saved)


def test_register_serialize_and_deserialize_a_user_class(registry):
    registered = utils.register_keras_serializable(package="mine")(Scale)
    assert registered is Scale
    assert utils.get_registered_name(Scale) == "mine>Scale"
    assert utils.get_registered_object("mine>Scale") is Scale
    assert registry["mine>Scale"] is Scale
    data = utils.serialize_keras_object(Scale(3.0))
    assert data["class_name"] == "Scale" and data["registered_name"] == "mine>Scale"
    assert data["config"] == {"factor": 3.0}
    again = utils.deserialize_keras_object(data)
    assert isinstance(again, Scale) and again.factor == 3.0

    def other(x):
        return x

    with pytest.raises(ValueError, match="already been registered"):
        utils.register_keras_serializable(package="mine", name="Scale")(other)
    with pytest.raises(ValueError, match="get_config"):
        utils.register_keras_serializable(package="mine")(dict)


def test_unregistered_classes_are_found_only_where_the_program_put_them(registry):
    data = {
        "module": "os",
        "class_name": "Scale",
        "config": {"factor": 5.0},
        "registered_name": None,
    }
    with pytest.raises(ValueError, match="Could not locate"):
        utils.deserialize_keras_object(data)  # nothing is imported from "module"
    assert utils.deserialize_keras_object(data, custom_objects={"Scale": Scale}).factor == 5.0
    with utils.custom_object_scope({"Scale": Scale}):
        assert utils.get_registered_object("Scale") is Scale
        assert utils.deserialize_keras_object(data).factor == 5.0
    assert utils.get_registered_object("Scale") is None
    assert utils.CustomObjectScope is utils.custom_object_scope
    with pytest.raises(ValueError, match="lambda"):
        utils.deserialize_keras_object({"class_name": "__lambda__", "config": {"code": "x"}})


def test_plain_values_round_trip():
    value = {"a": (1, 2.5, "x"), "b": [None, True]}
    assert utils.deserialize_keras_object(utils.serialize_keras_object(value)) == value


def test_model_files_still_refuse_registered_classes(registry, tmp_path):
    """The registry is for Python; glassnet's files keep their own allowlist."""

    @utils.register_keras_serializable(package="mine")
    class Doubling(layers.Dense):
        pass

    model = Sequential([layers.Input((2,)), Doubling(1)])
    path = tmp_path / "m.keras"
    try:
        model.save(path)
    except Exception as error:  # refused on writing is as good as on reading
        assert "Doubling" in str(error) or "custom" in str(error).lower()
        return
    with pytest.raises(Exception, match="Doubling"):
        glassnet.models.load_model(path)


# --- data helpers ---------------------------------------------------------------------------


def test_split_dataset_sizes_and_order():
    x, y = np.arange(10).reshape(10, 1), np.arange(10) * 10
    (xl, yl), (xr, yr) = utils.split_dataset((x, y), left_size=0.7)
    assert xl.shape == (7, 1) and xr.shape == (3, 1)
    np.testing.assert_array_equal(yr, [70, 80, 90])
    left, right = utils.split_dataset(np.arange(10), left_size=2, right_size=3)
    np.testing.assert_array_equal(left, [0, 1])
    np.testing.assert_array_equal(right, [7, 8, 9])  # the last right_size samples, as Keras
    left, right = utils.split_dataset(np.arange(10), right_size=0.25, shuffle=True, seed=1)
    assert sorted(np.concatenate([left, right])) != [] and len(left) == 8 and len(right) == 2
    with pytest.raises(ValueError, match="At least one"):
        utils.split_dataset(np.arange(4))
    with pytest.raises(ValueError, match="left_size"):
        utils.split_dataset(np.arange(4), left_size=1.5)
    with pytest.raises(TypeError, match="NumPy array"):
        utils.split_dataset("abc", left_size=1)


def test_timeseries_windows_by_hand():
    data = np.arange(20).reshape(10, 2)
    targets = np.arange(10) * 100
    ds = utils.timeseries_dataset_from_array(
        data, targets, sequence_length=3, sequence_stride=2, sampling_rate=2, batch_size=2
    )
    # windows start at 0, 2 (num_seqs = 10 - 2 * 2 = 6 -> starts 0, 2, 4)
    assert len(ds) == 2
    xb, yb = ds[0]
    np.testing.assert_array_equal(xb[1], data[[2, 4, 6]])
    np.testing.assert_array_equal(yb, [0, 200])
    xb, yb = ds[1]
    np.testing.assert_array_equal(yb, [400])
    only = utils.timeseries_dataset_from_array(data, None, 4, batch_size=None, start_index=2)
    np.testing.assert_array_equal(only[0], data[2:6])
    assert len(only) == 5
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)


def test_fit_takes_a_timeseries_dataset():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(40, 1)).astype("float32")
    ds = utils.timeseries_dataset_from_array(series, series[:, 0], 5, batch_size=8)
    model = Sequential([layers.Input((5, 1)), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_pack_and_unpack_as_keras():
    x, y, w = np.ones(2), np.zeros(2), np.full(2, 0.5)
    assert utils.pack_x_y_sample_weight(x) is x
    assert utils.pack_x_y_sample_weight([x, x]) == ([x, x],)
    assert utils.pack_x_y_sample_weight(x, y) == (x, y)
    assert utils.pack_x_y_sample_weight(x, y, w) == (x, y, w)
    assert utils.unpack_x_y_sample_weight(x) == (x, None, None)
    assert utils.unpack_x_y_sample_weight([x, y]) == (x, y, None)
    assert utils.unpack_x_y_sample_weight((x, y, w)) == (x, y, w)
    with pytest.raises(ValueError, match="format"):
        utils.unpack_x_y_sample_weight((x, y, w, w))


def test_data_helpers_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    keras = pytest.importorskip("keras")
    x = np.arange(30, dtype="float32").reshape(15, 2)
    y = np.arange(15, dtype="float32")
    for kwargs in ({"left_size": 0.6}, {"right_size": 4, "shuffle": True, "seed": 3}):
        ours = utils.split_dataset((x, y), **kwargs)
        theirs = keras.utils.split_dataset((x, y), **kwargs)
        for mine, other in zip(ours, theirs, strict=True):
            rows = list(other.as_numpy_iterator())
            np.testing.assert_array_equal(mine[0], np.stack([r[0] for r in rows]))
            np.testing.assert_array_equal(mine[1], np.stack([r[1] for r in rows]))
    kwargs = {
        "sequence_length": 4,
        "sequence_stride": 3,
        "sampling_rate": 2,
        "batch_size": 2,
        "start_index": 1,
        "end_index": 14,
    }
    ours = utils.timeseries_dataset_from_array(x, y, **kwargs)
    theirs = list(keras.utils.timeseries_dataset_from_array(x, y, **kwargs).as_numpy_iterator())
    assert len(ours) == len(theirs)
    for (xo, yo), (xt, yt) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(xo, xt)
        np.testing.assert_array_equal(yo, yt)


# --- Progbar ------------------------------------------------------------------------------


def test_progbar_averages_as_keras(capsys):
    bar = utils.Progbar(target=4, verbose=2, stateful_metrics=["acc"])
    bar.update(1, [("loss", 1.0), ("acc", 0.1)])
    bar.update(3, [("loss", 4.0), ("acc", 0.5)])  # loss counts twice: (1 + 2 * 4) / 3 = 3
    assert bar._average("loss") == pytest.approx(3.0)
    assert bar._average("acc") == pytest.approx(0.5)
    assert capsys.readouterr().out == ""  # verbose=2 writes when done
    bar.add(1, [("loss", 2.0)])  # finalize: the last value, as Keras
    out = capsys.readouterr().out
    assert out.startswith("4/4 ") and "loss: 2.0000" in out and "acc: 0.5000" in out


def test_progbar_without_target_and_silent(capsys):
    utils.Progbar(target=None, verbose=1, interval=0).update(5, [("x", 0.0001)])
    assert "5/Unknown" in capsys.readouterr().out
    utils.Progbar(target=3, verbose=0).update(3)
    assert capsys.readouterr().out == ""


# --- config switches ---------------------------------------------------------------------


def test_interactive_logging_sends_progress_to_the_logger(capsys, caplog):
    model = Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    assert utils.is_interactive_logging_enabled() is config.is_interactive_logging_enabled()
    glassnet.config.disable_interactive_logging()
    try:
        assert not config.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="glassnet"):
            model.fit(x, y, epochs=1, verbose=2)
    finally:
        glassnet.config.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert any("Epoch 1/1" in r.message for r in caplog.records)
    model.fit(x, y, epochs=1, verbose=2)
    assert "Epoch 1/1" in capsys.readouterr().out


def test_max_epochs_caps_fit():
    model = Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    config.set_max_epochs(2)
    try:
        assert config.max_epochs() == 2
        with pytest.warns(UserWarning, match="Limiting epochs to 2"):
            history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=5, verbose=0)
    finally:
        config.set_max_epochs(None)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="max_epochs"):
        config.set_max_epochs(0)


def test_traceback_switches_and_no_unsafe_mode():
    assert config.is_traceback_filtering_enabled()
    config.disable_traceback_filtering()
    assert not config.is_traceback_filtering_enabled()
    config.enable_traceback_filtering()
    assert config.is_traceback_filtering_enabled()
    with pytest.raises(NotImplementedError, match="no unsafe"):
        config.enable_unsafe_deserialization()


def test_dtype_policy_is_floatx():
    policy = config.dtype_policy()
    assert policy == glassnet.DTypePolicy("float32") and policy.compute_dtype == "float32"
    config.set_dtype_policy("float64")
    try:
        assert config.floatx() == "float64"
        assert config.dtype_policy().variable_dtype == "float64"
        assert layers.Dense(1)(np.ones((1, 2))).dtype == np.float64
    finally:
        config.set_dtype_policy(glassnet.FloatDTypePolicy("float32"))
    assert config.floatx() == "float32"
    with pytest.raises(ValueError, match="mixed"):
        config.set_dtype_policy("mixed_float16")
