"""A ``Sequential`` nested in a ``Sequential``, against real Keras 3 (TensorFlow backend):
TensorFlow's image-classification tutorial model built by both libraries from the same code,
files written by Keras read by glassnet and the reverse (Keras in safe mode), and the files'
layout (config keys, HDF5 paths) compared entry by entry. Skipped where Keras is not installed
(a failure under CI=true)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import glassnet

keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")
pytestmark = pytest.mark.keras

from test_nested_sequential import _input_names  # noqa: E402

NUM_CLASSES = 5
SHAPE = (32, 32, 3)


def tutorial(keras, with_batchnorm: bool = False):
    """The tutorial's model (``tensorflow.org/tutorials/images/classification``), on 32x32
    images, written once for ``keras`` and for ``glassnet`` imported as ``keras`` (every
    layer named: the files record names, and each library numbers unnamed layers itself)."""
    layers = keras.layers
    data_augmentation = keras.Sequential(
        [
            layers.RandomFlip("horizontal", input_shape=SHAPE, name="flip"),
            layers.RandomRotation(0.1, name="rotate"),
            layers.RandomZoom(0.1, name="zoom"),
        ],
        name="data_augmentation",
    )
    head = [layers.Dense(128, activation="relu", name="dense_128")]
    if with_batchnorm:
        head.append(layers.BatchNormalization(name="norm"))
    return keras.Sequential(
        [
            data_augmentation,
            layers.Rescaling(1.0 / 255, name="rescaling"),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_16"),
            layers.MaxPooling2D(name="pool_1"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv_32"),
            layers.MaxPooling2D(name="pool_2"),
            layers.Conv2D(64, 3, padding="same", activation="relu", name="conv_64"),
            layers.MaxPooling2D(name="pool_3"),
            layers.Dropout(0.2, name="dropout"),
            layers.Flatten(name="flatten"),
            keras.Sequential(head, name="head"),
            layers.Dense(NUM_CLASSES, name="outputs"),
        ],
        name="tutorial",
    )


def data(rows: int = 24, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 255, (rows, *SHAPE)).astype("float32")
    return x, rng.integers(0, NUM_CLASSES, rows)


def compiled(lib, model):
    model.compile(
        optimizer="adam",
        loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_the_tutorial_model_trains_and_predicts_keras_numbers():
    """Both libraries train the tutorial's model 2 epochs; on Keras's trained weights (the
    augmentation layers, which draw differently, inactive: ``training=False``) glassnet
    predicts and evaluates Keras's numbers."""
    x, y = data()
    theirs = compiled(keras, tutorial(keras))
    ours = compiled(glassnet, tutorial(glassnet))
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    theirs.fit(x, y, epochs=2, batch_size=8, verbose=0)
    history = ours.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    ours.set_weights(theirs.get_weights())
    close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    close(np.asarray(ours(x, training=False)), np.asarray(theirs(x, training=False)))
    (loss_ours, acc_ours) = ours.evaluate(x, y, verbose=0)
    (loss_theirs, acc_theirs) = theirs.evaluate(x, y, verbose=0)
    assert loss_ours == pytest.approx(loss_theirs, rel=1e-5)
    assert acc_ours == pytest.approx(acc_theirs)
    # the nested model sees the outer model's weights
    np.testing.assert_array_equal(ours.get_layer("head").get_weights()[0],
                                  theirs.get_layer("head").get_weights()[0])


