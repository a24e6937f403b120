"""A model as a layer of a ``Sequential``: Keras's image tutorial puts a ``Sequential`` of
augmentation layers in front of its convolutions. The outer model shows the nested one as one
layer, holds its weights in one storage that the nested model views, runs nested
``Sequential`` layers as steps of its own plan, and saves and reads it in every format."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassnet as keras
from glassnet import explain, layers
from glassnet.engine.dense_chain import DenseChain
from glassnet.engine.graph_plan import GraphPlan
from glassnet.engine.row_chunks import RowChunkRun


def augmentation(shape=(8, 8, 3), name="augment"):
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", input_shape=shape, seed=1),
            layers.RandomRotation(0.1, seed=2),
            layers.RandomZoom(0.1, seed=3),
        ],
        name=name,
    )


def tutorial_model(head=None):
    """The tutorial's network, small: augmentation, rescaling, a conv stack, a nested head."""
    head = head or keras.Sequential([layers.Dense(6, activation="relu", name="hidden")],
                                    name="head")
    return keras.Sequential(
        [
            augmentation(),
            layers.Rescaling(1.0 / 255, name="rescale"),
            layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
            layers.MaxPooling2D(name="pool"),
            layers.Flatten(name="flat"),
            head,
            layers.Dense(3, name="logits"),
        ],
        name="tutorial",
    )


def images(rows=12, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 255, (rows, 8, 8, 3)).astype("float32"),
            rng.integers(0, 3, rows))


def test_the_nested_model_is_one_layer_and_gives_the_input_shape():
    model = tutorial_model()
    assert [layer.name for layer in model.layers] == [
        "augment", "rescale", "conv", "pool", "flat", "head", "logits"]
    assert model.input_shape == (8, 8, 3)
    assert model.get_layer("head") is model.layers[5]
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert "augment (Sequential)" in text and "head (Sequential)" in text
    head_row = next(line for line in text.splitlines() if line.startswith("head"))
    assert head_row.split()[-1] == "390"  # 64·6 + 6
    assert " Total params: 523" in text  # conv 112, head 390, logits 21
    assert model.count_params() == 523


def test_add_takes_a_model_built_or_not():
    built = augmentation()
    built.build()
    model = keras.Sequential(name="by_add")
    model.add(built)
    model.add(layers.Flatten())
    model.add(keras.Sequential([layers.Dense(2)]))
    x, _ = images(3)
    assert model.predict(x, verbose=0).shape == (3, 2)
    assert model.input_shape == (8, 8, 3)


def test_a_functional_model_nests_and_runs_on_a_tape():
    inputs = keras.Input(shape=(4,))
    functional = keras.Model(inputs, layers.Dense(3, activation="tanh", name="f_dense")(inputs),
                             name="functional_block")
    model = keras.Sequential([layers.Dense(4, input_shape=(5,), name="first"), functional,
                              layers.Dense(1, name="out")])
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.plan, GraphPlan)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(16, 5)), rng.normal(size=(16, 1))
    before = functional.get_weights()[0].copy()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert not np.allclose(before, functional.get_weights()[0])
    np.testing.assert_array_equal(functional.get_weights()[0], model.get_weights()[2])
    # the same numbers as the layers written flat
    flat = keras.Sequential([layers.Dense(4, input_shape=(5,)), layers.Dense(3, activation="tanh"),
                             layers.Dense(1)])
    flat.build()
    flat.set_weights(model.get_weights())
    np.testing.assert_allclose(flat.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_nested_sequential_layers_run_as_steps_of_the_outer_plan():
    """The augmentation block costs nothing over the same layers written flat: the outer
    plan has the same steps (a chunked conv run, a Dense chain across the nested head)."""
    nested = tutorial_model()
    nested.build()
    flat = keras.Sequential(
        [*augmentation().layers, layers.Rescaling(1.0 / 255), layers.Conv2D(4, 3, padding="same",
         activation="relu"), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(6,
         activation="relu"), layers.Dense(3)])
    flat.build()
    kinds = [type(step).__name__ for step in nested.plan.steps]
    assert kinds == [type(step).__name__ for step in flat.plan.steps]
    assert isinstance(nested.plan.steps[3], RowChunkRun)
    assert [layer.name for layer in nested.plan.steps[3].layers] == [
        "rescale", "conv", "pool", "flat"]
    assert isinstance(nested.plan.steps[-1], DenseChain)
    assert [layer.name for layer in nested.plan.steps[-1].layers] == ["hidden", "logits"]


def test_weights_are_shared_before_and_after_fit():
    model = tutorial_model()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.build()
    head = model.get_layer("head")
    x, y = images()
    for _ in range(2):
        np.testing.assert_array_equal(head.get_weights()[0], model.get_weights()[2])
        np.testing.assert_array_equal(head.weights[1], model.weights[3])
        assert np.shares_memory(head.storage.parameters, model.storage.parameters)
        features = model.layers[4].output_shape
        rows = np.random.default_rng(1).normal(size=(2, *features)).astype("float32")
        manual = np.maximum(rows @ model.get_weights()[2] + model.get_weights()[3], 0)
        np.testing.assert_allclose(head.predict(rows, verbose=0), manual, rtol=1e-5, atol=1e-6)
        before = head.get_weights()[0].copy()
        model.fit(x, y, epochs=1, batch_size=4, verbose=0)
        assert not np.array_equal(before, head.get_weights()[0])  # training moved it


def test_training_the_nested_model_alone_moves_the_outer_models_weights():
    model = tutorial_model()
    model.compile(optimizer="adam", loss="mse")
    head = model.get_layer("head")
    head.compile(optimizer="sgd", loss="mse")  # re-packs the outer storage, still shared
    rows = np.random.default_rng(2).normal(size=(8, 64)).astype("float32")
    head.fit(rows, np.ones((8, 6)), epochs=2, verbose=0)
    x, _ = images(4)
    again = keras.Sequential.from_config(model.get_config())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), again.predict(x, verbose=0),
                               rtol=1e-6)
    np.testing.assert_array_equal(head.get_weights()[0], model.get_weights()[2])


