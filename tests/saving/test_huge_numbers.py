"""A number too large for a float in a file's config is refused naming its key, never an
``OverflowError`` (JSON integers have no size limit: ``10**400`` is valid JSON)."""

from __future__ import annotations

import json
import warnings
import zipfile

import h5py
import pytest

from glassnet.layers import BatchNormalization, Dense, Dropout
from glassnet.models import Sequential, load_model
from glassnet.saving import ModelFileError

HUGE = "1" + "0" * 400


def _saved(path):
    model = Sequential([Dense(3, input_shape=(2,)), Dropout(0.5), BatchNormalization(), Dense(1)])
    model.compile(optimizer="adam", loss="mse", loss_weights=2.0)
    model.save(path)
    return path


def _set_huge(text: str, edit) -> str:
    config = json.loads(text)
    edit(config)
    return json.dumps(config).replace('"HUGE"', HUGE)


def _rewrite_keras(path, edit) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = _set_huge(members["config.json"].decode(), edit).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _layers(config):
    return config["config"]["layers"]


@pytest.mark.parametrize(
    "key, edit",
    [
        ("rate", lambda c: _layers(c)[2]["config"].__setitem__("rate", "HUGE")),
        ("momentum", lambda c: _layers(c)[3]["config"].__setitem__("momentum", "HUGE")),
        ("epsilon", lambda c: _layers(c)[3]["config"].__setitem__("epsilon", "HUGE")),
    ],
)
def test_a_huge_layer_number_in_a_keras_file_is_refused_by_name(tmp_path, key, edit):
    path = _saved(tmp_path / "model.keras")
    _rewrite_keras(path, edit)
    with pytest.raises(ModelFileError, match=rf"{key} must be a finite number; found an integer"):
        load_model(path)


def test_a_huge_layer_number_in_an_h5_file_is_refused_by_name(tmp_path):
    path = _saved(tmp_path / "model.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = _set_huge(
            f.attrs["model_config"], lambda c: _layers(c)[2]["config"].__setitem__("rate", "HUGE")
        )
    with pytest.raises(ModelFileError, match="rate must be a finite number"):
        load_model(path)


def test_huge_loss_weights_are_dropped_with_a_warning(tmp_path):
    path = _saved(tmp_path / "model.keras")
    _rewrite_keras(path, lambda c: c["compile_config"].__setitem__("loss_weights", "HUGE"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = load_model(path)
    assert any("loss_weights" in str(w.message) for w in caught)
    assert model.get_compile_config()["loss_weights"] is None


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_nan_or_infinity_in_a_config_is_refused_naming_its_key(tmp_path, literal):
    path = _saved(tmp_path / "model.keras")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    _layers(config)[2]["config"]["rate"] = "VALUE"
    members["config.json"] = json.dumps(config).replace('"VALUE"', literal).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    where = r"config\.layers\[2\]\.config\.rate"
    with pytest.raises(ModelFileError, match=rf"holds {literal} at {where}"):
        load_model(path)


@pytest.mark.parametrize("field", ["uinteger", "has_uint32"])
def test_a_random_state_number_out_of_range_is_dropped_with_a_warning(tmp_path, field):
    """The saved random state may be dropped, as the file policy says: the model loads
    without it, with a warning; never an OverflowError."""
    path = _saved(tmp_path / "model.keras")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["metadata.json"])
    meta["glassnet_state"]["random_state"]["shuffle"][field] = 2**64
    members["metadata.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(path)
    assert any("random state of the shuffler is invalid" in str(w.message) for w in caught)