def test_summary_counts_match_keras():
    theirs = tutorial(keras)
    ours = tutorial(glassnet)
    ours.build()
    for a, b in zip(ours.layers, theirs.layers, strict=True):
        assert a.count_params() == b.count_params(), a.name
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_glassnet_reads_the_file_keras_writes(tmp_path, suffix):
    theirs = tutorial(keras, with_batchnorm=True)
    x, y = data()
    compiled(keras, theirs).fit(x, y, epochs=1, batch_size=8, verbose=0)  # moves the BN stats
    path = tmp_path / f"keras{suffix}"
    if suffix == ".weights.h5":
        theirs.save_weights(path)
        ours = tutorial(glassnet, with_batchnorm=True)
        ours.load_weights(path)
    else:
        theirs.save(path)
        ours = glassnet.models.load_model(path)
        assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
        assert type(ours.get_layer("data_augmentation")).__name__ == "Sequential"
    close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_keras_reads_the_file_glassnet_writes(tmp_path, suffix):
    ours = compiled(glassnet, tutorial(glassnet, with_batchnorm=True))
    x, y = data()
    ours.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / f"glassnet{suffix}"
    if suffix == ".weights.h5":
        ours.save_weights(path)
        theirs = tutorial(keras, with_batchnorm=True)
        theirs.load_weights(path)
    else:
        ours.save(path)
        theirs = keras.models.load_model(path, safe_mode=True)
        assert [layer.name for layer in theirs.layers] == [layer.name for layer in ours.layers]
    close(theirs.predict(x, verbose=0), ours.predict(x, verbose=0))


def _h5_layout(source) -> list:
    """Every group and dataset of an HDF5 file: path, shape, and attributes."""
    found = []

    def visit(name, item):
        attrs = {key: (list(value) if isinstance(value, np.ndarray) else value)
                 for key, value in item.attrs.items()}
        found.append((name, getattr(item, "shape", None), json.dumps(attrs, default=str)))

    with h5py.File(source, "r") as f:
        f.visititems(visit)
    return found


def _keys(config):
    """The config's tree of keys (values left out, but for the class names)."""
    if isinstance(config, dict):
        return {key: (value if key == "class_name" else _keys(value))
                for key, value in config.items() if key != "shared_object_id"}
    if isinstance(config, list):
        return [_keys(item) for item in config]
    return None


def _nested_entries(description):
    return [entry for entry in description["config"]["layers"]
            if entry["class_name"] == "Sequential"]


@pytest.mark.parametrize("frozen", [False, True], ids=["trainable", "frozen"])
def test_the_files_are_laid_out_as_keras_lays_them_out(tmp_path, frozen):
    theirs = tutorial(keras, with_batchnorm=True)
    ours = tutorial(glassnet, with_batchnorm=True)
    if frozen:
        theirs.get_layer("head").trainable = False
        ours.get_layer("head").trainable = False
    ours.build()
    ours.set_weights(theirs.get_weights())
    for lib, model in (("keras", theirs), ("glassnet", ours)):
        model.save(tmp_path / f"{lib}.keras")
        model.save(tmp_path / f"{lib}.h5")
        model.save_weights(tmp_path / f"{lib}.weights.h5")
    archives = {lib: zipfile.ZipFile(tmp_path / f"{lib}.keras") for lib in ("keras", "glassnet")}
    configs = {lib: json.loads(a.read("config.json")) for lib, a in archives.items()}
    for theirs_entry, ours_entry in zip(_nested_entries(configs["keras"]),
                                        _nested_entries(configs["glassnet"]), strict=True):
        assert sorted(ours_entry) == sorted(theirs_entry)
        assert ours_entry["build_config"] == theirs_entry["build_config"]
        assert ours_entry["config"]["trainable"] == theirs_entry["config"]["trainable"]
        assert ([e["class_name"] for e in ours_entry["config"]["layers"]]
                == [e["class_name"] for e in theirs_entry["config"]["layers"]])
        assert sorted(ours_entry["config"]) == sorted(theirs_entry["config"])
    h5_configs = {lib: json.loads(h5py.File(tmp_path / f"{lib}.h5", "r").attrs["model_config"])
                  for lib in ("keras", "glassnet")}
    for theirs_entry, ours_entry in zip(_nested_entries(h5_configs["keras"]),
                                        _nested_entries(h5_configs["glassnet"]), strict=True):
        assert sorted(ours_entry) == sorted(theirs_entry) == ["class_name", "config"]
    weights = {lib: io.BytesIO(a.read("model.weights.h5")) for lib, a in archives.items()}
    assert _h5_layout(weights["glassnet"]) == _h5_layout(weights["keras"])
    assert (_h5_layout(tmp_path / "glassnet.weights.h5")
            == _h5_layout(tmp_path / "keras.weights.h5"))

    def legacy(lib):  # the weights part of the .h5 model file
        return [entry for entry in _h5_layout(tmp_path / f"{lib}.h5")
                if entry[0].startswith("model_weights")]

    assert legacy("glassnet") == legacy("keras")


