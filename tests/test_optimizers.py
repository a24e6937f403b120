"""Optimizers: Keras's defaults, update steps worked by hand, clipping, and name lookup.

The optimizers work on one flat parameter array and a flat gradient array of the same layout;
these tests drive them exactly that way through ``apply``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop


def run_steps(optimizer, weights, gradients):
    """Applies one update per gradient (a list of arrays) and returns every weight state."""
    params = np.array(weights, dtype=np.float64)
    states = []
    for grad in gradients:
        optimizer.apply(params, np.array(grad, dtype=np.float64))
        states.append(params.copy())
    return states


# --- Keras's defaults ------------------------------------------------------------------


def test_sgd_defaults_are_keras():
    sgd = SGD()
    assert (sgd.learning_rate, sgd.momentum, sgd.nesterov) == (0.01, 0.0, False)
    assert optimizers.get("sgd").learning_rate == 0.01


def test_sgd_accepts_the_course_lr_spelling():
    for lr in (0.000001, 0.01, 1):
        assert SGD(lr=lr).learning_rate == lr
    assert SGD(learning_rate=0.5).lr == 0.5


def test_passing_both_lr_and_learning_rate_is_an_error():
    with pytest.raises(ValueError, match="either `learning_rate` or its old name `lr`"):
        SGD(lr=0.1, learning_rate=0.2)


def test_adam_defaults_are_keras():
    adam = Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (
        0.001,
        0.9,
        0.999,
        1e-7,
        False,
    )
    assert isinstance(optimizers.get("adam"), Adam)


def test_rmsprop_adagrad_and_adamw_defaults_are_keras():
    rms = RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (
        0.001,
        0.9,
        0.0,
        1e-7,
        False,
    )
    ada = Adagrad()
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)
    assert (AdamW().learning_rate, AdamW().weight_decay) == (0.001, 0.004)


def test_momentum_zero_given_as_an_int_is_accepted():
    assert SGD(momentum=0).momentum == 0.0


# --- steps worked by hand ----------------------------------------------------------------


def test_sgd_step_is_the_course_case_g2():
    # One weight 2, slope of the loss for it -24, learning rate 0.01: 2 - 0.01 * (-24) = 2.24.
    (after,) = run_steps(SGD(learning_rate=0.01), [2.0], [[-24.0]])
    assert after[0] == pytest.approx(2.24, abs=1e-12)


def test_sgd_step_is_the_course_case_g3():
    # Weights [1, 2], slopes [30, 40], learning rate 0.01: [0.7, 1.6].
    (after,) = run_steps(SGD(learning_rate=0.01), [1.0, 2.0], [[30.0, 40.0]])
    np.testing.assert_allclose(after, [0.7, 1.6], atol=1e-12)


def test_sgd_momentum_two_steps_by_hand():
    # v1 = -0.1 * 1 = -0.1, w = 0.9; v2 = 0.9 * -0.1 - 0.1 * 1 = -0.19, w = 0.71.
    states = run_steps(SGD(learning_rate=0.1, momentum=0.9), [1.0], [[1.0], [1.0]])
    assert [s[0] for s in states] == [pytest.approx(0.9), pytest.approx(0.71)]


def test_sgd_nesterov_two_steps_by_hand():
    # Keras: v = m v - lr g; w += m v - lr g.
    # Step 1: v = -0.1, w = 1 + 0.9 * -0.1 - 0.1 = 0.81.
    # Step 2: v = -0.19, w = 0.81 + 0.9 * -0.19 - 0.1 = 0.539.
    states = run_steps(SGD(learning_rate=0.1, momentum=0.9, nesterov=True), [1.0], [[1.0], [1.0]])
    assert [s[0] for s in states] == [pytest.approx(0.81), pytest.approx(0.539)]


def adam_reference(weights, gradients, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras 3's Adam (keras/src/optimizers/adam.py), written out in plain Python floats."""
    w = list(weights)
    m = [0.0] * len(w)
    v = [0.0] * len(w)
    states = []
    for t, grad in enumerate(gradients, start=1):
        alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for i, g in enumerate(grad):
            m[i] += (g - m[i]) * (1 - beta_1)
            v[i] += (g * g - v[i]) * (1 - beta_2)
            w[i] -= alpha * m[i] / (math.sqrt(v[i]) + epsilon)
        states.append(list(w))
    return states


