"""``keras.utils`` and ``keras.backend``/``keras.config`` basics: ``pad_sequences`` (the cases
of keras/src/utils/sequence_utils_test.py, then real Keras on random cases), ``PyDataset``
accepted by ``fit``/``evaluate``/``predict``, ``floatx`` float64 end to end,
``image_data_format``, ``clear_session``, ``backend()``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from ci_tools import require_tool

import glassnet as keras
from glassnet import backend, config
from glassnet.layers import Dense, Dropout, Input
from glassnet.models import Sequential
from glassnet.utils import PyDataset, pad_sequences, set_random_seed

# --- pad_sequences -----------------------------------------------------------------------------

A = [[1], [1, 2], [1, 2, 3]]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"maxlen": 3, "padding": "pre"}, [[0, 0, 1], [0, 1, 2], [1, 2, 3]]),
        ({"maxlen": 3, "padding": "post"}, [[1, 0, 0], [1, 2, 0], [1, 2, 3]]),
        ({"maxlen": 2, "truncating": "pre"}, [[0, 1], [1, 2], [2, 3]]),
        ({"maxlen": 2, "truncating": "post"}, [[0, 1], [1, 2], [1, 2]]),
        ({"maxlen": 3, "value": 1}, [[1, 1, 1], [1, 1, 2], [1, 2, 3]]),
        ({}, [[0, 0, 1], [0, 1, 2], [1, 2, 3]]),  # maxlen: the longest
    ],
)
def test_pad_sequences_keras_cases(kwargs, expected):
    out = pad_sequences(A, **kwargs)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, expected)


def test_pad_sequences_float_str_and_vectors():
    a = [[1.2], [1.2, 2.3], [1.2, 2.3, 3.4]]
    out = pad_sequences(a, maxlen=2, truncating="pre", dtype="float32")
    np.testing.assert_allclose(out, [[0, 1.2], [1.2, 2.3], [2.3, 3.4]], rtol=1e-6)
    words = [["1"], ["1", "2"], ["1", "2", "3"]]
    assert pad_sequences(words, maxlen=3, padding="post", value="pad", dtype="<U3").tolist() == [
        ["1", "pad", "pad"],
        ["1", "2", "pad"],
        ["1", "2", "3"],
    ]
    with pytest.raises(ValueError, match="`dtype` int32 is not compatible with "):
        pad_sequences(words, maxlen=2, value="pad")
    vectors = [[[1, 1]], [[2, 1], [2, 2]], [[3, 1], [3, 2], [3, 3]]]
    np.testing.assert_array_equal(
        pad_sequences(vectors, maxlen=2, truncating="post"),
        [[[0, 0], [1, 1]], [[2, 1], [2, 2]], [[3, 1], [3, 2]]],
    )
    assert pad_sequences([[], [5]], maxlen=2).tolist() == [[0, 0], [0, 5]]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((5,), {}, "iterable"),
        (([1, [2]],), {}, "non-iterable"),
        ((A,), {"padding": "middle"}, "Padding type"),
        ((A,), {"truncating": "middle"}, "Truncating type"),
        (([[[1, 2]], [[1, 2, 3]]],), {}, "Shape of sample"),
        ((A,), {"maxlen": -1}, "maxlen"),
    ],
)
def test_pad_sequences_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(*args, **kwargs)


@pytest.mark.keras
def test_pad_sequences_equals_keras(rng):
    k = require_tool("keras", "compares with keras.utils.pad_sequences")
    for _ in range(20):
        seqs = [rng.integers(1, 9, size=int(n)).tolist() for n in rng.integers(0, 7, size=5)]
        kwargs = {
            "maxlen": None if rng.random() < 0.3 else int(rng.integers(1, 8)),
            "padding": str(rng.choice(["pre", "post"])),
            "truncating": str(rng.choice(["pre", "post"])),
            "value": float(rng.integers(-1, 3)),
        }
        if kwargs["maxlen"] is None and not any(seqs):
            continue
        np.testing.assert_array_equal(
            pad_sequences(seqs, **kwargs), k.utils.pad_sequences(seqs, **kwargs)
        )


# --- PyDataset ---------------------------------------------------------------------------------


class Rows(PyDataset):
    """Rows of a linear problem in batches; records what fit asked of it."""

    def __init__(self, x, y, batch_size, weights=False, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.weights = x, y, batch_size, weights
        self.calls: list = []
        self.lock = threading.Lock()

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        with self.lock:
            self.calls.append(index)
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.weights:
            return self.x[part], self.y[part], np.ones(len(self.x[part]), np.float32)
        return self.x[part], self.y[part]

    def on_epoch_begin(self):
        self.calls.append("begin")

    def on_epoch_end(self):
        self.calls.append("end")


def linear_data(rows=20):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3)).astype(np.float32)
    return x, (x @ np.array([[1.0], [2.0], [-1.0]], np.float32) + 0.5).astype(np.float32)


def linear_model(seed=0):
    set_random_seed(seed)
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.array([[0.1], [-0.2], [0.3]], np.float32), np.zeros(1, np.float32)])
    return model


def test_fit_on_a_py_dataset_equals_fit_on_the_same_batches():
    x, y = linear_data()
    a, b = linear_model(), linear_model()
    a.fit(x, y, batch_size=5, epochs=3, shuffle=False, verbose=0)
    data = Rows(x, y, 5)
    history = b.fit(data, epochs=3, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)  # the same batches, the same BLAS calls
    assert data.calls == ["begin", 0, 1, 2, 3, "end"] * 3
    assert len(history.history["loss"]) == 3


def test_shuffle_visits_every_batch_in_a_seeded_new_order():
    x, y = linear_data(40)
    orders = []
    for _ in range(2):
        data = Rows(x, y, 5)
        linear_model(seed=4).fit(data, epochs=2, verbose=0)
        orders.append([c for c in data.calls if isinstance(c, int)])
    assert orders[0] == orders[1]  # seeded: repeatable
    first, second = orders[0][:8], orders[0][8:]
    assert sorted(first) == list(range(8)) == sorted(second) and first != second


def test_workers_fetch_ahead_in_order():
    x, y = linear_data(40)
    a, b = linear_model(), linear_model()
    a.fit(Rows(x, y, 5), epochs=2, shuffle=False, verbose=0)
    b.fit(Rows(x, y, 5, workers=3, max_queue_size=2), epochs=2, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_evaluate_predict_and_validation_with_a_py_dataset():
    x, y = linear_data()
    model = linear_model()
    history = model.fit(
        Rows(x, y, 5, weights=True), validation_data=Rows(x, y, 7), epochs=2, verbose=0
    )
    assert "val_loss" in history.history
    np.testing.assert_allclose(
        model.evaluate(Rows(x, y, 6), verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5
    )

    class Inputs(PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return x[index * 7 : (index + 1) * 7]

    np.testing.assert_allclose(model.predict(Inputs(), verbose=0), model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(model.predict(Rows(x, y, 6), verbose=0), model.predict(x),
                               rtol=1e-6)  # fmt: skip
    assert model.predict(Rows(x, y, 6), steps=2, verbose=0).shape == (12, 1)


def test_an_unbuilt_model_is_built_from_the_first_batch():
    x, y = linear_data()
    model = Sequential([Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(Rows(x, y, 5), epochs=1, verbose=0)
    assert model.input_shape == (3,)


def test_an_endless_py_dataset_needs_steps_per_epoch():
    x, y = linear_data()

    class Endless(Rows):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return super().__getitem__(index % 4)

    model = linear_model()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(Endless(x, y, 5), epochs=1, verbose=0)
    data = Endless(x, y, 5)
    model.fit(data, epochs=2, steps_per_epoch=6, verbose=0)
    assert [c for c in data.calls if isinstance(c, int)] == [i % 4 for i in range(6)] * 2


def test_py_dataset_refusals():
    x, y = linear_data()
    model = linear_model()
    with pytest.raises(ValueError, match="do not pass `y`"):
        model.fit(Rows(x, y, 5), y, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(Rows(x, y, 5), class_weight={0: 1.0}, verbose=0)

    class Bad(Rows):
        def __getitem__(self, index):
            return {"x": 1}

    with pytest.raises(ValueError, match=r"must return a tuple"):
        model.fit(Bad(x, y, 5), verbose=0)
    with pytest.raises(ValueError, match="workers"):
        Rows(x, y, 5, workers=-1)


def test_a_subclass_without_super_init_warns_as_keras_does():
    class Lazy(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 0

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert Lazy().workers == 1
    assert keras.utils.Sequence is PyDataset


# --- floatx, image_data_format, backend, clear_session ----------------------------------------


@pytest.fixture
def float64():
    config.set_floatx("float64")
    yield
    config.set_floatx("float32")


def test_a_fit_in_float64_stays_float64_end_to_end(float64):
    x, y = linear_data()
    set_random_seed(0)
    model = Sequential([Input(shape=(3,)), Dense(4, activation="relu"), Dropout(0.1), Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=3, batch_size=5, verbose=0)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(x).dtype == np.float64
    assert history.history["loss"][-1] < history.history["loss"][0]
    # the same run in float32 ends near it (not equal: other rounding)
    config.set_floatx("float32")
    set_random_seed(0)
    m32 = Sequential([Input(shape=(3,)), Dense(4, activation="relu"), Dropout(0.1), Dense(1)])
    m32.compile(optimizer="adam", loss="mse", metrics=["mae"])
    h32 = m32.fit(x, y, epochs=3, batch_size=5, verbose=0)
    assert m32.get_weights()[0].dtype == np.float32
    np.testing.assert_allclose(h32.history["loss"], history.history["loss"], rtol=1e-4)


def test_set_floatx_refuses_what_numpy_cannot_compute_in():
    with pytest.raises(ValueError, match="bfloat16"):
        config.set_floatx("bfloat16")
    with pytest.raises(ValueError, match="Unknown `floatx` value"):
        config.set_floatx("float8")
    assert config.floatx() == "float32"


def test_epsilon_and_image_data_format(monkeypatch):
    monkeypatch.setattr(config, "_EPSILON", config.epsilon())
    monkeypatch.setattr(config, "_IMAGE_DATA_FORMAT", config.image_data_format())
    assert keras.backend.epsilon() == 1e-7 and keras.config.image_data_format() == "channels_last"
    keras.config.set_epsilon(1e-5)
    assert keras.backend.epsilon() == 1e-5
    keras.backend.set_image_data_format("Channels_First")
    assert keras.config.image_data_format() == "channels_first"
    with pytest.raises(ValueError, match="data_format"):
        keras.config.set_image_data_format("channels_middle")
    with pytest.raises(TypeError, match="epsilon"):
        keras.config.set_epsilon("small")


def test_backend_is_numpy_and_nothing_is_a_keras_tensor():
    assert keras.backend.backend() == keras.config.backend() == "numpy"
    assert keras.backend.is_keras_tensor(np.zeros(2)) is False
    assert backend.standardize_dtype(float) == "float32"
    assert backend.standardize_dtype(int) == "int64"
    assert backend.standardize_dtype(None) == "float32"
    assert backend.is_float_dtype("float16") and backend.is_int_dtype("uint8")
    assert not backend.is_int_dtype("float64")


def test_clear_session_restarts_automatic_names():
    keras.backend.clear_session()
    first = Dense(2).name
    second = Dense(2).name
    keras.utils.clear_session()
    assert (first, second, Dense(2).name) == ("dense", "dense_1", "dense")
    assert backend.get_uid("x") == 1 and backend.get_uid("x") == 2
    backend.clear_session()
    assert backend.get_uid("x") == 1


@pytest.mark.keras
def test_keras_names_the_same_settings():
    k = require_tool("keras", "compares with keras.backend and keras.config")
    for name in ("floatx", "epsilon", "image_data_format"):
        assert getattr(k.config, name)() == getattr(keras.config, name)()
    assert k.backend.standardize_dtype(int) == backend.standardize_dtype(int)
    assert k.backend.standardize_dtype("uint8") == backend.standardize_dtype("uint8")