def test_a_functional_model_holding_a_sequential_in_h5_each_way(tmp_path):
    """The legacy ``.h5`` layout holds nested models in functional models too."""

    def build(lib):
        block = lib.Sequential([lib.layers.Dense(3, activation="tanh", name="inner")],
                               name="block")
        inputs = lib.Input(shape=(5,))
        return lib.Model(inputs, lib.layers.Dense(1, name="out")(block(inputs)))

    x = np.random.default_rng(4).normal(size=(6, 5)).astype("float32")
    theirs, ours = build(keras), build(glassnet)
    theirs.save(tmp_path / "keras.h5")
    ours.save(tmp_path / "glassnet.h5")
    close(glassnet.models.load_model(tmp_path / "keras.h5").predict(x, verbose=0),
          theirs.predict(x, verbose=0))
    close(keras.models.load_model(tmp_path / "glassnet.h5", safe_mode=True).predict(x, verbose=0),
          ours.predict(x, verbose=0))


def _freezing(lib, case: str):
    """A model frozen with ``trainable=False`` before a layer is added, in ``lib``; returns the
    model to fit and the layers to watch."""
    layers = lib.layers
    if case == "constructed":
        model = lib.Sequential([lib.Input(shape=(3,))], trainable=False)
        model.add(layers.Dense(1, name="late"))
        return model, model.layers
    if case == "set":
        model = lib.Sequential([lib.Input(shape=(3,)), layers.Dense(2, name="early")])
        model.trainable = False
        model.add(layers.Dense(1, name="late"))
        return model, model.layers
    inner = lib.Sequential([layers.Dense(3, name="early")], name="inner")
    inner.trainable = False
    inner.add(layers.Dense(3, name="late"))
    outer = lib.Sequential([lib.Input(shape=(3,)), inner, layers.Dense(1, name="out")])
    return outer, [*inner.layers, outer.layers[-1]]


def _freezing_facts(lib, case: str) -> dict:
    model, watched = _freezing(lib, case)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1))
    if not model.built:
        model.build()
    facts = {
        "layer flags": [layer.trainable for layer in watched],
        "trainable": [tuple(w.shape) for w in model.trainable_weights],
        "non-trainable": [tuple(w.shape) for w in model.non_trainable_weights],
    }
    before = [np.array(layer.get_weights()[0]) for layer in watched]
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    facts["moved"] = [not np.array_equal(b, layer.get_weights()[0])
                      for b, layer in zip(before, watched, strict=True)]
    again = lib.Sequential.from_config(model.get_config())
    facts["from_config"] = (again.trainable, [layer.trainable for layer in again.layers])
    return facts


@pytest.mark.parametrize("case", ["constructed", "set", "nested"])
def test_trainable_false_freezes_what_keras_freezes(case):
    """A model whose own ``trainable`` is false trains nothing, layers added after it was
    frozen included (they keep ``trainable=True``); a frozen nested model's later layers
    train under a trainable outer model; ``from_config`` does not read the model's flag
    (``keras/src/layers/layer.py``, ``keras/src/models/sequential.py``)."""
    assert _freezing_facts(glassnet, case) == _freezing_facts(keras, case)


def test_a_frozen_nested_model_with_a_later_layer_in_h5_as_keras_writes_it(tmp_path):
    """The legacy ``.h5`` lists a nested model's weights as Keras's ``trainable_weights`` then
    ``non_trainable_weights``: all of them non-trainable, in layer order, for a model whose
    own ``trainable`` is false."""

    def build(lib):
        inner = lib.Sequential([lib.layers.Dense(3, name="early"),
                                lib.layers.BatchNormalization(name="norm")], name="inner")
        inner.trainable = False
        inner.add(lib.layers.Dense(2, name="late"))
        return lib.Sequential([lib.Input(shape=(4,)), inner, lib.layers.Dense(1, name="out")],
                              name="outer")

    theirs, ours = build(keras), build(glassnet)
    ours.build()
    ours.set_weights(theirs.get_weights())
    theirs.save(tmp_path / "keras.h5")
    ours.save(tmp_path / "glassnet.h5")

    def legacy(lib):
        return [entry for entry in _h5_layout(tmp_path / f"{lib}.h5")
                if entry[0].startswith("model_weights")]

    assert legacy("glassnet") == legacy("keras")


