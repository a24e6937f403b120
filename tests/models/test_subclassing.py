"""Subclassed models and layers: layers in attributes, ``call`` with Python control flow,
``build``/``add_weight`` (``keras/src/models/model.py``, ``keras/src/layers/layer.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_gradient_close, numerical_gradient

import glassnet as keras
from glassnet import layers


class Tower(keras.Model):
    """Layers held directly, in a list and in a dict; ``call`` loops and branches."""

    def __init__(self, depth: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.entry = layers.Dense(4, activation="tanh")
        self.blocks = [layers.Dense(4, activation="tanh") for _ in range(depth)]
        self.heads = {"value": layers.Dense(1)}
        self.dropout = layers.Dropout(0.5, seed=1)

    def call(self, inputs, training=False):
        x = self.entry(inputs)
        for block in self.blocks:
            x = x + block(x) if x.shape[-1] == 4 else block(x)
        if training:
            x = self.dropout(x, training=training)
        return self.heads["value"](x)


class Residual(layers.Layer):
    """A layer written as ``call`` over other layers (no forward/backward of its own)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(units, activation="relu")

    def call(self, inputs):
        return inputs + self.inner(inputs)


def test_layers_in_attributes_lists_and_dicts_are_tracked():
    model = Tower()
    model(np.zeros((1, 3), "float32"))
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense", "Dense", "Dense", "Dense", "Dropout"
    ]
    assert len(model.trainable_weights) == 8
    assert model.output_shape == (1,)


def test_a_subclassed_model_trains_and_its_slopes_match_finite_differences(float64):
    # Seeded: about one unseeded start in a hundred ends 30 epochs (dropout 0.5 on 8 rows)
    # with a higher loss than it began, and earlier tests decide which start this one gets.
    keras.utils.set_random_seed(0)
    model = Tower()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3))
    y = x.sum(axis=1, keepdims=True)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before

    def loss():
        return model.compute_gradients(x, y, training=False)[0]

    _, grads = model.compute_gradients(x, y, training=False)
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        assert_gradient_close(grad, numerical_gradient(loss, weight), rtol=1e-5, atol=1e-8)


def test_summary_after_a_first_call(capsys):
    model = Tower(name="tower")
    model(np.zeros((2, 3), "float32"))
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "tower"' in text and "Total params: 61" in text


def test_a_call_based_layer_inside_a_sequential_model_trains(float64):
    model = keras.Sequential([layers.Dense(3, input_shape=(3,)), Residual(3), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 1))

    def loss():
        return model.compute_gradients(x, y)[0]

    _, grads = model.compute_gradients(x, y)
    assert len(grads) == 6  # the inner Dense's weights train with the model's
    for weight, grad in zip(model.trainable_weights, grads, strict=True):
        assert_gradient_close(grad, numerical_gradient(loss, weight), rtol=1e-5, atol=1e-8)


def test_a_call_that_returns_no_array_is_refused():
    class Broken(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs):
            self.dense(inputs)
            return "done"

    with pytest.raises(TypeError, match="call\\(\\) must return an array.*str"):
        Broken()(np.zeros((1, 2)))