def test_freezing_the_nested_model_freezes_its_layers():
    model = tutorial_model()
    head = model.get_layer("head")
    head.trainable = False
    assert not head.layers[0].trainable
    model.build()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2
    frozen = head.get_weights()
    conv = model.get_layer("conv").get_weights()[0].copy()
    x, y = images()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for before, after in zip(frozen, head.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(conv, model.get_layer("conv").get_weights()[0])
    assert model.get_config()["layers"][6]["config"]["trainable"] is False
    head.trainable = True
    model.compile(optimizer="adam", loss="mse")  # takes effect at compile, as in Keras
    assert len(model.trainable_weights) == 6


def test_the_glass_box_names_every_leaf_layer():
    model = tutorial_model()
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = images(2)
    leaves = [layer.name for layer in model.get_layer("augment").layers] + [
        "rescale", "conv", "pool", "flat", "hidden", "logits"]
    assert [layer.name for layer in explain.trace(model, x).layers] == leaves
    assert [layer.name for layer in explain.slopes(model, x, y).layers] == leaves


def test_config_round_trip():
    model = tutorial_model()
    model.build()
    config = model.get_config()
    entry = config["layers"][1]
    assert entry["class_name"] == "Sequential"
    assert entry["build_config"] == {"input_shape": (None, 8, 8, 3)}
    assert [e["class_name"] for e in entry["config"]["layers"]] == [
        "InputLayer", "RandomFlip", "RandomRotation", "RandomZoom"]
    again = keras.Sequential.from_config(config)
    assert again.get_config() == config
    assert [type(layer).__name__ for layer in again.layers] == [
        type(layer).__name__ for layer in model.layers]
    again.set_weights(model.get_weights())
    x, _ = images(3)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_files_round_trip(tmp_path, suffix):
    model = tutorial_model()
    model.get_layer("head").add(layers.BatchNormalization(name="norm"))
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = images()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / f"model{suffix}"
    if suffix == ".weights.h5":
        model.save_weights(path)
        loaded = tutorial_model(keras.Sequential(
            [layers.Dense(6, activation="relu", name="hidden"),
             layers.BatchNormalization(name="norm")], name="head"))
        loaded.load_weights(path)
    else:
        model.save(path)
        loaded = keras.models.load_model(path)
        assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
        assert type(loaded.get_layer("head")).__name__ == "Sequential"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    head = loaded.get_layer("head")
    np.testing.assert_array_equal(head.get_weights()[0], loaded.get_weights()[2])


def test_copies_keep_the_nested_model_on_the_copys_storage():
    model = tutorial_model()
    model.build()
    twin = copy.deepcopy(model)
    assert np.shares_memory(twin.get_layer("head").storage.parameters, twin.storage.parameters)
    assert not np.shares_memory(twin.storage.parameters, model.storage.parameters)
    x, _ = images(3)
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))