def _unnamed_inputs(lib, case: str):
    """Nested models none of which starts with an ``Input``, made in ``lib`` after its names
    start afresh; returns the model and the name of an ``Input`` made afterwards."""
    lib.backend.clear_session()
    layers = lib.layers
    if case == "tutorial":
        model = tutorial(lib)
    elif case == "declared first":
        first = lib.Sequential([layers.Dense(2, input_shape=(3,))])
        model = lib.Sequential([first, lib.Sequential([layers.Dense(2)])])
    elif case == "added one by one":
        model = lib.Sequential()
        model.add(lib.Input(shape=(3,)))
        model.add(lib.Sequential([layers.Dense(2)]))
        model.add(lib.Sequential([layers.Dense(2)]))
    elif case == "shape at build":
        model = lib.Sequential([lib.Sequential([layers.Dense(2)]),
                                lib.Sequential([layers.Dense(2)])])
    else:  # three deep
        inner = lib.Sequential([layers.Dense(2)])
        middle = lib.Sequential([inner, layers.Dense(2)])
        model = lib.Sequential([layers.Dense(3, input_shape=(3,)), middle])
    later = lib.Input(shape=(3,))
    if not model.built:  # glassnet builds when it needs to; Keras may have built already
        known = lib is glassnet and model.input_shape is not None
        model.build(None if known else (None, 3))
    return model, later


@pytest.mark.parametrize("case", ["tutorial", "declared first", "added one by one",
                                  "shape at build", "three deep"])
def test_input_layers_are_named_as_keras_names_them(tmp_path, case):
    """Keras 3 makes a ``Sequential``'s input layer (``input_layer``, ``input_layer_1``...,
    one counter with ``Input``) when it builds the model, which it does after each ``add``
    once the input shape is known, or at the first call (``keras/src/models/sequential.py``,
    ``_maybe_rebuild`` and ``build``): the names in the config, in both files and of an
    ``Input`` made afterwards are Keras's, and so are the models' own names."""
    facts = {}
    for name, lib in (("keras", keras), ("glassnet", glassnet)):
        model, later = _unnamed_inputs(lib, case)
        model.save(tmp_path / f"{name}.keras")
        model.save(tmp_path / f"{name}.h5")
        with zipfile.ZipFile(tmp_path / f"{name}.keras") as archive:
            saved = json.loads(archive.read("config.json"))["config"]
        with h5py.File(tmp_path / f"{name}.h5", "r") as f:
            legacy = json.loads(f.attrs["model_config"])["config"]
        history = getattr(later, "_keras_history", None)
        facts[name] = {
            "config": _input_names(model.get_config()),
            "file": _input_names(saved),
            "h5": _input_names(legacy),
            "later Input": history[0].name if history else later.node.layer.name,
            "models": [model.name] + [layer.name for layer in model.layers
                                      if type(layer).__name__ == "Sequential"],
        }
    assert facts["glassnet"] == facts["keras"]


# --- a subclassed model as a layer -------------------------------------------------------------

PACKAGE = "tests_nested_keras"


def wide_class(lib):
    """A subclassed model holding layers directly, in a list, in a dict, after ``layers`` in
    name order and in a private attribute: every place Keras's weight walk may store one."""

    class Wide(lib.Model):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = lib.layers.Dense(units, activation="tanh")
            self.blocks = [lib.layers.Dense(units), lib.layers.Dense(units)]
            self.heads = {"value": lib.layers.Dense(units),
                          "norm": lib.layers.BatchNormalization()}
            self.out = lib.layers.Dense(units)
            self._extra = lib.layers.Dense(units)
            self.zeta = lib.layers.Dense(units)

        def call(self, inputs):
            x = self.hidden(inputs)
            for block in self.blocks:
                x = block(x)
            x = self.heads["norm"](self.heads["value"](x))
            return inputs + self.zeta(self._extra(self.out(x)))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Wide


