"""Bad and hostile files are refused with a clear ModelFileError, before any large allocation,
and without a traceback from h5py or zipfile internals."""

from __future__ import annotations

import io
import json
import traceback
import tracemalloc
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from glassnet.layers import Dense, Dropout, Input
from glassnet.models import Sequential, load_model, model_from_json
from glassnet.saving import MissingModelFileError, ModelFileError, safety


@pytest.fixture
def good(tmp_path):
    """A small compiled and trained model saved as .keras and .h5."""
    model = Sequential([Input(shape=(4,)), Dense(3, activation="relu"), Dropout(0.1), Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 4)), rng.normal(size=(8, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "good.keras")
    model.save(tmp_path / "good.h5")
    return tmp_path


def _refused(path, match: str, loader=load_model) -> ModelFileError:
    with pytest.raises(ModelFileError, match=match) as info:
        loader(path)
    error = info.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    text = "".join(traceback.format_exception(error))
    assert "site-packages/h5py" not in text and "zipfile" not in text.replace("zipfile)", "")
    return error


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _edit_keras(good_dir, out_name: str, config=None, weights=None):
    """A copy of good.keras with its config (a function of the dict) or weights edited."""
    members = _members(good_dir / "good.keras")
    if config is not None:
        description = json.loads(members["config.json"])
        config(description)
        members["config.json"] = json.dumps(description).encode()
    if weights is not None:
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "r+") as f:
            weights(f)
        members["model.weights.h5"] = buffer.getvalue()
    return _write_zip(good_dir / out_name, members)


