"""The state of every optimizer (iteration, slots, EMA averages, gradient accumulators,
Nadam's ``u_product``, a schedule in the config) saves into ``.keras`` files that Keras 3
loads in its safe mode and continues from, loads from files Keras writes, and resumes
bit for bit after a glassnet save and load. Skipped where keras is not installed.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")

import glassnet  # noqa: E402
from glassnet.models import load_model  # noqa: E402
from glassnet.saving.training_state import optimizer_variables  # noqa: E402
from glassnet.utils import set_random_seed  # noqa: E402

pytestmark = [pytest.mark.keras, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

#: (optimizer class, its arguments, a schedule as (class, arguments) or None)
CASES = {
    "adamw-schedule": (
        "AdamW",
        {"weight_decay": 0.01},
        ("ExponentialDecay", {"initial_learning_rate": 0.02, "decay_steps": 3, "decay_rate": 0.8}),
    ),
    "nadam": ("Nadam", {"learning_rate": 0.01}, None),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}, None),
    "adamax": ("Adamax", {"learning_rate": 0.01}, None),
    "lion": ("Lion", {"learning_rate": 0.003}, None),
    "ftrl": ("Ftrl", {"learning_rate": 0.05, "l1_regularization_strength": 0.001}, None),
    "adam-ema": ("Adam", {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.9}, None),
    "sgd-accumulation": (
        "SGD",
        {"learning_rate": 0.05, "momentum": 0.9, "gradient_accumulation_steps": 2},
        None,
    ),
    "rmsprop-cosine": (
        "RMSprop",
        {"clipnorm": 1.0},
        (
            "CosineDecay",
            {
                "initial_learning_rate": 0.001,
                "decay_steps": 10,
                "warmup_target": 0.01,
                "warmup_steps": 4,
            },
        ),
    ),
}


def _data(rows=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, rows)]
    return x, y


def _optimizer(lib, case):
    name, kwargs, schedule = CASES[case]
    kwargs = dict(kwargs)
    if schedule is not None:
        kwargs["learning_rate"] = getattr(lib.optimizers.schedules, schedule[0])(**schedule[1])
    return getattr(lib.optimizers, name)(**kwargs)


def _model(lib, case):
    model = lib.Sequential(
        [
            lib.Input(shape=(5,)),
            lib.layers.Dense(6, activation="tanh", kernel_constraint=lib.constraints.MaxNorm(1.0)),
            lib.layers.Dense(3, activation="softmax", bias_constraint=lib.constraints.NonNeg()),
        ]
    )
    model.compile(optimizer=_optimizer(lib, case), loss="categorical_crossentropy")
    return model


def _keras_variables(model) -> list[np.ndarray]:
    return [np.asarray(v.numpy()) for v in model.optimizer.variables]


def _glassnet_variables(model) -> list[np.ndarray]:
    return [np.asarray(value) for _, value in optimizer_variables(model)]


def _assert_same_variables(ours, theirs):
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a.shape == b.shape, k
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=f"variable {k}")


@pytest.mark.parametrize("case", list(CASES))
def test_keras_loads_the_state_in_safe_mode_and_continues_alike(tmp_path, case):
    set_random_seed(3)
    ours = _model(glassnet, case)
    x, y = _data()
    ours.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    ours.save(tmp_path / "g.keras")
    theirs = keras.models.load_model(str(tmp_path / "g.keras"), safe_mode=True)
    assert type(theirs.optimizer).__name__ == CASES[case][0]
    _assert_same_variables(_glassnet_variables(ours), _keras_variables(theirs))
    assert (
        theirs.optimizer.get_config()["learning_rate"]
        == ours.optimizer.get_config()["learning_rate"]
        or CASES[case][2] is None
    )
    more_x, more_y = _data(seed=1)
    ours.fit(more_x, more_y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    theirs.fit(more_x, more_y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_glassnet_loads_the_state_keras_saves_and_continues_alike(tmp_path, case):
    keras.utils.set_random_seed(4)
    theirs = _model(keras, case)
    x, y = _data(seed=2)
    theirs.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    theirs.save(str(tmp_path / "k.keras"))
    with warnings.catch_warnings(record=True) as with_warnings:
        warnings.simplefilter("always")
        ours = load_model(tmp_path / "k.keras")
    assert not [w for w in with_warnings if "optimizer" in str(w.message)]
    assert ours.compiled and type(ours.optimizer).__name__ == CASES[case][0]
    assert ours.layers[0].kernel_constraint.get_config() == {"max_value": 1.0, "axis": 0}
    _assert_same_variables(_glassnet_variables(ours), _keras_variables(theirs))
    more_x, more_y = _data(seed=5)
    ours.fit(more_x, more_y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    theirs.fit(more_x, more_y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_resume_after_save_and_load_is_bit_exact(tmp_path, case):
    set_random_seed(6)
    model = _model(glassnet, case)
    x, y = _data(seed=7)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    for m in (model, loaded):
        m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    _assert_same_variables(_glassnet_variables(model), _glassnet_variables(loaded))
    assert loaded.optimizer.iterations == model.optimizer.iterations
