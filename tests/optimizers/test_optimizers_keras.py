"""Five steps of every optimizer, with and without each option, equal Keras 3's on the same
weights and gradients (``keras/src/optimizers/*_test.py`` drive them the same way: a few
``apply`` calls on known arrays).

Both sides run in float64 (Keras evaluates schedules in float32, so a schedule's rate
carries float32's rounding, far below the tolerance), and the weights' change from their
start is compared within 1e-5 of its largest value. Runs where ``keras`` is installed.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

from glassnet import optimizers  # noqa: E402
from glassnet.optimizers import schedules  # noqa: E402

pytestmark = pytest.mark.keras

SHAPES = [(3, 2), (2,)]
SLICES = [("dense", "kernel", 0, 6), ("dense", "bias", 6, 8)]
STEPS = 5
RTOL = 1e-5

#: Each optimizer with a learning rate that moves the weights visibly in five steps.
OPTIMIZERS = {
    "SGD": {"learning_rate": 0.1},
    "SGD-momentum": ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    "SGD-nesterov": ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    "Adam": {"learning_rate": 0.05},
    "Adam-amsgrad": ("Adam", {"learning_rate": 0.05, "amsgrad": True}),
    "AdamW": {"learning_rate": 0.05},
    "RMSprop": {"learning_rate": 0.05},
    "RMSprop-centered": ("RMSprop", {"learning_rate": 0.05, "centered": True, "momentum": 0.5}),
    "Adagrad": {"learning_rate": 0.1},
    "Adadelta": {"learning_rate": 1.0},
    "Adamax": {"learning_rate": 0.05},
    "Nadam": {"learning_rate": 0.05},
    "Lion": {"learning_rate": 0.01},
    "Ftrl": {"learning_rate": 0.1},
    "Ftrl-regularized": (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.3,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.02,
            "l2_shrinkage_regularization_strength": 0.03,
            "beta": 0.1,
        },
    ),
}

OPTIONS = {
    "plain": {},
    "weight_decay": {"weight_decay": 0.1},
    "clipnorm": {"clipnorm": 0.5},
    "clipvalue": {"clipvalue": 0.3},
    "global_clipnorm": {"global_clipnorm": 0.7},
    "ema": {"use_ema": True, "ema_momentum": 0.9},
    "ema_overwrite": {"use_ema": True, "ema_momentum": 0.8, "ema_overwrite_frequency": 2},
    "loss_scale_factor": {"loss_scale_factor": 4.0},
    "accumulation": {"gradient_accumulation_steps": 2},
}


def _schedule_pair(which: str):
    args = {
        "ExponentialDecay": (dict(initial_learning_rate=0.05, decay_steps=2, decay_rate=0.5),),
        "PiecewiseConstantDecay": (dict(boundaries=[1, 3], values=[0.05, 0.02, 0.01]),),
        "PolynomialDecay": (dict(initial_learning_rate=0.05, decay_steps=4, power=2.0),),
        "InverseTimeDecay": (dict(initial_learning_rate=0.05, decay_steps=1, decay_rate=0.5),),
        "CosineDecay": (
            dict(initial_learning_rate=0.01, decay_steps=3, warmup_target=0.05, warmup_steps=2),
        ),
        "CosineDecayRestarts": (dict(initial_learning_rate=0.05, first_decay_steps=2),),
    }[which][0]
    return getattr(keras.optimizers.schedules, which)(**args), getattr(schedules, which)(**args)


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


def _keras_run(name, kwargs, weights, grads, learning_rate=None):
    if learning_rate is not None:
        kwargs = {**kwargs, "learning_rate": learning_rate}
    opt = getattr(keras.optimizers, name)(**kwargs)
    variables = [keras.Variable(w, dtype="float64") for w in weights]
    states = []
    for step in grads:
        opt.apply([keras.ops.convert_to_tensor(g, dtype="float64") for g in step], variables)
        states.append(np.concatenate([np.asarray(v.numpy()).ravel() for v in variables]))
    return states, opt


def _glassnet_run(name, kwargs, weights, grads, learning_rate=None):
    if learning_rate is not None:
        kwargs = {**kwargs, "learning_rate": learning_rate}
    opt = getattr(optimizers, name)(**kwargs)
    params = np.concatenate([w.ravel() for w in weights])
    opt.build(params, SLICES)
    states = []
    for step in grads:
        opt.apply(params, np.concatenate([g.ravel() for g in step]))
        states.append(params.copy())
    return states, opt


def _assert_same_path(ours, theirs, start, what):
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        moved = b - start
        scale = max(float(np.abs(moved).max()), 1e-12)
        np.testing.assert_allclose(
            a - start, moved, rtol=RTOL, atol=RTOL * scale, err_msg=f"{what}, step {step}"
        )


def _split(key):
    spec = OPTIMIZERS[key]
    return (spec[0], spec[1]) if isinstance(spec, tuple) else (key, spec)


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("key", list(OPTIMIZERS))
def test_five_steps_equal_keras(key, option):
    name, kwargs = _split(key)
    kwargs = {**kwargs, **OPTIONS[option]}
    weights, grads = _data()
    theirs, _ = _keras_run(name, kwargs, weights, grads)
    ours, opt = _glassnet_run(name, kwargs, weights, grads)
    start = np.concatenate([w.ravel() for w in weights])
    _assert_same_path(ours, theirs, start, f"{key} with {option}")
    assert opt.iterations == STEPS // (kwargs.get("gradient_accumulation_steps") or 1)


@pytest.mark.parametrize(
    "which",
    [
        "ExponentialDecay",
        "PiecewiseConstantDecay",
        "PolynomialDecay",
        "InverseTimeDecay",
        "CosineDecay",
        "CosineDecayRestarts",
    ],
)
@pytest.mark.parametrize("key", ["SGD-momentum", "Adam", "AdamW", "Nadam", "Lion"])
def test_five_steps_with_a_schedule_equal_keras(key, which):
    name, kwargs = _split(key)
    theirs_schedule, our_schedule = _schedule_pair(which)
    weights, grads = _data(1)
    theirs, _ = _keras_run(name, kwargs, weights, grads, theirs_schedule)
    ours, _ = _glassnet_run(name, kwargs, weights, grads, our_schedule)
    start = np.concatenate([w.ravel() for w in weights])
    _assert_same_path(ours, theirs, start, f"{key} with {which}")


def test_accumulation_with_a_schedule_reads_the_real_step_count_as_keras():
    theirs_schedule, our_schedule = _schedule_pair("ExponentialDecay")
    kwargs = {"gradient_accumulation_steps": 2, "weight_decay": 0.1}
    weights, grads = _data(2)
    theirs, _ = _keras_run("Adam", kwargs, weights, grads, theirs_schedule)
    ours, _ = _glassnet_run("Adam", kwargs, weights, grads, our_schedule)
    start = np.concatenate([w.ravel() for w in weights])
    _assert_same_path(ours, theirs, start, "Adam accumulating with ExponentialDecay")


@pytest.mark.parametrize(
    "which",
    [
        "ExponentialDecay",
        "PiecewiseConstantDecay",
        "PolynomialDecay",
        "InverseTimeDecay",
        "CosineDecay",
        "CosineDecayRestarts",
    ],
)
def test_schedules_equal_keras_over_many_steps(which):
    theirs, ours = _schedule_pair(which)
    for step in [0, 1, 2, 3, 4, 5, 7, 10, 17, 50, 1000]:
        expected = float(keras.ops.convert_to_numpy(theirs(step)))
        assert ours(step) == pytest.approx(expected, rel=1e-6, abs=1e-9), step


@pytest.mark.parametrize(
    ("which", "args"),
    [
        (
            "ExponentialDecay",
            dict(
                initial_learning_rate=0.1,
                decay_steps=3,
                decay_rate=0.96,
                staircase=True,
                name="my_ed",
            ),
        ),
        (
            "PolynomialDecay",
            dict(
                initial_learning_rate=0.1,
                decay_steps=10,
                end_learning_rate=0.01,
                power=0.5,
                cycle=True,
            ),
        ),
        (
            "InverseTimeDecay",
            dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True),
        ),
        ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=7, alpha=0.1)),
        (
            "CosineDecayRestarts",
            dict(initial_learning_rate=0.1, first_decay_steps=3, t_mul=1.0, m_mul=0.5, alpha=0.05),
        ),
        (
            "CosineDecayRestarts",
            dict(initial_learning_rate=0.1, first_decay_steps=2, t_mul=3.0, m_mul=0.9),
        ),
    ],
)
def test_schedule_variants_and_configs_equal_keras(which, args):
    theirs = getattr(keras.optimizers.schedules, which)(**args)
    ours = getattr(schedules, which)(**args)
    assert ours.get_config() == theirs.get_config()
    assert schedules.serialize(ours) == keras.optimizers.schedules.serialize(theirs)
    for step in range(0, 40, 3):
        expected = float(keras.ops.convert_to_numpy(theirs(step)))
        assert ours(step) == pytest.approx(expected, rel=1e-6, abs=1e-9), step


def _comparable(config: dict) -> dict:
    """A config without its name (Keras numbers unnamed optimizers: ``sgd_3``) and with the
    learning rate as float32 (Keras keeps it in a float32 variable)."""
    config = {k: v for k, v in config.items() if k != "name"}
    config["learning_rate"] = float(np.float32(config["learning_rate"]))
    return config


@pytest.mark.parametrize("key", list(OPTIMIZERS))
def test_configs_equal_keras(key):
    name, kwargs = _split(key)
    theirs = getattr(keras.optimizers, name)(**kwargs).get_config()
    ours = getattr(optimizers, name)(**kwargs).get_config()
    assert _comparable(ours) == _comparable(theirs)


@pytest.mark.parametrize("key", list(OPTIMIZERS))
def test_defaults_equal_keras(key):
    name, _ = _split(key)
    theirs = getattr(keras.optimizers, name)().get_config()
    assert _comparable(getattr(optimizers, name)().get_config()) == _comparable(theirs)


def test_clip_arguments_together_are_refused_as_keras_refuses():
    with pytest.raises(ValueError) as theirs:
        keras.optimizers.SGD(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError) as ours:
        optimizers.SGD(clipnorm=1.0, clipvalue=0.5)
    assert str(ours.value) == str(theirs.value)


def test_setting_a_number_over_a_schedule_is_refused_as_keras_refuses():
    theirs_schedule, our_schedule = _schedule_pair("ExponentialDecay")
    with pytest.raises(TypeError, match="not settable"):
        keras.optimizers.Adam(learning_rate=theirs_schedule).learning_rate = 0.1
    with pytest.raises(TypeError, match="not settable"):
        optimizers.Adam(learning_rate=our_schedule).learning_rate = 0.1
