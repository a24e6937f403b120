"""``glassnet.Model`` as Keras 3 has it: ``Model(inputs, outputs)`` is a functional model,
``Sequential`` is a ``Model``, and a subclass of ``Model`` is a subclassed model
(``keras/src/models/model.py``, ``Model.__new__``)."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import models
from glassnet.layers import Dense, Input
from glassnet.models import Functional, Model, Sequential


def test_model_is_keras_base_class_under_every_name():
    assert glassnet.Model is Model and models.Model is Model
    assert glassnet.Sequential is Sequential
    assert issubclass(Sequential, Model) and issubclass(Functional, Model)
    assert "Model" in dir(glassnet) and "Model" in glassnet.__all__
    assert "Model" in models.__all__


def test_a_sequential_model_is_a_model_as_in_keras():
    model = Sequential([Dense(2, input_shape=(3,))])
    assert isinstance(model, glassnet.Model)
    assert type(model).__name__ == "Sequential"


def test_model_of_inputs_and_outputs_is_functional():
    inputs = Input(shape=(4,))
    model = Model(inputs=inputs, outputs=Dense(1)(inputs))
    assert type(model) is Functional
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 1)


def test_model_of_something_other_than_tensors_is_refused():
    with pytest.raises(TypeError, match="symbolic tensors"):
        Model([Input(shape=(4,)), Dense(3)], Dense(1))
    with pytest.raises(TypeError, match="symbolic tensors"):
        Model(inputs=Input(shape=(4,)), outputs=Dense(1))
