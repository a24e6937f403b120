"""glassnet saves and loads its own models: everything comes back, training resumes exactly."""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from glassnet import activations, optimizers, saving
from glassnet.callbacks import ModelCheckpoint
from glassnet.layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Input,
    Normalization,
    Reshape,
)
from glassnet.models import Sequential, load_model, model_from_json
from glassnet.saving import keras_format
from glassnet.saving import weights as weight_files
from glassnet.saving.config_values import DIFFERENT_FROM_KERAS, KERAS_ACTIVATIONS
from glassnet.utils import set_random_seed

FORMATS = ["keras", "h5"]


def _data(rows=48, columns=6, outputs=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns)).astype(np.float32)
    y = np.eye(outputs, dtype=np.float32)[rng.integers(0, outputs, rows)]
    return x, y


def _every_layer_model(optimizer="adam"):
    x, _ = _data()
    norm = Normalization()
    norm.adapt(x)
    model = Sequential([
        Input(shape=(6,)), norm, Dense(8, activation="relu", kernel_regularizer="l2"),
        BatchNormalization(momentum=0.8), Dropout(0.2), Dense(4, use_bias=False),
        Activation("tanh"), Reshape((2, 2)), Flatten(),
        Normalization(mean=[0.0, 1.0, 0.0, 1.0], variance=[1.0, 4.0, 1.0, 4.0]),
        Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                  metrics=["accuracy", "mae"])
    return model


def _trained(optimizer="adam", epochs=2):
    set_random_seed(3)
    model = _every_layer_model(optimizer)
    x, y = _data()
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return model


def _same_weights(a, b) -> bool:
    return len(a.get_weights()) == len(b.get_weights()) and all(
        np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights(), strict=True))


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_architecture_weights_and_compile_state(tmp_path, fmt):
    model = _trained()
    path = tmp_path / f"model.{fmt}"
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_model(path)
    x, _ = _data(seed=1)
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert _same_weights(loaded, model)
    assert loaded.get_config() == model.get_config()
    lines_a, lines_b = [], []
    model.summary(print_fn=lines_a.append)
    loaded.summary(print_fn=lines_b.append)
    assert lines_a == lines_b
    assert loaded.compiled and type(loaded.loss) is type(model.loss)
    assert loaded._metric_specs == ["accuracy", "mae"]
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    for slot in model.optimizer.slot_names:
        assert np.array_equal(loaded.optimizer.slots[slot], model.optimizer.slots[slot])


OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(learning_rate=0.05),
    "sgd_nesterov": lambda: optimizers.SGD(momentum=0.9, nesterov=True),
    "adam_amsgrad": lambda: optimizers.Adam(amsgrad=True, clipnorm=1.0),
    "adamw": lambda: optimizers.AdamW(learning_rate=0.003),
    "rmsprop": lambda: optimizers.RMSprop(momentum=0.5, centered=True),
    "adagrad": lambda: optimizers.Adagrad(),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_state_round_trips(tmp_path, fmt, name):
    model = _trained(OPTIMIZERS[name](), epochs=1)
    model.save(tmp_path / f"m.{fmt}")
    loaded = load_model(tmp_path / f"m.{fmt}")
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert set(loaded.optimizer.slots) == set(model.optimizer.slots)
    for slot, values in model.optimizer.slots.items():
        assert np.array_equal(loaded.optimizer.slots[slot], values), slot


@pytest.mark.parametrize("fmt", FORMATS)
def test_checkpoint_resume_is_bit_exact(tmp_path, fmt):
    """ModelCheckpoint mid-run, load, continue: the same weights as one uninterrupted run."""
    x, y = _data(rows=100)
    set_random_seed(11)
    straight = _every_layer_model()
    checkpoint = ModelCheckpoint(str(tmp_path / ("epoch{epoch}." + fmt)))
    straight.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[checkpoint])

    set_random_seed(999)  # whatever happens to the global seed meanwhile must not matter
    resumed = load_model(tmp_path / f"epoch2.{fmt}")
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    assert _same_weights(resumed, straight)
    assert resumed.optimizer.iterations == straight.optimizer.iterations


def test_resume_without_random_state_differs(tmp_path):
    """The saved random state is what makes the resume exact (Dropout and shuffling)."""
    x, y = _data(rows=100)
    set_random_seed(11)
    straight = _every_layer_model()
    straight.fit(x, y, epochs=2, batch_size=16, verbose=0)
    straight.save(tmp_path / "m.keras")
    straight.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    resumed = load_model(tmp_path / "m.keras")
    resumed._shuffle_rng = np.random.default_rng(5)
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    assert not _same_weights(resumed, straight)