def test_adam_first_step_moves_each_weight_by_about_the_learning_rate():
    (after,) = run_steps(Adam(learning_rate=0.1), [1.0, 1.0], [[5.0, -0.5]])
    # m / sqrt(v) after bias correction is sign(g): the step is lr whatever the slope's size.
    np.testing.assert_allclose(after, [0.9, 1.1], rtol=1e-6)


def test_adam_follows_keras_formulas_over_several_steps():
    gradients = [[0.5, -1.0, 2.0], [0.1, -0.3, 2.5], [-0.4, 0.2, 1.0], [1.0, 1.0, -1.0]]
    states = run_steps(Adam(learning_rate=0.01), [1.0, 2.0, 3.0], gradients)
    np.testing.assert_allclose(
        states, adam_reference([1.0, 2.0, 3.0], gradients, lr=0.01), rtol=1e-12
    )


def test_amsgrad_keeps_the_largest_velocity():
    gradients = [[3.0], [0.0]]  # the velocity shrinks at the second step
    plain = run_steps(Adam(learning_rate=0.1), [0.0], gradients)
    ams = run_steps(Adam(learning_rate=0.1, amsgrad=True), [0.0], gradients)
    assert plain[0][0] == ams[0][0]  # the first step is the same
    # Second step: the larger remembered velocity makes AMSGrad's step smaller.
    assert abs(ams[1][0] - ams[0][0]) < abs(plain[1][0] - plain[0][0])


def test_rmsprop_one_step_by_hand():
    # v = 0.1 * 4 = 0.4; w = 1 - 0.01 * 2 / sqrt(0.4 + 1e-7).
    (after,) = run_steps(RMSprop(learning_rate=0.01), [1.0], [[2.0]])
    assert after[0] == pytest.approx(1 - 0.01 * 2 / math.sqrt(0.4 + 1e-7), rel=1e-12)


def test_rmsprop_centered_with_momentum_two_steps_by_hand():
    opt = RMSprop(learning_rate=0.01, rho=0.5, momentum=0.5, centered=True)
    states = run_steps(opt, [0.0], [[2.0], [1.0]])
    # Step 1: v = 0.5 * 4 = 2, avg = 0.5 * 2 = 1, increment = 0.01 * 2 / sqrt(2 - 1 + eps).
    inc1 = 0.01 * 2 / math.sqrt(1 + 1e-7)
    # Step 2: v = 0.5 * 2 + 0.5 * 1 = 1.5, avg = 0.5 * 1 + 0.5 * 1 = 1, momentum = 0.5 m + inc.
    inc2 = 0.01 * 1 / math.sqrt(1.5 - 1 + 1e-7)
    assert states[0][0] == pytest.approx(-inc1, rel=1e-12)
    assert states[1][0] == pytest.approx(-inc1 - (0.5 * inc1 + inc2), rel=1e-12)


def test_adagrad_accumulator_starts_at_its_initial_value():
    states = run_steps(Adagrad(learning_rate=0.1), [1.0], [[2.0], [2.0]])
    first = 1 - 0.1 * 2 / math.sqrt(0.1 + 4 + 1e-7)
    second = first - 0.1 * 2 / math.sqrt(0.1 + 8 + 1e-7)
    assert [s[0] for s in states] == [
        pytest.approx(first, rel=1e-12),
        pytest.approx(second, rel=1e-12),
    ]


def test_adamw_decays_weights_before_the_adam_step():
    (decayed,) = run_steps(AdamW(learning_rate=0.1, weight_decay=0.5), [2.0], [[1.0]])
    (plain,) = run_steps(Adam(learning_rate=0.1), [2.0 * (1 - 0.5 * 0.1)], [[1.0]])
    assert decayed[0] == pytest.approx(plain[0], rel=1e-12)