@pytest.fixture
def wide():
    """``Wide`` for each library, registered in each as ``tests_nested_keras>Wide``."""
    classes = {"keras": wide_class(keras), "glassnet": wide_class(glassnet)}
    keras.saving.register_keras_serializable(package=PACKAGE)(classes["keras"])
    glassnet.saving.register_keras_serializable(package=PACKAGE)(classes["glassnet"])
    yield classes
    keras.saving.get_custom_objects().pop(f"{PACKAGE}>Wide", None)
    glassnet.saving.get_custom_objects().pop(f"{PACKAGE}>Wide", None)


def _holding(lib, cls, where: str):
    if where == "alone":
        model = cls(4, name="wide")
        model(np.zeros((1, 4), "float32"))
        return model
    return lib.Sequential([lib.Input(shape=(4,)), cls(4, name="wide"),
                           lib.layers.Dense(1, name="out")], name="outer")


@pytest.mark.parametrize("where", ["nested", "alone"])
def test_a_subclassed_models_weights_are_where_keras_keeps_them_each_way(tmp_path, wide, where):
    """Keras 3 stores a subclassed model's layers where its walk of the model's attributes
    meets them (``keras/src/saving/saving_lib.py``, ``_walk_saveable``); glassnet writes
    the same groups and reads Keras's files, and Keras reads glassnet's."""
    theirs = _holding(keras, wide["keras"], where)
    ours = _holding(glassnet, wide["glassnet"], where)
    x = np.random.default_rng(5).normal(size=(6, 4)).astype("float32")
    theirs.compile(optimizer="adam", loss="mse")  # moves the weights and BN's statistics
    theirs.fit(x, np.ones((6, 1 if where == "nested" else 4)), epochs=1, verbose=0)
    ours.build((None, 4))
    ours.set_weights(theirs.get_weights())
    theirs.save(tmp_path / "keras.keras")
    ours.save(tmp_path / "glassnet.keras")
    weights = {lib: io.BytesIO(zipfile.ZipFile(tmp_path / f"{lib}.keras").read("model.weights.h5"))
               for lib in ("keras", "glassnet")}
    assert ([entry[0] for entry in _h5_layout(weights["glassnet"]) if "optimizer" not in entry[0]]
            == [entry[0] for entry in _h5_layout(weights["keras"]) if "optimizer" not in entry[0]])
    loaded = glassnet.models.load_model(tmp_path / "keras.keras")
    assert type(loaded.get_layer("wide") if where == "nested" else loaded) is wide["glassnet"]
    close(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0))
    close(keras.models.load_model(tmp_path / "glassnet.keras").predict(x, verbose=0),
          ours.predict(x, verbose=0))


@pytest.mark.parametrize("known", ["registered", "custom_objects", "unknown"])
def test_a_nested_subclassed_model_is_rebuilt_from_a_config_where_keras_rebuilds_it(known):
    """Keras 3 finds a nested model's class by its registered name among the registered
    objects and ``custom_objects`` (``keras/src/saving/serialization_lib.py``,
    ``_retrieve_class_or_fn``), and refuses a class it cannot find."""
    outcomes = {}
    for name, lib in (("keras", keras), ("glassnet", glassnet)):
        cls = wide_class(lib)
        if known == "registered":
            lib.saving.register_keras_serializable(package=PACKAGE)(cls)
        config = _holding(lib, cls, "nested").get_config()
        objects = {"Wide": cls} if known == "custom_objects" else None
        try:
            again = lib.Sequential.from_config(config, custom_objects=objects)
            outcomes[name] = (type(again.layers[0]) is cls, again.layers[0].units)
        except (TypeError, ValueError) as error:
            assert "'Wide'" in str(error)
            outcomes[name] = "refused"
        finally:
            lib.saving.get_custom_objects().pop(f"{PACKAGE}>Wide", None)
    assert outcomes["glassnet"] == outcomes["keras"]
    assert outcomes["keras"] == ("refused" if known == "unknown" else (True, 4))