def test_every_keras_activation_glassnet_has_round_trips(tmp_path):
    names = sorted(set(activations.layer_names()) & KERAS_ACTIVATIONS - DIFFERENT_FROM_KERAS)
    assert len(names) >= 17
    model = Sequential([Input(shape=(3,))] + [Dense(3, activation=n) for n in names])
    model.save(tmp_path / "acts.keras")
    loaded = load_model(tmp_path / "acts.keras")
    assert [layer.activation.name for layer in loaded.layers] == [
        layer.activation.name for layer in model.layers]
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_uncompiled_and_never_trained_models_round_trip(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,))])
    model.save(tmp_path / "plain.h5")
    assert not load_model(tmp_path / "plain.h5").compiled
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "compiled.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_model(tmp_path / "compiled.keras")
    assert loaded.compiled and loaded.optimizer.iterations == 0


def test_get_config_from_config_and_json(tmp_path):
    model = _trained()
    rebuilt = Sequential.from_config(model.get_config())
    assert rebuilt.get_config() == model.get_config()
    for layer in model.layers:
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()

    text = model.to_json()
    description = json.loads(text)
    assert description["module"] == "keras" and description["class_name"] == "Sequential"
    assert "compile_config" not in description
    from_json = model_from_json(text)
    assert from_json.get_config() == model.get_config()
    assert not from_json.compiled
    assert json.loads(model.to_json(indent=2)) == description
    # Weights are fresh, but the statistics given to Normalization travel in the config.
    assert np.array_equal(from_json.layers[-2].mean, model.layers[-2].mean)


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.hdf5"])
def test_weights_round_trip(tmp_path, name):
    model = _trained()
    model.save_weights(tmp_path / name)
    other = _every_layer_model()
    other.build()
    other.load_weights(tmp_path / name)
    assert _same_weights(other, model)
    with h5py.File(tmp_path / name) as f:
        assert ("layers" in f) == name.endswith(".weights.h5")
        assert ("layer_names" in f.attrs) != name.endswith(".weights.h5")


def test_weights_file_restores_optimizer_state_into_a_compiled_model(tmp_path):
    model = _trained()
    model.save_weights(tmp_path / "w.weights.h5")
    other = _every_layer_model()
    other.build()
    other.load_weights(tmp_path / "w.weights.h5")
    assert other.optimizer.iterations == model.optimizer.iterations
    assert other.optimizer.learning_rate == 0.001  # not its float32 neighbour
    assert np.array_equal(other.optimizer.slots["velocity"], model.optimizer.slots["velocity"])


def test_load_weights_from_model_files(tmp_path):
    model = _trained()
    for fmt in FORMATS:
        model.save(tmp_path / f"m.{fmt}")
        other = _every_layer_model()
        other.build()
        other.load_weights(tmp_path / f"m.{fmt}")
        assert _same_weights(other, model)


def test_unzipped_keras_folder_loads(tmp_path):
    model = _trained()
    model.save(tmp_path / "m.keras")
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        archive.extractall(folder)
    assert _same_weights(load_model(folder), model)


def test_overwrite_false_and_new_folders(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,))])
    target = tmp_path / "deep" / "er" / "m.keras"
    model.save(target)  # creates the folders, like Keras's .h5 writer
    before = target.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(target, overwrite=False)
    model.save_weights(tmp_path / "deep" / "w.weights.h5")
    with pytest.raises(FileExistsError):
        model.save_weights(tmp_path / "deep" / "w.weights.h5", overwrite=False)
    assert target.read_bytes() == before


def test_wrong_extensions_are_refused(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match=r"must end in \.keras .* or \.h5"):
        model.save(tmp_path / "model.pkl")
    with pytest.raises(ValueError, match="save_format"):
        model.save(tmp_path / "model.keras", save_format="h5")
    with pytest.raises(ValueError, match="must end in .weights.h5"):
        model.save_weights(tmp_path / "model.keras")
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.save(tmp_path / "model.keras", bogus=1)


def test_models_a_keras_file_cannot_describe_are_refused(tmp_path):
    custom = Sequential([Dense(2, input_shape=(3,), activation=lambda z: z * 2)])
    with pytest.raises(ValueError, match="not a Keras built-in"):
        custom.save(tmp_path / "m.keras")
    leaky = Sequential([Dense(2, input_shape=(3,), activation=activations.LeakyReLU(0.1))])
    with pytest.raises(ValueError, match="negative_slope"):
        leaky.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="input shape"):
        Sequential([Dense(2)]).save(tmp_path / "m.keras")
    assert not os.listdir(tmp_path)


