"""Optimizer and loss arguments out of their range are refused where they are given.

``Adam(beta_2=7.0)`` used to be accepted, and ``fit`` then failed some hundred steps later
with ``OverflowError (34, 'Numerical result out of range')``. Every argument with a range is
now checked in the constructor, so a bad value (typed, or read from a model file's config)
gets a ``ValueError`` naming the argument and the value, in Keras's form, and ``fit`` is
never reached.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from glassnet import losses, optimizers
from glassnet.layers import BatchNormalization, Dense, Normalization
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

NAN, INF = math.nan, math.inf

BAD_OPTIMIZER_ARGUMENTS = [
    (Adam, "beta_1", 1.0),
    (Adam, "beta_1", -0.1),
    (Adam, "beta_1", NAN),
    (Adam, "beta_2", 7.0),
    (Adam, "beta_2", 1.0),
    (Adam, "beta_2", -1e-9),
    (AdamW, "beta_2", 7.0),
    (Adam, "beta_1", "0.9"),
    (Adam, "beta_2", True),
    (Adam, "epsilon", -1e-7),
    (Adam, "epsilon", INF),
    (RMSprop, "epsilon", NAN),
    (Adagrad, "epsilon", -1.0),
    (Adagrad, "initial_accumulator_value", -0.1),
    (SGD, "momentum", 1.5),
    (SGD, "momentum", -0.5),
    (SGD, "momentum", INF),
    (RMSprop, "momentum", 2.0),
    (RMSprop, "rho", 1.5),
    (RMSprop, "rho", -0.1),
    (SGD, "learning_rate", -0.1),
    (Adam, "learning_rate", INF),
    (Adam, "learning_rate", NAN),
    (SGD, "lr", -1.0),
    (Adam, "learning_rate", "0.01"),
    (SGD, "weight_decay", -0.01),
    (AdamW, "weight_decay", INF),
    (SGD, "clipnorm", 0.0),
    (SGD, "clipnorm", -1.0),
    (SGD, "clipnorm", NAN),
    (SGD, "clipvalue", 0.0),
    (SGD, "clipvalue", -0.5),
    (Adam, "global_clipnorm", 0.0),
    (Adam, "global_clipnorm", INF),
    (Adam, "amsgrad", "False"),
    (SGD, "nesterov", "no"),
    (RMSprop, "centered", 2),
]


@pytest.mark.parametrize(("cls", "name", "value"), BAD_OPTIMIZER_ARGUMENTS)
def test_an_optimizer_argument_out_of_range_is_named_with_its_value(cls, name, value):
    shown = "learning_rate" if name == "lr" else name  # the Keras 1/2 spelling
    with pytest.raises(ValueError, match=re.escape(f"Received: {shown}={value!r}")) as caught:
        cls(**{name: value})
    assert f"`{shown}` must be" in str(caught.value)


@pytest.mark.parametrize(
    ("cls", "name", "value"), [case for case in BAD_OPTIMIZER_ARGUMENTS if case[1] != "lr"]
)
def test_an_optimizer_config_out_of_range_is_refused_when_read(cls, name, value):
    config = {"class_name": cls.__name__, "config": {name: value}}
    with pytest.raises(ValueError, match=re.escape(f"Received: {name}={value!r}")):
        optimizers.get(config)


def test_a_range_message_has_keras_form():
    with pytest.raises(ValueError) as caught:
        Adam(beta_2=7.0)
    assert str(caught.value) == "`beta_2` must be a float in [0, 1). Received: beta_2=7.0"
    with pytest.raises(ValueError) as caught:
        SGD(momentum=1.5)
    assert str(caught.value) == "`momentum` must be a float in [0, 1]. Received: momentum=1.5"


def test_only_one_kind_of_clipping_is_accepted_as_in_keras():
    for pair in (
        {"clipnorm": 1.0, "clipvalue": 0.5},
        {"clipvalue": 0.5, "global_clipnorm": 1.0},
        {"clipnorm": 1.0, "global_clipnorm": 1.0},
    ):
        with pytest.raises(
            ValueError,
            match="Only one of `clipnorm`, `clipvalue` and "
            "`global_clipnorm` can be set. Received: ",
        ):
            SGD(**pair)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Adam(beta_1=0.0, beta_2=0.0, epsilon=0.0),
        lambda: Adam(beta_1=0.999999, beta_2=np.float32(0.5), amsgrad=True),
        lambda: SGD(learning_rate=0.0, momentum=1.0, nesterov=True),
        lambda: SGD(momentum=0, clipvalue=1e-3),
        lambda: RMSprop(rho=0.0, momentum=1.0, centered=True, global_clipnorm=2),
        lambda: RMSprop(rho=1.0, learning_rate=1e-6),
        lambda: RMSprop(rho=0.5, epsilon=0),
        lambda: Adagrad(initial_accumulator_value=0.0, clipnorm=5.0),
        lambda: AdamW(weight_decay=0.0, learning_rate=1e-5),
    ],
)
def test_values_at_the_edges_of_their_ranges_still_train(make):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    model.compile(optimizer=make(), loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(np.isfinite(history.history["loss"]))


BAD_LOSS_ARGUMENTS = [
    (losses.Huber, "delta", 0.0),
    (losses.Huber, "delta", -1.0),
    (losses.Huber, "delta", INF),
    (losses.Huber, "delta", NAN),
    (losses.Huber, "delta", "1"),
    (losses.CategoricalCrossentropy, "label_smoothing", 1.5),
    (losses.CategoricalCrossentropy, "label_smoothing", -0.1),
    (losses.CategoricalCrossentropy, "label_smoothing", NAN),
    (losses.BinaryCrossentropy, "label_smoothing", 2.0),
    (losses.BinaryCrossentropy, "label_smoothing", -1e-3),
    (losses.BinaryCrossentropy, "from_logits", "False"),
    (losses.CategoricalCrossentropy, "from_logits", 2),
    (losses.SparseCategoricalCrossentropy, "from_logits", "yes"),
]


@pytest.mark.parametrize(("cls", "name", "value"), BAD_LOSS_ARGUMENTS)
def test_a_loss_argument_out_of_range_is_named_with_its_value(cls, name, value):
    with pytest.raises(ValueError, match=re.escape(f"`{name}` must be")) as caught:
        cls(**{name: value})
    assert str(caught.value).endswith(f"Received: {name}={value!r}")
    config = {"class_name": cls.__name__, "config": {name: value}}
    with pytest.raises(ValueError, match=re.escape(f"Received: {name}={value!r}")):
        losses.get(config)


def test_loss_arguments_at_the_edges_still_work():
    y = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    p = np.array([[0.2, 0.8], [0.6, 0.4]], dtype=np.float32)
    for loss in (
        losses.CategoricalCrossentropy(label_smoothing=1.0),
        losses.CategoricalCrossentropy(label_smoothing=0, from_logits=np.bool_(True)),
        losses.BinaryCrossentropy(label_smoothing=1, from_logits=1),
        losses.Huber(delta=1e-6),
        losses.Huber(delta=np.float32(3)),
    ):
        assert np.isfinite(loss(y, p))


def test_fit_is_never_reached_with_a_bad_value(monkeypatch):
    model = Sequential([Dense(1, input_shape=(2,))])
    reached = []
    monkeypatch.setattr(Sequential, "fit", lambda *a, **k: reached.append(1))
    with pytest.raises(ValueError, match=r"Received: beta_2=7\.0"):
        model.compile(optimizer={"class_name": "Adam", "config": {"beta_2": 7.0}}, loss="mse")
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"Received: delta=-1"):
        model.compile(optimizer="adam", loss={"class_name": "Huber", "config": {"delta": -1}})
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)))
    assert reached == []


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: BatchNormalization(momentum=2.0), r"`momentum` must be a float in \[0, 1\]"),
        (lambda: BatchNormalization(epsilon=-1.0), "`epsilon` must be a positive finite number"),
        (lambda: BatchNormalization(epsilon=float("nan")), "`epsilon` must be a positive finite"),
        (lambda: BatchNormalization(center="no"), "`center` must be True or False"),
        (lambda: Normalization(mean=[float("nan")], variance=[1.0]), "`mean` must be"),
        (lambda: Normalization(mean=[0.0], variance=[-1.0]), "non-negative finite numbers"),
        (lambda: Normalization(mean=[10**400], variance=[1.0]), "`mean` must be"),
    ],
)
def test_layer_arguments_out_of_range_are_refused_where_given(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_number_too_large_for_a_float_is_refused_by_name_not_as_overflow():
    with pytest.raises(ValueError, match="`learning_rate` must be a non-negative number"):
        optimizers.Adam(learning_rate=10**400)
    with pytest.raises(ValueError, match="`beta_1` must be a float in"):
        optimizers.Adam(beta_1=10**400)
    with pytest.raises(ValueError, match="`delta` must be a positive finite number"):
        losses.Huber(delta=10**400)