def _edit_h5(good_dir, out_name: str, edit):
    path = good_dir / out_name
    path.write_bytes((good_dir / "good.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _dense_entry(description) -> dict:
    return next(e for e in description["config"]["layers"] if e["class_name"] == "Dense")


# --- damaged files --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["good.keras", "good.h5"])
def test_truncated_files(good, name):
    data = (good / name).read_bytes()
    path = good / ("cut_" + name)
    path.write_bytes(data[: len(data) // 2])
    _refused(path, "damaged|truncated")


def test_text_file_renamed(good):
    (good / "notes.h5").write_text("hello, this is not a model\n")
    _refused(good / "notes.h5", "not an HDF5 file")
    (good / "notes.keras").write_text("hello, this is not a model\n")
    _refused(good / "notes.keras", "not a valid .keras file")


def test_hdf5_named_keras_gets_a_hint(good):
    (good / "wrong.keras").write_bytes((good / "good.h5").read_bytes())
    _refused(good / "wrong.keras", "rename it to .h5")


def test_missing_file(tmp_path):
    error = _refused(tmp_path / "nowhere.keras", "File not found")
    assert isinstance(error, MissingModelFileError) and isinstance(error, FileNotFoundError)


def test_zip_without_config_or_weights(good):
    members = _members(good / "good.keras")
    _write_zip(good / "noconfig.keras", {k: v for k, v in members.items() if k != "config.json"})
    _refused(good / "noconfig.keras", "has no config.json")
    _write_zip(good / "noweights.keras",
               {k: v for k, v in members.items() if k != "model.weights.h5"})
    _refused(good / "noweights.keras", "has no model.weights.h5")


def test_zip_with_duplicate_member(good):
    members = _members(good / "good.keras")
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(
            good / "dup.keras", "w") as archive:
        for name, data in [*members.items(), ("config.json", members["config.json"])]:
            archive.writestr(name, data)
    _refused(good / "dup.keras", "twice")


def test_weights_only_h5_given_to_load_model(good):
    model = load_model(good / "good.h5")
    model.save_weights(good / "weights.h5")
    _refused(good / "weights.h5", "holds only weights")


# --- weights that do not fit ------------------------------------------------------------------


def test_weight_of_wrong_shape(good):
    def reshape(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", data=np.zeros((5, 3), np.float32))

    _refused(_edit_keras(good, "shape.keras", weights=reshape),
             r"kernel should have shape \(4, 3\); the file's .* has shape \(5, 3\)")

    def reshape_h5(f):
        group = f["model_weights"]
        layer = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["layer_names"]][0]
        name = [n.decode() if isinstance(n, bytes) else n
                for n in group[layer].attrs["weight_names"]][1]
        del group[layer][name]
        group[layer].create_dataset(name, data=np.zeros((7,), np.float32))

    _refused(_edit_h5(good, "shape.h5", reshape_h5), r"bias should have shape \(3,\)")


def test_wrong_number_of_weights(good):
    def extra(f):
        f["layers/dense_1/vars"].create_dataset("2", data=np.zeros((2,), np.float32))

    _refused(_edit_keras(good, "extra.keras", weights=extra), "expects 2 weight arrays")


def test_non_numeric_and_linked_datasets(good):
    def text(f):
        del f["layers/dense/vars/1"]
        f["layers/dense/vars"].create_dataset("1", data=np.array([b"a", b"b", b"c"]))

    _refused(_edit_keras(good, "text.keras", weights=text), "a weight must hold numbers")

    def soft(f):
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/1"] = h5py.SoftLink("/layers/dense_1/vars/1")

    _refused(_edit_keras(good, "soft.keras", weights=soft), "SoftLink")

    def external(f):
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/1"] = h5py.ExternalLink("/etc/passwd", "/x")

    _refused(_edit_keras(good, "external.keras", weights=external), "ExternalLink")


# --- descriptions that ask for code or unknown things ---------------------------------------


def test_lambda_layer_is_refused_by_name(good):
    def add_lambda(description):
        description["config"]["layers"].insert(2, {
            "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": "lambda", "function": {
                "class_name": "__lambda__",
                "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7p"}}},
        })

    error = _refused(_edit_keras(good, "lambda.keras", config=add_lambda), "'Lambda'")
    assert "never runs code" in str(error)

    def keras2_lambda(f):
        description = json.loads(f.attrs["model_config"])
        description["config"]["layers"].insert(2, {"class_name": "Lambda", "config": {
            "name": "lambda", "function": ["4wEAAAAA", None, None], "function_type": "lambda"}})
        f.attrs["model_config"] = json.dumps(description).encode()

    _refused(_edit_h5(good, "lambda.h5", keras2_lambda), "Lambda")


@pytest.mark.parametrize(("module", "class_name", "match"), [
    ("os", "system", "names the module 'os'"),
    ("builtins", "eval", "names the module 'builtins'"),
    ("keras.models", "function", "is a 'function'"),
    ("__main__", "Dense", "names the module '__main__'"),
])
def test_module_paths_are_refused(good, module, class_name, match):
    def point(description):
        entry = _dense_entry(description)
        entry["module"], entry["class_name"] = module, class_name

    _refused(_edit_keras(good, "module.keras", config=point), match)


def test_module_inside_a_nested_object_is_refused(good):
    def point(description):
        _dense_entry(description)["config"]["kernel_initializer"]["module"] = "subprocess"

    _refused(_edit_keras(good, "nested.keras", config=point), "subprocess")


def test_custom_registered_class_is_refused(good):
    def custom(description):
        _dense_entry(description)["registered_name"] = "my_package>MyDense"

    _refused(_edit_keras(good, "custom.keras", config=custom), "custom object registered")


def test_unknown_layer_class_is_named(good):
    def conv(description):
        _dense_entry(description)["class_name"] = "ConvLSTM2D"

    error = _refused(_edit_keras(good, "conv.keras", config=conv), "'ConvLSTM2D' layer")
    assert "Dense" in str(error)  # the message lists what glassnet can load


def test_a_subclassed_model_is_refused_with_keras_message(good):
    def subclassed(description):
        description["class_name"] = "MyModel"
        description["module"] = "my_package.models"

    _refused(_edit_keras(good, "subclassed.keras", config=subclassed),
             "Could not locate class 'MyModel'")


def test_a_sequential_config_labelled_functional_is_refused(good):
    def functional(description):
        description["class_name"] = "Functional"  # a Sequential's layers have no nodes

    _refused(_edit_keras(good, "functional.keras", config=functional), "cannot be rebuilt")


@pytest.mark.parametrize(("change", "match"), [
    (lambda c: c.update(activation={"module": "my", "class_name": "function", "config": "f",
                                    "registered_name": "my>f"}), "is a 'function'"),
    (lambda c: c.update(activation={"class_name": "Swoosh"}), "custom activation"),
    (lambda c: c.update(activation="sparsemax"), "does not implement"),
    (lambda c: c.update(quantization_config={"mode": "int8"}), "quantized"),
    (lambda c: c.update(dtype="int8_from_float32"), "quantized"),
    (lambda c: c.update(lora_rank=4), "LoRA"),
    (lambda c: c.update(units=0), "units must be an integer"),
    (lambda c: c.update(secret_switch=3), "'secret_switch'"),
])
def test_bad_dense_configs(good, change, match):
    _refused(_edit_keras(good, "dense.keras",
                         config=lambda d: change(_dense_entry(d)["config"])), match)


def test_unknown_null_key_only_warns(good):
    path = _edit_keras(good, "nullkey.keras",
                       config=lambda d: _dense_entry(d)["config"].update(new_keras_key=None))
    with pytest.warns(UserWarning, match="new_keras_key"):
        load_model(path)


def test_keras2_hard_sigmoid_is_refused(good):
    def keras2(f):
        description = json.loads(f.attrs["model_config"])
        description["config"]["layers"][1]["config"]["activation"] = "hard_sigmoid"
        f.attrs["model_config"] = json.dumps(description).encode()
        f.attrs["keras_version"] = "2.15.0"

    _refused(_edit_h5(good, "k2.h5", keras2), "Keras 2 file")


def test_duplicate_layer_names(good):
    def duplicate(description):
        layers = description["config"]["layers"]
        layers[3]["config"]["name"] = layers[1]["config"]["name"]

    _refused(_edit_keras(good, "dup_names.keras", config=duplicate), "two layers are named")


# --- size limits ------------------------------------------------------------------------------


def test_deeply_nested_json(good):
    bomb = "[" * 5000 + "]" * 5000
    with pytest.raises(ModelFileError, match="nested more than"):
        model_from_json('{"class_name": "Sequential", "config": ' + bomb + "}")
    deep = "[" * 150 + "]" * 150
    with pytest.raises(ModelFileError, match="nested more than"):
        model_from_json(deep)


def test_oversized_config(good, monkeypatch):
    monkeypatch.setattr(safety, "MAX_CONFIG_BYTES", 100)
    _refused(good / "good.keras", "glassnet reads at most 100")


def test_huge_shapes_are_refused_before_allocation(good):
    def huge(description):
        _dense_entry(description)["config"]["units"] = 2**30

    tracemalloc.start()
    _refused(_edit_keras(good, "huge.keras", config=huge), "glassnet allows at most")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_shape_bomb_dataset_is_refused_before_allocation(good):
    units = 2**26  # a 1 GiB kernel: within the per-array limit, but stored as nothing

    def declare(description):
        _dense_entry(description)["config"]["units"] = units
        description["config"]["layers"][3]["build_config"] = {"input_shape": [None, units]}

    def bomb(f):
        for path in ("layers/dense/vars", "layers/dense_1/vars"):
            del f[path]
        dense = f.create_group("layers/dense/vars")
        dense.create_dataset("0", shape=(4, units), dtype="f4", chunks=(4, 2**16),
                             compression="gzip")
        dense.create_dataset("1", shape=(units,), dtype="f4", chunks=(2**16,), compression="gzip")
        f.create_group("layers/dense_1/vars")

    tracemalloc.start()
    _refused(_edit_keras(good, "bomb.keras", config=declare, weights=bomb),
             "possible decompression or shape bomb")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_zip_bomb_member_is_refused(good, monkeypatch):
    monkeypatch.setattr(safety, "BOMB_FLOOR_BYTES", 2**20)
    members = _members(good / "good.keras")
    members["model.weights.h5"] += bytes(8 * 2**20)  # zeros compress about 1000 to 1
    _write_zip(good / "zipbomb.keras", members, zipfile.ZIP_DEFLATED)
    _refused(good / "zipbomb.keras", "possible decompression or shape bomb")


# --- what load_model says about its arguments ----------------------------------------------


def test_custom_objects_and_safe_mode_are_harmless(good):
    # custom_objects reach only a subclassed model's own class: layers stay glassnet's.
    model = load_model(good / "good.keras", custom_objects={"Dense": object})
    assert all(type(layer).__module__.startswith("glassnet.") for layer in model.layers)
    with pytest.warns(UserWarning, match="no unsafe mode"):
        load_model(good / "good.keras", safe_mode=False)


def test_keras_loads_cleanly_without_warnings(good):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(good / "good.keras")
        load_model(good / "good.h5")