# --- clipping --------------------------------------------------------------------------


def test_clipvalue_clips_each_element():
    (after,) = run_steps(SGD(learning_rate=1.0, clipvalue=0.5), [0.0, 0.0, 0.0], [[2.0, -3.0, 0.1]])
    np.testing.assert_allclose(after, [-0.5, 0.5, -0.1])


def test_clipnorm_clips_each_weight_separately():
    opt = SGD(learning_rate=1.0, clipnorm=1.0)
    params = np.zeros(4)
    opt.build(params, [("dense", "kernel", 0, 2), ("dense", "bias", 2, 4)])
    opt.apply(params, np.array([3.0, 4.0, 0.3, 0.4]))
    # The kernel's slope has norm 5 and is scaled to norm 1; the bias's (norm 0.5) is untouched.
    np.testing.assert_allclose(params, [-0.6, -0.8, -0.3, -0.4])


def test_global_clipnorm_clips_all_weights_together():
    opt = SGD(learning_rate=1.0, global_clipnorm=1.0)
    params = np.zeros(4)
    opt.build(params, [("dense", "kernel", 0, 2), ("dense", "bias", 2, 4)])
    opt.apply(params, np.array([3.0, 0.0, 0.0, 4.0]))
    np.testing.assert_allclose(params, [-0.6, 0.0, 0.0, -0.8])


# --- learning rates and errors ------------------------------------------------------------


def test_learning_rate_schedule_is_read_at_each_step():
    class OneOverStep(optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / (step + 1)

    opt = SGD(learning_rate=OneOverStep())
    states = run_steps(opt, [0.0], [[1.0], [1.0], [1.0]])
    np.testing.assert_allclose([s[0] for s in states], [-1.0, -1.5, -1.5 - 1 / 3])


def test_a_learning_rate_callable_is_called_without_arguments_as_in_keras():
    rates = iter([1.0, 0.5])
    opt = SGD(learning_rate=lambda: next(rates))
    states = run_steps(opt, [0.0], [[1.0], [1.0]])
    np.testing.assert_allclose([s[0] for s in states], [-1.0, -1.5])


def test_learning_rate_can_be_changed_between_steps():
    opt = SGD(learning_rate=1.0)
    params = np.zeros(1)
    opt.apply(params, np.ones(1))
    opt.learning_rate = 0.5
    opt.apply(params, np.ones(1))
    assert params[0] == pytest.approx(-1.5)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SGD(learning_rate=-0.1), r"`learning_rate` must be a non-negative number.*-0\.1"),
        (lambda: SGD(momentum=1.5), r"`momentum` must be a float in \[0, 1\]"),
        (lambda: Adam(beta_1="0.9"), r"`beta_1` must be a float in \[0, 1\)"),
        (lambda: SGD(clipnorm=float("nan")), "`clipnorm` must be a positive number"),
    ],
)
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_keyword_is_a_value_error_as_in_keras():
    with pytest.raises(ValueError, match="SGD got unexpected keyword argument.*: learnin_rate"):
        SGD(learnin_rate=0.1)


def test_names_are_case_insensitive_and_unknown_ones_suggest_the_closest():
    assert isinstance(optimizers.get("Adam"), Adam)
    assert isinstance(optimizers.get("RMSprop"), RMSprop)
    assert isinstance(optimizers.get("rmsprop"), RMSprop)
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'adma'.*Did you mean .*'Adam'") as e:
        optimizers.get("adma")
    assert "SGD" in str(e.value)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion])
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.123, clipnorm=2.0)
    again = optimizers.get({"class_name": cls.__name__, "config": opt.get_config()})
    assert type(again) is cls
    assert again.get_config() == opt.get_config()


def test_float32_parameters_stay_float32():
    params = np.ones(3, dtype=np.float32)
    Adam().apply(params, np.ones(3, dtype=np.float32))
    assert params.dtype == np.float32
