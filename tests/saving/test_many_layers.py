"""A file declaring thousands of layers loads in time linear in their number: nothing is
looked up again for every layer, and names are checked once, not against every other."""

from __future__ import annotations

import inspect
import json

import pytest

from glassnet.layers import Dense
from glassnet.models import Sequential, model_from_json
from glassnet.saving import ModelFileError, config_values


def _description(layers: int) -> str:
    model = Sequential(
        [Dense(1, input_shape=(1,), name="d0")] + [Dense(1, name=f"d{i}") for i in range(1, layers)]
    )
    return model.to_json()


def test_signatures_are_read_once_per_class_not_once_per_layer(monkeypatch):
    config_values.init_params.cache_clear()
    calls = []
    real = inspect.signature

    def counted(function, *args, **kwargs):
        calls.append(function)
        return real(function, *args, **kwargs)

    monkeypatch.setattr(inspect, "signature", counted)
    model = model_from_json(_description(300))
    assert len(model.layers) == 300
    assert len(calls) < 10, f"{len(calls)} signature look-ups for 300 layers"


def test_duplicate_names_are_refused_in_a_file_and_in_a_constructor():
    description = json.loads(_description(3))
    layers = description["config"]["layers"]
    layers[-1]["config"]["name"] = layers[-2]["config"]["name"]
    with pytest.raises(ModelFileError, match="two layers are named 'd1'"):
        model_from_json(json.dumps(description))
    with pytest.raises(ValueError, match="already has a layer named 'twin'"):
        Sequential([Dense(1, name="twin"), Dense(1, name="twin")])
    model = Sequential([Dense(1, name="one")])
    with pytest.raises(ValueError, match="already has a layer named 'one'"):
        model.add(Dense(1, name="one"))