def test_pop_and_add_keep_the_values_and_the_sharing():
    model = tutorial_model()
    model.build()
    head = model.get_layer("head")
    kept = head.get_weights()
    model.pop()
    model.add(layers.Dense(2, name="new_out"))
    model.build()
    for before, after in zip(kept, head.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert np.shares_memory(head.storage.parameters, model.storage.parameters)


def test_a_nested_model_of_another_shape_is_refused_naming_both():
    model = keras.Sequential([layers.Dense(5, input_shape=(3,)), augmentation(name="aug")])
    with pytest.raises(ValueError, match=r"Model 'aug'.*\(None, 8, 8, 3\).*\(None, 5\)"):
        model.build()
    built = keras.Sequential([layers.Dense(2, input_shape=(4,))], name="built_for_4")
    built.build()
    with pytest.raises(ValueError, match=r"'built_for_4'.*\(None, 4\).*\(None, 6\)"):
        keras.Sequential([layers.Dense(6, input_shape=(2,)), built]).predict(
            np.ones((1, 2)), verbose=0)


def test_what_is_neither_a_layer_nor_a_model_is_refused():
    with pytest.raises(TypeError, match="Sequential.add expects a glassnet layer"):
        keras.Sequential([object()])
    model = keras.Sequential()
    with pytest.raises(TypeError, match="Sequential.add expects a glassnet layer"):
        model.add("dense")
    with pytest.raises(ValueError, match="cannot be a layer of itself"):
        model.add(model)
    a, b = keras.Input(shape=(2,)), keras.Input(shape=(2,))
    two = keras.Model([a, b], layers.Add()([a, b]), name="two_inputs")
    with pytest.raises(ValueError, match="'two_inputs' has 2 inputs"):
        model.add(two)


# --- a model whose own ``trainable`` is false (Keras 3: keras/src/layers/layer.py) --------------


def _rows(columns=3, rows=16, seed=7):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, columns)).astype("float32"), rng.normal(size=(rows, 1))


def _moved(model, watched, x, y) -> list[bool]:
    """Which of the ``watched`` layers' kernels one epoch of SGD on ``model`` moves."""
    model.build()
    before = [layer.get_weights()[0].copy() for layer in watched]
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    return [not np.array_equal(b, layer.get_weights()[0]) for b, layer in zip(
        before, watched, strict=True)]


@pytest.mark.parametrize("how", ["constructed", "set"])
def test_a_model_whose_trainable_is_false_trains_no_layer_added_later(how):
    """Keras 3: a model whose ``trainable`` is false has no trainable weights at all; a layer
    added after keeps its own ``trainable=True``."""
    model = keras.Sequential([keras.Input(shape=(3,))], trainable=how != "constructed")
    if how == "set":
        model.trainable = False
    late = layers.Dense(1, name="late")
    model.add(late)
    model.build()
    assert late.trainable and len(late.trainable_weights) == 2
    assert model.trainable_weights == []
    assert [w.shape for w in model.non_trainable_weights] == [(3, 1), (1,)]
    assert _moved(model, [late], *_rows()) == [False]
    lines = []
    model.summary(print_fn=lines.append)
    assert " Trainable params: 0 (0 B)" in lines[0]
    model.trainable = True
    assert _moved(model, [late], *_rows()) == [True]  # at the next compile, as in Keras


def test_a_frozen_nested_model_trains_nothing_alone_but_its_outer_model_trains_its_new_layers():
    """Keras 3 gathers an outer model's trainable weights from its sublayers' variables, so
    the nested model's own flag freezes only the layers it was set on; fitted alone, the
    nested model trains nothing."""
    inner = keras.Sequential([layers.Dense(3, name="early")], name="inner")
    inner.trainable = False
    late = layers.Dense(3, name="late")
    inner.add(late)
    outer = keras.Sequential([keras.Input(shape=(3,)), inner, layers.Dense(1, name="out")])
    x, y = _rows()
    assert _moved(outer, [inner.layers[0], late, outer.layers[-1]], x, y) == [False, True, True]
    assert [w.shape for w in outer.trainable_weights] == [(3, 3), (3,), (3, 1), (1,)]
    assert inner.trainable_weights == [] and len(inner.non_trainable_weights) == 4
    before = late.get_weights()[0].copy()
    inner.compile(optimizer="sgd", loss="mse")
    inner.fit(x, np.ones((16, 3)), epochs=1, verbose=0)
    np.testing.assert_array_equal(before, late.get_weights()[0])
    assert _moved(outer, [late], x, y) == [True]  # the outer model still trains it


def test_a_sequentials_own_trainable_is_not_read_back(tmp_path):
    """Keras 3's ``Sequential.from_config`` does not read the model's ``trainable``: a model
    read back trains by its layers' flags, which its config holds."""
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2, name="frozen")])
    model.trainable = False  # freezes "frozen"
    model.add(layers.Dense(1, name="free"))
    model.build()
    assert model.get_config()["trainable"] is False
    model.save(tmp_path / "model.keras")
    for again in (keras.Sequential.from_config(model.get_config()),
                  keras.models.load_model(tmp_path / "model.keras")):
        assert again.trainable is True
        assert [layer.trainable for layer in again.layers] == [False, True]
        assert [w.shape for w in again.trainable_weights] == [(2, 1), (1,)]


# --- the names of input layers (Keras 3 makes a Sequential's input layer when it builds it) --