def test_a_loss_keras_cannot_name_saves_uncompiled_with_a_warning(tmp_path):
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss=lambda y_true, y_pred: (y_true - y_pred) ** 2)
    with pytest.warns(UserWarning, match="loads uncompiled"):
        model.save(tmp_path / "m.keras")
    assert not load_model(tmp_path / "m.keras").compiled


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failed_save_leaves_the_old_file_intact(tmp_path, fmt, monkeypatch):
    model = _trained()
    path = tmp_path / f"m.{fmt}"
    model.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed during the save")

    target = "write_v3_tree" if fmt == "keras" else "write_legacy_tree"
    monkeypatch.setattr(keras_format if fmt == "keras" else saving.legacy_h5, target, crash)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind


def _texts(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def test_writer_output_follows_the_keras_writer_requirements(tmp_path):
    """docs/model-files.md, 'What glassnet writes': what Keras 3.8 to 3.15 all accept."""
    model = _trained()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
        weights = archive.read("model.weights.h5")
    assert metadata["keras_version"] == "3.15.1" and "glassnet_state" in metadata
    assert {"module", "class_name", "config", "registered_name", "build_config",
            "compile_config"} == set(config)
    entries = config["config"]["layers"]
    assert entries[0]["class_name"] == "InputLayer"
    assert entries[0]["config"]["batch_shape"] == [None, 6]
    dense = next(e for e in entries if e["class_name"] == "Dense")
    assert set(dense["config"]) == {
        "name", "trainable", "dtype", "units", "activation", "use_bias", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer", "kernel_constraint",
        "bias_constraint"}
    assert dense["build_config"] == {"input_shape": [None, 6]}
    assert "quantization_config" not in json.dumps(config)
    assert all(e["registered_name"] is None and e["module"] == "keras.layers" for e in entries)
    assert config["compile_config"]["loss"] == "categorical_crossentropy"
    with h5py.File(io.BytesIO(weights)) as f:
        assert sorted(f["layers"]) == ["activation", "batch_normalization", "dense", "dense_1",
                                       "dense_2", "dropout", "flatten", "normalization",
                                       "normalization_1", "reshape"]
        assert f["layers/dense_1/vars"].attrs["name"] == model.layers[4].name
        assert list(f["layers/batch_normalization/vars"]) == ["0", "1", "2", "3"]
        assert list(f["layers/normalization/vars"]) == ["0", "1", "2"]  # + Keras's count
        assert list(f["layers/normalization_1/vars"]) == []  # statistics in the config
        assert f["optimizer/vars/0"].dtype == np.int64
        assert f["optimizer/vars/1"].dtype == np.float32
        assert len(f["optimizer/vars"]) == 2 + 2 * len(model.storage.slices)
        assert f["vars"].attrs["name"] == model.name

    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as f:
        description = json.loads(f.attrs["model_config"])
        assert all(set(e) == {"class_name", "config"} for e in description["config"]["layers"])
        training = json.loads(f.attrs["training_config"])
        assert training["loss_weights"] is None and "optimizer_config" in training
        group = f["model_weights"]
        assert _texts(group.attrs["layer_names"]) == [layer.name for layer in model.layers]
        first = model.layers[1].name  # the first Dense
        assert _texts(group[first].attrs["weight_names"]) == [
            f"{model.name}/{first}/kernel", f"{model.name}/{first}/bias"]
        assert group[model.layers[3].name].attrs["weight_names"].shape == (0,)  # Dropout
        assert "top_level_model_weights" in group
        assert weight_files.GLASSNET_OPTIMIZER_GROUP in f and "optimizer_weights" not in f


def test_old_keras_description_forms_load():
    """Keras <= 2.2 wrote the layer list itself, no InputLayer, and tuples as objects."""
    dense = {"class_name": "Dense", "config": {
        "name": "d1", "units": 3, "activation": "relu", "dtype": "float32",
        "batch_input_shape": {"class_name": "__tuple__", "items": [None, 4]},
        "kernel_initializer": {"class_name": "VarianceScaling", "config": {
            "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}}}
    old = {"class_name": "Sequential", "keras_version": "2.2.4", "backend": "tensorflow",
           "config": [dense, {"class_name": "Dense", "config": {"name": "d2", "units": 1}}]}
    model = model_from_json(json.dumps(old))
    assert model.input_shape == (4,)
    assert [layer.name for layer in model.layers] == ["d1", "d2"]
    new = {"class_name": "Sequential", "config": {
        "name": "s", "build_input_shape": [None, 4],
        "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2}}]}}
    assert model_from_json(json.dumps(new)).input_shape == (4,)
