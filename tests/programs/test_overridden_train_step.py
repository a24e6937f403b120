"""Keras's guide "Customizing what happens in fit()": a model that overrides ``train_step``
(and ``test_step``) and is trained with the ordinary ``fit``, validation included. Written once;
glassnet runs it with ``glassnet.GradientTape``, Keras on TensorFlow with ``tf.GradientTape``
(the guide's TensorFlow version), everything else identical."""

from __future__ import annotations

import numpy as np
from twins import (
    PREDICTION_RTOL,
    TRAINING_RTOL,
    assert_all_close,
    copy_weights,
    predict,
    real_keras,
    weights_of,
)

import glassnet


def build(keras, GradientTape):
    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            with GradientTape() as tape:
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

    inputs = keras.Input(shape=(32,), name="features")
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    model = CustomModel(inputs, keras.layers.Dense(1, name="value")(hidden))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse",
                  metrics=["mae"])
    return model


def data(rows: int = 96, seed: int = 2):
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 32)).astype("float32")
    y = (x[:, :4].sum(axis=1, keepdims=True) - 2).astype("float32")
    return x, y


def test_fit_runs_the_overridden_step():
    model = build(glassnet, glassnet.GradientTape)
    x, y = data()
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                        validation_split=0.25)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_overridden_step_trains_as_under_keras():
    keras = real_keras()
    import tensorflow as tf

    ours, theirs = build(glassnet, glassnet.GradientTape), build(keras, tf.GradientTape)
    copy_weights(ours, theirs)
    x, y = data()
    assert_all_close(predict(ours, x), predict(theirs, x), PREDICTION_RTOL, "predictions")
    our_history = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                           validation_split=0.25).history
    their_history = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                               validation_split=0.25).history
    assert sorted(our_history) == sorted(their_history)
    for key in their_history:
        assert_all_close(np.array(our_history[key]), np.array(their_history[key]),
                         TRAINING_RTOL, key)
    assert_all_close(weights_of(ours), weights_of(theirs), TRAINING_RTOL, "trained weights")