def test_a_subclassed_model_saves_weights_but_not_a_model_file(tmp_path):
    model = Tower()
    x = np.random.default_rng(4).normal(size=(5, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    model.save_weights(tmp_path / "tower.weights.h5")
    again = Tower()
    again(np.zeros((1, 3), "float32"))
    again.load_weights(tmp_path / "tower.weights.h5")
    np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
    with pytest.raises(TypeError, match="Tower is not: decorate it"):
        model.save(tmp_path / "tower.keras")


def test_get_layer_finds_a_subclassed_models_layers_by_name_or_index():
    """``Model.get_layer`` as in ``keras/src/models/model.py``, on a subclassed model."""
    model = Tower()
    model(np.zeros((1, 3), "float32"))
    assert model.get_layer(model.entry.name) is model.entry
    assert model.get_layer(index=1) is model.blocks[0]
    with pytest.raises(ValueError, match="No such layer: nowhere. Existing layers are"):
        model.get_layer("nowhere")
    with pytest.raises(ValueError, match="at index 9 but model only has 5 layers"):
        model.get_layer(index=9)
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer("dense", index=0)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()


class WithResidual(keras.Model):
    """A layer nested in a call-based layer (the Residual's Dense is not in ``layers``)."""

    def __init__(self):
        super().__init__()
        self.residual = Residual(3)
        self.head = layers.Dense(1)

    def call(self, inputs):
        return self.head(self.residual(inputs))


class Flat(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(4, activation="tanh")
        self.head = layers.Dense(1)

    def call(self, inputs):
        return self.head(self.hidden(inputs))


def resumes_exactly_from_its_weights_file(model_class, tmp_path) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = model_class()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    model.save_weights(tmp_path / "model.weights.h5")
    again = model_class()
    again.compile(optimizer="adam", loss="mse")
    again(x[:1])
    again.load_weights(tmp_path / "model.weights.h5")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    for resumed in (model, again):
        resumed.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_trained_subclassed_model_saves_its_weights_and_optimizer_state(tmp_path):
    """After ``fit`` the weights file also holds the optimizer's slots (each shaped as its
    weight, found through ``get_layer``); loaded back, training goes on exactly."""
    resumes_exactly_from_its_weights_file(Flat, tmp_path)


@pytest.mark.xfail(
    strict=True,
    reason="saving/weights.py stores one group per layer of model.layers and so refuses "
    "a layer that holds weight-carrying layers inside it (Keras 3 writes them under "
    "layers/residual/inner/vars); writing that nested layout is not implemented "
    "yet",
)
def test_a_layer_nested_in_a_custom_layer_keeps_its_weights_in_a_weights_file(tmp_path):
    resumes_exactly_from_its_weights_file(WithResidual, tmp_path)


def test_weights_nested_in_a_custom_layer_are_refused_not_lost(tmp_path):
    model = WithResidual()
    model(np.zeros((1, 3), "float32"))
    target = tmp_path / "model.weights.h5"
    with pytest.raises(ValueError, match="holds layers with weights inside it"):
        model.save_weights(target)
    assert not target.exists()


def test_a_registered_subclass_saves_whole_and_loads_only_where_registered(tmp_path):
    from glassnet.saving import custom_object_scope, get_custom_objects

    class Registered(Tower):
        def get_config(self):
            return {"depth": len(self.blocks), "name": self.name}

    keras.saving.register_keras_serializable(package="tests")(Registered)
    model = Registered(depth=3, name="tower")
    x = np.random.default_rng(6).normal(size=(5, 3)).astype("float32")
    model(x[:1])
    path = tmp_path / "tower.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is Registered and len(loaded.blocks) == 3
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    del get_custom_objects()["tests>Registered"]  # a program that never registered it
    with pytest.raises(keras.saving.ModelFileError, match="Could not locate class 'Registered'"):
        keras.models.load_model(path)
    with custom_object_scope({"tests>Registered": Registered}):
        assert type(keras.models.load_model(path)) is Registered


def test_a_subclassed_models_layers_are_stored_at_their_attributes(tmp_path):
    """As Keras 3's walk of the model's attributes stores them (``hidden/vars``,
    ``head/vars``, ``keras/src/saving/saving_lib.py``); a file that keeps them in
    ``layers/dense``, ``layers/dense_1`` (glassnet's layout before) still loads."""
    import h5py

    model = Flat()
    x = np.random.default_rng(8).normal(size=(4, 3)).astype("float32")
    model(x)
    model.save_weights(tmp_path / "flat.weights.h5")
    with h5py.File(tmp_path / "flat.weights.h5", "r") as f:
        assert sorted(f) == ["head", "hidden", "vars"]
    with h5py.File(tmp_path / "before.weights.h5", "w") as f:
        for path, layer in (("layers/dense", model.hidden), ("layers/dense_1", model.head)):
            for i, value in enumerate(layer.get_weights()):
                f.create_dataset(f"{path}/vars/{i}", data=value)
        f.create_group("vars")
    again = Flat()
    again(x)
    again.load_weights(tmp_path / "before.weights.h5")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
