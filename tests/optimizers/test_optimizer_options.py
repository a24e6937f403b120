"""The optimizers added after the course's (Adadelta, Adamax, Nadam, Lion) and the options
every optimizer takes (EMA, gradient accumulation, loss scaling, clipping, weight decay
exclusions), worked by hand; their argument checks; ``get``/``serialize``/``from_config``.
Keras's numbers: tests/optimizers/test_optimizers_keras.py.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.callbacks import LearningRateScheduler, ReduceLROnPlateau
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD, Adadelta, Adam, Adamax, AdamW, Lion, Nadam, schedules


def steps(opt, params, grads):
    params = np.array(params, dtype=np.float64)
    for g in grads:
        opt.apply(params, np.array(g, dtype=np.float64))
    return params


# --- defaults (keras/src/optimizers/*.py) ----------------------------------------------------


def test_defaults_are_keras():
    assert (Adadelta().learning_rate, Adadelta().rho, Adadelta().epsilon) == (0.001, 0.95, 1e-7)
    adamax = Adamax()
    assert (adamax.learning_rate, adamax.beta_1, adamax.beta_2, adamax.epsilon) == (
        0.001,
        0.9,
        0.999,
        1e-7,
    )
    nadam = Nadam()
    assert (nadam.learning_rate, nadam.beta_1, nadam.beta_2, nadam.epsilon) == (
        0.001,
        0.9,
        0.999,
        1e-7,
    )
    assert (Lion().learning_rate, Lion().beta_1, Lion().beta_2) == (0.001, 0.9, 0.99)
    config = SGD().get_config()
    assert (
        config["use_ema"],
        config["ema_momentum"],
        config["ema_overwrite_frequency"],
        config["loss_scale_factor"],
        config["gradient_accumulation_steps"],
    ) == (False, 0.99, None, None, None)


# --- one step worked by hand ----------------------------------------------------------------


def test_adadelta_step():
    lr, rho, eps, g = 1.0, 0.95, 1e-7, 2.0
    acc_g = (1 - rho) * g * g
    delta = -math.sqrt(eps) * g / math.sqrt(acc_g + eps)
    assert steps(Adadelta(lr, rho=rho), [1.0], [[g]])[0] == pytest.approx(1.0 + lr * delta)


def test_adamax_two_steps():
    opt = Adamax(learning_rate=0.1)
    m1, u1 = 0.1 * 2.0, 2.0
    w1 = 1.0 - 0.1 * m1 / ((1 - 0.9) * (u1 + 1e-7))
    m2, u2 = m1 + (-1.0 - m1) * 0.1, max(0.999 * u1, 1.0)
    w2 = w1 - 0.1 * m2 / ((1 - 0.9**2) * (u2 + 1e-7))
    assert steps(opt, [1.0], [[2.0], [-1.0]])[0] == pytest.approx(w2)


def test_nadam_first_step():
    lr, b1, b2, g = 0.1, 0.9, 0.999, 3.0
    u1, u2 = b1 * (1 - 0.5 * 0.96), b1 * (1 - 0.5 * 0.96**2)
    m, v = (1 - b1) * g, (1 - b2) * g * g
    m_hat = u2 * m / (1 - u1 * u2) + (1 - u1) * g / (1 - u1)
    v_hat = v / (1 - b2)
    expected = 1.0 - lr * m_hat / (math.sqrt(v_hat) + 1e-7)
    opt = Nadam(learning_rate=lr)
    assert steps(opt, [1.0], [[g]])[0] == pytest.approx(expected)
    assert opt.u_product == pytest.approx(u1)


def test_lion_steps_by_the_sign():
    opt = Lion(learning_rate=0.5)
    # m = 0: sign(0.1 * g) moves by 0.5 against the gradient; m becomes 0.01 * g
    np.testing.assert_allclose(steps(opt, [1.0, 1.0, 1.0], [[2.0, -3.0, 0.0]]), [0.5, 1.5, 1.0])
    np.testing.assert_allclose(opt.slots["momentum"], [0.02, -0.03, 0.0])


def test_update_formulas_work_on_any_arrays():
    """``update_step`` is element by element on arrays of one shape: one weight at a time,
    a 2-D kernel, works as well as the flat array of a whole model."""
    for cls in (SGD, Adam, Adadelta, Adamax, Nadam, Lion):
        whole, per_weight = cls(learning_rate=0.1), cls(learning_rate=0.1)
        flat = np.arange(6.0)
        grads = np.linspace(-1, 1, 6)
        whole.apply(flat, grads.copy())
        kernel = np.arange(6.0).reshape(2, 3)
        slots = {name: np.zeros_like(kernel) for name in per_weight.slot_names}
        per_weight.iterations = 0
        if cls is Nadam:
            per_weight.u_product = whole.u_product
        per_weight.update_step(kernel, grads.reshape(2, 3), 0.1, slots, np.empty_like(kernel))
        np.testing.assert_allclose(kernel.ravel(), flat, err_msg=cls.__name__)


# --- options ----------------------------------------------------------------------------------


def test_ema_average_starts_at_the_weights_and_fit_ends_with_it():
    opt = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    params = steps(opt, [0.0], [[1.0]])
    assert params[0] == -1.0 and opt.slots["average"][0] == -1.0  # momentum 0 at step 0
    opt.apply(params, np.ones(1))
    assert params[0] == -2.0 and opt.slots["average"][0] == pytest.approx(-1.5)
    opt.finalize_variable_values(params)
    assert params[0] == pytest.approx(-1.5)


def test_ema_overwrite_frequency_replaces_the_weights_every_so_many_steps():
    opt = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    params = steps(opt, [0.0], [[1.0], [1.0]])
    assert params[0] == pytest.approx(-1.5)  # the average after step 2


def test_fit_with_ema_ends_with_the_averaged_weights():
    x = np.random.default_rng(0).normal(size=(32, 3))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer=Adam(use_ema=True), loss="mse")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    np.testing.assert_array_equal(model.storage.parameters, model.optimizer.slots["average"])


def test_gradient_accumulation_updates_every_n_steps_from_the_mean():
    opt = SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    params = np.zeros(1)
    for g in (1.0, 2.0):
        opt.apply(params, np.array([g]))
        assert params[0] == 0.0
    opt.apply(params, np.array([6.0]))
    assert params[0] == pytest.approx(-3.0)
    assert opt.iterations == 1 and opt.slots["gradient_accumulator"][0] == 0.0


def test_loss_scale_factor_divides_the_gradients():
    scaled = steps(Adam(loss_scale_factor=8.0), [1.0, 2.0], [[8.0, -16.0], [4.0, 8.0]])
    plain = steps(Adam(), [1.0, 2.0], [[1.0, -2.0], [0.5, 1.0]])
    np.testing.assert_allclose(scaled, plain, rtol=1e-12)
    assert Adam(loss_scale_factor=8.0).scale_loss(0.5) == 4.0


def test_global_clipnorm_of_non_finite_gradients_gives_nan_as_keras():
    params = steps(SGD(global_clipnorm=1.0), [0.0, 0.0], [[np.inf, 1.0]])
    assert np.isnan(params).all()


def test_exclude_from_weight_decay_by_name_and_by_array():
    opt = AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    params = np.ones(3)
    opt.build(params, [("d", "kernel", 0, 2), ("d", "bias", 2, 3)])
    opt.apply(params, np.zeros(3))
    np.testing.assert_allclose(params, [0.95, 0.95, 1.0])
    sgd = SGD(learning_rate=0.1, weight_decay=0.5)
    params = np.ones(3)
    sgd.exclude_from_weight_decay(var_list=[params[0:2]])
    sgd.build(params, [("d", "kernel", 0, 2), ("d", "bias", 2, 3)])
    sgd.apply(params, np.zeros(3))
    np.testing.assert_allclose(params, [1.0, 1.0, 0.95])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        sgd.exclude_from_weight_decay(var_names=["kernel"])


def test_an_optimizer_pickles_with_its_state():
    opt = Nadam(use_ema=True, gradient_accumulation_steps=2)
    params = steps(opt, [1.0, 2.0], [[1.0, 1.0]] * 3)
    again = pickle.loads(pickle.dumps(opt))
    assert again.iterations == opt.iterations and again.u_product == opt.u_product
    a, b = params.copy(), params.copy()
    opt.apply(a, np.ones(2))
    again.apply(b, np.ones(2))
    np.testing.assert_array_equal(a, b)


# --- argument checks (Keras's messages) -------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: SGD(clipnorm=1.0, global_clipnorm=1.0),
            ValueError,
            "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set",
        ),
        (
            lambda: SGD(use_ema=True, ema_momentum=1.5),
            ValueError,
            r"`ema_momentum` must be in the range \[0, 1\]",
        ),
        (
            lambda: SGD(use_ema=True, ema_overwrite_frequency=0.5),
            ValueError,
            "`ema_overwrite_frequency` must be an integer >= 1 or None",
        ),
        (
            lambda: SGD(gradient_accumulation_steps=1),
            ValueError,
            "`gradient_accumulation_steps` must be an integer >= 2",
        ),
        (
            lambda: SGD(loss_scale_factor=-2.0),
            ValueError,
            "`loss_scale_factor` must be a positive number",
        ),
        (lambda: SGD(use_ema="yes"), ValueError, "`use_ema` must be True or False"),
        (lambda: Lion(beta_1=0.0), ValueError, "degenerates to SignSGD"),
        (lambda: AdamW(weight_decay=None), ValueError, "`weight_decay` must be a float"),
        (lambda: Adamax(beta_1=1.0), ValueError, r"`beta_1` must be a float in \[0, 1\)"),
        (lambda: Adadelta(rho=2.0), ValueError, r"`rho` must be a float in \[0, 1\]"),
        (lambda: Nadam(epsilon=-1.0), ValueError, "`epsilon` must be a non-negative number"),
        (lambda: Adam(foo=1), ValueError, r"Argument\(s\) not recognized: \{'foo': 1\}"),
    ],
)
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_get_none_names_classes_and_dicts():
    assert optimizers.get(None) is None
    for name in ("adamw", "Adadelta", "adamax", "nadam", "lion"):
        assert type(optimizers.get(name)).__name__.lower() == name.lower()
    again = optimizers.get(optimizers.serialize(Lion(beta_2=0.5)))
    assert isinstance(again, Lion) and again.beta_2 == 0.5


def test_from_config_refuses_unknown_keys_by_name():
    config = Adam().get_config()
    config["beta_3"] = 0.5
    with pytest.raises(ValueError, match="Unknown key.*Adam: beta_3"):
        Adam.from_config(config)


def test_serialize_writes_keras_envelope():
    assert optimizers.serialize(Adamax()) == {
        "module": "keras.optimizers",
        "class_name": "Adamax",
        "config": Adamax().get_config(),
        "registered_name": None,
    }


# --- callbacks that set the rate --------------------------------------------------------------


@pytest.mark.parametrize(
    ("callback", "name"),
    [
        (LearningRateScheduler(lambda epoch, lr: lr), "LearningRateScheduler"),
        (ReduceLROnPlateau(monitor="loss"), "ReduceLROnPlateau"),
    ],
)
def test_rate_callbacks_refuse_a_schedule_naming_themselves(callback, name):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(optimizer=SGD(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.5)), loss="mse")
    x = np.ones((4, 2))
    with pytest.raises(
        Exception, match=f"{name} sets the optimizer's learning rate, but .* is a schedule"
    ) as info:
        model.fit(x, x[:, :1], epochs=1, verbose=0, callbacks=[callback])
    # the TypeError Keras raises, as the loop reports a callback's error (CallbackError)
    assert isinstance(info.value, TypeError) or isinstance(info.value.__cause__, TypeError)
    assert model.optimizer.iterations == 0  # refused before the first step


def test_ftrl_step_and_checks():
    from glassnet.optimizers import Ftrl

    lr, g = 0.1, 2.0
    linear = g - (math.sqrt(0.1 + g * g) - math.sqrt(0.1)) / lr * 1.0
    expected = -linear / (math.sqrt(0.1 + g * g) / lr)
    assert steps(Ftrl(learning_rate=lr), [1.0], [[g]])[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="`learning_rate_power` needs to be negative or zero"):
        Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="`l1_regularization_strength` needs to be positive"):
        Ftrl(l1_regularization_strength=-1.0)
