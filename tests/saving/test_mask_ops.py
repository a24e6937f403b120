"""Keras 3's mask operations in functional model files (``glassnet.engine.mask_ops``).

Keras writes the mask of ``Embedding(mask_zero=True)`` as a ``NotEqual`` node and that of
``Masking`` as ``NotEqual`` then ``Any`` (module ``keras.src.ops.numpy``), and names the mask
as ``kwargs["mask"]`` of the layer that reads it. Here glassnet's own ``.keras`` files get
those nodes added exactly as Keras 3.15 writes them (checked against files Keras writes in
tests/test_masks_keras.py); they load with the same numbers, and every other form of them
is refused, naming the node, as any operation node was before.
"""

from __future__ import annotations

import copy
import json
import zipfile

import numpy as np
import pytest

import glassnet
from glassnet import layers
from glassnet.saving import ModelFileError

IDS = np.array([[3, 5, 7, 0, 0, 0], [0, 0, 2, 9, 4, 1], [1, 2, 3, 4, 5, 6]])


def _tensor(history: list, shape: list, dtype: str = "float32") -> dict:
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": dtype, "keras_history": history}}


def _not_equal(name: str, of: str, value, shape: list) -> dict:
    return {"module": "keras.src.ops.numpy", "class_name": "NotEqual", "config": {"name": name},
            "registered_name": "NotEqual", "name": name,
            "inbound_nodes": [{"args": [_tensor([of, 0, 0], shape), value], "kwargs": {}}]}


def _any(name: str, of: str, shape: list) -> dict:
    return {"module": "keras.src.ops.numpy", "class_name": "Any",
            "config": {"name": name, "axis": -1, "keepdims": False},
            "registered_name": "Any", "name": name,
            "inbound_nodes": [{"args": [_tensor([of, 0, 0], shape, "bool")], "kwargs": {}}]}


def _model(ids: bool):
    inputs = layers.Input(shape=(6,) if ids else (6, 3), name="inputs")
    x = (layers.Embedding(12, 4, mask_zero=True, name="emb") if ids
         else layers.Masking(mask_value=0.5, name="emb"))(inputs)
    x = layers.LSTM(3, return_sequences=True, name="lstm")(x)
    x = layers.GRU(2, name="gru")(x)
    model = glassnet.Model(inputs, layers.Dense(2, name="out")(x))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.5, size=w.shape) for w in model.get_weights()])
    return model


def _data(ids: bool):
    if ids:
        return IDS
    x = np.random.default_rng(1).normal(size=(*IDS.shape, 3)).astype(np.float32)
    x[IDS == 0] = 0.5
    return x


def _keras_like(config: dict, ids: bool) -> dict:
    """``config`` (glassnet's) with the mask operations Keras 3 writes for it."""
    entries = config["config"]["layers"]
    if ids:
        ops = [_not_equal("not_equal", "inputs", 0, [None, 6])]
        mask = _tensor(["not_equal", 0, 0], [None, 6], "bool")
    else:
        ops = [_not_equal("not_equal", "inputs", 0.5, [None, 6, 3]),
               _any("any", "not_equal", [None, 6, 3])]
        mask = _tensor(["any", 0, 0], [None, 6], "bool")
    entries[2:2] = ops  # after the mask layer, as Keras orders them
    for entry in entries:
        if entry["name"] in ("lstm", "gru"):
            entry["inbound_nodes"][0]["kwargs"] = {"training": False, "mask": mask}
    return config


def _save(tmp_path, model, edit=None, ids=True) -> str:
    path = tmp_path / "m.keras"
    model.save(str(path))
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = _keras_like(json.loads(members["config.json"]), ids)
    if edit is not None:
        edit(config["config"]["layers"], config)
    members["config.json"] = json.dumps(config).encode()
    edited = tmp_path / "keras_like.keras"
    with zipfile.ZipFile(edited, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(edited)


@pytest.mark.parametrize("ids", [True, False], ids=["mask_zero", "Masking"])
def test_the_mask_operations_keras_writes_load_as_glassnets_masks(tmp_path, ids):
    model = _model(ids)
    loaded = glassnet.models.load_model(_save(tmp_path, model, ids=ids))
    assert [layer.name for layer in loaded.layers] == ["inputs", "emb", "lstm", "gru", "out"]
    x = _data(ids)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    config = copy.deepcopy(model.get_config())
    rebuilt = glassnet.Model.from_config(_keras_like({"config": config}, ids)["config"])
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))


