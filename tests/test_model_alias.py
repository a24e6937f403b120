"""``glassnet.Model`` and ``glassnet.models.Model``: another name for ``Sequential``.

docs/keras-compatibility.md: "`Model` is another name for `Sequential`", "`glassnet.Model`
is `Sequential`", and there is no functional API (``Model(inputs, outputs)``).
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import models
from glassnet.layers import Dense, Input
from glassnet.models import Model, Sequential, load_model


def test_model_is_sequential_under_every_name():
    assert Model is Sequential
    assert glassnet.Model is Sequential
    assert glassnet.models.Model is glassnet.models.Sequential
    assert glassnet.Sequential is Sequential
    assert "Model" in dir(glassnet) and "Model" in glassnet.__all__
    assert "Model" in models.__all__


def test_a_sequential_model_is_a_model_as_in_keras():
    # In Keras, Sequential subclasses Model; code that checks isinstance(m, Model) works.
    model = Sequential([Dense(2, input_shape=(3,))])
    assert isinstance(model, glassnet.Model)
    assert type(model).__name__ == "Sequential"


def test_the_course_workflow_through_glassnet_model(tmp_path, rng):
    import glassnet as keras  # the course's `import keras`, with only the name changed

    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5], dtype=np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Model()
    model.add(keras.Input(shape=(3,)))
    model.add(keras.layers.Dense(8, activation="relu"))
    model.add(keras.layers.Dense(1))
    model.compile(optimizer="adam", loss="mean_squared_error")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3

    keras.utils.set_random_seed(0)  # the same steps through Sequential: the same numbers
    twin = Sequential([Input(shape=(3,)), Dense(8, activation="relu"), Dense(1)])
    twin.compile(optimizer="adam", loss="mean_squared_error")
    assert twin.fit(x, y, epochs=3, verbose=0).history == history.history
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)

    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert isinstance(loaded, glassnet.Model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_list_of_layers_and_a_name_as_for_sequential():
    model = Model([Input(shape=(4,)), Dense(3), Dense(1)], name="course")
    assert model.name == "course"
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense"]
    assert model.count_params() == 4 * 3 + 3 + 3 * 1 + 1


def test_there_is_no_functional_api():
    inputs = Input(shape=(4,))
    with pytest.raises(TypeError, match="inputs"):
        Model(inputs=inputs, outputs=Dense(1))