def _input_names(config) -> list:
    """The input layers' names in a Sequential config, a nested model's as a list."""
    found = []
    for entry in config["layers"]:
        if entry["class_name"] == "InputLayer":
            found.append(entry["config"]["name"])
        elif entry["class_name"] == "Sequential":
            found.append(_input_names(entry["config"]))
    return found


def test_input_layers_made_without_input_are_numbered_as_keras_numbers_them(tmp_path):
    keras.backend.clear_session()
    first = keras.Sequential([layers.Dense(2, input_shape=(3,), name="a0")], name="first")
    second = keras.Sequential([layers.Dense(2, name="b0")], name="second")
    outer = keras.Sequential([first, second], name="outer")  # Keras builds it here
    later = keras.Input(shape=(3,))
    assert later.node.layer.name == "input_layer_3"
    outer.build()
    expected = ["input_layer_1", ["input_layer"], ["input_layer_2"]]
    assert _input_names(outer.get_config()) == expected
    outer.save(tmp_path / "outer.keras")
    loaded = keras.models.load_model(tmp_path / "outer.keras")
    assert _input_names(loaded.get_config()) == expected


def test_unnamed_sequential_models_are_numbered_from_sequential():
    keras.backend.clear_session()
    assert [keras.Sequential().name for _ in range(3)] == [
        "sequential", "sequential_1", "sequential_2"]


# --- a subclassed model as a layer, rebuilt from configs and files -----------------------------


class Block(keras.Model):
    """A residual block written as a subclassed model; ``get_config`` gives ``units``."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="tanh")
        self.out = layers.Dense(units)

    def call(self, inputs):
        return inputs + self.out(self.hidden(inputs))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@pytest.fixture
def registered_block():
    """``Block`` registered as ``"tests_nested>Block"`` for one test."""
    from glassnet.saving import get_custom_objects

    keras.saving.register_keras_serializable(package="tests_nested")(Block)
    yield "tests_nested>Block"
    get_custom_objects().pop("tests_nested>Block", None)


def _with_block(kind: str):
    block = Block(4, name="block")  # one argument of its own: a subclassed model
    if kind == "sequential":
        return keras.Sequential([keras.Input(shape=(4,)), block, layers.Dense(1, name="out")])
    inputs = keras.Input(shape=(4,))
    return keras.Model(inputs, layers.Dense(1, name="out")(block(inputs)))


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_nested_subclassed_model_is_rebuilt_where_its_class_is_registered(
        tmp_path, registered_block, kind):
    model = _with_block(kind)
    assert type(model.get_layer("block")) is Block
    x, y = _rows(4)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    again = type(model).from_config(model.get_config())
    assert type(again.get_layer("block")) is Block and again.get_layer("block").units == 4
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert type(loaded.get_layer("block")) is Block
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="cannot hold the subclassed model Block"):
        model.save(tmp_path / "model.h5")


def test_a_nested_subclassed_model_needs_its_class_registered_or_passed_in(
        tmp_path, registered_block):
    from glassnet.saving import get_custom_objects

    model = _with_block("sequential")
    model.save(tmp_path / "model.keras")
    config = model.get_config()
    assert config["layers"][1]["registered_name"] == registered_block
    del get_custom_objects()[registered_block]  # a program that never registered it
    with pytest.raises(keras.saving.ModelFileError, match="Could not locate class 'Block'"):
        keras.models.load_model(tmp_path / "model.keras")
    with pytest.raises(ValueError, match="Unknown layer class 'Block'.*custom_objects"):
        keras.Sequential.from_config(config)
    objects = {registered_block: Block}
    assert type(keras.models.load_model(tmp_path / "model.keras", custom_objects=objects)
                .get_layer("block")) is Block
    assert type(keras.Sequential.from_config(config, custom_objects=objects)
                .get_layer("block")) is Block


class Unregistered(Block):
    """A subclass no program registered."""


def test_a_nested_subclassed_model_of_an_unregistered_class_is_not_saved_whole(tmp_path):
    model = keras.Sequential([keras.Input(shape=(4,)), Unregistered(name="block")])
    target = tmp_path / "unregistered.keras"
    with pytest.raises(TypeError, match="subclassed models whose class is registered; "
                                        "Unregistered is not"):
        model.save(target)
    assert not target.exists()


def test_a_nested_model_whose_config_misses_an_argument_is_refused_naming_its_class(tmp_path):
    class NeedsUnits(keras.Model):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, inputs):
            return self.dense(inputs)

    model = keras.Sequential([keras.Input(shape=(4,)), NeedsUnits(3)])
    with pytest.raises(TypeError, match="class NeedsUnits cannot be rebuilt.*'units'"):
        keras.Sequential.from_config(model.get_config(), custom_objects={"NeedsUnits": NeedsUnits})