def _entry(entries, name):
    return next(entry for entry in entries if entry["name"] == name)


def _set(name, *path_and_value):
    *path, value = path_and_value

    def edit(entries, _):
        item = _entry(entries, name)
        for key in path[:-1]:
            item = item[key]
        item[path[-1]] = value
    return edit


def _mask_of(name, target):
    def edit(entries, _):
        _entry(entries, name)["inbound_nodes"][0]["kwargs"]["mask"] = _tensor(
            [target, 0, 0], [None, 6], "bool")
    return edit


def _as_input(entries, _):
    _entry(entries, "lstm")["inbound_nodes"][0]["args"][0] = _tensor(
        ["not_equal", 0, 0], [None, 6], "bool")


def _other_op(entries, _):
    _entry(entries, "not_equal")["class_name"] = "Equal"


def _output(entries, config):
    config["config"]["output_layers"] = [["out", 0, 0], ["not_equal", 0, 0]]


REFUSED_IDS = [
    ("another value", _set("not_equal", "inbound_nodes", 0, "args", 1, 3), r"x != 3"),
    ("another tensor", _set("not_equal", "inbound_nodes", 0, "args", 0, "config",
                            "keras_history", ["emb", 0, 0]), r"not the mask glassnet hands"),
    ("an option", _set("not_equal", "config", "dtype", "float32"), r"no options"),
    ("keyword arguments", _set("not_equal", "inbound_nodes", 0, "kwargs", {"x": 1}),
     r"no keyword arguments"),
    ("a string value", _set("not_equal", "inbound_nodes", 0, "args", 1, "0"), r"not a number"),
    ("a mask from a layer", _mask_of("lstm", "emb"), r"not the mask Keras writes"),
    ("used as an input", _as_input, r"only as masks"),
    ("used as an output", _output, r"only as masks"),
    ("another operation", _other_op, r"NotEqual|module"),
    ("another module", _set("not_equal", "module", "keras.src.ops.math"), r"module"),
    ("registered", _set("not_equal", "registered_name", "mine>NotEqual"), r"registered"),
]
REFUSED_MASKING = [
    ("another mask_value", _set("not_equal", "inbound_nodes", 0, "args", 1, 0.0),
     r"not the mask glassnet hands"),
    ("another axis", _set("any", "config", "axis", 1), r"Any\(axis=-1"),
    ("keepdims", _set("any", "config", "keepdims", True), r"Any\(axis=-1"),
    ("Embedding's form for Masking", _mask_of("lstm", "not_equal"),
     r"not the mask glassnet hands"),
]


@pytest.mark.parametrize(("what", "edit", "match"), REFUSED_IDS, ids=[r[0] for r in REFUSED_IDS])
def test_other_mask_operations_are_refused_with_the_mask_zero_model(tmp_path, what, edit, match):
    path = _save(tmp_path, _model(True), edit)
    with pytest.raises(ModelFileError, match=match):
        glassnet.models.load_model(path)


@pytest.mark.parametrize(("what", "edit", "match"), REFUSED_MASKING,
                         ids=[r[0] for r in REFUSED_MASKING])
def test_other_mask_operations_are_refused_with_the_masking_model(tmp_path, what, edit, match):
    path = _save(tmp_path, _model(False), edit, ids=False)
    with pytest.raises(ModelFileError, match=match):
        glassnet.models.load_model(path)


def test_a_mask_operation_in_a_model_without_a_mask_is_refused(tmp_path):
    inputs = layers.Input(shape=(6,), name="inputs")
    x = layers.Embedding(12, 4, name="emb")(inputs)  # mask_zero=False: glassnet hands none
    x = layers.LSTM(3, return_sequences=True, name="lstm")(x)
    model = glassnet.Model(inputs, layers.Dense(2, name="out")(layers.GRU(2, name="gru")(x)))
    with pytest.raises(ModelFileError, match=r"'lstm'.*\(none\)"):
        glassnet.models.load_model(_save(tmp_path, model))
