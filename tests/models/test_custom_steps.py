"""Overriding ``train_step``/``test_step`` as Keras 3's guides do it for its JAX and PyTorch
backends (``keras/src/trainers/trainer.py``: ``metrics`` is the loss tracker, then the
compiled metrics), written with glassnet's ``GradientTape``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers


class GuideModel(keras.Model):
    """The "Customizing what happens in fit()" example, unchanged but for the tape."""

    def train_step(self, data):
        x, y = data
        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def data(rows: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [0.5], [-1.0], [2.0]])).astype("float32")


def graph(cls=keras.Model):
    inputs = keras.Input(shape=(4,))
    return cls(inputs, layers.Dense(1)(layers.Dense(8, activation="relu")(inputs)))


def test_a_subclass_called_on_inputs_and_outputs_is_a_functional_model_of_it():
    model = graph(GuideModel)
    assert isinstance(model, GuideModel) and isinstance(model, keras.models.Functional)


def test_the_guides_train_step_makes_the_updates_fit_makes():
    reference = graph()
    custom = graph(GuideModel)
    custom.set_weights(reference.get_weights())
    for model in (reference, custom):
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    x, y = data()
    ours = custom.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    theirs = reference.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert list(ours.history) == ["loss", "mae"]
    for a, b in zip(custom.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The guide's loss tracker is a running mean over batches; fit's is a row-weighted one:
    # with equal batches they are the same numbers.
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(ours.history["mae"], theirs.history["mae"], rtol=1e-6)
    logs = custom.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    expected = reference.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert logs == pytest.approx(expected, rel=1e-6)


class GuideSequential(keras.Sequential):
    train_step = GuideModel.train_step
    test_step = GuideModel.test_step


def test_a_train_step_gets_the_rows_as_given_where_fits_own_step_folds_a_bias():
    # fit gathers batches with a column of ones for a model of Dense layers that folds its
    # first bias; an overridden train_step calls the model on them, so it gets plain rows.
    reference = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                  layers.Dense(1)])
    custom = GuideSequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                              layers.Dense(1)])
    custom.set_weights(reference.get_weights())
    assert custom.plan.fold_first
    for model in (reference, custom):
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x, y = data()
    custom.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    reference.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(custom.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_train_step_with_its_own_loss_and_metrics_compiles_without_a_loss():
    loss_tracker = keras.metrics.Mean(name="loss")
    mae = keras.metrics.MeanAbsoluteError(name="mae")

    class Lower(keras.Model):
        def train_step(self, data):
            x, y = data
            with keras.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = keras.losses.mean_squared_error(y, y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
            loss_tracker.update_state(loss)
            mae.update_state(y, y_pred)
            return {"loss": loss_tracker.result(), "mae": mae.result()}

        @property
        def metrics(self):
            return [loss_tracker, mae]

    model = graph(Lower)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    x, y = data()
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "mae"}


def test_model_metrics_are_the_loss_tracker_then_the_compiled_metrics():
    model = graph()
    assert model.metrics == []
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    assert [m.name for m in model.metrics] == ["loss", "mae"]


def test_a_train_step_that_returns_no_dict_is_refused():
    class Broken(keras.Model):
        def train_step(self, data):
            return 1.0

    model = graph(Broken)
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    with pytest.raises(TypeError, match="must return a dict"):
        model.fit(x, y, epochs=1, verbose=0)


def test_the_default_train_step_is_fits_own_step():
    model = graph()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    twin = copy.deepcopy(model)
    x, y = data(16)
    logs = model.train_step((x, y))
    assert logs["loss"] == pytest.approx(twin.train_on_batch(x, y), rel=1e-7)
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
